"""How well the placement check works: on validation images, the heatmap's weight inside the segmenter's outline
against its weight inside the reference (hand-drawn) mask, and the off-lesion warning's threshold chosen on one
half of the lesions and measured on the other. `python -m core evaluate-placement` prints it."""
from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np

from core.analysis import HeatmapRequest, analyse_many
from core.explain.localisation import centre_gaussian, energy_inside
from core.segmentation.segmenter import Segmenter
from core.vision.classifier import Classifier
from core.vision.data import image_path, lesion_split, read_lesion_mask, read_metadata
from core.vision.imaging import load_image

# A heatmap is "truly off the lesion" when less than half its weight is inside the reference mask.
TRULY_OFF_BELOW = 0.5
CANDIDATE_THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.2, 0.71, 0.05))


def _half(lesion_id: str) -> str:
    """A fixed split of lesions into a tuning half and a reporting half (by a checksum of the id)."""
    return "tune" if zlib.crc32(lesion_id.encode()) % 2 == 0 else "report"


def _rates(predicted: np.ndarray, reference: np.ndarray, threshold: float) -> dict:
    fires = predicted < threshold
    off = reference < TRULY_OFF_BELOW
    return {"threshold": threshold, "n": int(fires.size), "truly_off": int(off.sum()),
            "alarm_rate": float(fires.mean()),
            "detected": float(fires[off].mean()) if off.any() else float("nan"),
            "false_alarm": float(fires[~off].mean()) if (~off).any() else float("nan")}


def evaluate_placement(classifier: Classifier, segmenter: Segmenter, data: str | Path, settings, limit: int = 0,
                       method: str = "gradcam") -> dict:
    records = read_metadata(data)
    config = classifier.meta.training.get("config", {})
    records = lesion_split(records, config.get("val_fraction", 0.2), config.get("seed", 42))[1]
    if limit:
        records = records[:limit]
    by_name = {rec.image_id: rec for rec in records}
    decoded = ((rec.image_id, load_image(image_path(data, rec.image_id), max_pixels=settings.max_image_pixels,
                                         min_side=settings.min_image_side)) for rec in records)
    rows = []
    for name, analysis in analyse_many(decoded, classifier, heatmaps=HeatmapRequest(method), segmenter=segmenter):
        reference, _ = read_lesion_mask(data, name, analysis.image.image.size)
        if reference is None:
            continue
        heatmap = analysis.heatmap().heatmap
        placement = analysis.placement()
        rows.append({"half": _half(by_name[name].lesion_id), "dx": by_name[name].dx,
                     "outline_usable": placement.outline_problem is None,
                     "in_outline": placement.energy_inside,
                     "in_reference": energy_inside(heatmap, reference),
                     "centre_in_reference": energy_inside(centre_gaussian(reference.shape), reference)})
    usable = [r for r in rows if r["outline_usable"]]
    tune = [r for r in usable if r["half"] == "tune"]
    report = [r for r in usable if r["half"] == "report"]

    def arrays(subset):
        return np.array([r["in_outline"] for r in subset]), np.array([r["in_reference"] for r in subset])

    sweep = [_rates(*arrays(tune), t) for t in CANDIDATE_THRESHOLDS]
    # Youden's J (detected - false alarm) on the tuning half picks the threshold; the reporting half measures it.
    best = max(sweep, key=lambda r: (np.nan_to_num(r["detected"]) - np.nan_to_num(r["false_alarm"]), -r["threshold"]))
    outline_all, reference_all = arrays(usable)
    return {
        "method": method, "n_images": len(rows), "outline_usable": len(usable),
        "mean_in_outline": float(outline_all.mean()) if usable else float("nan"),
        "mean_in_reference": float(reference_all.mean()) if usable else float("nan"),
        "mean_centre_prior_in_reference": float(np.mean([r["centre_in_reference"] for r in rows])) if rows else float("nan"),
        "mean_abs_difference": float(np.abs(outline_all - reference_all).mean()) if usable else float("nan"),
        "tuning_sweep": sweep, "chosen_threshold": best["threshold"],
        "reporting_half": _rates(*arrays(report), best["threshold"]) if report else {},
    }
