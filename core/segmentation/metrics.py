"""Overlap between a predicted and a reference lesion mask."""
from __future__ import annotations

import numpy as np


def dice_iou(predicted: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """(Dice, IoU) of two boolean masks of one shape; two empty masks agree perfectly (1, 1)."""
    predicted, reference = np.asarray(predicted, dtype=bool), np.asarray(reference, dtype=bool)
    if predicted.shape != reference.shape:
        raise ValueError(f"masks differ in shape: {predicted.shape} vs {reference.shape}")
    inter = np.logical_and(predicted, reference).sum()
    total = predicted.sum() + reference.sum()
    union = total - inter
    if total == 0:
        return 1.0, 1.0
    return float(2 * inter / total), float(inter / union)
