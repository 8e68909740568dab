"""Classification metrics reported in the model card: scikit-learn for the standard ones, plus the
calibration error, temperature fitting and threshold operating points that it does not provide."""
from __future__ import annotations

import numpy as np

# scikit-learn is imported where used: it costs over a second of start-up, and the inference path
# (which imports this module for softmax) never needs it.


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts with rows = truth and columns = prediction, for classes 0..n_classes-1."""
    from sklearn import metrics

    return metrics.confusion_matrix(np.asarray(y_true), np.asarray(y_pred), labels=np.arange(n_classes))


def sensitivity_per_class(cm: np.ndarray) -> np.ndarray:
    support = cm.sum(axis=1)
    return np.divide(np.diag(cm), support, out=np.full(len(cm), np.nan), where=support > 0)


def precision_per_class(cm: np.ndarray) -> np.ndarray:
    predicted = cm.sum(axis=0)
    return np.divide(np.diag(cm), predicted, out=np.full(len(cm), np.nan), where=predicted > 0)


def balanced_accuracy(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> float:
    """Mean per-class sensitivity over the classes present in `y_true`."""
    return float(np.nanmean(sensitivity_per_class(confusion_matrix(y_true, y_pred, n_classes))))


def binary_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve (NaN when only one of the two groups is present)."""
    positive = np.asarray(positive, bool)
    if positive.all() or not positive.any():
        return float("nan")
    from sklearn import metrics

    return float(metrics.roc_auc_score(positive, np.asarray(scores, float)))


def macro_auc(y_true: np.ndarray, probs: np.ndarray) -> float:
    """Mean one-vs-rest AUC over the classes present (a class absent from y_true has no AUC)."""
    aucs = [binary_auc(probs[:, c], y_true == c) for c in range(probs.shape[1])]
    present = [a for a in aucs if not np.isnan(a)]
    return float(np.mean(present)) if present else float("nan")


def expected_calibration_error(y_true: np.ndarray, probs: np.ndarray, n_bins: int = 15) -> float:
    """Top-label ECE with equal-width confidence bins."""
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y_true
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        in_bin = (confidence > lo) & (confidence <= hi)
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(ece)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def nll(logits: np.ndarray, y_true: np.ndarray, temperature: float) -> float:
    p = softmax(logits, temperature)
    return float(-np.log(np.clip(p[np.arange(len(y_true)), y_true], 1e-12, 1.0)).mean())


def fit_temperature(logits: np.ndarray, y_true: np.ndarray) -> float:
    """Temperature minimising validation NLL: a coarse log-grid, then a golden-section refinement."""
    grid = np.exp(np.linspace(np.log(0.2), np.log(10.0), 60))
    best = grid[int(np.argmin([nll(logits, y_true, t) for t in grid]))]
    lo, hi = best / 1.1, best * 1.1
    ratio = (np.sqrt(5) - 1) / 2
    for _ in range(40):
        a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        if nll(logits, y_true, a) < nll(logits, y_true, b):
            hi = b
        else:
            lo = a
    return float((lo + hi) / 2)


def sensitivity_at_threshold(probs_positive: np.ndarray, positive: np.ndarray, threshold: float) -> tuple[float, float]:
    """(sensitivity, specificity) of the rule `probability >= threshold`."""
    flagged = probs_positive >= threshold
    positive = positive.astype(bool)
    sens = flagged[positive].mean() if positive.any() else float("nan")
    spec = (~flagged[~positive]).mean() if (~positive).any() else float("nan")
    return float(sens), float(spec)


def classification_report(y_true: np.ndarray, probs: np.ndarray, classes: list[str] | tuple[str, ...],
                          predicted: np.ndarray | None = None) -> dict:
    """All model-card figures for one set of predictions. `predicted` is the class each row is assigned
    (e.g. by a decision rule); by default the most probable one. AUC and ECE read the probabilities."""
    y_true = np.asarray(y_true)
    pred = probs.argmax(axis=1) if predicted is None else np.asarray(predicted)
    n = len(classes)
    cm = confusion_matrix(y_true, pred, n)
    sens, prec = sensitivity_per_class(cm), precision_per_class(cm)
    report = {
        "n": int(len(y_true)),
        "accuracy": float((pred == y_true).mean()) if len(y_true) else float("nan"),
        "balanced_accuracy": float(np.nanmean(sens)) if not np.isnan(sens).all() else float("nan"),
        "macro_auc": macro_auc(y_true, probs),
        "ece": expected_calibration_error(y_true, probs),
        "per_class": {
            c: {"support": int(cm[i].sum()), "sensitivity": float(sens[i]), "precision": float(prec[i]),
                "auc": binary_auc(probs[:, i], y_true == i)}
            for i, c in enumerate(classes)
        },
        "confusion_matrix": cm.tolist(),
    }
    if "mel" in classes:
        m = list(classes).index("mel")
        is_mel = y_true == m
        report["melanoma"] = {
            "sensitivity": float((pred[is_mel] == m).mean()) if is_mel.any() else float("nan"),
            "specificity": float((pred[~is_mel] != m).mean()) if (~is_mel).any() else float("nan"),
        }
    return report
