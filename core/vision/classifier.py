"""Inference: calibrated class probabilities for one image or many, with flip test-time augmentation."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from core.config import CLASS_NAMES, MALIGNANT
from core.vision.metrics import softmax
from core.vision.model import LesionNet, ModelMeta, load_checkpoint
from core.vision.ood import FeatureGaussian, load_feature_gaussian
from core.vision.transforms import Prepared, prepare, tta_views


@dataclass(frozen=True)
class Prediction:
    probabilities: dict[str, float]  # calibrated, in the model's class order, summing to 1
    predicted: str
    confidence: float
    low_confidence: bool
    model_version: str
    # True when the image's features are far from those of real dermoscopy images (e.g. a non-skin photo).
    out_of_distribution: bool = False
    ood_score: float | None = None

    def ranked(self) -> list[tuple[str, float]]:
        return sorted(self.probabilities.items(), key=lambda kv: kv[1], reverse=True)

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

    def calibrated(self, logits: np.ndarray) -> np.ndarray:
        return softmax(logits, self.meta.temperature)

    def _to_prediction(self, probs: np.ndarray, features: np.ndarray) -> Prediction:
        top = int(np.argmax(probs))
        confidence = float(probs[top])
        ood_score = float(self.ood.score(features)[0]) if self.ood is not None else None
        return Prediction(
            probabilities={c: float(p) for c, p in zip(self.classes, probs)},
            predicted=self.classes[top],
            confidence=confidence,
            low_confidence=confidence < self.low_confidence,
            model_version=self.meta.version,
            out_of_distribution=ood_score is not None and ood_score > self.ood.threshold,
            ood_score=ood_score,
        )

    def predict(self, image: Image.Image, tta: bool | None = None) -> Prediction:
        return self.predict_prepared(self.prepare(image), tta)

    def predict_prepared(self, prepared: Prepared, tta: bool | None = None) -> Prediction:
        logits, features = self.forward(prepared.tensor.unsqueeze(0), tta)
        return self._to_prediction(self.calibrated(logits)[0], features)

    def predict_many(self, images: list[Image.Image], batch_size: int = 16, tta: bool | None = None) -> list[Prediction]:
        """Batch prediction; images of different shapes are run one shape-group at a time."""
        prepared = [self.prepare(img) for img in images]
        results: list[Prediction | None] = [None] * len(prepared)
        by_shape: dict[tuple[int, ...], list[int]] = {}
        for i, p in enumerate(prepared):
            by_shape.setdefault(tuple(p.tensor.shape), []).append(i)
        for indices in by_shape.values():
            for start in range(0, len(indices), batch_size):
                chunk = indices[start : start + batch_size]
                logits, features = self.forward(torch.stack([prepared[i].tensor for i in chunk]), tta)
                for row, (i, probs) in enumerate(zip(chunk, self.calibrated(logits))):
                    results[i] = self._to_prediction(probs, features[row : row + 1])
        return results  # type: ignore[return-value]
