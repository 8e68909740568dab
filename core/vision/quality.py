"""Image quality before the model: is the photo sharp enough and exposed well enough to be read?

Two measurements on a copy whose short side is 256 pixels (so that they do not depend on the upload's size):
- sharpness: the variance of the Laplacian of the luminance (Pech-Pacheco et al., ICPR 2000), over the central
  region where the lesion is, so a dark vignette or a blurred corner does not decide it;
- exposure: the share of clipped pixels (near black or near white) and the mean luminance of the central region.

Thresholds are set from HAM10000 photos and deliberately degraded copies of them; `benchmarks/bench_quality.py`
prints how often real photos are flagged and how often degraded ones are caught.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

WORK_SIDE = 256
# Variance of the Laplacian (luminance 0-255) under which the photo is too blurred to read fine structures.
MIN_SHARPNESS = 12.0
# Mean luminance of the central region outside these bounds: too dark or too bright (washed out).
DARK_BELOW, BRIGHT_ABOVE = 45.0, 215.0
# More than this share of central pixels clipped at black (< 8) or white (> 247).
MAX_CLIPPED = 0.35


@dataclass(frozen=True)
class ImageQuality:
    sharpness: float
    mean_luminance: float
    clipped_dark: float
    clipped_bright: float

    @property
    def codes(self) -> tuple[str, ...]:
        """"blurred", "dark", "bright": the problems found, as a saved case records them."""
        found = []
        if self.sharpness < MIN_SHARPNESS:
            found.append("blurred")
        if self.mean_luminance < DARK_BELOW or self.clipped_dark > MAX_CLIPPED:
            found.append("dark")
        if self.mean_luminance > BRIGHT_ABOVE or self.clipped_bright > MAX_CLIPPED:
            found.append("bright")
        return tuple(found)

    @property
    def problems(self) -> tuple[str, ...]:
        """The problems in words, for the user."""
        return tuple(PROBLEM_TEXT[code] for code in self.codes)

    @property
    def ok(self) -> bool:
        return not self.codes


PROBLEM_TEXT = {
    "blurred": "the image is blurred (out of focus or moved), so fine dermoscopic structures cannot be read",
    "dark": "the image is too dark (under-exposed)",
    "bright": "the image is too bright (over-exposed or washed out)",
}


def _central(array: np.ndarray) -> np.ndarray:
    """The middle 60 % of each side: where a dermoscopy photo has its lesion, inside any vignette."""
    h, w = array.shape[:2]
    return array[int(h * 0.2):int(h * 0.8) or 1, int(w * 0.2):int(w * 0.8) or 1]


def assess_quality(image: Image.Image) -> ImageQuality:
    from scipy import ndimage

    grey = image.convert("L")
    scale = WORK_SIDE / min(grey.size)
    if scale < 1.0:
        grey = grey.resize((max(1, round(grey.width * scale)), max(1, round(grey.height * scale))), Image.BILINEAR)
    lum = np.asarray(grey, dtype=np.float64)
    centre = _central(lum)
    laplacian = ndimage.laplace(centre)
    return ImageQuality(sharpness=float(laplacian[1:-1, 1:-1].var()) if centre.size > 9 else 0.0,
                        mean_luminance=float(centre.mean()),
                        clipped_dark=float((centre < 8).mean()), clipped_bright=float((centre > 247).mean()))
