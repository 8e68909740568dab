"""Class activation maps over pytorch-grad-cam: a registry of methods, any target class, and
heatmaps returned on the original image's pixel grid."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from pytorch_grad_cam import (
    AblationCAM,
    EigenCAM,
    GradCAM,
    GradCAMPlusPlus,
    HiResCAM,
    LayerCAM,
    ScoreCAM,
    XGradCAM,
)
from pytorch_grad_cam.base_cam import BaseCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

from .classifier import Classifier
from .transforms import Prepared, heatmap_to_original


@dataclass(frozen=True)
class CamMethod:
    name: str
    label: str
    cam_class: type[BaseCAM]
    batch_size: int | None = None  # for perturbation methods that run many forward passes


# Adding a method is one line.
CAM_METHODS: dict[str, CamMethod] = {
    m.name: m
    for m in (
        CamMethod("gradcam", "Grad-CAM", GradCAM),
        CamMethod("gradcam++", "Grad-CAM++", GradCAMPlusPlus),
        CamMethod("hirescam", "HiResCAM", HiResCAM),
        CamMethod("xgradcam", "XGrad-CAM", XGradCAM),
        CamMethod("layercam", "LayerCAM", LayerCAM),
        CamMethod("eigencam", "EigenCAM", EigenCAM),
        CamMethod("scorecam", "Score-CAM", ScoreCAM, batch_size=64),
        CamMethod("ablationcam", "Ablation-CAM", AblationCAM, batch_size=64),
    )
}


@dataclass(frozen=True)
class Explanation:
    heatmap: np.ndarray  # float32 (H, W) in [0, 1] on the original image grid
    method: str
    target: str


def explain_prepared(
    classifier: Classifier, prepared: Prepared, method: str = "gradcam", target: str | None = None
) -> Explanation:
    """Heatmap of `target` (a class name; default the top class without TTA) for a prepared image."""
    if method not in CAM_METHODS:
        raise ValueError(f"unknown CAM method {method!r}; choose from {', '.join(CAM_METHODS)}")
    spec = CAM_METHODS[method]
    batch = prepared.tensor.unsqueeze(0)
    if target is None:
        target = classifier.classes[int(np.argmax(classifier.logits(batch, tta=False)[0]))]
    if target not in classifier.classes:
        raise ValueError(f"unknown target class {target!r}; choose from {', '.join(classifier.classes)}")
    # The context manager releases the forward/backward hooks (they leak memory otherwise).
    with spec.cam_class(model=classifier.model, target_layers=[classifier.model.act]) as cam:
        if spec.batch_size:
            cam.batch_size = spec.batch_size
        grid = cam(input_tensor=batch, targets=[ClassifierOutputTarget(classifier.classes.index(target))])[0]
    return Explanation(heatmap=heatmap_to_original(grid, prepared), method=method, target=target)


def explain(classifier: Classifier, image: Image.Image, method: str = "gradcam", target: str | None = None) -> Explanation:
    return explain_prepared(classifier, classifier.prepare(image), method, target)
