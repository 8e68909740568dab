"""Seconds per image for every CAM method on this machine, the cost Grad-CAM adds to a prediction, the
gain from sharing one forward pass, and the cost of the faithfulness metrics. Real HAM10000 validation
images when the folder is configured (synthetic ones otherwise).

    .venv/bin/python benchmarks/bench_explain.py [--n 20] [--n-slow 1] [--threads 0]
"""
from __future__ import annotations

import argparse
from dataclasses import replace
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TQDM_DISABLE", "1")  # Score-CAM and Ablation-CAM print a progress bar per map

import numpy as np  # noqa: E402
import torch  # noqa: E402
from pytorch_grad_cam import GradCAM  # noqa: E402
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget  # noqa: E402

from benchmarks.timing import row, timed  # noqa: E402
from core.vision.classifier import Classifier  # noqa: E402
from core.config import Settings  # noqa: E402
from core.runtime import configure_torch  # noqa: E402
from core.vision.data import image_path, lesion_split, read_metadata  # noqa: E402
from core.explain.cams import CAM_METHODS, explain_many, explain_prepared, target_layer  # noqa: E402
from core.explain.faithfulness import faithfulness  # noqa: E402
from core.vision.imaging import load_image  # noqa: E402


def images(folder: Path, n: int):
    if (folder / "metadata.csv").is_file():
        _, val = lesion_split(read_metadata(folder))
        return [load_image(image_path(folder, r.image_id)).image for r in val[:n]], f"{folder} (validation split)"
    from PIL import Image

    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 255, (256, 341, 3), dtype=np.uint8)) for _ in range(n)], "synthetic"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20, help="images for the fast methods")
    parser.add_argument("--n-slow", type=int, default=1, help="images for Score-CAM and Ablation-CAM")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    settings = replace(Settings.from_env(), torch_threads=args.threads)
    configure_torch(settings)
    clf = Classifier.load(settings.model_dir, low_confidence=settings.low_confidence)
    imgs, source = images(settings.ham10000_dir, args.n)
    prepared = [clf.prepare(img) for img in imgs]
    print(f"DermaDesk explanation latency — model {clf.meta.version}; {len(imgs)} images from {source}")
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; input {tuple(prepared[0].tensor.shape[1:])}\n")
    print(f"{'step (one image)':52s} {'p50 ms':>9s} {'p95 ms':>9s} {'n':>4s}")

    predict_tta = timed(lambda p: clf.predict_prepared(p, tta=True), prepared)
    row("predict, 4-flip TTA (app default)", predict_tta)

    added: list[float] = []

    def predict_and_gradcam(p):
        prediction = clf.predict_prepared(p, tta=True)
        start = time.perf_counter()
        explain_prepared(clf, p, "gradcam", prediction.predicted)
        added.append((time.perf_counter() - start) * 1000)

    row("predict (TTA) + Grad-CAM of the predicted class", timed(predict_and_gradcam, prepared))
    row("  of which Grad-CAM (target 150 ms)", np.array(added[1:]))  # [0] was the warm-up

    def library_gradcam(p):
        with GradCAM(model=clf.model, target_layers=[target_layer(clf)]) as cam:
            cam(input_tensor=p.tensor.unsqueeze(0), targets=[ClassifierOutputTarget(clf.classes.index("mel"))])

    row("Grad-CAM, plain library call (full backward)", timed(library_gradcam, prepared))
    print()
    for name, spec in CAM_METHODS.items():
        items = prepared if not spec.slow else prepared[: args.n_slow]
        if items:  # --n-slow 0 skips Score-CAM and Ablation-CAM
            # The slow methods take tens of seconds a map: a warm-up would not change their order of magnitude.
            row(f"{spec.label} alone (class given)",
                timed(lambda p: explain_prepared(clf, p, name, "mel"), items, warm_up=not spec.slow))
    fast = [m for m, spec in CAM_METHODS.items() if spec.shares_pass]
    print()
    row(f"all {len(fast)} fast methods, one shared pass", timed(lambda p: explain_many(clf, p, fast, ["mel"]), prepared))
    row(f"all {len(fast)} fast methods x top 3 classes, one pass",
        timed(lambda p: explain_many(clf, p, fast, ["mel", "nv", "bkl"]), prepared))
    row("Grad-CAM x top 3 classes, one pass", timed(lambda p: explain_many(clf, p, ["gradcam"], ["mel", "nv", "bkl"]),
                                                    prepared))
    print()
    cams = {id(p): explain_prepared(clf, p, "gradcam", None) for p in prepared}
    row("faithfulness of one heatmap (2 x ROAD + highlighted-only)",
        timed(lambda p: faithfulness(clf, p, cams[id(p)]), [p for p in prepared if cams[id(p)].model_grid.max() > 0]))


if __name__ == "__main__":
    main()
