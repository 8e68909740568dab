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


def resolve_precision(precision: str) -> str:
    if precision == "auto":
        supported = getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
        return "bf16" if supported() else "fp32"
    if precision not in ("fp32", "bf16"):
        raise ValueError(f"inference precision must be auto, fp32 or bf16, not {precision!r}")
    return precision


@dataclass(frozen=True)
class ForwardPass:
    logits: np.ndarray  # (N, classes) uncalibrated, averaged over the TTA views
    features: np.ndarray  # (N, channels) pooled features of the unflipped view (the OOD check reads these)
    activations: torch.Tensor | None = None  # (N, channels, h, w) last feature map of the unflipped view


class Classifier:
    """A trained LesionNet plus the metadata that says how to feed it and read its output."""

    def __init__(self, model: LesionNet, meta: ModelMeta, low_confidence: float = 0.5,
                 ood: FeatureGaussian | None = None, precision: str = "fp32"):
        self.model = model.eval()
        self.meta = meta
        self.low_confidence = low_confidence
        self.ood = ood
        self.precision = resolve_precision(precision)
        if self.precision == "bf16":
            self.model = self.model.to(memory_format=torch.channels_last)
        # The one-pass path runs a copy with batch norms folded in (same outputs, a fifth faster on CPU).
        self._fast = self.model.for_inference()
        self.fusion = MetadataFusion.from_json(meta.fusion) if meta.fusion else None
        self.rule = DecisionRule(tuple(meta.decision_weights)) if meta.decision_weights else None

    @classmethod
    def load(cls, directory: str | Path, *, low_confidence: float = 0.5, precision: str = "fp32") -> "Classifier":
        """The checkpoint in `directory` (raises `CheckpointError` when there is none). `precision`:
        "fp32", "bf16" (autocast; outputs checked against fp32 by the tests) or "auto" (bf16 where the CPU
        has native bf16 instructions, else fp32)."""
        model, meta = load_checkpoint(directory)
        return cls(model, meta, low_confidence, load_feature_gaussian(directory), precision)

    @property
    def classes(self) -> list[str]:
        return list(self.meta.classes)

    def prepare(self, image: Image.Image) -> Prepared:
        m = self.meta
        return prepare(image, m.input_size, m.max_aspect, m.mean, m.std)

    @torch.inference_mode()
    def run(self, batch: torch.Tensor, tta: bool | None = None, keep_activations: bool = False) -> ForwardPass:
        """One forward pass over `batch` (N, 3, H, W) with its flipped views in the same batch: logits
        averaged over the views, pooled features and (when asked) the last feature map of the unflipped view,
        from which any class's activation map follows without a backward pass."""
        tta = self.meta.tta if tta is None else tta
        n = len(batch)
        views = torch.cat(tta_views(batch)) if tta else batch
        if self.precision == "bf16":
            views = views.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            maps = self._fast.features(views)
        # The convolutions run in bf16; pooling and the linear head in fp32, where rounding would be
        # magnified by the calibration temperature.
        maps = maps.float()
        pooled = self.model.pool(maps).flatten(1)
        logits = self.model.fc(pooled)
        logits = logits.reshape(-1, n, logits.shape[-1]).mean(0)
        return ForwardPass(logits.numpy(), pooled[:n].numpy(), maps[:n] if keep_activations else None)

    def forward(self, batch: torch.Tensor, tta: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(uncalibrated logits averaged over flips when TTA is on, pooled features of the unflipped view)."""
        out = self.run(batch, tta)
        return out.logits, out.features

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
        return self.predict_pass(self.run(prepared.tensor.unsqueeze(0), tta), details)[0]

    def predict_pass(self, out: ForwardPass, details: PatientDetails | None = None,
                     per_image: Sequence[PatientDetails | None] | None = None) -> list[Prediction]:
        """One Prediction per image of a forward pass (`per_image` details, else `details` for all)."""
        given = list(per_image) if per_image is not None else [details] * len(out.logits)
        probs = self.calibrated(out.logits, [d or PatientDetails() for d in given])
        return [self._to_prediction(probs[i], out.features[i:i + 1], given[i]) for i in range(len(probs))]
