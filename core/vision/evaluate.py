"""Model-card evaluation: run the classifier over HAM10000 records and report every figure,
image-level and lesion-level, overall and by subgroup, plus the malignancy escalation thresholds."""
from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from core.vision.classifier import Classifier
from core.config import MALIGNANT
from core.vision.data import Record, image_path
from core.vision.imaging import load_image
from core.vision.metrics import classification_report, sensitivity_at_threshold, softmax

AGE_BANDS = ((0, 30, "<30"), (30, 50, "30-49"), (50, 70, "50-69"), (70, 200, "70+"))
ESCALATION_TARGET_SENSITIVITY = 0.90


def record_outputs(classifier: Classifier, folder: str | Path, records: list[Record], batch_size: int = 32,
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


def lesion_level(records: list[Record], probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean probability over each lesion's images: one prediction per lesion."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        groups[r.lesion_id].append(i)
    ids = sorted(groups)
    return (np.array([records[groups[l][0]].label for l in ids]),
            np.stack([probs[groups[l]].mean(0) for l in ids]))


def subgroup_reports(records: list[Record], y: np.ndarray, probs: np.ndarray, classes: list[str]) -> dict:
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
            rep = classification_report(y[idx], probs[idx], classes)
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


def full_report(records: list[Record], logits: np.ndarray, classes: list[str], temperature: float,
                thresholds: dict[str, float] | None = None) -> dict:
    y = np.array([r.label for r in records])
    probs = softmax(logits, temperature)
    y_lesion, p_lesion = lesion_level(records, probs)
    return {
        "temperature": temperature,
        "escalation": thresholds_report(y, probs, classes, thresholds or {}),
        "image_level": classification_report(y, probs, classes),
        "lesion_level": classification_report(y_lesion, p_lesion, classes),
        "ece_uncalibrated": classification_report(y, softmax(logits, 1.0), classes)["ece"],
        "subgroups": subgroup_reports(records, y, probs, classes),
    }


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
    lines.append(f"ECE before temperature scaling: {_fmt(report['ece_uncalibrated'])}; "
                 f"after: {_fmt(report['image_level']['ece'])} (image level).")
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
            lines.append(f"| {c} | {t['threshold']:.3f} | {_fmt(t['sensitivity'])} | {_fmt(t['specificity'])} | {t['n_positive']} |")
        lines.append("")
    return "\n".join(lines)
