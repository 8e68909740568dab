"""Explanation commands: explain-eval, where CAM heatmaps fall relative to the lesion masks."""
from __future__ import annotations

import argparse
import sys


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def parse_methods(text: str) -> list[str]:
    """'gradcam, gradcam++' -> ['gradcam', 'gradcam++'] (order kept, repeats dropped); 'all' -> every method."""
    from ..explain import CAM_METHODS

    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    if names == ["all"]:
        return list(CAM_METHODS)
    unknown = [n for n in names if n not in CAM_METHODS]
    if unknown or not names:
        raise ValueError(f"unknown method {unknown[0]!r}" if unknown else "no method given")
    return list(dict.fromkeys(names))


def _read_mask(folder, image_id: str, size: tuple[int, int]):
    """(boolean mask, None) or (None, reason it cannot be used)."""
    import numpy as np
    from PIL import Image

    from ..data import mask_path
    from ..localisation import mask_problem

    path = mask_path(folder, image_id)
    if not path.is_file():
        return None, "no mask file"
    try:
        with Image.open(path) as img:
            mask = np.asarray(img.convert("L")) > 127
    except OSError:
        return None, "unreadable mask"
    if mask.shape != (size[1], size[0]):
        return None, "mask and image differ in size"
    problem = mask_problem(mask)
    return (None, problem) if problem else (mask, None)


def _select(records, split: str, config: dict, limit: int, per_class: int):
    from ..data import lesion_split

    if split == "validation":
        _, records = lesion_split(records, config.get("val_fraction", 0.2), config.get("seed", 42))
    if per_class:
        taken: dict[str, int] = {}
        picked = []
        for rec in records:
            if taken.get(rec.dx, 0) < per_class:
                taken[rec.dx] = taken.get(rec.dx, 0) + 1
                picked.append(rec)
        records = picked
    return records[:limit] if limit else records


def _fmt(x: float, digits: int = 3) -> str:
    return "–" if x != x else f"{x:.{digits}f}"


def format_report(report: dict) -> str:
    """Markdown tables: overall per method and baseline, then each score by true class."""
    rows, classes = report["rows"], report["classes"]
    lines = [
        "| heatmap | images | energy inside mask | pointing game | IoU@{:g} | s / image | empty maps |".format(
            report["threshold"]),
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        overall = row["summary"]["all"]
        lines.append(f"| {row['label']} | {overall['n']} | {_fmt(overall['energy_inside'])} | "
                     f"{_fmt(overall['pointing'])} | {_fmt(overall['iou'])} | {_fmt(row['seconds_per_image'])} | "
                     f"{row['empty'] if row['empty'] is not None else '–'} |")
    for key, title in (("energy_inside", "Energy inside the mask"), ("pointing", "Pointing-game hit rate"),
                       ("iou", f"IoU at {report['threshold']:g} × max")):
        counts = {c: rows[0]["summary"].get(c, {}).get("n", 0) for c in classes} if rows else {}
        lines += ["", f"{title}, by true class", "",
                  "| heatmap | " + " | ".join(f"{c} (n={counts.get(c, 0)})" for c in classes) + " |",
                  "|---|" + "---:|" * len(classes)]
        for row in rows:
            cells = [_fmt(row["summary"].get(c, {}).get(key, float("nan"))) for c in classes]
            lines.append(f"| {row['label']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


REFERENCE = "centre-gaussian"
# Lesion size as a share of the frame: small lesions fall below the CAM's coarse grid; large ones are
# where the centre prior is hard to beat. Quartiles on HAM10000 validation: 13 %, 23 %, 38 %.
LESION_SIZE_EDGES = (0.0, 0.05, 0.15, 0.35, 1.01)
MIN_GROUP_FOR_STAR = 20  # a bootstrap interval over a handful of images says little
SCORES = (("energy_inside", "energy inside"), ("pointing", "pointing game"), ("iou", "IoU"))


def paired_against_centre(per_image: list[dict], methods: list[str], classes: list[str],
                          by_correctness: bool) -> dict:
    """Each method against the centre prior on the same images: overall, by true class and, when the
    heatmap is of the predicted class, split by whether that prediction was right."""
    import numpy as np

    from ..localisation import paired_comparison

    def compare(rows: list[dict], method: str, score: str) -> dict:
        reference = np.array([r[REFERENCE][score] for r in rows])
        result = paired_comparison(np.array([r[method][score] for r in rows]), reference)
        return {**result.__dict__, "reference": float(reference.mean()) if rows else float("nan")}

    groups = {"all": per_image, **{c: [r for r in per_image if r["dx"] == c] for c in classes}}
    if by_correctness:
        groups["prediction right"] = [r for r in per_image if r["target"] == r["dx"]]
        groups["prediction wrong"] = [r for r in per_image if r["target"] != r["dx"]]
    for low, high in zip(LESION_SIZE_EDGES, LESION_SIZE_EDGES[1:]):
        name = (f"lesion < {high:.0%} of frame" if low == 0 else f"lesion ≥ {low:.0%} of frame" if high > 1
                else f"lesion {low:.0%}–{high:.0%} of frame")
        groups[name] = [r for r in per_image if low <= r["mask_coverage"] < high]
    return {method: {group: {score: compare(rows, method, score) for score, _ in SCORES}
                     for group, rows in groups.items()} for method in methods}


def _signed(x: float) -> str:
    return "–" if x != x else f"{x:+.3f}"


def format_paired(report: dict) -> str:
    """Markdown: how much each method beats (or trails) the centre prior, image by image."""
    paired = report["paired"]
    if not paired:
        return ""
    labels = {row["name"]: row["label"] for row in report["rows"]}
    lines = ["Against the centre prior, image by image: mean difference (method − centre Gaussian) with a 95 % "
             "bootstrap interval, and the share of images where the method scores higher / lower", "",
             "| heatmap | " + " | ".join(title for _, title in SCORES) + " |", "|---|" + "---|" * len(SCORES)]
    for method, groups in paired.items():
        cells = []
        for score, _ in SCORES:
            c = groups["all"][score]
            cells.append(f"{_signed(c['mean_difference'])} [{_signed(c['ci_low'])}, {_signed(c['ci_high'])}] · "
                         f"{_fmt(c['wins'], 2)} / {_fmt(c['losses'], 2)}")
        lines.append(f"| {labels[method]} | " + " | ".join(cells) + " |")
    methods = list(paired)
    for score, title in (("energy_inside", "Energy inside the mask"), ("pointing", "Pointing-game hit rate")):
        lines += ["", f"{title} minus the centre prior's, by group (* = 95 % interval excludes 0, groups of "
                  f"{MIN_GROUP_FOR_STAR} or more images)", "",
                  "| group | images | centre prior | " + " | ".join(labels[m] for m in methods) + " |",
                  "|---|---:|---:|" + "---:|" * len(methods)]
        for group in paired[methods[0]]:
            reference = paired[methods[0]][group][score]
            cells = []
            for method in methods:
                c = paired[method][group][score]
                clear = c["n"] >= MIN_GROUP_FOR_STAR and (c["ci_low"] > 0 or c["ci_high"] < 0)
                cells.append(_signed(c["mean_difference"]) + ("*" if clear else ""))
            lines.append(f"| {group} | {reference['n']} | {_fmt(reference['reference'])} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def measure_faithfulness(classifier, prepared, explanations, image_id: str, out: dict) -> None:
    """ROAD both ways and highlighted-only for each heatmap and for the centre prior on the same
    model grid (the same target class), so that "removing the hot 20 % hurts" can be compared with
    what removing the middle of the image does anyway."""
    from ..explain import Explanation
    from ..faithfulness import FaithfulnessError, faithfulness
    from ..localisation import centre_gaussian

    grid = explanations[0].model_grid
    centre = Explanation(heatmap=centre_gaussian(grid.shape), method=REFERENCE, target=explanations[0].target,
                         model_grid=centre_gaussian(grid.shape))
    out[image_id] = {}
    for explanation in [*explanations, centre]:
        try:
            out[image_id][explanation.method] = faithfulness(classifier, prepared, explanation)
        except FaithfulnessError as exc:
            out[image_id][explanation.method] = str(exc)


def _faith_row(f) -> dict:
    return {"probability": f.probability, "without_most_relevant": f.without_most_relevant,
            "without_least_relevant": f.without_least_relevant, "highlighted_only": f.highlighted_only,
            "road_gap": f.road_gap}


def faithfulness_summary(per_image: list[dict], names: list[str]) -> dict:
    """Per heatmap: mean relative change of the class probability under each perturbation, the mean
    ROAD gap, the share of maps read as clearly faithful / clearly unfaithful, and the gap paired
    against the centre prior's on the same images."""
    import numpy as np

    from ..faithfulness import CLEAR_GAP
    from ..localisation import paired_comparison

    def rows_for(name: str) -> list[dict]:
        return [r["faithfulness"][name] for r in per_image if isinstance(r["faithfulness"].get(name), dict)]

    def relative(rows: list[dict], key: str) -> float:
        return float(np.mean([(r[key] - r["probability"]) / r["probability"] for r in rows])) if rows else float("nan")

    summary = {}
    for name in names:
        rows = rows_for(name)
        gaps = np.array([r["road_gap"] for r in rows])
        both = [r for r in per_image if all(isinstance(r["faithfulness"].get(n), dict) for n in (name, REFERENCE))]
        paired = paired_comparison(np.array([r["faithfulness"][name]["road_gap"] for r in both]),
                                   np.array([r["faithfulness"][REFERENCE]["road_gap"] for r in both]))
        summary[name] = {
            "n": len(rows), "not_measured": len(per_image) - len(rows),
            "without_most_relevant": relative(rows, "without_most_relevant"),
            "without_least_relevant": relative(rows, "without_least_relevant"),
            "highlighted_only": relative(rows, "highlighted_only"),
            "road_gap": float(gaps.mean()) if rows else float("nan"),
            "clearly_faithful": float((gaps > CLEAR_GAP).mean()) if rows else float("nan"),
            "clearly_unfaithful": float((gaps < -CLEAR_GAP).mean()) if rows else float("nan"),
            "gap_vs_centre": paired.__dict__,
        }
    return summary


def _percent(x: float) -> str:
    return "–" if x != x else f"{x * 100:+.0f} %"


def format_faithfulness(report: dict) -> str:
    from ..faithfulness import CLEAR_GAP, DEFAULT_FRACTION

    labels = {row["name"]: row["label"] for row in report["rows"]}
    share = f"{DEFAULT_FRACTION:.0%}"
    lines = [f"Faithfulness (pytorch-grad-cam ROAD with {share} of pixels removed, and the image multiplied by the "
             "heatmap): mean relative change of the target's calibrated probability. ROAD gap = (least-relevant-"
             f"removed − most-relevant-removed) / unperturbed; 'faithful' = gap > {CLEAR_GAP:g}, 'unfaithful' = "
             f"gap < −{CLEAR_GAP:g}. The centre prior is scored the same way.", "",
             f"| heatmap | maps | most relevant {share} removed | least relevant {share} removed | highlighted only | "
             "ROAD gap | faithful / unfaithful | gap − centre prior's [95 % CI] |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for name, row in report["faithfulness"].items():
        c = row["gap_vs_centre"]
        versus = "–" if name == REFERENCE else f"{_signed(c['mean_difference'])} [{_signed(c['ci_low'])}, {_signed(c['ci_high'])}]"
        lines.append(f"| {labels.get(name, name + ' (baseline)')} | {row['n']} | {_percent(row['without_most_relevant'])} | "
                     f"{_percent(row['without_least_relevant'])} | {_percent(row['highlighted_only'])} | "
                     f"{_fmt(row['road_gap'])} | {_fmt(row['clearly_faithful'], 2)} / {_fmt(row['clearly_unfaithful'], 2)} | "
                     f"{versus} |")
    return "\n".join(lines)


def worst_cases_sheet(classifier, folder, rows: list[dict], method: str) -> bytes:
    """A PNG grid of the given images: the method's heatmap over the image, the lesion mask in green.
    For looking at failures (rulers, hair, dark corners, ink); derived from the data set's images, so
    keep it beside the data, not in the repository."""
    from ..data import image_path
    from ..explain import explain_prepared
    from ..figures import figure_png, heatmap_overlay, mask_outline
    from ..imaging import load_image

    tiles = []
    for row in rows:
        image = load_image(image_path(folder, row["image_id"])).image
        mask, _ = _read_mask(folder, row["image_id"], image.size)
        heatmap = explain_prepared(classifier, classifier.prepare(image), method, row["target"]).heatmap
        picture = heatmap_overlay(image, heatmap, 0.5)
        tiles.append((mask_outline(picture, mask) if mask is not None else picture,
                      f"{row['image_id']} · true {row['dx']} · map of {row['target']} · "
                      f"{row[method]['energy_inside']:.0%} inside"))
    return figure_png(tiles, columns=4, tile_width=300)


def _explain_eval(args: argparse.Namespace) -> int:
    import json
    import time
    from collections import Counter
    from pathlib import Path

    from tqdm import tqdm

    from ..data import DataError, image_path, read_metadata
    from ..explain import CAM_METHODS, explain_many
    from ..imaging import ImageError, load_image
    from ..localisation import BASELINES, CENTRE_PRIOR_SIGMA, LocalisationError, LocalisationTally, localise
    from .classifier import _load_classifier

    try:
        methods = parse_methods(args.methods)
    except ValueError as exc:
        _err(f"{exc}; choose from {', '.join(CAM_METHODS)} (comma-separated) or 'all'")
        return 2
    if not 0.0 < args.threshold <= 1.0:
        _err(f"--threshold must be in (0, 1], got {args.threshold}")
        return 2
    try:
        records = read_metadata(args.data)
    except DataError as exc:
        _err(str(exc))
        return 2
    classifier = _load_classifier(args)
    if classifier is None:
        return 2
    records = _select(records, args.split, classifier.meta.training.get("config", {}), args.limit, args.per_class)
    if not records:
        _err("no images selected")
        return 1

    tallies = {name: LocalisationTally() for name in [*methods, *BASELINES]}
    empty: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    per_image: list[dict] = []
    wall: list[float] = []
    faithful: dict[str, dict] = {}  # image_id -> heatmap -> Faithfulness, or why it was not measured
    baseline_maps: dict[tuple[int, int], dict] = {}
    for rec in tqdm(records, desc="explain-eval", file=sys.stderr, disable=args.quiet):
        try:
            image = load_image(image_path(args.data, rec.image_id)).image
        except ImageError as exc:
            skipped[f"image unreadable ({exc})"] += 1
            continue
        mask, problem = _read_mask(args.data, rec.image_id, image.size)
        if problem:
            skipped[problem] += 1
            continue
        target = rec.dx if args.target == "true" else None
        start = time.perf_counter()
        prepared = classifier.prepare(image)
        explanations = explain_many(classifier, prepared, methods, [target],
                                    aug_smooth=args.aug_smooth, eigen_smooth=args.eigen_smooth)
        wall.append(time.perf_counter() - start)
        if args.faithfulness:
            measure_faithfulness(classifier, prepared, explanations, rec.image_id, faithful)
        if mask.shape not in baseline_maps:
            baseline_maps[mask.shape] = {name: make(mask.shape) for name, make in BASELINES.items()}
        try:
            scores = {exp.method: localise(exp.heatmap, mask, args.threshold) for exp in explanations}
            scores |= {name: localise(heat, mask, args.threshold) for name, heat in baseline_maps[mask.shape].items()}
        except LocalisationError as exc:
            skipped[f"not comparable ({exc})"] += 1
            continue
        for exp in explanations:
            tallies[exp.method].add(rec.dx, scores[exp.method], exp.seconds)
            empty[exp.method] += int(exp.heatmap.max() <= 0)
        for name in BASELINES:
            tallies[name].add(rec.dx, scores[name])
        per_image.append({"image_id": rec.image_id, "dx": rec.dx, "target": explanations[0].target,
                          **({"faithfulness": {m: f if isinstance(f, str) else _faith_row(f)
                                               for m, f in faithful[rec.image_id].items()}}
                             if args.faithfulness else {}),
                          "mask_coverage": float(mask.mean()),
                          **{m: {"energy_inside": r.energy_inside, "pointing": r.pointing_hit, "iou": r.iou}
                             for m, r in scores.items()}})

    scored = len(per_image)
    if not scored:
        _err("no image could be scored: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
        return 1
    classes = [c for c in classifier.classes if any(row["dx"] == c for row in per_image)]
    rows = [{"name": m, "label": CAM_METHODS[m].label, "summary": tallies[m].summary(),
             "seconds_per_image": tallies[m].seconds_per_image, "empty": empty[m]} for m in methods]
    rows += [{"name": b, "label": f"{b} (baseline)", "summary": tallies[b].summary(),
              "seconds_per_image": float("nan"), "empty": None} for b in BASELINES]
    report = {"paired": paired_against_centre(per_image, methods, classes, args.target == "predicted"),
              "model_version": classifier.meta.version, "data": str(args.data), "split": args.split,
              "target": args.target, "threshold": args.threshold, "centre_prior_sigma": CENTRE_PRIOR_SIGMA,
              "aug_smooth": args.aug_smooth, "eigen_smooth": args.eigen_smooth, "selected": len(records),
              "scored": scored, "skipped": dict(skipped), "classes": classes, "rows": rows,
              "all_methods_seconds_per_image": sum(wall) / len(wall)}

    skipped_text = ", ".join(f"{k}: {v}" for k, v in skipped.items()) or "none"
    target_text = ("the true class" if args.target == "true"
                   else "the predicted class (top class of the un-augmented forward pass)")
    print(f"Heatmap localisation against lesion masks — model {classifier.meta.version}, {args.data} "
          f"({args.split} split)")
    print(f"{len(records)} images selected, {scored} scored; skipped: {skipped_text}.")
    print(f"Heatmap of {target_text}; IoU region = heatmap ≥ {args.threshold:g} × its maximum; centre prior: "
          f"Gaussian with σ = {CENTRE_PRIOR_SIGMA:g} × the short side"
          + ("; aug_smooth" if args.aug_smooth else "") + ("; eigen_smooth" if args.eigen_smooth else "") + ".")
    print("s / image: the map alone (forward pass, its gradient, its own work); all methods together took "
          f"{report['all_methods_seconds_per_image']:.3f} s per image (methods sharing one forward pass share it).")
    print()
    print(format_report(report))
    print()
    print(format_paired(report))
    if args.faithfulness:
        report["faithfulness"] = faithfulness_summary(per_image, [*methods, REFERENCE])
        print()
        print(format_faithfulness(report))
    first = methods[0]
    worst = sorted(per_image, key=lambda row: row[first]["energy_inside"])[: args.worst]
    if worst:
        print(f"\nLowest energy inside the mask for {CAM_METHODS[first].label}:")
        for row in worst:
            print(f"  {row['image_id']}  dx={row['dx']:5s} heatmap of {row['target']:5s} "
                  f"energy inside {row[first]['energy_inside']:.3f}  pointing {row[first]['pointing']:.2f}  "
                  f"lesion {row['mask_coverage']:.1%} of frame")
    if args.sheet and worst:
        Path(args.sheet).write_bytes(worst_cases_sheet(classifier, args.data, worst, first))
        print(f"\nContact sheet of these {len(worst)} images: {args.sheet}")
    if args.json:
        report["images"] = per_image
        Path(args.json).write_text(json.dumps(report, indent=2, allow_nan=True))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("explain-eval",
                       help="where CAM heatmaps fall relative to lesion masks, per method, against two baselines")
    p.add_argument("--data", required=True, help="HAM10000-format folder with masks/ (metadata.csv, images/, masks/)")
    p.add_argument("--methods", default="gradcam",
                   help="comma-separated CAM methods (gradcam,gradcam++,hirescam,...) or 'all'")
    p.add_argument("--split", choices=("validation", "all"), default="validation",
                   help="'validation': the checkpoint's lesion-level validation split of this folder; 'all': every image")
    p.add_argument("--limit", type=int, default=0, help="only the first N selected images")
    p.add_argument("--per-class", type=int, default=0, help="at most N images per diagnosis (for the slow methods)")
    p.add_argument("--target", choices=("predicted", "true"), default="predicted",
                   help="explain the predicted class (what the app shows first) or the true diagnosis")
    p.add_argument("--threshold", type=float, default=0.5, help="IoU region: heatmap >= THRESHOLD x its maximum")
    p.add_argument("--aug-smooth", action="store_true", help="average each map over flipped and rescaled inputs")
    p.add_argument("--eigen-smooth", action="store_true", help="first principal component of the weighted activations")
    p.add_argument("--worst", type=int, default=0, help="also list the N images with the least energy inside the mask")
    p.add_argument("--faithfulness", action="store_true",
                   help="also measure each heatmap's faithfulness (ROAD, highlighted-only) against the centre "
                        "prior's; about 0.4 s per heatmap, so combine with --per-class or --limit")
    p.add_argument("--sheet", help="with --worst: also draw those images with their heatmaps and masks into this PNG")
    p.add_argument("--json", help="also write the report, with per-image scores, as JSON here")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--model-dir", help="checkpoint folder (default: settings)")
    p.set_defaults(func=_explain_eval)
