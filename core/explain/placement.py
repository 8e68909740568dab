"""Is the heatmap on the lesion? For any image: the share of the heatmap's weight inside the lesion outline the
segmenter drew, beside the share a plain centre blob would put there, and a warning when the heatmap sits mostly
off the lesion (on a ruler, ink mark, hair, vignette or the skin around it).

Known from the literature why this matters: surgical ink markings raise the melanoma scores of naevi (Winkler et
al., JAMA Dermatol 2019), and classifiers still score well with the lesion cut out (Bissoto et al. 2019).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.explain.localisation import centre_gaussian, energy_inside

# The warning fires when less than this share of the heatmap's weight is inside the outline. Chosen on one half of
# the validation lesions (`python -m core evaluate-placement`), its false-alarm rate measured on the other half; see
# the model card.
OFF_LESION_BELOW = 0.5


@dataclass(frozen=True)
class HeatmapPlacement:
    energy_inside: float  # share of the heatmap's weight inside the outline
    centre_prior_inside: float  # the same share for a centred Gaussian blob: what "no information" scores
    outline_problem: str | None  # why the outline itself is doubtful (then no warning is raised either way)

    @property
    def off_lesion(self) -> bool:
        return self.outline_problem is None and self.energy_inside < OFF_LESION_BELOW

    @property
    def beats_centre_prior(self) -> bool:
        return self.energy_inside > self.centre_prior_inside

    def summary(self) -> str:
        if self.outline_problem:
            return f"Heatmap placement not checked: {self.outline_problem}."
        text = (f"{self.energy_inside:.0%} of the heatmap's weight is inside the lesion outline "
                f"(a plain centred blob puts {self.centre_prior_inside:.0%} there)")
        if self.off_lesion:
            return (text + ". The model looked mostly outside the lesion — at the skin around it, a ruler, an ink "
                    "mark, hair or the frame — so treat this result with extra caution.")
        if not self.beats_centre_prior:
            return text + ": no better than the centre prior, so it says little about what the model used."
        return text + "."


def place(heatmap: np.ndarray, outline: np.ndarray, outline_problem: str | None = None) -> HeatmapPlacement:
    """`heatmap` (non-negative) and the lesion `outline` (bool) on one grid."""
    return HeatmapPlacement(energy_inside=energy_inside(heatmap, outline),
                            centre_prior_inside=energy_inside(centre_gaussian(outline.shape), outline),
                            outline_problem=outline_problem)
