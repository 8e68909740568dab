"""Image geometry and transforms shared by training, inference and explanation.

Inference keeps the whole lesion in view: the image is centre-cropped only when it is wider
(or taller) than `max_aspect`, then resized so its short side is `input_size`. The crop box
is kept so heatmaps can be mapped back onto the original pixel grid.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

# torchvision is imported only for training: importing it pulls in torch._dynamo (through torchvision.ops),
# 1.3-2 s of start-up that every `python -m core analyse` and the app's first analysis would pay.


@dataclass(frozen=True)
class Prepared:
    tensor: torch.Tensor  # (3, H, W) normalised
    crop_box: tuple[int, int, int, int]  # (left, top, right, bottom) in original pixels
    original_size: tuple[int, int]  # (width, height)


def aspect_crop_box(width: int, height: int, max_aspect: float) -> tuple[int, int, int, int]:
    if width > height * max_aspect:
        new_w = round(height * max_aspect)
        left = (width - new_w) // 2
        return left, 0, left + new_w, height
    if height > width * max_aspect:
        new_h = round(width * max_aspect)
        top = (height - new_h) // 2
        return 0, top, width, top + new_h
    return 0, 0, width, height


def inference_size(width: int, height: int, input_size: int) -> tuple[int, int]:
    """(width, height) after resizing the short side to input_size."""
    scale = input_size / min(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


class Normalize:
    """PIL RGB image -> (3, H, W) float tensor in [0, 1], normalised by `mean` and `std`: what torchvision's
    ToImage, ToDtype(float32, scale=True) and Normalize do for inference (a test checks they agree)."""

    def __init__(self, mean, std):
        self.mean = torch.tensor(mean, dtype=torch.float32).view(3, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(3, 1, 1)

    def __call__(self, image: Image.Image) -> torch.Tensor:
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        pixels = torch.from_numpy(np.array(rgb, dtype=np.uint8)).permute(2, 0, 1)
        return (pixels.to(torch.float32) / 255.0 - self.mean) / self.std


def normalize(mean, std) -> Normalize:
    return Normalize(mean, std)


def prepare(image: Image.Image, input_size: int, max_aspect: float, mean, std) -> Prepared:
    box = aspect_crop_box(image.width, image.height, max_aspect)
    cropped = image.crop(box) if box != (0, 0, image.width, image.height) else image
    resized = cropped.resize(inference_size(cropped.width, cropped.height, input_size), Image.BILINEAR)
    return Prepared(normalize(mean, std)(resized), box, image.size)


def train_transform(crop: int, mean, std):
    """Strong augmentation: dermoscopy has no canonical orientation, and colour varies by device."""
    from torchvision.transforms import v2

    return v2.Compose(
        [
            v2.ToImage(),
            v2.RandomRotation(degrees=180),
            v2.RandomResizedCrop(crop, scale=(0.3, 1.0), ratio=(3 / 4, 4 / 3), antialias=True),
            v2.RandomHorizontalFlip(),
            v2.RandomVerticalFlip(),
            v2.ColorJitter(brightness=0.25, contrast=0.25, saturation=0.2, hue=0.03),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(list(mean), list(std)),
        ]
    )


def tta_views(batch: torch.Tensor) -> list[torch.Tensor]:
    """The four flips of a (N, 3, H, W) batch; the lesion's diagnosis is flip-invariant."""
    return [batch, batch.flip(-1), batch.flip(-2), batch.flip(-1, -2)]


def heatmap_to_original(cam: np.ndarray, prepared: Prepared) -> np.ndarray:
    """Upsample a heatmap from the model's grid onto the original image grid (zeros outside the crop)."""
    left, top, right, bottom = prepared.crop_box
    width, height = prepared.original_size
    tile = Image.fromarray(cam.astype(np.float32), mode="F").resize((right - left, bottom - top), Image.BILINEAR)
    full = np.zeros((height, width), dtype=np.float32)
    full[top:bottom, left:right] = np.asarray(tile, dtype=np.float32)
    return np.clip(full, 0.0, 1.0)
