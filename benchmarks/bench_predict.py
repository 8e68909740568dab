"""Per-image latency of the classifier on this machine, at the app's inference precision: predict (with and
without flip TTA), Grad-CAM through the library (a backward pass), and the analysis page's whole path from
the uploaded file's bytes (`core.analysis.analyse`: decode, predict with TTA, Grad-CAM of the top class from
the same forward pass), p50/p95 over real HAM10000 images (synthetic ones if the data is absent).

    .venv/bin/python benchmarks/bench_predict.py [--n 40] [--threads 0]
"""
from __future__ import annotations

import argparse
from dataclasses import replace
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks.timing import row, timed  # noqa: E402
from core.vision.classifier import Classifier  # noqa: E402
from core.config import Settings  # noqa: E402
from core.runtime import configure_torch  # noqa: E402
from core.vision.data import image_path, read_metadata  # noqa: E402
from core.analysis import HeatmapRequest, analyse  # noqa: E402
from core.explain.cams import explain_prepared  # noqa: E402
from core.vision.imaging import decode_image  # noqa: E402


def images(folder: Path, n: int):
    if (folder / "metadata.csv").is_file():
        return [image_path(folder, r.image_id).read_bytes() for r in read_metadata(folder)[:n]], str(folder)
    import io

    from PIL import Image

    rng = np.random.default_rng(0)
    out = []
    for _ in range(n):
        buffer = io.BytesIO()
        Image.fromarray(rng.integers(0, 255, (450, 600, 3), dtype=np.uint8)).save(buffer, format="JPEG")
        out.append(buffer.getvalue())
    return out, "synthetic"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    settings = replace(Settings.from_env(), torch_threads=args.threads)
    configure_torch(settings)
    clf = Classifier.load(settings.model_dir, low_confidence=settings.low_confidence,
                          precision=settings.inference_precision)
    files, source = images(settings.ham10000_dir, args.n)
    imgs = [decode_image(data).image for data in files]
    print(f"DermaDesk predict latency — model {clf.meta.version} ({clf.precision}); {len(imgs)} images from {source}")
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads\n")

    def predict_plus_library_cam(img):
        prepared = clf.prepare(img)
        pred = clf.predict_prepared(prepared, tta=True)
        explain_prepared(clf, prepared, "gradcam++", pred.predicted)

    rows = [
        ("predict, no TTA", lambda im: clf.predict(im, tta=False)),
        ("predict, 4-flip TTA (app default)", lambda im: clf.predict(im, tta=True)),
        ("Grad-CAM++ through the library (backward pass)", lambda im: explain_prepared(clf, clf.prepare(im), "gradcam++", "mel")),
        ("predict (TTA) + Grad-CAM++ (two passes)", predict_plus_library_cam),
    ]
    print(f"{'step (one image)':48s} {'p50 ms':>9s} {'p95 ms':>9s} {'n':>4s}")
    for name, fn in rows:
        row(name, timed(fn, imgs), width=48)
    request = HeatmapRequest()
    row("bytes -> analyse(): TTA + Grad-CAM in one pass",
        timed(lambda data: analyse(decode_image(data), clf, settings, heatmaps=request), files), width=48)

if __name__ == "__main__":
    main()
