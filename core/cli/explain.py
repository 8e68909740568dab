"""Explanation commands: explain-eval, where CAM heatmaps fall relative to the lesion masks."""
from __future__ import annotations

import argparse
import sys


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def parse_methods(text: str) -> list[str]:
    """'gradcam, gradcam++' -> ['gradcam', 'gradcam++'] (order kept, repeats dropped); 'all' -> every method."""
    from core.explain.methods import CAM_METHODS

    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    if names == ["all"]:
        return list(CAM_METHODS)
    unknown = [n for n in names if n not in CAM_METHODS]
    if unknown or not names:
        raise ValueError(f"unknown method {unknown[0]!r}" if unknown else "no method given")
    return list(dict.fromkeys(names))


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


MIN_GROUP_FOR_STAR = 20  # a bootstrap interval over a handful of images says little
SCORE_TITLES = {"energy_inside": "energy inside", "pointing": "pointing game", "iou": "IoU"}


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
             "| heatmap | " + " | ".join(SCORE_TITLES.values()) + " |", "|---|" + "---|" * len(SCORE_TITLES)]
    for method, groups in paired.items():
        cells = []
        for score in SCORE_TITLES:
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


def _percent(x: float) -> str:
    return "–" if x != x else f"{x * 100:+.0f} %"


def format_faithfulness(report: dict) -> str:
    from core.explain.evaluation import REFERENCE
    from core.explain.faithfulness import CLEAR_GAP, DEFAULT_FRACTION

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


def _explain_eval(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from tqdm import tqdm

    from core.vision.data import DataError, read_metadata
    from core.explain.methods import CAM_METHODS
    from core.explain.evaluation import (
        ExplainEvalOptions,
        evaluate_explanations,
        select_records,
        worst_cases_sheet,
    )
    from core.explain.localisation import CENTRE_PRIOR_SIGMA
    from core.cli.classifier import load_classifier

    try:
        methods = parse_methods(args.methods)
    except ValueError as exc:
        _err(f"{exc}; choose from {', '.join(CAM_METHODS)} (comma-separated) or 'all'")
        return 2
    if not 0.0 < args.threshold <= 1.0:
        _err(f"--threshold must be in (0, 1], got {args.threshold}")
        return 2
    for flag, value in (("--limit", args.limit), ("--per-class", args.per_class), ("--worst", args.worst)):
        if value < 0:
            _err(f"{flag} must be 0 or more, got {value}")
            return 2
    if args.sheet and not args.worst:
        _err("--sheet draws the --worst images: give --worst N as well")
        return 2
    for flag, target in (("--json", args.json), ("--sheet", args.sheet)):
        # Checked before a run that can take many minutes, not after it.
        if target and (Path(target).is_dir() or not Path(target).resolve().parent.is_dir()):
            _err(f"{flag} {target}: not a file in an existing folder")
            return 2
    try:
        records = read_metadata(args.data)
    except DataError as exc:
        _err(str(exc))
        return 2
    classifier = load_classifier(args)
    if classifier is None:
        return 2
    records = select_records(records, args.split, classifier.meta.training.get("config", {}), args.limit,
                             args.per_class)
    if not records:
        _err("no images selected")
        return 1
    options = ExplainEvalOptions(methods=tuple(methods), target=args.target, threshold=args.threshold,
                                 aug_smooth=args.aug_smooth, eigen_smooth=args.eigen_smooth,
                                 faithfulness=args.faithfulness)
    report = evaluate_explanations(
        classifier, args.data, records, options,
        progress=lambda items: tqdm(items, desc="explain-eval", file=sys.stderr, disable=args.quiet))
    report["split"] = args.split
    per_image, skipped = report["images"], report["skipped"]
    if not per_image:
        _err("no image could be scored: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
        return 1

    skipped_text = ", ".join(f"{k}: {v}" for k, v in skipped.items()) or "none"
    target_text = ("the true class" if args.target == "true"
                   else "the predicted class (top class of the un-augmented forward pass)")
    print(f"Heatmap localisation against lesion masks — model {classifier.meta.version}, {args.data} "
          f"({args.split} split)")
    print(f"{len(records)} images selected, {len(per_image)} scored; skipped: {skipped_text}.")
    print(f"Heatmap of {target_text}; IoU region = heatmap ≥ {args.threshold:g} × its maximum; centre prior: "
          f"Gaussian with σ = {CENTRE_PRIOR_SIGMA:g} × the short side"
          + ("; aug_smooth" if args.aug_smooth else "") + ("; eigen_smooth" if args.eigen_smooth else "") + ".")
    print("s / image: the map alone (forward pass, its gradient, its own work); all methods together took "
          f"{report['all_methods_seconds_per_image']:.3f} s per image (methods sharing one forward pass share it).")
    print()
    print(format_report(report))
    print()
    print(format_paired(report))
    if "faithfulness" in report:
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
    try:
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2, allow_nan=True))
        if args.sheet and worst:
            Path(args.sheet).write_bytes(worst_cases_sheet(classifier, args.data, worst, first))
            print(f"\nContact sheet of these {len(worst)} images: {args.sheet}")
    except OSError as exc:
        _err(f"could not write {exc.filename}: {exc.strerror} (the report above is complete)")
        return 1
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
