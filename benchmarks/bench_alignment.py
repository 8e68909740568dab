"""Visit alignment on HAM10000: how often two photos of one lesion are aligned, how often photos of two different
lesions are wrongly "aligned", and the time per pair.

    python benchmarks/bench_alignment.py --data ../shared/data/ham10000 --pairs 200

Pairs are drawn with a fixed seed: same-lesion pairs are a lesion's first two images; different-lesion pairs
join the first image of one sampled lesion with the second image of the next.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image  # noqa: E402

from core.segmentation.alignment import align  # noqa: E402
from core.vision.data import image_path, read_metadata  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True)
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    by_lesion: dict[str, list[str]] = defaultdict(list)
    for rec in read_metadata(args.data):
        by_lesion[rec.lesion_id].append(rec.image_id)
    multi = sorted(ids for ids in by_lesion.values() if len(ids) > 1)
    sample = random.Random(args.seed).sample(multi, min(args.pairs + 1, len(multi)))

    def load(image_id: str) -> Image.Image:
        with Image.open(image_path(args.data, image_id)) as img:
            return img.convert("RGB")

    same = [(ids[0], ids[1]) for ids in sample[:args.pairs]]
    different = [(sample[i][0], sample[i + 1][1]) for i in range(len(sample) - 1)]
    seconds = []
    results = {}
    for name, pairs in (("same lesion", same), ("different lesions", different)):
        aligned = 0
        for a, b in pairs:
            t0 = time.perf_counter()
            aligned += align(load(a), load(b)).ok
            seconds.append(time.perf_counter() - t0)
        results[name] = (aligned, len(pairs))
    for name, (aligned, total) in results.items():
        print(f"{name:18} aligned {aligned}/{total} ({aligned / total:.1%})")
    seconds.sort()
    print(f"time per pair p50 {seconds[len(seconds) // 2] * 1000:.0f} ms (341x256 photos)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
