"""Aligning two photos of one lesion (two visits, or two shots of one visit) so they can be compared pixel for pixel.

SIFT keypoints matched with Lowe's ratio test and a RANSAC similarity transform (rotation, scale, shift: a
dermatoscope pressed on the skin does not shear or tilt the picture much). A result is accepted only when enough
keypoints agree and the aligned images agree (normalised correlation of their luminance where they overlap);
otherwise the answer says it could not align them, and the photos are shown side by side unaligned. Intensity
alignment (OpenCV's ECC) was tried as a fallback during development and dropped: it also "aligned" photos of two
different lesions, because any two dermoscopy photos (a dark centre on lighter skin) correlate well once overlaid.
`benchmarks/bench_alignment.py` measures both rates for what is shipped.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

# Images are aligned on a copy whose longer side is this many pixels; the transform is scaled back.
ALIGN_SIDE = 512
MIN_INLIERS = 12
MIN_INLIER_SHARE = 0.3
# Aligned luminance must correlate at least this well inside the overlap for the alignment to be trusted.
MIN_CORRELATION = 0.5
MIN_OVERLAP = 0.3  # share of the smaller photo's footprint that the two must share once aligned
SCALE_RANGE = (0.33, 3.0)


@dataclass(frozen=True)
class Alignment:
    ok: bool
    matrix: np.ndarray | None  # 2x3 affine, maps the second photo's pixels onto the first photo's grid
    correlation: float  # of the aligned luminance inside the overlap
    overlap: float  # share of the smaller footprint that the two photos share once aligned
    message: str

    def warp(self, second: Image.Image, onto: Image.Image) -> Image.Image:
        """The second photo resampled onto the first photo's pixel grid (black outside its footprint)."""
        import cv2

        if self.matrix is None:
            raise ValueError("no alignment to apply")
        warped = cv2.warpAffine(np.asarray(second.convert("RGB")), self.matrix, onto.size, flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT)
        return Image.fromarray(warped)

    def warp_mask(self, mask: np.ndarray, onto_size: tuple[int, int]) -> np.ndarray:
        import cv2

        warped = cv2.warpAffine(mask.astype(np.uint8) * 255, self.matrix, onto_size, flags=cv2.INTER_LINEAR)
        return warped > 127


def _grey(image: Image.Image) -> tuple[np.ndarray, float]:
    """Contrast-equalised luminance on the working grid, and the factor from original to working pixels."""
    import cv2

    scale = min(1.0, ALIGN_SIDE / max(image.size))
    small = image.convert("L")
    if scale < 1.0:
        small = small.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.BILINEAR)
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
    return clahe.apply(np.asarray(small)), scale


def _to_original(matrix: np.ndarray, scale_first: float, scale_second: float) -> np.ndarray:
    """A working-grid transform (second -> first) expressed on the original grids."""
    to_work = np.diag([scale_second, scale_second, 1.0])
    from_work = np.diag([1 / scale_first, 1 / scale_first, 1.0])
    full = from_work @ np.vstack([matrix, [0, 0, 1]]) @ to_work
    return full[:2].astype(np.float64)


def _plausible(matrix: np.ndarray) -> bool:
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    return SCALE_RANGE[0] <= scale <= SCALE_RANGE[1]


def _agreement(first: np.ndarray, second: np.ndarray, matrix: np.ndarray) -> tuple[float, float]:
    """(correlation of the luminance where the photos overlap, overlap as a share of the smaller footprint; a
    zoomed-in second photo lies wholly inside the first), on the working grids."""
    import cv2

    h, w = first.shape
    warped = cv2.warpAffine(second, matrix, (w, h), flags=cv2.INTER_LINEAR)
    footprint = cv2.warpAffine(np.full(second.shape, 255, np.uint8), matrix, (w, h), flags=cv2.INTER_NEAREST) > 0
    second_area = second.size * abs(np.linalg.det(matrix[:, :2]))
    overlap = float(footprint.sum() / max(1.0, min(first.size, second_area)))
    if footprint.sum() < 100:
        return 0.0, overlap
    a = first[footprint].astype(np.float64)
    b = warped[footprint].astype(np.float64)
    a, b = a - a.mean(), b - b.mean()
    denominator = np.sqrt((a * a).sum() * (b * b).sum())
    return (float((a * b).sum() / denominator) if denominator > 0 else 0.0), overlap


def _keypoints(first: np.ndarray, second: np.ndarray) -> np.ndarray | None:
    import cv2

    sift = cv2.SIFT_create(nfeatures=2000)
    kp1, des1 = sift.detectAndCompute(first, None)
    kp2, des2 = sift.detectAndCompute(second, None)
    if des1 is None or des2 is None or len(kp1) < MIN_INLIERS or len(kp2) < MIN_INLIERS:
        return None
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(des2, des1, k=2)
    good = [m for m, n in (p for p in pairs if len(p) == 2) if m.distance < 0.75 * n.distance]
    if len(good) < MIN_INLIERS:
        return None
    src = np.float32([kp2[m.queryIdx].pt for m in good])
    dst = np.float32([kp1[m.trainIdx].pt for m in good])
    matrix, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=4.0)
    if matrix is None or inliers is None:
        return None
    count = int(inliers.sum())
    if count < MIN_INLIERS or count < MIN_INLIER_SHARE * len(good) or not _plausible(matrix):
        return None
    return matrix


def align(first: Image.Image, second: Image.Image) -> Alignment:
    """Align `second` onto `first`."""
    grey_first, scale_first = _grey(first)
    grey_second, scale_second = _grey(second)
    matrix = _keypoints(grey_first, grey_second)
    if matrix is None:
        why = "too few landmarks of the skin and lesion match between them"
    else:
        correlation, overlap = _agreement(grey_first, grey_second, matrix)
        if correlation >= MIN_CORRELATION and overlap >= MIN_OVERLAP:
            return Alignment(True, _to_original(matrix, scale_first, scale_second), correlation, overlap,
                             f"aligned by matching landmarks of the skin and lesion (agreement {correlation:.2f})")
        why = f"the matched photos agree too little (correlation {correlation:.2f}, overlap {overlap:.0%})"
    return Alignment(False, None, 0.0, 0.0,
                     f"could not align the two photos: {why}. They are shown side by side, unaligned, and each "
                     "photo is measured on its own")
