"""Inference: calibrated class probabilities for one image or many, with flip test-time augmentation,
fused with the patient's age, sex and body site when the checkpoint has a fusion model, and the
suggested class from the checkpoint's decision rule."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from core.config import CLASS_NAMES, MALIGNANT
from core.vision.fusion import DecisionRule, MetadataFusion, PatientDetails
from core.vision.metrics import softmax
from core.vision.model import LesionNet, ModelMeta, load_checkpoint
from core.vision.ood import FeatureGaussian, load_feature_gaussian
from core.vision.transforms import Prepared, prepare, tta_views


@dataclass(frozen=True)
class Prediction:
    probabilities: dict[str, float]  # calibrated, in the model's class order, summing to 1
    # The suggested class: the decision rule's pick, which favours rare and malignant classes and so is
    # not always the most probable one (see `most_probable`).
    predicted: str
    confidence: float  # probability of `predicted`
    low_confidence: bool  # the most probable class is below the low-confidence threshold
    model_version: str
    # True when the image's features are far from those of real dermoscopy images (e.g. a non-skin photo).
    out_of_distribution: bool = False
    ood_score: float | None = None
    details_used: tuple[str, ...] = ()  # which of age, sex and site the probabilities took into account

    def ranked(self) -> list[tuple[str, float]]:
        return sorted(self.probabilities.items(), key=lambda kv: kv[1], reverse=True)

    @property
    def most_probable(self) -> str:
        return max(self.probabilities, key=self.probabilities.get)

    @property
    def predicted_name(self) -> str:
        return CLASS_NAMES.get(self.predicted, self.predicted)

    @property
    def malignant_probability(self) -> float:
        return sum(p for c, p in self.probabilities.items() if c in MALIGNANT)


class Classifier:
    """A trained LesionNet plus the metadata that says how to feed it and read its output."""

    def __init__(self, model: LesionNet, meta: ModelMeta, low_confidence: float = 0.5,
                 ood: FeatureGaussian | None = None):
        self.model = model.eval()
        self.meta = meta
        self.low_confidence = low_confidence
        self.ood = ood
        self.fusion = MetadataFusion.from_json(meta.fusion) if meta.fusion else None
        self.rule = DecisionRule(tuple(meta.decision_weights)) if meta.decision_weights else None

    @classmethod
    def load(cls, directory: str | Path, *, low_confidence: float = 0.5) -> "Classifier":
        """The checkpoint in `directory` (raises `CheckpointError` when there is none)."""
        model, meta = load_checkpoint(directory)
        return cls(model, meta, low_confidence, load_feature_gaussian(directory))

    @property
    def classes(self) -> list[str]:
        return list(self.meta.classes)

    def prepare(self, image: Image.Image) -> Prepared:
        m = self.meta
        return prepare(image, m.input_size, m.max_aspect, m.mean, m.std)

    @torch.no_grad()
    def forward(self, batch: torch.Tensor, tta: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(uncalibrated logits averaged over flips when TTA is on, pooled features of the unflipped view)."""
        tta = self.meta.tta if tta is None else tta
        pooled = self.model.pool(self.model.features(batch)).flatten(1)
        logits = [self.model.fc(pooled)]
        if tta:
            logits += [self.model(view) for view in tta_views(batch)[1:]]
        return torch.stack(logits).mean(0).numpy(), pooled.numpy()

    def logits(self, batch: torch.Tensor, tta: bool | None = None) -> np.ndarray:
        return self.forward(batch, tta)[0]

    def calibrated(self, logits: np.ndarray, details: Sequence[PatientDetails] | None = None) -> np.ndarray:
        """Calibrated probabilities: the metadata fusion when the checkpoint has one (fields not given
        count as missing), else the temperature-scaled image model."""
        if self.fusion is not None:
            details = list(details) if details is not None else [PatientDetails()] * len(logits)
            return self.fusion.probabilities(logits, details)
        return softmax(logits, self.meta.temperature)

    def suggest(self, probs: np.ndarray) -> np.ndarray:
        """Index of the suggested class per row of probabilities (the decision rule, else the most probable)."""
        return self.rule.suggest(probs) if self.rule is not None else np.argmax(probs, axis=-1)

    def _to_prediction(self, probs: np.ndarray, features: np.ndarray, details: PatientDetails | None) -> Prediction:
        suggested = int(self.suggest(probs[None])[0])
        ood_score = float(self.ood.score(features)[0]) if self.ood is not None else None
        return Prediction(
            probabilities={c: float(p) for c, p in zip(self.classes, probs)},
            predicted=self.classes[suggested],
            confidence=float(probs[suggested]),
            low_confidence=float(probs.max()) < self.low_confidence,
            model_version=self.meta.version,
            out_of_distribution=ood_score is not None and ood_score > self.ood.threshold,
            ood_score=ood_score,
            details_used=details.given if (details is not None and self.fusion is not None) else (),
        )

    def predict(self, image: Image.Image, tta: bool | None = None, details: PatientDetails | None = None) -> Prediction:
        return self.predict_prepared(self.prepare(image), tta, details)

    def predict_prepared(self, prepared: Prepared, tta: bool | None = None,
                         details: PatientDetails | None = None) -> Prediction:
        logits, features = self.forward(prepared.tensor.unsqueeze(0), tta)
        return self._to_prediction(self.calibrated(logits, [details or PatientDetails()])[0], features, details)
