"""Model-card evaluation: run the classifier over HAM10000 records and report every figure,
image-level and lesion-level, overall and by subgroup, plus the malignancy escalation thresholds.

On the validation split every figure is cross-validated (`core.vision.fusion.cross_validate`): the
temperature, the metadata fusion, the decision rule and the escalation thresholds are fitted on four
lesion-grouped folds and measured on the fifth, so no figure is read from the images its parameters
were fitted on. The shipped parameters are the same fits on the whole split."""
from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm
from sklearn.metrics import log_loss

from core.vision.classifier import Classifier
from core.config import INFERENCE_BATCH, MALIGNANT
from core.vision.data import Record, image_path
from core.vision.imaging import load_image
from core.vision.fusion import CrossValidated, cross_validate
from core.vision.metrics import classification_report, sensitivity_at_threshold, softmax

AGE_BANDS = ((0, 30, "<30"), (30, 50, "30-49"), (50, 70, "50-69"), (70, 200, "70+"))
ESCALATION_TARGET_SENSITIVITY = 0.90
CV_FOLDS = 5


def record_outputs(classifier: Classifier, folder: str | Path, records: list[Record], batch_size: int = INFERENCE_BATCH,
                   progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(uncalibrated logits, TTA-averaged when the model uses TTA; pooled features), one row per record."""
    logits, features = [], []
    bar = tqdm(range(0, len(records), batch_size), desc="predicting", file=sys.stderr, disable=not progress)
    for start in bar:
        tensors = [classifier.prepare(load_image(image_path(folder, r.image_id)).image).tensor
                   for r in records[start : start + batch_size]]
        batch_logits, batch_features = classifier.forward(torch.stack(tensors))
        logits.append(batch_logits)
        features.append(batch_features)
    if not logits:
        return np.zeros((0, len(classifier.classes))), np.zeros((0, classifier.model.fc.in_features))
    return np.concatenate(logits), np.concatenate(features)


def _age_band(age: float | None) -> str:
    if age is None:
        return "unknown"
    return next(label for lo, hi, label in AGE_BANDS if lo <= age < hi)


def lesion_level(records: list[Record], probs: np.ndarray,
                 weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean probability over each lesion's images: one prediction per lesion; (labels, probabilities,
    suggested class by the decision-rule `weights` of the lesion's rows, else the most probable)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        groups[r.lesion_id].append(i)
    ids = sorted(groups)
    mean = np.stack([probs[groups[l]].mean(0) for l in ids])
    w = np.stack([weights[groups[l][0]] for l in ids]) if weights is not None else np.ones_like(mean)
    return np.array([records[groups[l][0]].label for l in ids]), mean, np.argmax(mean * w, axis=1)


def subgroup_reports(records: list[Record], y: np.ndarray, probs: np.ndarray, classes: list[str],
                     predicted: np.ndarray) -> dict:
    keys = {
        "localization": lambda r: r.localization,
        "sex": lambda r: r.sex,
        "age band": lambda r: _age_band(r.age),
        "site (dataset)": lambda r: r.dataset or "unknown",
    }
    out: dict[str, dict] = {}
    for name, key in keys.items():
        groups: dict[str, list[int]] = defaultdict(list)
        for i, r in enumerate(records):
            groups[key(r)].append(i)
        out[name] = {}
        for value, idx in sorted(groups.items()):
            rep = classification_report(y[idx], probs[idx], classes, predicted[idx])
            out[name][value] = {"n": rep["n"], "accuracy": rep["accuracy"],
                                "balanced_accuracy": rep["balanced_accuracy"],
                                "melanoma_sensitivity": rep.get("melanoma", {}).get("sensitivity", float("nan")),
                                "n_melanoma": int((y[idx] == classes.index("mel")).sum()) if "mel" in classes else 0}
    return out


def escalation_thresholds(y: np.ndarray, probs: np.ndarray, classes: list[str],
                          target: float = ESCALATION_TARGET_SENSITIVITY) -> dict:
    """Per malignant class, the highest probability threshold still flagging >= target of that class."""
    out = {}
    for c in sorted(MALIGNANT & set(classes)):
        i = classes.index(c)
        positive = y == i
        if not positive.any():
            continue
        scores = np.sort(probs[positive, i])[::-1]
        k = int(np.ceil(target * len(scores))) - 1
        threshold = float(np.floor(float(scores[k]) * 1000) / 1000)
        sens, spec = sensitivity_at_threshold(probs[:, i], positive, threshold)
        out[c] = {"threshold": threshold, "sensitivity": sens, "specificity": spec, "n_positive": int(positive.sum())}
    flagged = np.zeros(len(y), bool)
    for c, t in out.items():
        flagged |= probs[:, classes.index(c)] >= t["threshold"]
    malignant = np.isin(y, [classes.index(c) for c in out])
    out["any_malignant"] = {"sensitivity": float(flagged[malignant].mean()) if malignant.any() else float("nan"),
                            "specificity": float((~flagged[~malignant]).mean()) if (~malignant).any() else float("nan"),
                            "n_positive": int(malignant.sum())}
    return out


def thresholds_report(y: np.ndarray, probs: np.ndarray, classes: list[str], thresholds: dict[str, float]) -> dict:
    """Sensitivity and specificity of each malignancy escalation threshold on these predictions."""
    out = {}
    for c, t in thresholds.items():
        i = classes.index(c)
        sens, spec = sensitivity_at_threshold(probs[:, i], y == i, t)
        out[c] = {"threshold": t, "sensitivity": sens, "specificity": spec, "n_positive": int((y == i).sum())}
    return out


def cross_validated_escalation(y: np.ndarray, probs: np.ndarray, folds: np.ndarray, classes: list[str],
                               target: float = ESCALATION_TARGET_SENSITIVITY) -> dict:
    """Sensitivity and specificity of the escalation rule with each fold's thresholds fitted on the others."""
    flags = {c: np.zeros(len(y), bool) for c in sorted(MALIGNANT & set(classes))}
    for k in np.unique(folds):
        train, test = folds != k, folds == k
        fitted = escalation_thresholds(y[train], probs[train], classes, target)
        for c in flags:
            if c in fitted and "threshold" in fitted[c]:
                flags[c][test] = probs[test, classes.index(c)] >= fitted[c]["threshold"]
    out = {}
    for c, flagged in flags.items():
        positive = y == classes.index(c)
        out[c] = {"sensitivity": float(flagged[positive].mean()) if positive.any() else float("nan"),
                  "specificity": float((~flagged[~positive]).mean()) if (~positive).any() else float("nan"),
                  "n_positive": int(positive.sum())}
    any_flag = np.any(np.stack(list(flags.values())), axis=0) if flags else np.zeros(len(y), bool)
    malignant = np.isin(y, [classes.index(c) for c in flags])
    out["any_malignant"] = {"sensitivity": float(any_flag[malignant].mean()) if malignant.any() else float("nan"),
                            "specificity": float((~any_flag[~malignant]).mean()) if (~malignant).any() else float("nan"),
                            "n_positive": int(malignant.sum())}
    return out


def full_report(records: list[Record], probs: np.ndarray, predicted: np.ndarray, classes: list[str], *,
                weights: np.ndarray | None = None, uncalibrated: np.ndarray | None = None,
                escalation: dict | None = None) -> dict:
    """Every model-card figure for one set of probabilities and assigned classes (`weights`: the
    decision-rule weights of each row, for the lesion-level suggestion)."""
    y = np.array([r.label for r in records])
    y_lesion, p_lesion, s_lesion = lesion_level(records, probs, weights)
    return {
        "escalation": escalation or {},
        "image_level": classification_report(y, probs, classes, predicted),
        "lesion_level": classification_report(y_lesion, p_lesion, classes, s_lesion),
        "ece_uncalibrated": (classification_report(y, uncalibrated, classes)["ece"]
                             if uncalibrated is not None else float("nan")),
        "subgroups": subgroup_reports(records, y, probs, classes, predicted),
    }


RECIPE_ROWS = (
    ("image", "image model, most probable class"),
    ("image+rule", "image model + decision rule"),
    ("fused", "+ age, sex, site (fusion), most probable class"),
    ("fused+rule", "+ fusion + decision rule"),
    ("bare+rule", "+ fusion + decision rule, age, sex and site not given"),
)


def cross_validate_records(records: list[Record], logits: np.ndarray, classes: list[str], *, l2: float,
                           n_folds: int = CV_FOLDS, seed: int = 42) -> CrossValidated:
    return cross_validate(logits, [r.details for r in records], np.array([r.label for r in records]),
                          [r.lesion_id for r in records], len(classes), l2=l2, n_folds=n_folds, seed=seed)


def validation_report(records: list[Record], logits: np.ndarray, classes: list[str], cv: CrossValidated,
                      fusion: bool = True) -> dict:
    """The cross-validated model-card report on the validation split, with the step-by-step table. The
    headline figures are those of the shipped model: with the metadata fusion, or the image model alone."""
    y = np.array([r.label for r in records])
    fused_suggested = cv.suggest(cv.fused, cv.fused_weights)
    probs, weights = (cv.fused, cv.fused_weights) if fusion else (cv.image, cv.image_weights)
    report = full_report(records, probs, cv.suggest(probs, weights), classes, weights=weights,
                         uncalibrated=softmax(logits, 1.0),
                         escalation=cross_validated_escalation(y, probs, cv.folds, classes))
    variants = {
        "image": (cv.image, cv.image.argmax(1)),
        "image+rule": (cv.image, cv.suggest(cv.image, cv.image_weights)),
        "fused": (cv.fused, cv.fused.argmax(1)),
        "fused+rule": (cv.fused, fused_suggested),
        "bare+rule": (cv.fused_no_details, cv.suggest(cv.fused_no_details, cv.fused_weights)),
    }
    report["recipe"] = {}
    for key, (probs, predicted) in variants.items():
        r = classification_report(y, probs, classes, predicted)
        report["recipe"][key] = {"balanced_accuracy": r["balanced_accuracy"], "macro_auc": r["macro_auc"],
                                 "ece": r["ece"], "log_loss": log_loss(y, probs, labels=range(len(classes))),
                                 **{f"mel_{k}": v for k, v in r["melanoma"].items()}}
    report["cross_validation"] = {"folds": int(cv.folds.max()) + 1, "grouped_by": "lesion_id"}
    report["shipped"] = "fused+rule" if fusion else "image+rule"
    return report


def _fmt(x: float, digits: int = 3) -> str:
    return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.{digits}f}"


def format_report(report: dict, classes: list[str], title: str = "") -> str:
    """Markdown tables for the terminal and the model card."""
    lines = [f"## {title}".rstrip(), ""] if title else []
    for level in ("image_level", "lesion_level"):
        r = report[level]
        unit = "images" if level == "image_level" else "lesions (mean probability over a lesion's images)"
        lines += [f"### {level.replace('_', '-')}: {r['n']} {unit}", "",
                  f"- balanced accuracy (mean per-class sensitivity): **{_fmt(r['balanced_accuracy'])}**",
                  f"- accuracy: {_fmt(r['accuracy'])}; macro AUC (one-vs-rest): {_fmt(r['macro_auc'])}",
                  f"- melanoma sensitivity {_fmt(r['melanoma']['sensitivity'])}, specificity {_fmt(r['melanoma']['specificity'])}",
                  f"- ECE (15 bins, calibrated): {_fmt(r['ece'])}", "",
                  "| class | support | sensitivity | precision | AUC |", "|---|---:|---:|---:|---:|"]
        for c in classes:
            pc = r["per_class"][c]
            lines.append(f"| {c} | {pc['support']} | {_fmt(pc['sensitivity'])} | {_fmt(pc['precision'])} | {_fmt(pc['auc'])} |")
        lines += ["", "Confusion matrix (rows: truth, columns: prediction)", "",
                  "| | " + " | ".join(classes) + " |", "|---" * (len(classes) + 1) + "|"]
        for c, row in zip(classes, r["confusion_matrix"]):
            lines.append(f"| **{c}** | " + " | ".join(str(v) for v in row) + " |")
        lines.append("")
    lines.append(f"ECE of the raw network outputs: {_fmt(report['ece_uncalibrated'])}; "
                 f"of the probabilities shown: {_fmt(report['image_level']['ece'])} (image level).")
    lines.append("")
    if report.get("recipe"):
        cv = report["cross_validation"]
        lines += [f"### what each step adds ({cv['folds']}-fold cross-validation grouped by lesion, images)", "",
                  "| model | balanced accuracy | melanoma sensitivity | melanoma specificity | macro AUC | ECE | log loss |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for key, label in RECIPE_ROWS:
            r = report["recipe"][key]
            label = label + (" **(shipped)**" if report.get("shipped") == key else "")
            lines.append(f"| {label} | {_fmt(r['balanced_accuracy'])} | {_fmt(r['mel_sensitivity'])} | "
                         f"{_fmt(r['mel_specificity'])} | {_fmt(r['macro_auc'])} | {_fmt(r['ece'])} | "
                         f"{_fmt(r.get('log_loss'))} |")
        lines.append("")
    for name, groups in report["subgroups"].items():
        lines += [f"### by {name}", "", "| group | images | accuracy | balanced accuracy | melanoma sensitivity (n mel) |",
                  "|---|---:|---:|---:|---:|"]
        for value, g in groups.items():
            lines.append(f"| {value} | {g['n']} | {_fmt(g['accuracy'])} | {_fmt(g['balanced_accuracy'])} | "
                         f"{_fmt(g['melanoma_sensitivity'])} ({g['n_melanoma']}) |")
        lines.append("")
    if report["escalation"]:
        lines += ["### malignancy escalation (calibrated probability of the class >= threshold marks the case urgent)", "",
                  "| class | threshold | sensitivity | specificity | positives |", "|---|---:|---:|---:|---:|"]
        for c, t in report["escalation"].items():
            threshold = f"{t['threshold']:.3f}" if "threshold" in t else ("per fold" if c != "any_malignant" else "–")
            lines.append(f"| {c} | {threshold} | {_fmt(t['sensitivity'])} | {_fmt(t['specificity'])} | {t['n_positive']} |")
        lines.append("")
    return "\n".join(lines)
