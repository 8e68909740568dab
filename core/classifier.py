"""Inference: calibrated class probabilities for one image or many, with flip test-time augmentation."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .config import CLASS_NAMES, MALIGNANT, Settings
from .metrics import softmax
from .model import LesionNet, ModelMeta, load_checkpoint
from .transforms import Prepared, prepare, tta_views


@dataclass(frozen=True)
class Prediction:
    probabilities: dict[str, float]  # calibrated, in the model's class order, summing to 1
    predicted: str
    confidence: float
    low_confidence: bool
    model_version: str

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

    def __init__(self, model: LesionNet, meta: ModelMeta, low_confidence: float = 0.5):
        self.model = model.eval()
        self.meta = meta
        self.low_confidence = low_confidence

    @classmethod
    def load(cls, directory: str | Path | None = None, settings: Settings | None = None) -> "Classifier":
        settings = settings or Settings.from_env()
        if settings.torch_threads:
            torch.set_num_threads(settings.torch_threads)
        model, meta = load_checkpoint(directory or settings.model_dir)
        return cls(model, meta, settings.low_confidence)

    @property
    def classes(self) -> list[str]:
        return list(self.meta.classes)

    def prepare(self, image: Image.Image) -> Prepared:
        m = self.meta
        return prepare(image, m.input_size, m.max_aspect, m.mean, m.std)

    @torch.no_grad()
    def logits(self, batch: torch.Tensor, tta: bool | None = None) -> np.ndarray:
        """Uncalibrated logits for a (N, 3, H, W) batch, averaged over flips when TTA is on."""
        tta = self.meta.tta if tta is None else tta
        views = tta_views(batch) if tta else [batch]
        return torch.stack([self.model(v) for v in views]).mean(0).numpy()

    def calibrated(self, logits: np.ndarray) -> np.ndarray:
        return softmax(logits, self.meta.temperature)

    def _to_prediction(self, probs: np.ndarray) -> Prediction:
        top = int(np.argmax(probs))
        confidence = float(probs[top])
        return Prediction(
            probabilities={c: float(p) for c, p in zip(self.classes, probs)},
            predicted=self.classes[top],
            confidence=confidence,
            low_confidence=confidence < self.low_confidence,
            model_version=self.meta.version,
        )

    def predict(self, image: Image.Image, tta: bool | None = None) -> Prediction:
        return self.predict_prepared(self.prepare(image), tta)

    def predict_prepared(self, prepared: Prepared, tta: bool | None = None) -> Prediction:
        probs = self.calibrated(self.logits(prepared.tensor.unsqueeze(0), tta))[0]
        return self._to_prediction(probs)

    def predict_many(self, images: list[Image.Image], batch_size: int = 16, tta: bool | None = None) -> list[Prediction]:
        """Batch prediction; images of different shapes are run one shape-group at a time."""
        prepared = [self.prepare(img) for img in images]
        probs: list[np.ndarray | None] = [None] * len(prepared)
        by_shape: dict[tuple[int, ...], list[int]] = {}
        for i, p in enumerate(prepared):
            by_shape.setdefault(tuple(p.tensor.shape), []).append(i)
        for indices in by_shape.values():
            for start in range(0, len(indices), batch_size):
                chunk = indices[start : start + batch_size]
                batch = torch.stack([prepared[i].tensor for i in chunk])
                for i, row in zip(chunk, self.calibrated(self.logits(batch, tta))):
                    probs[i] = row
        return [self._to_prediction(p) for p in probs]  # type: ignore[arg-type]
