"""DermaDesk's analysis path side by side with the usual peer pipeline, in ONE run on the same images.

The peer pipeline is what the best-known open-source skin-lesion apps do: a torchvision ResNet-50 at
224 px (random weights: only the time matters here) and pytorch-grad-cam's GradCAM of the predicted
class, one image at a time. DermaDesk: `core.analysis.analyse` (decode, 4-flip TTA in one batch, metadata
fusion, red flags, heatmap of the top class from the same forward pass), the same with the lesion segmenter's
outline and the heatmap placement check, and, for batch work, `python -m core analyse`.

Printed, for each side: per-image p50/p95 in-process from upload bytes to probabilities + heatmap;
images per second and wall time of the command-line batch job over the same folder (start-up included);
start-up time; peak memory (max RSS); and the ratios.

    .venv/bin/python benchmarks/bench_pipeline.py [--n 60] [--threads 0]
"""
from __future__ import annotations

import argparse
import io
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

PEER_SCRIPT = r"""
import io, sys, time
from pathlib import Path
import numpy as np, torch, torchvision
from PIL import Image
from pytorch_grad_cam import GradCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
threads = int(sys.argv[3])
if threads: torch.set_num_threads(threads)
model = torchvision.models.resnet50(weights=None, num_classes=7).eval()
prep = torchvision.transforms.Compose([torchvision.transforms.Resize((224, 224)), torchvision.transforms.ToTensor(),
    torchvision.transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
out = Path(sys.argv[2]); out.mkdir(parents=True, exist_ok=True)
rows = []
for path in sorted(Path(sys.argv[1]).iterdir()):
    image = Image.open(path).convert("RGB")
    x = prep(image).unsqueeze(0)
    with torch.no_grad():
        probs = torch.softmax(model(x), 1)[0]
    top = int(probs.argmax())
    with GradCAM(model=model, target_layers=[model.layer4[-1]]) as cam:
        heat = cam(input_tensor=x, targets=[ClassifierOutputTarget(top)])[0]
    np.save(out / f"{path.stem}.npy", heat.astype(np.float32))
    rows.append(",".join([path.stem, *(f"{p:.6f}" for p in probs.tolist())]))
(out / "preds.csv").write_text("\n".join(rows))
"""


def _pcts(values: list[float]) -> tuple[float, float]:
    import numpy as np

    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


def _timed_child(command: list[str]) -> tuple[float, float]:
    """(wall seconds, peak memory MB) of one command in a fresh process."""
    wrapper = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
               "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
               "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, r.returncode)")
    out = subprocess.run([sys.executable, "-c", wrapper, *command], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    seconds, megabytes, code = out.stdout.split()
    if code != "0":
        raise SystemExit(f"{command[:4]} failed (exit {code})")
    return float(seconds), float(megabytes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60, help="images (default 60)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch default)")
    parser.add_argument("--repeats", type=int, default=2, help="in-process passes over the images")
    args = parser.parse_args()

    import numpy as np
    import torch
    import torchvision
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    from core.analysis import HeatmapRequest, analyse
    from core.config import Settings
    from core.runtime import configure_torch
    from core.vision.classifier import Classifier
    from core.vision.data import image_path, read_metadata
    from core.vision.imaging import decode_image

    settings = replace(Settings.from_env(), torch_threads=args.threads)
    configure_torch(settings)
    folder = settings.ham10000_dir
    if not (folder / "metadata.csv").is_file():
        print(f"no HAM10000 folder at {folder}: set DERMADESK_HAM10000_DIR")
        return 2
    records = read_metadata(folder)[: args.n]
    uploads = [image_path(folder, r.image_id).read_bytes() for r in records]
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; {len(uploads)} HAM10000 images "
          f"({uploads and decode_image(uploads[0]).size})\n")

    ours = Classifier.load(settings.model_dir, low_confidence=settings.low_confidence,
                           precision=settings.inference_precision)
    peer = torchvision.models.resnet50(weights=None, num_classes=7).eval()
    peer_prep = torchvision.transforms.Compose([
        torchvision.transforms.Resize((224, 224)), torchvision.transforms.ToTensor(),
        torchvision.transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])

    def ours_once(data: bytes):
        analysis = analyse(data, ours, settings, heatmaps=HeatmapRequest("gradcam"))
        return analysis.prediction.probabilities, analysis.heatmap().heatmap

    segmenter = None
    if (settings.segmenter_dir / "weights.safetensors").is_file():
        from core.segmentation.segmenter import Segmenter

        segmenter = Segmenter.load(settings.segmenter_dir)

    def ours_with_outline(data: bytes):
        analysis = analyse(data, ours, settings, heatmaps=HeatmapRequest("gradcam"), segmenter=segmenter)
        return analysis.placement()

    def peer_once(data: bytes):
        from PIL import Image

        x = peer_prep(Image.open(io.BytesIO(data)).convert("RGB")).unsqueeze(0)
        with torch.no_grad():
            top = int(peer(x).argmax())
        with GradCAM(model=peer, target_layers=[peer.layer4[-1]]) as cam:
            return top, cam(input_tensor=x, targets=[ClassifierOutputTarget(top)])[0]

    rows = {}
    sides = [("DermaDesk analyse()", ours_once), ("peer ResNet-50 + GradCAM", peer_once)]
    if segmenter is not None:
        sides.append(("DermaDesk + lesion outline", ours_with_outline))
    for name, fn in sides:
        for data in uploads[:3]:
            fn(data)  # warm-up
        times = []
        for _ in range(args.repeats):
            for data in uploads:
                start = time.perf_counter()
                fn(data)
                times.append((time.perf_counter() - start) * 1000)
        rows[name] = _pcts(times)
    print("in-process, upload bytes -> probabilities + heatmap of the top class (ms per image)")
    for name, (p50, p95) in rows.items():
        print(f"  {name:28s} p50 {p50:7.1f}   p95 {p95:7.1f}")
    (ours_p50, _), (peer_p50, _) = list(rows.values())[:2]
    print(f"  ratio (peer / ours, p50): {peer_p50 / ours_p50:.1f}x")
    if segmenter is not None:
        print(f"  lesion outline + placement check add {rows['DermaDesk + lesion outline'][0] - ours_p50:.1f} ms (p50)")
    print()

    with tempfile.TemporaryDirectory() as tmp:
        images = Path(tmp) / "images"
        images.mkdir()
        for r, data in zip(records, uploads):
            (images / f"{r.image_id}.jpg").write_bytes(data)
        python = sys.executable
        jobs = {
            "DermaDesk: python -m core analyse": [python, "-m", "core", "analyse", str(images), "--out",
                                                  f"{tmp}/ours.csv", "--heatmaps", f"{tmp}/ours"],
            "peer: one image at a time": [python, "-c", PEER_SCRIPT, str(images), f"{tmp}/peer", str(args.threads)],
        }
        print(f"command-line batch job over the same {len(uploads)} images (fresh process, start-up included)")
        batch = {}
        for name, command in jobs.items():
            seconds, megabytes = _timed_child(command)
            batch[name] = seconds
            print(f"  {name:36s} {seconds:6.1f} s  {len(uploads) / seconds:5.1f} images/s  peak memory {megabytes:6.0f} MB")
        ours_s, peer_s = batch.values()
        print(f"  ratio (peer / ours): {peer_s / ours_s:.1f}x\n")
        help_s, help_mb = _timed_child([python, "-m", "core", "--help"])
        start_s, _ = _timed_child([python, "-c", "import torch, torchvision, pytorch_grad_cam"])
        print(f"start-up: python -m core --help {help_s:.2f} s ({help_mb:.0f} MB); importing torch, torchvision and "
              f"pytorch-grad-cam (the peer's floor) {start_s:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
