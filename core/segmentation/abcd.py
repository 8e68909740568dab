"""ABCD measurements from a lesion mask and its image, for teaching: asymmetry, border, colours, diameter, and the
part of the Stolz total dermoscopy score (TDS) that can be measured from them.

These are measurements of an outline and of pixel colours, not the clinician's ABCD assessment: asymmetry here is
of shape only (Stolz's A also counts colours and structures), the border score is an estimate of how abruptly the
pigment stops in each of eight segments, and the colour names come from fixed CIELAB ranges, so lighting and camera
white balance move them. The fifth TDS input, differential structures (network, structureless areas, dots, globules,
streaks), cannot be measured from a mask, so the TDS is given as the range it spans over D = 1..5.

TDS = 1.3 A + 0.1 B + 0.5 C + 0.5 D; below 4.75 benign, 4.75-5.45 suspicious, above 5.45 highly suspicious of
melanoma (Stolz et al. 1994; Nachbar et al., J Am Acad Dermatol 1994;30:551-9).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

# Masks are measured on a grid whose longer side is at most this many pixels (diameters are scaled back).
WORK_SIDE = 256
# An axis is asymmetric when more than this share of the area does not overlap its mirror image.
ASYMMETRY_SHARE = 0.10
# A segment's border is abrupt when the brightness step across a thin band at the edge is at least this share of
# the full difference between the lesion and the skin around it.
ABRUPT_STEP_SHARE = 0.5
# A colour counts when at least this share of the lesion's pixels has it.
COLOUR_SHARE = 0.05
TDS_BENIGN_BELOW = 4.75
TDS_MELANOMA_ABOVE = 5.45
DIAMETER_MM_FLAG = 6.0


@dataclass(frozen=True)
class ABCD:
    asymmetry_axes: int  # 0, 1 or 2 principal axes across which the shape is not mirror-symmetric
    asymmetry_shares: tuple[float, float]  # non-overlapping share of the area when mirrored across each axis
    compactness: float  # perimeter^2 / (4 pi area): 1.0 for a circle, larger for a ragged or elongated outline
    solidity: float  # area / convex hull area: 1.0 with no notches or bays
    border_abrupt_segments: int  # Stolz B, 0..8: segments where pigment stops abruptly (estimate)
    colours: tuple[str, ...]  # colour names present in at least COLOUR_SHARE of the lesion
    colour_shares: dict[str, float]  # every colour name -> share of lesion pixels
    diameter_px: float  # longest distance across the outline, on the image's pixel grid
    diameter_mm: float | None  # when the field of view's width in mm is known
    tds_partial: float  # 1.3 A + 0.1 B + 0.5 C
    tds_range: tuple[float, float]  # with D = 1 and D = 5

    def tds_reading(self) -> str:
        low, high = self.tds_range
        if high < TDS_BENIGN_BELOW:
            return "below 4.75 whatever the structures: in the benign range"
        if low > TDS_MELANOMA_ABOVE:
            return "above 5.45 whatever the structures: in the range highly suspicious of melanoma"
        return (f"{low:.2f} to {high:.2f} depending on the structures (which this measurement cannot count): "
                "look for network, structureless areas, dots, globules and streaks to place it")

    def plain_words(self) -> list[tuple[str, str, str]]:
        """(feature, measured value, what it means) rows for display."""
        a1, a2 = self.asymmetry_shares
        diameter = f"{self.diameter_px:.0f} px" + (f" ≈ {self.diameter_mm:.1f} mm" if self.diameter_mm is not None else "")
        rows = [
            ("A: asymmetry", f"{self.asymmetry_axes} of 2 axes ({a1:.0%}, {a2:.0%} of the area off its mirror image)",
             "Shape only. Melanomas are often asymmetric in shape, colour and structure; many naevi are symmetric on "
             "both axes."),
            ("B: border", f"{self.border_abrupt_segments} of 8 segments abrupt; compactness {self.compactness:.2f} "
                          f"(circle 1.00), solidity {self.solidity:.2f}",
             "An abrupt stop of pigment in several segments, or a ragged, notched outline, counts against a benign "
             "reading; estimated from brightness at the edge."),
            ("C: colours", ", ".join(self.colours) if self.colours else "none above 5 % of the lesion",
             "Three or more of white, red, light brown, dark brown, blue-grey and black raise concern. Names come from "
             "fixed colour ranges, so lighting shifts them."),
            ("D: diameter", diameter,
             "Longest distance across the outline. Over 6 mm is one of the ABCD warning signs; give the field of view "
             "to get millimetres." if self.diameter_mm is None else
             "Longest distance across the outline; over 6 mm is one of the ABCD warning signs."),
            ("Stolz TDS", self.tds_reading(),
             "1.3×A + 0.1×B + 0.5×C + 0.5×D (D = differential structures, 1-5, not measured here). Under 4.75 benign, "
             "4.75-5.45 suspicious, over 5.45 highly suspicious of melanoma (Nachbar et al. 1994)."),
        ]
        return rows


def _work_scale(mask: np.ndarray) -> float:
    return min(1.0, WORK_SIDE / max(mask.shape))


def _resize(array: np.ndarray, scale: float, resample) -> np.ndarray:
    if scale >= 1.0:
        return array
    height, width = array.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(array).resize(size, resample))


def asymmetry(mask: np.ndarray) -> tuple[float, float]:
    """Non-overlapping share of the area when the shape is mirrored across its two principal axes (through the
    centroid, the major axis first). 0 for a shape symmetric about that axis."""
    mask = np.asarray(mask, dtype=bool)
    ys, xs = np.nonzero(mask)
    if ys.size < 3:
        return 0.0, 0.0
    cy, cx = ys.mean(), xs.mean()
    cov = np.cov(np.stack([xs - cx, ys - cy]))
    eigvals, eigvecs = np.linalg.eigh(cov)
    major = eigvecs[:, np.argmax(eigvals)]
    angle = np.arctan2(major[1], major[0])
    # Resample the mask in the frame of its principal axes, centred on the centroid, so both mirror images are
    # plain array flips; bilinear sampling keeps a digital circle's own error near 1 %.
    radius = int(np.ceil(np.sqrt(((ys - cy) ** 2 + (xs - cx) ** 2).max()))) + 2
    grid = np.arange(-radius, radius + 1, dtype=np.float64)
    uu, vv = np.meshgrid(grid, grid)  # u along the major axis, v across it
    cos, sin = np.cos(angle), np.sin(angle)
    x = cx + uu * cos - vv * sin
    y = cy + uu * sin + vv * cos
    frame = ndimage.map_coordinates(mask.astype(np.float64), [y, x], order=1, cval=0.0)
    area = frame.sum()
    across_major = np.abs(frame - frame[::-1, :]).sum() / (2 * area)
    across_minor = np.abs(frame - frame[:, ::-1]).sum() / (2 * area)
    return float(across_major), float(across_minor)


def _contour(mask: np.ndarray):
    import cv2

    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    return max(contours, key=cv2.contourArea) if contours else None


def border_shape(mask: np.ndarray) -> tuple[float, float]:
    """(compactness, solidity) of the outline. The perimeter is measured on a lightly smoothed contour so that a
    digital circle's pixel staircase does not read as a ragged border."""
    import cv2

    contour = _contour(mask)
    if contour is None or len(contour) < 5:
        return 1.0, 1.0
    area = float(mask.sum())
    smooth = cv2.approxPolyDP(contour, 1.0, True)
    perimeter = cv2.arcLength(smooth, True)
    hull_area = cv2.contourArea(cv2.convexHull(contour)) + 0.5 * cv2.arcLength(cv2.convexHull(contour), True)
    return float(perimeter**2 / (4 * np.pi * area)), float(min(1.0, area / max(hull_area, 1.0)))


def abrupt_segments(mask: np.ndarray, luminance: np.ndarray) -> int:
    """Stolz B estimate: of eight pie segments around the centroid, how many show an abrupt stop of pigment (the
    brightness step across a thin band at the edge is at least ABRUPT_STEP_SHARE of the lesion-to-skin contrast)."""
    mask = np.asarray(mask, dtype=bool)
    if mask.all() or not mask.any():
        return 0
    inside_dist = ndimage.distance_transform_edt(mask)
    outside_dist = ndimage.distance_transform_edt(~mask)
    ys, xs = np.nonzero(mask)
    diameter = 2 * np.sqrt(mask.sum() / np.pi)
    band = max(2.0, 0.04 * diameter)
    lesion_core = luminance[inside_dist > 2 * band]
    skin = luminance[(outside_dist > 2 * band) & (outside_dist < 6 * band)]
    if lesion_core.size < 10 or skin.size < 10:
        return 0
    contrast = float(np.median(skin) - np.median(lesion_core))
    if contrast <= 1.0:  # lesion no darker than skin: no pigment edge to judge
        return 0
    cy, cx = ys.mean(), xs.mean()
    yy, xx = np.mgrid[0:mask.shape[0], 0:mask.shape[1]]
    octant = ((np.arctan2(yy - cy, xx - cx) + np.pi) / (2 * np.pi) * 8).astype(int) % 8
    inner = (inside_dist > 0) & (inside_dist <= band)
    outer = (outside_dist > 0) & (outside_dist <= band)
    abrupt = 0
    for k in range(8):
        a, b = luminance[inner & (octant == k)], luminance[outer & (octant == k)]
        if a.size >= 3 and b.size >= 3 and (np.median(b) - np.median(a)) >= ABRUPT_STEP_SHARE * contrast:
            abrupt += 1
    return abrupt


# CIELAB ranges for the six dermoscopic colours: L* (lightness), C* (chroma), h (hue angle in degrees).
def _colour_names(lab: np.ndarray) -> np.ndarray:
    light, a, b = lab[:, 0], lab[:, 1], lab[:, 2]
    chroma = np.hypot(a, b)
    hue = np.degrees(np.arctan2(b, a)) % 360
    names = np.full(light.shape, "", dtype=object)
    names[(light >= 25) & (light < 48) & (hue >= 35) & (hue < 100) & (chroma >= 8)] = "dark brown"
    names[(light >= 48) & (light < 80) & (hue >= 40) & (hue < 100) & (chroma >= 12)] = "light brown"
    names[(light >= 25) & (light < 85) & ((hue < 35) | (hue >= 340)) & (chroma >= 20)] = "red"
    names[(light >= 20) & (light < 70) & (((hue >= 180) & (hue < 340) & (chroma < 40)) | (chroma < 6))] = "blue-grey"
    names[(light >= 80) & (chroma < 12)] = "white"
    names[light < 25] = "black"
    return names


COLOUR_NAMES = ("white", "red", "light brown", "dark brown", "blue-grey", "black")


def colour_shares(image_rgb: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """Share of the lesion's pixels in each of the six colour ranges (after a light blur against noise)."""
    import cv2

    pixels = ndimage.uniform_filter(image_rgb.astype(np.float64), size=(3, 3, 1))[np.asarray(mask, dtype=bool)]
    if pixels.size == 0:
        return {name: 0.0 for name in COLOUR_NAMES}
    lab = cv2.cvtColor((pixels / 255.0).astype(np.float32)[None], cv2.COLOR_RGB2LAB)[0]  # L* 0-100, a*, b*
    names = _colour_names(lab)
    return {name: float((names == name).mean()) for name in COLOUR_NAMES}


def max_diameter(mask: np.ndarray) -> float:
    """Longest distance between two points of the outline (the maximum Feret diameter), in pixels."""
    import cv2

    contour = _contour(mask)
    if contour is None:
        return 0.0
    hull = cv2.convexHull(contour).reshape(-1, 2).astype(np.float64)
    if len(hull) < 2:
        return 1.0
    gaps = hull[:, None, :] - hull[None, :, :]
    return float(np.sqrt((gaps**2).sum(-1)).max()) + 1.0  # + 1: from pixel edge to pixel edge


def measure(image: Image.Image, mask: np.ndarray, field_of_view_mm: float | None = None) -> ABCD:
    """ABCD measurements of the lesion under `mask` (bool, the image's grid). `field_of_view_mm`: the width of
    the whole photo in millimetres, when known, for the diameter in mm."""
    mask = np.asarray(mask, dtype=bool)
    rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    if mask.shape != rgb.shape[:2]:
        raise ValueError(f"mask {mask.shape} and image {rgb.shape[:2]} differ in size")
    scale = _work_scale(mask)
    small_mask = _resize(mask.astype(np.uint8) * 255, scale, Image.NEAREST) > 127
    small_rgb = _resize(rgb, scale, Image.BILINEAR)
    luminance = small_rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])

    shares = asymmetry(small_mask)
    axes = sum(share > ASYMMETRY_SHARE for share in shares)
    compactness, solidity = border_shape(small_mask)
    b_score = abrupt_segments(small_mask, luminance)
    colours = colour_shares(small_rgb, small_mask)
    present = tuple(name for name in COLOUR_NAMES if colours[name] >= COLOUR_SHARE)
    diameter = max_diameter(small_mask) / scale
    mm = diameter * field_of_view_mm / mask.shape[1] if field_of_view_mm else None
    partial = 1.3 * axes + 0.1 * b_score + 0.5 * len(present)
    return ABCD(asymmetry_axes=axes, asymmetry_shares=shares, compactness=compactness, solidity=solidity,
                border_abrupt_segments=b_score, colours=present, colour_shares=colours, diameter_px=diameter,
                diameter_mm=mm, tds_partial=partial, tds_range=(partial + 0.5, partial + 2.5))
