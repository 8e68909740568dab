"""Segmentation figures for the model card: Dice and IoU on the lesion-level validation split, on each image's own
pixel grid, overall, per diagnosis and by lesion size, with the raw mask and the cleaned one (largest region, holes
filled) side by side."""
from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

from core.segmentation.metrics import dice_iou
from core.segmentation.segmenter import Segmenter
from core.vision.data import image_path, lesion_split, mask_path, read_metadata

# Lesion size bands by the share of the frame the reference mask covers.
SIZE_BANDS = (("small (< 10 % of the frame)", 0.0, 0.10), ("medium (10-30 %)", 0.10, 0.30),
              ("large (≥ 30 %)", 0.30, 1.01))


def _summary(values: list[tuple[float, float]]) -> dict:
    if not values:
        return {"n": 0}
    dice = np.array([v[0] for v in values])
    iou = np.array([v[1] for v in values])
    return {"n": len(values), "dice": float(dice.mean()), "dice_median": float(np.median(dice)),
            "iou": float(iou.mean()), "dice_below_0.7": float((dice < 0.7).mean())}


def evaluate_segmenter(segmenter: Segmenter, data: str | Path, split: str = "validation", limit: int = 0,
                       val_fraction: float = 0.2, seed: int = 42) -> dict:
    records = read_metadata(data)
    if split == "validation":
        records = lesion_split(records, val_fraction, seed)[1]
    if limit:
        records = records[:limit]
    raw: dict[str, list] = defaultdict(list)
    cleaned: dict[str, list] = defaultdict(list)
    seconds, skipped = [], 0
    problems: dict[str, int] = defaultdict(int)
    threshold = segmenter.meta.threshold
    for rec in records:
        path = mask_path(data, rec.image_id)
        if not path.is_file():
            skipped += 1
            continue
        with Image.open(image_path(data, rec.image_id)) as img, Image.open(path) as msk:
            image, reference = img.convert("RGB"), np.asarray(msk.convert("L")) > 127
        t0 = time.perf_counter()
        prob = segmenter.probability(image)
        result = segmenter.outline(prob, image.size)
        seconds.append(time.perf_counter() - t0)
        prob = segmenter.upsample(prob, image.size)
        if result.problem:
            problems[result.problem] += 1
        coverage = float(reference.mean())
        size = next(name for name, low, high in SIZE_BANDS if low <= coverage < high)
        for groups, mask in ((raw, prob >= threshold), (cleaned, result.mask)):
            score = dice_iou(mask, reference)
            for key in ("all", f"dx:{rec.dx}", f"size:{size}",
                        f"outline:{'flagged, not relied on' if result.problem else 'relied on'}"):
                groups[key].append(score)
    return {
        "split": split, "n_images": len(raw["all"]), "skipped_no_mask": skipped,
        "input_size": list(segmenter.meta.input_size), "version": segmenter.meta.version,
        "cleaned": {k: _summary(v) for k, v in sorted(cleaned.items())},
        "raw": {k: _summary(v) for k, v in sorted(raw.items())},
        "seconds_per_image_p50": float(np.median(seconds)) if seconds else float("nan"),
        "outline_problems": dict(problems),  # outlines the app would not rely on, by reason
    }

