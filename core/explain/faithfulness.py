"""Is a heatmap faithful to the model? pytorch-grad-cam's own perturbation metrics, read in plain words.

For one heatmap on the model's input grid, three perturbed inputs are scored with the class's
calibrated probability (the number the app shows, without flip augmentation):
- ROAD, most relevant first: the top `fraction` of pixels by heatmap value are removed and filled in
  by the library's noisy linear imputation (Rong et al. 2022). A faithful map makes this drop a lot.
- ROAD, least relevant first: the bottom `fraction` removed the same way. A faithful map makes this
  drop little.
- Highlighted region only (`cam_mult_image`): the normalised input multiplied by the heatmap, so
  cold regions fade to the average training colour.

Library semantics worth knowing: `ROADMostRelevantFirst(percentile=p)` keeps the pixels below the
p-th percentile, and `ROADLeastRelevantFirst(percentile=p)` keeps those above the (100-p)-th: in
both, p is the share of pixels kept. Tied heatmap values (large flat zero areas are common) would
make the removed share larger than asked, so ties are broken by a tiny seeded jitter, which only
orders pixels of equal relevance.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from pytorch_grad_cam.metrics.cam_mult_image import CamMultImageConfidenceChange
from pytorch_grad_cam.metrics.road import ROADLeastRelevantFirst, ROADMostRelevantFirst

from core.vision.classifier import Classifier
from core.config import CLASS_NAMES
from core.explain.cams import Explanation
from core.vision.transforms import Prepared

DEFAULT_FRACTION = 0.2
# Below this probability a relative change is meaningless (1 % -> 3 % is "+200 %").
MIN_PROBABILITY_FOR_RELATIVE = 0.01
# A ROAD gap (see Faithfulness.road_gap) beyond this, either way, is read as a clear difference.
CLEAR_GAP = 0.05


class FaithfulnessError(ValueError):
    """The heatmap cannot be tested (e.g. it is empty); the message is meant for the user."""


class CalibratedProbability:
    """A pytorch-grad-cam target: the calibrated probability of one class as the app shows it for an image
    with no age, sex or site given (temperature scaling, then the metadata fusion when the checkpoint has one)."""

    def __init__(self, classifier: Classifier, category: int):
        self.category = category
        self.temperature = classifier.meta.temperature
        self.fusion = None
        if classifier.fusion is not None:
            from core.vision.fusion import PatientDetails, encode

            fusion = classifier.fusion
            coef = torch.tensor(fusion.coef, dtype=torch.float32)
            n = coef.shape[0]
            offset = coef[:, n:] @ torch.tensor(encode(PatientDetails()), dtype=torch.float32)
            self.temperature = fusion.temperature
            self.fusion = (coef[:, :n], offset + torch.tensor(fusion.intercept, dtype=torch.float32))

    def __call__(self, model_output: torch.Tensor) -> torch.Tensor:
        z = torch.log_softmax(model_output.float() / self.temperature, dim=-1)
        if self.fusion is not None:
            weights, offset = self.fusion
            z = z @ weights.T + offset
        return torch.softmax(z, dim=-1)[..., self.category]


@dataclass(frozen=True)
class Faithfulness:
    method: str
    target: str
    fraction: float  # share of pixels removed by each ROAD perturbation
    probability: float  # calibrated probability of `target` for the unperturbed image
    without_most_relevant: float  # ... after removing the most relevant `fraction`
    without_least_relevant: float  # ... after removing the least relevant `fraction`
    highlighted_only: float  # ... for the image multiplied by the heatmap
    # Perturbed model inputs (normalised, (3, h, w)) when asked for: what the model saw.
    views: dict[str, np.ndarray] | None = None

    def relative_change(self, after: float) -> float:
        return (after - self.probability) / self.probability if self.probability > 0 else float("nan")

    @property
    def road_gap(self) -> float:
        """(least-relevant-removed minus most-relevant-removed) / probability: > 0 favours the heatmap."""
        return (self.without_least_relevant - self.without_most_relevant) / max(self.probability, 1e-12)

    @property
    def reading(self) -> str:
        return plain_reading(self)


def _pct(x: float) -> str:
    return f"{x * 100:.0f}\u00a0%"  # no-break space: "85 %" never wraps between number and sign


RELATIVE_FROM = 0.10  # below this starting probability, or past doubling, a relative change reads absurdly


def _change(before: float, after: float, subject: str) -> str:
    if before < MIN_PROBABILITY_FOR_RELATIVE:
        return f"moves {subject} from {before * 100:.1f}\u00a0% to {after * 100:.1f}\u00a0%"
    rel = (after - before) / before
    if abs(rel) < 0.005:
        return f"leaves {subject} unchanged ({_pct(before)})"
    verb = "drops" if rel < 0 else "raises"
    if before < RELATIVE_FROM or abs(rel) > 1.0:  # "raises it by 1989 %" helps nobody: say from what to what
        return f"{verb} {subject} from {_pct(before)} to {_pct(after)}"
    return f"{verb} {subject} by {_pct(abs(rel))} ({_pct(before)} → {_pct(after)})"


def class_phrase(target: str) -> str:
    return CLASS_NAMES.get(target, target).split(" (")[0].lower()


def plain_reading(f: Faithfulness) -> str:
    """One line a clinician can read, e.g. 'Removing the most relevant 20 % drops the melanoma probability by 41 % …'."""
    share = _pct(f.fraction)
    subject = f"the {class_phrase(f.target)} probability"
    line = (f"Removing the most relevant {share} {_change(f.probability, f.without_most_relevant, subject)}; "
            f"removing the least relevant {share} {_change(f.probability, f.without_least_relevant, 'it')}; "
            f"keeping only the highlighted region gives {_pct(f.highlighted_only)}.")
    if f.probability < MIN_PROBABILITY_FOR_RELATIVE:
        return line + " The model gives this class almost no probability, so this heatmap explains little."
    if f.without_most_relevant >= f.probability:
        # Removing the "most relevant" part did not lower the probability: whatever the gap, the map does not
        # show what the model relies on (a reading that said it did contradicted its own numbers).
        return line + " Removing the highlighted region did not lower the probability: this map does not show what the model relies on."
    if f.road_gap > CLEAR_GAP:
        return line + " The highlighted region matters more to the model than the rest."
    if f.road_gap < -CLEAR_GAP:
        return line + " The model relies more on the rest of the image than on the highlighted region: distrust this map."
    return line + " Removing either part matters about equally: this map says little about what the model uses."


def faithfulness(
    classifier: Classifier,
    prepared: Prepared,
    explanation: Explanation,
    fraction: float = DEFAULT_FRACTION,
    *,
    seed: int = 0,
    keep_views: bool = False,
) -> Faithfulness:
    """Score `explanation` (computed for `prepared`) with ROAD both ways and the highlighted-only view."""
    if not 0.0 < fraction < 1.0:
        raise FaithfulnessError(f"fraction must be between 0 and 1, got {fraction}")
    grid = explanation.model_grid
    batch = prepared.tensor.unsqueeze(0)
    if grid is None or grid.shape != tuple(batch.shape[-2:]):
        raise FaithfulnessError("the explanation has no heatmap on this image's model grid; recompute it")
    if float(grid.max()) <= 0.0:
        raise FaithfulnessError(f"the {explanation.label} map for {explanation.target} is empty (no evidence "
                                "for this class anywhere), so there is nothing to remove")
    model = classifier.model
    targets = [CalibratedProbability(classifier, classifier.classes.index(explanation.target))]
    kept = 100.0 * (1.0 - fraction)
    rng = np.random.default_rng(seed)
    ranked = (grid + rng.uniform(0.0, 1e-6, grid.shape)).astype(np.float32)[None]
    with torch.no_grad():
        probability = float(targets[0](model(batch)[0]))
    with torch.random.fork_rng():
        torch.manual_seed(seed)  # the ROAD imputer adds noise
        most, most_view = ROADMostRelevantFirst(percentile=kept)(
            batch, ranked, targets, model, return_visualization=True, return_diff=False)
        least, least_view = ROADLeastRelevantFirst(percentile=kept)(
            batch, ranked, targets, model, return_visualization=True, return_diff=False)
    highlighted, highlighted_view = CamMultImageConfidenceChange()(
        batch, grid[None].astype(np.float32), targets, model, return_visualization=True, return_diff=False)
    views = None
    if keep_views:
        views = {"without_most_relevant": most_view[0].numpy(), "without_least_relevant": least_view[0].numpy(),
                 "highlighted_only": highlighted_view[0].numpy()}
    return Faithfulness(
        method=explanation.method,
        target=explanation.target,
        fraction=fraction,
        probability=probability,
        without_most_relevant=float(most[0]),
        without_least_relevant=float(least[0]),
        highlighted_only=float(highlighted[0]),
        views=views,
    )


def view_to_image(view: np.ndarray, mean, std) -> np.ndarray:
    """A normalised (3, h, w) model input back to uint8 RGB (h, w, 3) for display."""
    rgb = view.transpose(1, 2, 0) * np.asarray(std, np.float32) + np.asarray(mean, np.float32)
    return (rgb.clip(0, 1) * 255).round().astype(np.uint8)
