"""The segmentation network and its checkpoint files.

An EfficientNet-Lite0 encoder (the packaged ImageNet weights, as for the classifier) with a small feature-pyramid
decoder: the encoder's outputs at strides 4, 8, 16 and 32 are brought to 64 channels, merged top-down, refined
with a stride-2 skip and read out as one lesion logit per pixel at half resolution, upsampled bilinearly to the
input. Checkpoints are a safetensors file (no pickle on load) plus a JSON file saying how to use the weights.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn
from torch.nn import functional as F

from core.vision.model import IMAGENET_MEAN, IMAGENET_STD, WEIGHTS_FILE, CheckpointError, build_model, write_weights

META_FILE = "segmenter.json"
# Index of the last block of each stride stage in EfficientNet-Lite0 (strides 2, 4, 8, 16, 32).
_STAGE_ENDS = (0, 2, 4, 10, 15)
_STAGE_CHANNELS = (16, 24, 40, 112, 320)
DECODER_CHANNELS = 64


def _conv_bn_relu(cin: int, cout: int, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class LesionSegmenterNet(nn.Module):
    def __init__(self, body: nn.Module):
        super().__init__()
        self.stem = body.stem
        self.blocks = body.blocks
        self.drop_connect_rate = body.drop_connect_rate
        c = DECODER_CHANNELS
        self.lateral = nn.ModuleList(nn.Conv2d(ch, c, 1) for ch in _STAGE_CHANNELS[1:])
        self.smooth = nn.ModuleList(_conv_bn_relu(c, c) for _ in _STAGE_CHANNELS[1:-1])
        self.skip2 = nn.Conv2d(_STAGE_CHANNELS[0], c, 1)
        self.refine = _conv_bn_relu(c, c // 2)
        self.out = nn.Conv2d(c // 2, 1, 1)

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)
        taps, n = [], len(self.blocks)
        for idx, block in enumerate(self.blocks):
            x = block(x, drop_connect_rate=self.drop_connect_rate * idx / n)
            if idx in _STAGE_ENDS:
                taps.append(x)
        return taps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) normalised image -> (N, 1, H, W) lesion logits."""
        s2, *pyramid = self.encode(x)
        top = self.lateral[-1](pyramid[-1])
        for level in range(len(pyramid) - 2, -1, -1):
            lateral = self.lateral[level](pyramid[level])
            top = self.smooth[level](lateral + F.interpolate(top, size=lateral.shape[-2:], mode="bilinear",
                                                             align_corners=False))
        top = F.interpolate(top, size=s2.shape[-2:], mode="bilinear", align_corners=False) + self.skip2(s2)
        logits = self.out(self.refine(top))
        return F.interpolate(logits, size=x.shape[-2:], mode="bilinear", align_corners=False)


def build_segmenter(pretrained: bool = False) -> LesionSegmenterNet:
    """The network; `pretrained` loads the packaged ImageNet weights into the encoder."""
    return LesionSegmenterNet(build_model("efficientnet_lite0", 1, pretrained=pretrained).body)


@dataclass
class SegmenterMeta:
    """Everything needed to use the weights, stored beside them as JSON."""

    input_size: tuple[int, int] = (256, 192)  # (width, height) the image is resized to; landscape
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    threshold: float = 0.5  # lesion probability at or above which a pixel is lesion
    version: str = "untrained"
    metrics: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)


def save_segmenter(directory: str | Path, model: nn.Module, meta: SegmenterMeta) -> Path:
    directory = write_weights(directory, model, {"model": "lesion-segmenter"})
    (directory / META_FILE).write_text(json.dumps(asdict(meta), indent=2) + "\n")
    return directory


def load_segmenter(directory: str | Path) -> tuple[LesionSegmenterNet, SegmenterMeta]:
    directory = Path(directory)
    meta_path, weights_path = directory / META_FILE, directory / WEIGHTS_FILE
    if not meta_path.is_file() or not weights_path.is_file():
        raise CheckpointError(f"No segmentation model in {directory} (expected {META_FILE} and {WEIGHTS_FILE}). "
                              "Train one with `python -m core train-segmenter` or set DERMADESK_SEGMENTER_DIR.")
    raw = json.loads(meta_path.read_text())
    raw["input_size"], raw["mean"], raw["std"] = tuple(raw["input_size"]), tuple(raw["mean"]), tuple(raw["std"])
    meta = SegmenterMeta(**raw)
    model = build_segmenter(pretrained=False)
    model.load_state_dict(load_file(str(weights_path)))
    return model.eval(), meta


def inference_copy(net: LesionSegmenterNet) -> LesionSegmenterNet:
    """An eval-mode copy with every batch norm folded into its convolution (encoder and decoder); the original is
    left as it is."""
    import copy

    from torch.nn.utils.fusion import fuse_conv_bn_eval

    from core.vision.model import fuse_lite_batchnorm

    fast = copy.deepcopy(net).eval()
    fuse_lite_batchnorm(fast.stem, fast.blocks)
    for unit in (*fast.smooth, fast.refine):
        unit[0] = fuse_conv_bn_eval(unit[0], unit[1])
        unit[1] = nn.Identity()
    return fast
