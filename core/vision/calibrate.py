"""After training, on the lesion-level validation split: temperature scaling, the metadata fusion, the
decision rule and the malignancy escalation thresholds (all written into the checkpoint's JSON), the
cross-validated model-card metrics, and the out-of-distribution feature model (written beside it)."""
from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

from core.vision.classifier import Classifier
from core.vision.data import lesion_split, read_metadata
from core.vision.evaluate import (
    cross_validate_records,
    escalation_thresholds,
    record_outputs,
    validation_report,
)
from core.vision.fusion import fit_decision_rule, fit_fusion
from core.vision.metrics import fit_temperature
from core.vision.model import save_checkpoint
from core.vision.ood import fit_feature_gaussian, save_feature_gaussian

# L2 penalty of the fusion's metadata weights (1 / C in scikit-learn's convention), fixed on the previous
# checkpoint (lite0-run1) before this one was trained: of 1, 3 and 10 none was clearly better (5-fold
# cross-validated AUC 0.960 / 0.960 / 0.959, balanced accuracy with the rule 0.744 / 0.739 / 0.734, ECE
# 0.026 / 0.026 / 0.017), so the earlier choice of 3 stayed.
FUSION_L2 = 3.0


def finalize(model_dir: str | Path, data: str | Path, *, val_fraction: float = 0.2, seed: int = 42,
             limit: int = 0, training_extra: dict | None = None, l2: float = FUSION_L2) -> dict:
    classifier = Classifier.load(model_dir)
    records = read_metadata(data)
    if limit:
        records = records[:limit]
    _, val = lesion_split(records, val_fraction, seed)
    classifier.meta.tta = True
    logits, features = record_outputs(classifier, data, val)
    y = np.array([r.label for r in val])
    classes = classifier.classes

    cv = cross_validate_records(val, logits, classes, l2=l2, seed=seed)
    # The metadata fusion is a probability model: it ships when its out-of-fold probabilities score better
    # (lower log loss, the proper scoring rule) than the temperature-scaled image model's. The decision rule
    # for the suggested class is fitted on top of whichever ships.
    use_fusion = cv.log_loss("fused") < cv.log_loss("image")
    print(f"out-of-fold log loss: image model {cv.log_loss('image'):.3f}, with the metadata fusion "
          f"{cv.log_loss('fused'):.3f}: the fusion {'ships' if use_fusion else 'does not ship'}", file=sys.stderr)
    report = validation_report(val, logits, classes, cv, fusion=use_fusion)
    # The shipped parameters: the same fits on the whole split. The rule and the thresholds are fitted on
    # out-of-fold probabilities, as each fold's were, not on the fusion's own (optimistic) training outputs.
    probs = cv.fused if use_fusion else cv.image
    rule = fit_decision_rule(probs, y, len(classes))
    thresholds = escalation_thresholds(y, probs, classes)

    meta = classifier.meta
    meta.temperature = fit_temperature(logits, y)
    meta.fusion = fit_fusion(logits, [r.details for r in val], y, len(classes), l2=l2).to_json() if use_fusion else {}
    meta.decision_weights = list(rule.weights)
    meta.escalation_thresholds = {c: v["threshold"] for c, v in thresholds.items() if "threshold" in v}
    escalation = {c: {**report["escalation"][c], **({"threshold": thresholds[c]["threshold"]}
                                                    if "threshold" in thresholds.get(c, {}) else {})}
                  for c in report["escalation"]}
    meta.metrics = {
        "split": f"lesion-level validation split (seed {seed}, {val_fraction:.0%} of lesions per class); "
                 f"figures cross-validated over {report['cross_validation']['folds']} lesion-grouped folds",
        "image_level": {k: report["image_level"][k] for k in ("n", "accuracy", "balanced_accuracy", "macro_auc", "ece", "melanoma", "per_class")},
        "lesion_level": {k: report["lesion_level"][k] for k in ("n", "balanced_accuracy", "melanoma")},
        "ece_uncalibrated": report["ece_uncalibrated"],
        "recipe": report["recipe"],
        "shipped": report["shipped"],
        "fusion_l2": l2,
        # Sensitivity and specificity of each threshold are cross-validated; the threshold is the whole-split fit.
        "escalation": escalation,
    }
    meta.training = {**meta.training, **(training_extra or {})}
    meta.version = f"{meta.backbone}-{Path(model_dir).name}-e{meta.training.get('epochs_completed', meta.training.get('best_epoch', '?'))}"
    save_checkpoint(model_dir, classifier.model, meta)
    save_feature_gaussian(model_dir, fit_feature_gaussian(features))
    il = report["image_level"]
    print(f"validation (cross-validated): balanced accuracy {il['balanced_accuracy']:.4f}, melanoma sensitivity "
          f"{il['melanoma']['sensitivity']:.3f} / specificity {il['melanoma']['specificity']:.3f}, macro AUC "
          f"{il['macro_auc']:.3f}, ECE {il['ece']:.3f}", file=sys.stderr)
    return asdict(meta)
