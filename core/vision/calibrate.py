"""After training: temperature scaling on validation, the model-card metrics and the malignancy
escalation thresholds (written into the checkpoint's JSON), and the out-of-distribution feature
model (written beside it)."""
from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

from core.vision.classifier import Classifier
from core.vision.data import lesion_split, read_metadata
from core.vision.evaluate import escalation_thresholds, full_report, record_outputs
from core.vision.metrics import fit_temperature, softmax
from core.vision.model import save_checkpoint
from core.vision.ood import fit_feature_gaussian, save_feature_gaussian


def finalize(model_dir: str | Path, data: str | Path, *, val_fraction: float = 0.2, seed: int = 42,
             limit: int = 0, training_extra: dict | None = None) -> dict:
    classifier = Classifier.load(model_dir)
    records = read_metadata(data)
    if limit:
        records = records[:limit]
    _, val = lesion_split(records, val_fraction, seed)
    classifier.meta.tta = True
    logits, features = record_outputs(classifier, data, val)
    y = np.array([r.label for r in val])
    temperature = fit_temperature(logits, y)
    classes = classifier.classes
    report = full_report(val, logits, classes, temperature)
    thresholds = escalation_thresholds(y, softmax(logits, temperature), classes)

    meta = classifier.meta
    meta.temperature = temperature
    meta.escalation_thresholds = {c: v["threshold"] for c, v in thresholds.items() if "threshold" in v}
    meta.metrics = {
        "split": f"lesion-level validation split (seed {seed}, {val_fraction:.0%} of lesions per class)",
        "image_level": {k: report["image_level"][k] for k in ("n", "accuracy", "balanced_accuracy", "macro_auc", "ece", "melanoma", "per_class")},
        "lesion_level": {k: report["lesion_level"][k] for k in ("n", "balanced_accuracy", "melanoma")},
        "ece_uncalibrated": report["ece_uncalibrated"],
        "escalation": thresholds,
    }
    meta.training = {**meta.training, **(training_extra or {})}
    meta.version = f"{meta.backbone}-{Path(model_dir).name}-e{meta.training.get('best_epoch', '?')}"
    save_checkpoint(model_dir, classifier.model, meta)
    save_feature_gaussian(model_dir, fit_feature_gaussian(features))
    il = report["image_level"]
    print(f"temperature {temperature:.3f}; validation balanced accuracy {il['balanced_accuracy']:.4f}, "
          f"melanoma sensitivity {il['melanoma']['sensitivity']:.3f}, ECE {report['ece_uncalibrated']:.3f} -> {il['ece']:.3f}",
          file=sys.stderr)
    return asdict(meta)
