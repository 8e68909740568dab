"""Out-of-distribution check: is this image like the dermoscopy images the model was trained on?

The classifier always answers with one of its seven classes, even for a photo of a cat or a
document. To catch such inputs we model the network's pooled features of real validation
dermoscopy images as a Gaussian (top principal components plus an isotropic residual) and flag
images whose Mahalanobis-style distance exceeds a quantile of the distances of held-out real images.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

OOD_FILE = "ood.safetensors"


@dataclass(frozen=True)
class FeatureGaussian:
    mean: np.ndarray  # (D,)
    components: np.ndarray  # (k, D), orthonormal rows
    variances: np.ndarray  # (k,)
    residual_variance: float
    threshold: float  # scores above this are out of distribution

    def score(self, features: np.ndarray) -> np.ndarray:
        """Mean squared standardised distance per dimension (about 1 for typical training-like features)."""
        centred = np.atleast_2d(features).astype(np.float64) - self.mean
        projected = centred @ self.components.T
        in_subspace = (projected**2 / self.variances).sum(axis=1)
        residual = (centred**2).sum(axis=1) - (projected**2).sum(axis=1)
        dims = self.mean.shape[0]
        return (in_subspace + residual / self.residual_variance) / dims

    def is_outlier(self, features: np.ndarray) -> np.ndarray:
        return self.score(features) > self.threshold


def fit_feature_gaussian(features: np.ndarray, k: int = 64, quantile: float = 0.995, seed: int = 0) -> FeatureGaussian:
    """Fit on one random half of the features, set the threshold on the other half's scores."""
    features = np.asarray(features, dtype=np.float64)
    order = np.random.default_rng(seed).permutation(len(features))
    fit_part, holdout = features[order[: len(order) // 2]], features[order[len(order) // 2 :]]
    mean = fit_part.mean(axis=0)
    centred = fit_part - mean
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    k = min(k, len(singular) - 1)
    variances = singular[:k] ** 2 / (len(fit_part) - 1) + 1e-6
    total = (centred**2).sum() / (len(fit_part) - 1)
    residual_variance = max((total - variances.sum()) / (features.shape[1] - k), 1e-6)
    model = FeatureGaussian(mean, vt[:k], variances, float(residual_variance), threshold=float("inf"))
    threshold = float(np.quantile(model.score(holdout), quantile))
    return FeatureGaussian(mean, vt[:k], variances, float(residual_variance), threshold)


def save_feature_gaussian(directory: str | Path, model: FeatureGaussian) -> None:
    path = Path(directory) / OOD_FILE
    save_file({"mean": model.mean.astype(np.float32), "components": model.components.astype(np.float32),
               "variances": model.variances.astype(np.float32),
               "scalars": np.array([model.residual_variance, model.threshold], dtype=np.float64)}, str(path))


def load_feature_gaussian(directory: str | Path) -> FeatureGaussian | None:
    path = Path(directory) / OOD_FILE
    if not path.is_file():
        return None
    t = load_file(str(path))
    residual_variance, threshold = (float(v) for v in t["scalars"])
    return FeatureGaussian(t["mean"].astype(np.float64), t["components"].astype(np.float64),
                           t["variances"].astype(np.float64), residual_variance, threshold)
