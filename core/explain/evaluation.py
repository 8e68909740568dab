"""Evaluating heatmaps on a HAM10000-format folder with lesion masks.

For each image: the heatmaps of the chosen CAM methods, scored against the lesion mask (energy inside,
pointing game, IoU; `core.explain.localisation`) next to two baselines, a uniform map and a centred Gaussian.
Dermoscopy photos are centred on the lesion, so the report compares every method with the centre prior
image by image (bootstrap intervals), overall, by diagnosis, by whether the prediction was right, and by
lesion size. Optionally each heatmap's faithfulness (`core.explain.faithfulness`) is measured too, with the
centre prior scored the same way. `python -m core explain-eval` prints the report.
"""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.vision.classifier import Classifier
from core.vision.data import Record, image_path, lesion_split, read_lesion_mask
from core.explain.cams import CAM_METHODS, Explanation, explain_many, explain_prepared
from core.explain.faithfulness import CLEAR_GAP, FaithfulnessError, faithfulness
from core.explain.figures import figure_png, heatmap_overlay, mask_outline
from core.vision.imaging import ImageError, load_image
from core.explain.localisation import (
    BASELINES,
    CENTRE_PRIOR_SIGMA,
    DEFAULT_IOU_THRESHOLD,
    LocalisationError,
    LocalisationTally,
    centre_gaussian,
    localise,
    paired_comparison,
)
from core.vision.transforms import Prepared, heatmap_to_original

REFERENCE = "centre-gaussian"  # the baseline every method is compared with
# Lesion size as a share of the frame: small lesions fall below the CAM's coarse grid; large ones are
# where the centre prior is hard to beat. Quartiles on HAM10000 validation: 13 %, 23 %, 38 %.
LESION_SIZE_EDGES = (0.0, 0.05, 0.15, 0.35, 1.01)
SCORES = ("energy_inside", "pointing", "iou")


@dataclass(frozen=True)
class ExplainEvalOptions:
    methods: tuple[str, ...] = ("gradcam",)
    target: str = "predicted"  # "predicted": the class the app shows first; "true": the diagnosis
    threshold: float = DEFAULT_IOU_THRESHOLD  # IoU region: heatmap >= threshold x its maximum
    aug_smooth: bool = False
    eigen_smooth: bool = False
    faithfulness: bool = False  # about 0.4 s per heatmap: use on a sample


def select_records(records: list[Record], split: str, config: dict, limit: int = 0,
                   per_class: int = 0) -> list[Record]:
    """The checkpoint's validation split ("validation") or every record ("all"), at most `per_class`
    per diagnosis, then the first `limit`."""
    if split == "validation":
        _, records = lesion_split(records, config.get("val_fraction", 0.2), config.get("seed", 42))
    if per_class:
        taken: Counter[str] = Counter()
        picked = []
        for rec in records:
            if taken[rec.dx] < per_class:
                taken[rec.dx] += 1
                picked.append(rec)
        records = picked
    return records[:limit] if limit else records


def measure_faithfulness(classifier: Classifier, prepared: Prepared,
                         explanations: list[Explanation]) -> dict[str, dict | str]:
    """ROAD both ways and highlighted-only for each heatmap and for the centre prior on the same model
    grid and class: removing the middle of a centred photo hurts any classifier, and a heatmap adds only
    what it does beyond that. Per heatmap: the scores, or why they could not be measured."""
    grid = centre_gaussian(explanations[0].model_grid.shape)
    centre = Explanation(heatmap=heatmap_to_original(grid, prepared), method=REFERENCE,
                         target=explanations[0].target, model_grid=grid)
    out: dict[str, dict | str] = {}
    for explanation in [*explanations, centre]:
        try:
            f = faithfulness(classifier, prepared, explanation)
        except FaithfulnessError as exc:
            out[explanation.method] = str(exc)
            continue
        out[explanation.method] = {"probability": f.probability, "without_most_relevant": f.without_most_relevant,
                                   "without_least_relevant": f.without_least_relevant,
                                   "highlighted_only": f.highlighted_only, "road_gap": f.road_gap}
    return out


def evaluate_explanations(classifier: Classifier, folder: str | Path, records: list[Record],
                          options: ExplainEvalOptions,
                          progress: Callable[[list[Record]], Iterable[Record]] | None = None) -> dict:
    """Score every readable image with a usable mask; a JSON-ready report (see `format_*` in the CLI).

    `progress` may wrap the record iterable (e.g. tqdm). Images that cannot be scored are counted in
    report["skipped"] by reason, never raised.
    """
    tallies = {name: LocalisationTally() for name in [*options.methods, *BASELINES]}
    empty: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    per_image: list[dict] = []
    wall: list[float] = []
    baseline_maps: dict[tuple[int, int], dict[str, np.ndarray]] = {}
    for rec in (progress(records) if progress else records):
        try:
            image = load_image(image_path(folder, rec.image_id)).image
        except ImageError as exc:
            skipped[f"image unreadable ({exc})"] += 1
            continue
        mask, problem = read_lesion_mask(folder, rec.image_id, image.size)
        if mask is None:
            skipped[problem] += 1
            continue
        start = time.perf_counter()
        prepared = classifier.prepare(image)
        explanations = explain_many(classifier, prepared, options.methods,
                                    [rec.dx if options.target == "true" else None],
                                    aug_smooth=options.aug_smooth, eigen_smooth=options.eigen_smooth)
        wall.append(time.perf_counter() - start)
        if mask.shape not in baseline_maps:
            baseline_maps[mask.shape] = {name: make(mask.shape) for name, make in BASELINES.items()}
        try:
            scores = {exp.method: localise(exp.heatmap, mask, options.threshold) for exp in explanations}
            scores |= {name: localise(heat, mask, options.threshold) for name, heat in baseline_maps[mask.shape].items()}
        except LocalisationError as exc:
            skipped[f"not comparable ({exc})"] += 1
            continue
        for exp in explanations:
            tallies[exp.method].add(rec.dx, scores[exp.method], exp.seconds)
            empty[exp.method] += int(exp.heatmap.max() <= 0)
        for name in BASELINES:
            tallies[name].add(rec.dx, scores[name])
        row = {"image_id": rec.image_id, "dx": rec.dx, "target": explanations[0].target,
               "mask_coverage": float(mask.mean()),
               **{m: {"energy_inside": r.energy_inside, "pointing": r.pointing_hit, "iou": r.iou}
                  for m, r in scores.items()}}
        if options.faithfulness:
            row["faithfulness"] = measure_faithfulness(classifier, prepared, explanations)
        per_image.append(row)

    classes = [c for c in classifier.classes if any(row["dx"] == c for row in per_image)]
    rows = [{"name": m, "label": CAM_METHODS[m].label, "summary": tallies[m].summary(),
             "seconds_per_image": tallies[m].seconds_per_image, "empty": empty[m]} for m in options.methods]
    rows += [{"name": b, "label": f"{b} (baseline)", "summary": tallies[b].summary(),
              "seconds_per_image": float("nan"), "empty": None} for b in BASELINES]
    report = {"model_version": classifier.meta.version, "data": str(folder), "target": options.target,
              "threshold": options.threshold, "centre_prior_sigma": CENTRE_PRIOR_SIGMA,
              "aug_smooth": options.aug_smooth, "eigen_smooth": options.eigen_smooth, "selected": len(records),
              "scored": len(per_image), "skipped": dict(skipped), "classes": classes, "rows": rows,
              "all_methods_seconds_per_image": float(np.mean(wall)) if wall else float("nan"),
              "paired": paired_against_centre(per_image, list(options.methods), classes,
                                              options.target == "predicted") if per_image else {},
              "images": per_image}
    if options.faithfulness and per_image:
        report["faithfulness"] = faithfulness_summary(per_image, [*options.methods, REFERENCE])
    return report


def comparison_groups(per_image: list[dict], classes: list[str], by_correctness: bool) -> dict[str, list[dict]]:
    """All images; by diagnosis; by whether the predicted class was right (when the maps are of the
    predicted class); by lesion size."""
    groups = {"all": per_image, **{c: [r for r in per_image if r["dx"] == c] for c in classes}}
    if by_correctness:
        groups["prediction right"] = [r for r in per_image if r["target"] == r["dx"]]
        groups["prediction wrong"] = [r for r in per_image if r["target"] != r["dx"]]
    for low, high in zip(LESION_SIZE_EDGES, LESION_SIZE_EDGES[1:]):
        name = (f"lesion < {high:.0%} of frame" if low == 0 else f"lesion ≥ {low:.0%} of frame" if high > 1
                else f"lesion {low:.0%}–{high:.0%} of frame")
        groups[name] = [r for r in per_image if low <= r["mask_coverage"] < high]
    return groups


def paired_against_centre(per_image: list[dict], methods: list[str], classes: list[str],
                          by_correctness: bool) -> dict:
    """Each method against the centre prior on the same images, per group and score: the paired
    difference with its bootstrap interval, win/loss shares, and the centre prior's own mean."""
    def compare(rows: list[dict], method: str, score: str) -> dict:
        reference = np.array([r[REFERENCE][score] for r in rows])
        result = paired_comparison(np.array([r[method][score] for r in rows]), reference)
        return {**result.__dict__, "reference": float(reference.mean()) if rows else float("nan")}

    groups = comparison_groups(per_image, classes, by_correctness)
    return {method: {group: {score: compare(rows, method, score) for score in SCORES}
                     for group, rows in groups.items()} for method in methods}


def faithfulness_summary(per_image: list[dict], names: list[str]) -> dict:
    """Per heatmap: mean relative change of the class probability under each perturbation, the mean
    ROAD gap, the shares read as clearly faithful / clearly unfaithful, and the gap paired against the
    centre prior's on the same images."""
    def measured(row: dict, name: str) -> dict | None:
        value = row["faithfulness"].get(name)
        return value if isinstance(value, dict) else None

    def relative(rows: list[dict], key: str) -> float:
        return float(np.mean([(r[key] - r["probability"]) / r["probability"] for r in rows])) if rows else float("nan")

    summary = {}
    for name in names:
        rows = [m for r in per_image if (m := measured(r, name))]
        gaps = np.array([r["road_gap"] for r in rows])
        both = [r for r in per_image if measured(r, name) and measured(r, REFERENCE)]
        paired = paired_comparison(np.array([r["faithfulness"][name]["road_gap"] for r in both]),
                                   np.array([r["faithfulness"][REFERENCE]["road_gap"] for r in both]))
        nan = float("nan")
        summary[name] = {
            "n": len(rows), "not_measured": len(per_image) - len(rows),
            "without_most_relevant": relative(rows, "without_most_relevant"),
            "without_least_relevant": relative(rows, "without_least_relevant"),
            "highlighted_only": relative(rows, "highlighted_only"),
            "road_gap": float(gaps.mean()) if rows else nan,
            "clearly_faithful": float((gaps > CLEAR_GAP).mean()) if rows else nan,
            "clearly_unfaithful": float((gaps < -CLEAR_GAP).mean()) if rows else nan,
            "gap_vs_centre": paired.__dict__,
        }
    return summary


def worst_cases_sheet(classifier: Classifier, folder: str | Path, rows: list[dict], method: str) -> bytes:
    """A PNG grid of the given report rows: the method's heatmap over the image, the lesion mask in green.
    For looking at failures (rulers, hair, dark corners, ink). It is made of the data set's images, so
    keep it beside the data, not in the repository."""
    tiles = []
    for row in rows:
        image = load_image(image_path(folder, row["image_id"])).image
        mask, _ = read_lesion_mask(folder, row["image_id"], image.size)
        heatmap = explain_prepared(classifier, classifier.prepare(image), method, row["target"]).heatmap
        picture = heatmap_overlay(image, heatmap, 0.5)
        tiles.append((mask_outline(picture, mask) if mask is not None else picture,
                      f"{row['image_id']} · true {row['dx']} · map of {row['target']} · "
                      f"{row[method]['energy_inside']:.0%} inside"))
    return figure_png(tiles, columns=4, tile_width=300)
