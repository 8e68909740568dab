"""How a lesion changed between two visits: its two photos aligned, the outlines compared on one grid, and the
change in area, asymmetry, colours and the model's probabilities, with a flag when the change is large.

Why change matters: in short-term sequential digital dermoscopy, a melanocytic lesion that changes over about three
months is excised, because change is how many thin melanomas show themselves (Menzies et al., Arch Dermatol
2001;137:1583-9; Kittler et al., Arch Dermatol 2006;142:1113-9). The flag thresholds below are this tool's own
choices for "large enough to look at again", not published cut-offs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from core.config import MALIGNANT
from core.segmentation.abcd import ABCD, measure
from core.segmentation.alignment import Alignment, align
from core.segmentation.metrics import dice_iou
from core.segmentation.segmenter import LesionMask, Segmenter

AREA_CHANGE_FLAG = 0.20  # relative change in area, either way
OUTLINE_DICE_FLAG = 0.80  # aligned outlines overlapping less than this: the shape changed
MALIGNANT_RISE_FLAG = 0.15  # rise in the summed malignant probability


@dataclass(frozen=True)
class Visit:
    image: Image.Image
    lesion: LesionMask
    probabilities: dict[str, float]
    label: str  # e.g. "case #3, 2026-11-02"


@dataclass(frozen=True)
class VisitChange:
    earlier: Visit
    later: Visit
    alignment: Alignment
    earlier_abcd: ABCD | None
    later_abcd: ABCD | None
    area_change: float | None  # (later - earlier) / earlier, on one physical scale; None without alignment
    outline_dice: float | None  # overlap of the two outlines once aligned
    probability_change: dict[str, float]  # later - earlier, per class
    flags: tuple[str, ...] = field(default=())

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(measure, earlier, later, change) rows for display."""
        a, b = self.earlier_abcd, self.later_abcd
        rows = [("Area", "", "", f"{self.area_change:+.0%}" if self.area_change is not None else
                 "not comparable: the photos could not be aligned, and their zoom may differ")]
        if self.outline_dice is not None:
            rows.append(("Outline overlap once aligned (Dice)", "", "", f"{self.outline_dice:.2f} (1.00 = same shape)"))
        if a is not None and b is not None:
            rows.append(("Asymmetric axes", f"{a.asymmetry_axes} of 2", f"{b.asymmetry_axes} of 2",
                         f"{b.asymmetry_axes - a.asymmetry_axes:+d}"))
            added = [c for c in b.colours if c not in a.colours]
            lost = [c for c in a.colours if c not in b.colours]
            rows.append(("Colours", ", ".join(a.colours) or "none", ", ".join(b.colours) or "none",
                         "; ".join(filter(None, [f"new: {', '.join(added)}" if added else "",
                                                 f"gone: {', '.join(lost)}" if lost else ""])) or "same"))
        early_m = sum(self.earlier.probabilities.get(c, 0.0) for c in MALIGNANT)
        late_m = sum(self.later.probabilities.get(c, 0.0) for c in MALIGNANT)
        rows.append(("Model: malignant classes together", f"{early_m:.0%}", f"{late_m:.0%}", f"{late_m - early_m:+.0%}"))
        for name in ("mel", "bcc", "akiec"):
            if name in self.probability_change:
                rows.append((f"Model: {name}", f"{self.earlier.probabilities.get(name, 0):.0%}",
                             f"{self.later.probabilities.get(name, 0):.0%}", f"{self.probability_change[name]:+.0%}"))
        return rows


def compare_visits(earlier: Visit, later: Visit) -> VisitChange:
    alignment = align(earlier.image, later.image)
    usable = earlier.lesion.usable and later.lesion.usable
    area_change = outline_dice = None
    if alignment.ok and usable:
        warped = alignment.warp_mask(later.lesion.mask, earlier.image.size)
        scale_squared = abs(float(np.linalg.det(alignment.matrix[:, :2])))
        later_area = later.lesion.mask.sum() * scale_squared  # on the earlier photo's scale, even off its frame
        area_change = float(later_area / max(1, earlier.lesion.mask.sum()) - 1)
        outline_dice = dice_iou(earlier.lesion.mask, warped)[0]
    earlier_abcd = measure(earlier.image, earlier.lesion.mask) if earlier.lesion.usable else None
    later_abcd = measure(later.image, later.lesion.mask) if later.lesion.usable else None
    probability_change = {c: later.probabilities.get(c, 0.0) - earlier.probabilities.get(c, 0.0)
                          for c in earlier.probabilities}
    flags = []
    if area_change is not None and abs(area_change) >= AREA_CHANGE_FLAG:
        flags.append(f"area {'grew' if area_change > 0 else 'shrank'} by {abs(area_change):.0%}")
    if outline_dice is not None and outline_dice < OUTLINE_DICE_FLAG:
        flags.append(f"the outline changed shape (overlap {outline_dice:.2f})")
    if earlier_abcd is not None and later_abcd is not None:
        added = [c for c in later_abcd.colours if c not in earlier_abcd.colours]
        if added:
            flags.append(f"new colour{'s' if len(added) > 1 else ''}: {', '.join(added)}")
        if later_abcd.asymmetry_axes > earlier_abcd.asymmetry_axes:
            flags.append("more asymmetric")
    rise = sum(probability_change.get(c, 0.0) for c in MALIGNANT)
    if rise >= MALIGNANT_RISE_FLAG:
        flags.append(f"the model's malignant probability rose by {rise:.0%}")
    return VisitChange(earlier, later, alignment, earlier_abcd, later_abcd, area_change, outline_dice,
                       probability_change, tuple(flags))


def visit(segmenter: Segmenter, image: Image.Image, probabilities: dict[str, float], label: str) -> Visit:
    return Visit(image=image, lesion=segmenter.segment(image), probabilities=dict(probabilities), label=label)


def swipe(first: Image.Image, second: Image.Image, position: float) -> Image.Image:
    """The first photo left of `position` (0..1 of the width), the aligned second photo right of it, with a line."""
    out = np.asarray(first.convert("RGB")).copy()
    other = np.asarray(second.convert("RGB").resize(first.size))
    cut = int(round(np.clip(position, 0.0, 1.0) * out.shape[1]))
    out[:, cut:] = other[:, cut:]
    out[:, max(0, cut - 1):cut + 1] = (255, 255, 255)
    return Image.fromarray(out)


def difference(first: Image.Image, second: Image.Image) -> Image.Image:
    """Where the two aligned photos differ in brightness, after matching their overall brightness and contrast
    (lighting differs between visits): dark = unchanged, bright = changed."""
    a = np.asarray(first.convert("L"), dtype=np.float64)
    b = np.asarray(second.convert("L").resize(first.size), dtype=np.float64)
    covered = b > 0
    if covered.sum() > 10:
        b = (b - b[covered].mean()) / (b[covered].std() + 1e-6) * a[covered].std() + a[covered].mean()
    diff = np.where(covered, np.abs(a - b), 0)
    return Image.fromarray(np.clip(diff * 2.5, 0, 255).astype(np.uint8))
