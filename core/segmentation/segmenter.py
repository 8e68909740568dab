"""Where the lesion is: a binary mask on the image's own pixel grid, with a plain statement when the outline
cannot be trusted (nothing found, the lesion runs off the frame, a wide band of doubtful pixels)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.nn import functional as F

from core.segmentation.model import SegmenterMeta, inference_copy, load_segmenter

# A lesion smaller than this share of the frame is treated as "nothing found" (a speck, not a lesion).
MIN_AREA_FRACTION = 0.002
# Pixels with a lesion probability between these bounds are "doubtful"; when they are more than
# UNCERTAIN_SHARE of the outlined area the outline is called uncertain.
DOUBT_LOW, DOUBT_HIGH = 0.25, 0.75
UNCERTAIN_SHARE = 0.35
# Share of the frame's edge pixels the mask may touch before the lesion counts as running off the frame.
EDGE_TOUCH_SHARE = 0.10


@dataclass(frozen=True)
class LesionMask:
    mask: np.ndarray  # bool (H, W) on the input image's grid
    area_fraction: float  # share of the frame inside the outline
    edge_share: float  # share of the frame's border pixels inside the outline
    doubtful_share: float  # doubtful pixels / outlined pixels, on the model's grid
    problem: str | None  # why the outline should not be relied on, or None

    @property
    def usable(self) -> bool:
        return self.problem is None

    @property
    def runs_off_frame(self) -> bool:
        return self.edge_share > EDGE_TOUCH_SHARE


def clean_mask(mask: np.ndarray) -> np.ndarray:
    """The largest connected region with its holes filled: one lesion per dermoscopy photo."""
    from scipy import ndimage

    labels, count = ndimage.label(mask)
    if count == 0:
        return mask.astype(bool)
    sizes = np.bincount(labels.ravel())[1:]
    return ndimage.binary_fill_holes(labels == (int(np.argmax(sizes)) + 1))


def edge_share(mask: np.ndarray) -> float:
    border = np.concatenate([mask[0], mask[-1], mask[1:-1, 0], mask[1:-1, -1]])
    return float(border.mean()) if border.size else 0.0


class Segmenter:
    """Loads the segmentation checkpoint once; `segment(image)` gives the lesion's mask."""

    def __init__(self, net, meta: SegmenterMeta):
        self.meta = meta
        self.net = inference_copy(net)
        self.mean = torch.tensor(meta.mean, dtype=torch.float32).view(1, 3, 1, 1)
        self.std = torch.tensor(meta.std, dtype=torch.float32).view(1, 3, 1, 1)

    @classmethod
    def load(cls, directory: str | Path) -> "Segmenter":
        net, meta = load_segmenter(directory)
        return cls(net, meta)

    @torch.inference_mode()
    def probability(self, image: Image.Image) -> np.ndarray:
        """Lesion probability on the model's grid, (h, w) as the image is oriented (portrait images are turned
        to landscape for the model and back)."""
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        portrait = rgb.height > rgb.width
        if portrait:
            rgb = rgb.transpose(Image.Transpose.TRANSPOSE)
        resized = rgb.resize(self.meta.input_size, Image.BILINEAR)
        x = torch.from_numpy(np.asarray(resized, dtype=np.uint8).copy()).permute(2, 0, 1)[None].float().div(255)
        x = ((x - self.mean) / self.std).contiguous(memory_format=torch.channels_last)
        # The mean of the image and its mirror image: outlines are mirror-symmetric, the model's errors less so.
        both = self.net(torch.cat([x, x.flip(-1)]))
        logits = (both[0] + both[1].flip(-1)) / 2
        prob = torch.sigmoid(logits)[0].numpy()
        return prob.T if portrait else prob

    def segment(self, image: Image.Image) -> LesionMask:
        return self.outline(self.probability(image), image.size)

    def upsample(self, prob: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """The model-grid probability bilinearly resized to an image of `size` (width, height)."""
        width, height = size
        return F.interpolate(torch.from_numpy(np.ascontiguousarray(prob))[None, None], size=(height, width),
                             mode="bilinear", align_corners=False)[0, 0].numpy()

    def outline(self, prob: np.ndarray, size: tuple[int, int]) -> LesionMask:
        """The cleaned mask on an image of `size` (width, height) from the model-grid probability, and its checks."""
        up = self.upsample(prob, size)
        mask = clean_mask(up >= self.meta.threshold)
        area = float(mask.mean())
        low_mask = prob >= self.meta.threshold
        doubtful = float(((prob > DOUBT_LOW) & (prob < DOUBT_HIGH)).sum() / max(1, low_mask.sum()))
        edges = edge_share(mask)
        problem = None
        if area < MIN_AREA_FRACTION:
            problem = "no lesion found in the image"
        elif area > 0.97:
            problem = "the lesion fills the whole frame, so its outline is unknown"
        elif doubtful > UNCERTAIN_SHARE:
            problem = "the lesion's edge is unclear to the model"
        return LesionMask(mask=mask, area_fraction=area, edge_share=edges, doubtful_share=doubtful, problem=problem)
