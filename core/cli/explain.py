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
        explanations = explain_many(classifier, classifier.prepare(image), methods, [target],
                                    aug_smooth=args.aug_smooth, eigen_smooth=args.eigen_smooth)
        wall.append(time.perf_counter() - start)
        scores = {}
        try:
            for exp in explanations:
                result = localise(exp.heatmap, mask, args.threshold)
                tallies[exp.method].add(rec.dx, result, exp.seconds)
                empty[exp.method] += int(exp.heatmap.max() <= 0)
                scores[exp.method] = result
            if mask.shape not in baseline_maps:
                baseline_maps[mask.shape] = {name: make(mask.shape) for name, make in BASELINES.items()}
            for name, heat in baseline_maps[mask.shape].items():
                tallies[name].add(rec.dx, localise(heat, mask, args.threshold))
        except LocalisationError as exc:
            skipped[f"not comparable ({exc})"] += 1
            continue
        per_image.append({"image_id": rec.image_id, "dx": rec.dx, "target": explanations[0].target,
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
    report = {"model_version": classifier.meta.version, "data": str(args.data), "split": args.split,
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
    if args.worst:
        first = methods[0]
        worst = sorted(per_image, key=lambda row: row[first]["energy_inside"])[: args.worst]
        print(f"\nLowest energy inside the mask for {CAM_METHODS[first].label}:")
        for row in worst:
            print(f"  {row['image_id']}  dx={row['dx']:5s} heatmap of {row['target']:5s} "
                  f"energy inside {row[first]['energy_inside']:.3f}  pointing {row[first]['pointing']:.2f}")
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
    p.add_argument("--json", help="also write the report, with per-image scores, as JSON here")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--model-dir", help="checkpoint folder (default: settings)")
    p.set_defaults(func=_explain_eval)
