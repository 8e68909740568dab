"""Segmentation commands: train-segmenter, segment, evaluate-segmenter."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _train(args: argparse.Namespace) -> int:
    from core.segmentation.train import SegmenterTrainConfig, train_segmenter

    cfg = SegmenterTrainConfig(data=args.data, out=args.out, epochs=args.epochs, batch_size=args.batch_size,
                               width=args.width, height=args.height, lr=args.lr, precision=args.precision,
                               seed=args.seed, device=args.device, threads=args.threads, limit=args.limit)
    out = train_segmenter(cfg)
    print(f"segmenter written to {out}")
    return 0


def load_segmenter_or_report(directory: str | None, settings):
    from core.segmentation.segmenter import Segmenter
    from core.vision.model import CheckpointError

    try:
        return Segmenter.load(directory or settings.segmenter_dir)
    except CheckpointError as exc:
        _err(str(exc))
        return None


def _segment(args: argparse.Namespace) -> int:
    from PIL import Image
    from tqdm import tqdm

    from core.cli.classifier import _decode_all, expand_paths, image_ids

    paths = expand_paths(args.paths)
    if not paths:
        _err("no images to segment")
        return 2
    segmenter = load_segmenter_or_report(args.model_dir, args.settings)
    if segmenter is None:
        return 2
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ids = image_ids(paths)
    written, doubtful = 0, 0
    for path, decoded in tqdm(_decode_all(paths, args.settings), total=len(paths), desc="segment",
                              file=sys.stderr, disable=len(paths) < 20):
        result = segmenter.segment(decoded.image)
        Image.fromarray(result.mask.astype("uint8") * 255, mode="L").save(out_dir / f"{ids[path]}.png")
        written += 1
        if result.problem:
            doubtful += 1
            _err(f"note: {path.name}: {result.problem}")
    print(f"wrote {written} mask(s) to {out_dir}" + (f"; {doubtful} with a note above" if doubtful else ""))
    return 0 if written else 1


def _evaluate(args: argparse.Namespace) -> int:
    from core.segmentation.evaluate import evaluate_segmenter
    from core.vision.data import DataError

    segmenter = load_segmenter_or_report(args.model_dir, args.settings)
    if segmenter is None:
        return 2
    try:
        report = evaluate_segmenter(segmenter, args.data, split=args.split, limit=args.limit)
    except DataError as exc:
        _err(str(exc))
        return 2
    print(f"Segmenter {report['version']} at {report['input_size'][0]}x{report['input_size'][1]}, {report['split']} "
          f"split: {report['n_images']} images ({report['skipped_no_mask']} without a mask skipped); "
          f"scored on each image's own grid")
    print(f"{'group':34} {'n':>5} {'Dice':>6} {'median':>7} {'IoU':>6} {'Dice<0.7':>9} | raw Dice")
    for key, row in report["cleaned"].items():
        raw = report["raw"][key]
        print(f"{key:34} {row['n']:5d} {row['dice']:6.3f} {row['dice_median']:7.3f} {row['iou']:6.3f} "
              f"{row['dice_below_0.7']:9.1%} | {raw['dice']:.3f}")
    print(f"segmentation time p50 {report['seconds_per_image_p50'] * 1000:.1f} ms per image (model + outline)")
    flagged = sum(report["outline_problems"].values())
    print(f"outlines the app would not rely on: {flagged} of {report['n_images']}"
          + "".join(f"; {n} {why}" for why, n in report["outline_problems"].items()))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


def _evaluate_placement(args: argparse.Namespace) -> int:
    from core.cli.classifier import load_classifier
    from core.explain.placement_eval import evaluate_placement

    segmenter = load_segmenter_or_report(args.segmenter_dir, args.settings)
    classifier = load_classifier(args)
    if segmenter is None or classifier is None:
        return 2
    r = evaluate_placement(classifier, segmenter, args.data, args.settings, limit=args.limit, method=args.method)
    print(f"{r['method']} heatmaps of the predicted class, validation split: {r['n_images']} images with a reference "
          f"mask, {r['outline_usable']} with a usable predicted outline")
    print(f"heatmap weight inside the predicted outline {r['mean_in_outline']:.3f}, inside the reference mask "
          f"{r['mean_in_reference']:.3f} (centre prior inside the reference mask {r['mean_centre_prior_in_reference']:.3f}); "
          f"mean |difference| per image {r['mean_abs_difference']:.3f}")
    print("off-lesion warning (fires when the weight inside the predicted outline < threshold; 'truly off' = "
          "under half inside the reference mask)")
    print(f"{'half':10} {'threshold':>9} {'n':>5} {'truly off':>9} {'alarms':>7} {'detected':>9} {'false alarm':>11}")
    rows = [("tuning", row) for row in r["tuning_sweep"]] + [("REPORTING", r["reporting_half"])]
    for half, row in rows:
        if not row:
            continue
        chosen = " <- chosen" if half == "tuning" and row["threshold"] == r["chosen_threshold"] else ""
        print(f"{half:10} {row['threshold']:9.2f} {row['n']:5d} {row['truly_off']:9d} {row['alarm_rate']:7.1%} "
              f"{row['detected']:9.1%} {row['false_alarm']:11.1%}{chosen}")
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=2))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train-segmenter", help="train the lesion segmenter on HAM10000 masks "
                                               "(resumes from the last completed epoch)")
    p.add_argument("--data", required=True, help="HAM10000-format folder (metadata.csv, images/, masks/)")
    p.add_argument("--out", required=True, help="output folder for the checkpoint and training state")
    p.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto",
                   help="auto (default): bf16 autocast on CUDA and CPUs with AVX-512 BF16, else fp32")
    p.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda")
    for name, kind, default in (("epochs", int, 12), ("batch-size", int, 16), ("width", int, 192),
                                ("height", int, 144), ("lr", float, 1e-3), ("seed", int, 42),
                                ("threads", int, 0), ("limit", int, 0)):
        p.add_argument(f"--{name}", type=kind, default=default)
    p.set_defaults(func=_train)

    p = sub.add_parser("segment", help="lesion masks: DIR/<image_id>.png, 0/255, on each input image's pixel grid")
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders of images")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--model-dir", help="segmenter folder (default: settings)")
    p.set_defaults(func=_segment)

    p = sub.add_parser("evaluate-segmenter", help="Dice and IoU of the segmenter on a HAM10000-format folder")
    p.add_argument("--data", required=True, help="HAM10000-format folder with masks/")
    p.add_argument("--split", choices=("validation", "all"), default="validation",
                   help="'validation': the lesion-level validation split (as the classifier's); 'all': every image")
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--json", help="also write the full report as JSON here")
    p.add_argument("--model-dir", help="segmenter folder (default: settings)")
    p.set_defaults(func=_evaluate)

    p = sub.add_parser("evaluate-placement", help="the 'heatmap off the lesion' warning on the validation split: "
                                                  "threshold chosen on one half of the lesions, measured on the other")
    p.add_argument("--data", required=True, help="HAM10000-format folder with masks/")
    p.add_argument("--method", default="gradcam")
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--json", help="also write the full report as JSON here")
    p.add_argument("--model-dir", help="classifier folder (default: settings)")
    p.add_argument("--segmenter-dir", help="segmenter folder (default: settings)")
    p.set_defaults(func=_evaluate_placement)
