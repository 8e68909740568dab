"""Classifier commands: train, predict, explain, evaluate."""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from core.config import INFERENCE_BATCH

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif"}


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def expand_paths(paths: list[str]) -> list[Path]:
    """Files as given, folders expanded to their image files (sorted); missing paths reported."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out += sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        elif path.is_file():
            out.append(path)
        else:
            _err(f"skipped {raw}: no such file or folder")
    seen: set[Path] = set()
    unique = []
    for path in out:  # a file given twice (or inside a folder also given) is analysed once
        if path.resolve() not in seen:
            seen.add(path.resolve())
            unique.append(path)
    return unique


def read_details_csv(path: Path) -> dict:
    """image_id -> PatientDetails from a HAM10000-style CSV (image_id, age, sex, localization or site)."""
    from core.vision.fusion import PatientDetails

    try:
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if "image_id" not in (reader.fieldnames or []):
                raise ValueError(f"{path}: --metadata needs an image_id column (and age, sex, localization)")
            out = {}
            for row in reader:
                try:
                    age = float(row["age"]) if (row.get("age") or "").strip() else None
                except ValueError:
                    age = None
                out[row["image_id"]] = PatientDetails.clean(age, (row.get("sex") or "").strip().lower() or None,
                                                           (row.get("localization") or row.get("site") or "").strip().lower() or None)
            return out
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a UTF-8 text file") from None


def load_classifier(args: argparse.Namespace):
    from core.vision.classifier import Classifier
    from core.vision.model import CheckpointError

    settings = args.settings
    try:
        return Classifier.load(args.model_dir or settings.model_dir, low_confidence=settings.low_confidence,
                               precision=settings.inference_precision)
    except CheckpointError as exc:
        _err(str(exc))
        return None


def _decode_all(paths: list[Path], settings, workers: int = 2, ahead: int = 32):
    """Yield (path, DecodedImage) for readable images, in order, decoded by a small thread pool a little
    ahead of the model (Pillow releases the GIL while decoding); unreadable ones are reported and skipped."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    from core.vision.imaging import ImageError, load_image

    def load(path: Path):
        return load_image(path, max_pixels=settings.max_image_pixels, min_side=settings.min_image_side)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        queue: deque = deque()
        for path in paths:
            queue.append((path, pool.submit(load, path)))
            if len(queue) >= ahead:
                yield from _settle(queue.popleft(), ImageError)
        while queue:
            yield from _settle(queue.popleft(), ImageError)


def _settle(item, error_type):
    path, future = item
    try:
        decoded = future.result()
    except error_type as exc:
        _err(f"skipped {path.name}: {exc}")
        return
    for note in decoded.notes:  # e.g. a damaged JPEG that still decoded: analysed, with a warning
        _err(f"note: {_printable(path.name)}: {note}")
    yield path, decoded


def _analyses(args: argparse.Namespace, classifier, paths: list[Path], heatmaps, details: dict, ids: dict[Path, str]):
    """(path, Analysis) for every readable image, several images to a forward pass. `details` maps an
    image id (or the file stem) to its age, sex and site."""
    from core.analysis import analyse_many

    by_path = {str(p): details.get(ids[p], details.get(p.stem)) for p in paths if ids[p] in details or p.stem in details}
    decoded = ((str(path), image) for path, image in _decode_all(paths, args.settings))
    for name, analysis in analyse_many(decoded, classifier, heatmaps=heatmaps, details=by_path,
                                       batch_size=args.batch_size):
        yield Path(name), analysis


def _train(args: argparse.Namespace) -> int:
    from core.vision.train import TrainConfig, train

    from core.vision.calibrate import finalize

    from core.vision.model import CheckpointError

    cfg = TrainConfig(**{k: v for k, v in vars(args).items() if k in TrainConfig.__dataclass_fields__})
    try:
        out = train(cfg)
    except CheckpointError as exc:  # --init-from names a folder without a checkpoint
        _err(str(exc))
        return 2
    finalize(out, cfg.data, val_fraction=cfg.val_fraction, seed=cfg.seed, limit=cfg.limit)
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from core.vision.calibrate import finalize
    from core.vision.data import DataError
    from core.vision.model import CheckpointError, load_checkpoint

    model_dir = Path(args.model_dir or args.settings.model_dir)
    try:
        _, meta = load_checkpoint(model_dir)
        config = meta.training.get("config", {})
        finalize(model_dir, args.data, val_fraction=config.get("val_fraction", 0.2), seed=config.get("seed", 42))
    except (CheckpointError, DataError) as exc:
        _err(str(exc))
        return 2
    return 0


def _details(args: argparse.Namespace, classifier) -> dict | None:
    """Age, sex and site by image id from --metadata; None (after saying why) when unusable."""
    if not getattr(args, "metadata", None):
        return {}
    if classifier.fusion is None:
        _err("note: this model uses the image only; --metadata is ignored")
        return {}
    try:
        return read_details_csv(Path(args.metadata))
    except ValueError as exc:
        _err(str(exc))
        return None


def _printable(name: str) -> str:
    """Bytes of a name that is not valid UTF-8 become \\xNN escapes."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def image_id(path: Path) -> str:
    """The file stem, printable."""
    return _printable(path.stem)


def image_ids(paths: list[Path]) -> dict[Path, str]:
    """One distinct id per path: the stem, or where stems collide (x.jpg and x.png, or one name in two
    folders) the file name, numbered if that collides too; collisions are reported on stderr, because the
    rows and heatmap files of such images would otherwise overwrite or shadow each other."""
    from collections import Counter

    stems = Counter(image_id(p) for p in paths)
    ids: dict[Path, str] = {}
    used: set[str] = set()
    for path in paths:
        candidate = image_id(path)
        if stems[candidate] > 1:
            candidate = _printable(path.name)
            if candidate in used:
                number = 2
                while f"{candidate}~{number}" in used:
                    number += 1
                candidate = f"{candidate}~{number}"
            _err(f"note: {_printable(str(path))} shares its name with another input; its image_id is {candidate}")
        used.add(candidate)
        ids[path] = candidate
    return ids


def _write_predictions(writer, classifier, row_id: str, prediction) -> None:
    writer.writerow([row_id, *(f"{prediction.probabilities[c]:.6f}" for c in classifier.classes),
                     prediction.predicted])


def _predict(args: argparse.Namespace) -> int:
    return _run(args, predictions=Path(args.out), heatmap_dir=None)


def _explain(args: argparse.Namespace) -> int:
    return _run(args, predictions=None, heatmap_dir=Path(args.out_dir))


def _analyse(args: argparse.Namespace) -> int:
    return _run(args, predictions=Path(args.out), heatmap_dir=Path(args.heatmaps) if args.heatmaps else None)


def _run(args: argparse.Namespace, predictions: Path | None, heatmap_dir: Path | None) -> int:
    """predict, explain and analyse: one forward pass per batch gives probabilities and heatmaps together."""
    import contextlib

    from tqdm import tqdm

    from core.analysis import HeatmapRequest
    from core.explain.methods import CAM_METHODS

    method = getattr(args, "method", "gradcam")
    target = getattr(args, "target", "predicted")
    if heatmap_dir is not None and method not in CAM_METHODS:
        _err(f"unknown method {method!r}; choose from {', '.join(CAM_METHODS)}")
        return 2
    paths = expand_paths(args.paths)
    if not paths:
        _err("no images to predict" if heatmap_dir is None else "no images to explain")
        return 2
    classifier = load_classifier(args)
    if classifier is None:
        return 2
    if heatmap_dir is not None and target != "predicted" and target not in classifier.classes:
        _err(f"unknown target {target!r}; use 'predicted' or one of {', '.join(classifier.classes)}")
        return 2
    details = _details(args, classifier)
    if details is None:
        return 2
    ids = image_ids(paths)
    classes = () if target == "predicted" else (target,)
    request = HeatmapRequest(method, classes=classes) if heatmap_dir is not None else None
    written = 0
    with contextlib.ExitStack() as stack:
        writer = None
        if predictions is not None:
            predictions.parent.mkdir(parents=True, exist_ok=True)
            writer = csv.writer(stack.enter_context(predictions.open("w", newline="")))
            writer.writerow(["image_id", *classifier.classes, "predicted"])
        if heatmap_dir is not None:
            heatmap_dir.mkdir(parents=True, exist_ok=True)
        label = "predict" if heatmap_dir is None else method if predictions is None else "analyse"
        for path, analysis in tqdm(_analyses(args, classifier, paths, request, details, ids), total=len(paths),
                                   desc=label, file=sys.stderr):
            if writer is not None:
                _write_predictions(writer, classifier, ids[path], analysis.prediction)
            if heatmap_dir is not None:
                import numpy as np

                heatmap = analysis.heatmap(classes[0] if classes else None).heatmap
                np.save(heatmap_dir / f"{ids[path]}.npy", heatmap.astype(np.float32))
            written += 1
    skipped = len(paths) - written
    if predictions is not None:
        _err(f"wrote {written} row(s) to {predictions} ({skipped} skipped)")
    if heatmap_dir is not None:
        _err(f"wrote {written} heatmap(s) to {heatmap_dir} ({skipped} skipped)")
    return 0 if written else 1


def _evaluate(args: argparse.Namespace) -> int:
    import json

    import numpy as np

    from core.vision.data import DataError, lesion_split, read_metadata
    from core.vision.evaluate import (
        cross_validate_records,
        format_report,
        full_report,
        record_outputs,
        thresholds_report,
        validation_report,
    )
    from core.vision.metrics import softmax

    classifier = load_classifier(args)
    if classifier is None:
        return 2
    try:
        records = read_metadata(args.data)
    except DataError as exc:
        _err(str(exc))
        return 2
    config = classifier.meta.training.get("config", {})
    if args.split == "validation":
        _, records = lesion_split(records, config.get("val_fraction", 0.2), config.get("seed", 42))
    if args.limit:
        records = records[: args.limit]
    logits, features = record_outputs(classifier, args.data, records)
    meta, classes = classifier.meta, classifier.classes
    if args.split == "validation" and meta.decision_weights and not args.limit:
        # The figures the model card reports: every parameter fitted on other folds than the one measured.
        l2 = classifier.fusion.l2 if classifier.fusion else meta.metrics.get("fusion_l2", 1.0)
        cv = cross_validate_records(records, logits, classes, l2=l2, seed=config.get("seed", 42))
        report = validation_report(records, logits, classes, cv, fusion=classifier.fusion is not None)
        title = (f"{meta.version} on {args.data} (validation split, TTA {'on' if meta.tta else 'off'}, "
                 f"{report['cross_validation']['folds']}-fold cross-validated by lesion)")
    else:
        # The shipped model as it is: calibration, fusion (with each record's age, sex and site) and rule.
        probs = classifier.calibrated(logits, [r.details for r in records])
        y = np.array([r.label for r in records])
        weights = np.tile(classifier.rule.weights if classifier.rule else np.ones(len(classes)), (len(records), 1))
        report = full_report(records, probs, classifier.suggest(probs), classes, weights=weights,
                             uncalibrated=softmax(logits, 1.0),
                             escalation=thresholds_report(y, probs, classes, meta.escalation_thresholds))
        title = f"{meta.version} on {args.data} ({args.split} split, TTA {'on' if meta.tta else 'off'})"
    print(format_report(report, classifier.classes, title))
    if classifier.ood is not None:
        flagged = classifier.ood.is_outlier(features)
        print(f"Out-of-distribution check: {flagged.sum()} of {len(flagged)} images ({flagged.mean():.1%}) flagged "
              "as unlike the training images.")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train the lesion classifier (resumes from the last completed epoch)")
    p.add_argument("--data", required=True, help="HAM10000-format folder (metadata.csv + images/)")
    p.add_argument("--out", required=True, help="output folder for the checkpoint and training state")
    p.add_argument("--backbone", default="efficientnet_lite0")
    p.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto",
                   help="bf16 autocast (2.7x faster on CPUs with AVX-512 BF16), plain fp32, or auto (default): "
                        "bf16 on CUDA and on such CPUs, else fp32")
    p.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda")
    for name, kind, default in (("epochs", int, 30), ("batch-size", int, 32), ("train-crop", int, 192),
                                ("lr", float, 6e-4), ("weight-decay", float, 0.05), ("ema-decay", float, 0.998),
                                ("freeze-blocks", int, 0), ("seed", int, 42), ("threads", int, 0), ("limit", int, 0),
                                ("warmup-epochs", float, 1.0), ("input-size", int, 0)):
        p.add_argument(f"--{name}", type=kind, default=default)
    p.add_argument("--init-from", default="", metavar="DIR",
                   help="start from this checkpoint's weights instead of ImageNet (fresh schedule)")
    p.set_defaults(func=_train)

    p = sub.add_parser("calibrate", help="refit a checkpoint's calibration, metadata fusion, decision rule, "
                                         "escalation thresholds and OOD model on its validation split")
    p.add_argument("--data", required=True, help="the HAM10000-format folder the checkpoint was trained on")
    p.add_argument("--model-dir", help="checkpoint folder (default: settings); rewritten in place")
    p.set_defaults(func=_calibrate)

    p = sub.add_parser("predict", help="calibrated class probabilities for images, as CSV")
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders of images")
    p.add_argument("--metadata", help="HAM10000-style metadata CSV (used only if the model uses metadata)")
    p.add_argument("--out", required=True, help="output CSV: image_id, one column per class, predicted")
    p.add_argument("--model-dir", help="checkpoint folder (default: settings)")
    p.add_argument("--batch-size", type=int, default=INFERENCE_BATCH,
                   help=f"images per forward pass (default {INFERENCE_BATCH}: fastest on CPU, see core.config)")
    p.set_defaults(func=_predict)

    p = sub.add_parser("analyse", help="probabilities (CSV) and heatmaps (.npy) from one forward pass per image")
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders of images")
    p.add_argument("--out", required=True, help="output CSV, as predict writes it")
    p.add_argument("--heatmaps", help="folder for DIR/<image_id>.npy heatmaps, as explain writes them")
    p.add_argument("--method", default="gradcam", help="CAM method (gradcam, hirescam and xgradcam need no extra pass)")
    p.add_argument("--target", default="predicted", help="'predicted' or a class name")
    p.add_argument("--metadata", help="HAM10000-style metadata CSV (age, sex, localization by image_id)")
    p.add_argument("--batch-size", type=int, default=INFERENCE_BATCH,
                   help=f"images per forward pass (default {INFERENCE_BATCH}: fastest on CPU, see core.config)")
    p.add_argument("--model-dir", help="checkpoint folder (default: settings)")
    p.set_defaults(func=_analyse)

    p = sub.add_parser("explain", help="class activation heatmaps (.npy, original image size, values in [0,1])")
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files or folders of images")
    p.add_argument("--method", default="gradcam", help="CAM method (gradcam, gradcam++, hirescam, ...)")
    p.add_argument("--target", default="predicted", help="'predicted' or a class name")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--model-dir", help="checkpoint folder (default: settings)")
    p.add_argument("--batch-size", type=int, default=INFERENCE_BATCH,
                   help=f"images per forward pass (default {INFERENCE_BATCH}: fastest on CPU, see core.config)")
    p.set_defaults(func=_explain)

    p = sub.add_parser("evaluate", help="model-card metrics on a HAM10000-format folder")
    p.add_argument("--data", required=True, help="HAM10000-format folder")
    p.add_argument("--split", choices=("validation", "all"), default="validation",
                   help="'validation': the checkpoint's lesion-level validation split of this folder; 'all': every image")
    p.add_argument("--limit", type=int, default=0, help="evaluate only the first N records")
    p.add_argument("--json", help="also write the full report as JSON here")
    p.add_argument("--model-dir", help="checkpoint folder (default: settings)")
    p.set_defaults(func=_evaluate)
