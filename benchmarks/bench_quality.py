"""The image-quality gate on HAM10000 validation photos and on deliberately degraded copies of them: how often a
real photo is flagged (false alarms) and how often a degraded one is caught. The thresholds in
core/vision/quality.py were set on training-split photos, not these.

    .venv/bin/python benchmarks/bench_quality.py [--n 400]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageEnhance, ImageFilter  # noqa: E402

from core.config import Settings  # noqa: E402
from core.vision.data import image_path, lesion_split, read_metadata  # noqa: E402
from core.vision.quality import assess_quality  # noqa: E402

DEGRADATIONS = {
    "as photographed": lambda im: im,
    "Gaussian blur, sigma 1.5 px": lambda im: im.filter(ImageFilter.GaussianBlur(1.5)),
    "Gaussian blur, sigma 3 px": lambda im: im.filter(ImageFilter.GaussianBlur(3)),
    "under-exposed (brightness x0.3)": lambda im: ImageEnhance.Brightness(im).enhance(0.3),
    "over-exposed (brightness x2.2)": lambda im: ImageEnhance.Brightness(im).enhance(2.2),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="validation photos (default 400)")
    args = parser.parse_args()
    folder = Settings.from_env().ham10000_dir
    records = lesion_split(read_metadata(folder), 0.2, 42)[1][: args.n]
    images = []
    for rec in records:
        with Image.open(image_path(folder, rec.image_id)) as img:
            images.append(img.convert("RGB"))
    print(f"{len(images)} HAM10000 validation photos ({images[0].size[0]}x{images[0].size[1]})")
    seconds = []
    for name, degrade in DEGRADATIONS.items():
        flagged = 0
        for image in images:
            changed = degrade(image)
            start = time.perf_counter()
            flagged += not assess_quality(changed).ok
            seconds.append(time.perf_counter() - start)
        label = "flagged (false alarms)" if name == "as photographed" else "caught"
        print(f"  {name:34s} {label:22s} {flagged}/{len(images)} ({flagged / len(images):.1%})")
    seconds.sort()
    print(f"check time p50 {seconds[len(seconds) // 2] * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
