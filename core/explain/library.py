"""The one adapter between DermaDesk and pytorch-grad-cam's internals.

`explain_many` computes several maps from ONE forward pass: it records the target layer's activations
and per-class gradients itself, then lets the library's own per-layer and aggregation steps turn them
into maps (so the maths stays the library's). Those steps (`activations_and_grads`,
`compute_cam_per_layer`, `aggregate_multi_layers`) are not documented API, so they are used only for
the versions checked below; on any other version `maps_from_recording` is unavailable and the callers
fall back to the documented `cam(input_tensor, targets)` call (slower, same maps).
"""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import numpy as np
import pytorch_grad_cam
import torch
from pytorch_grad_cam.base_cam import BaseCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

from core.explain.methods import CamMethod

CHECKED_VERSIONS = ("1.5.",)  # the test suite checks shared-pass maps equal the library call on these


def _installed() -> str:
    try:
        return version("grad-cam")
    except PackageNotFoundError:
        return "unknown"


GRAD_CAM_VERSION = _installed()
RECORDING_SUPPORTED = GRAD_CAM_VERSION.startswith(CHECKED_VERSIONS)


def cam_class(method: CamMethod) -> type[BaseCAM]:
    return getattr(pytorch_grad_cam, method.library_class)


def map_from_library(method: CamMethod, model: torch.nn.Module, layer: torch.nn.Module, batch: torch.Tensor,
                     class_index: int, *, aug_smooth: bool = False, eigen_smooth: bool = False) -> np.ndarray:
    """The documented call: the library runs the model (and backward pass) itself."""
    # The context manager releases the forward/backward hooks (they leak memory otherwise).
    with cam_class(method)(model=model, target_layers=[layer]) as cam:
        if method.batch_size:
            cam.batch_size = method.batch_size
        return cam(input_tensor=batch, targets=[ClassifierOutputTarget(class_index)],
                   aug_smooth=aug_smooth, eigen_smooth=eigen_smooth)[0]


def map_from_recording(method: CamMethod, model: torch.nn.Module, layer: torch.nn.Module, batch: torch.Tensor,
                       activations: torch.Tensor, gradients: list[torch.Tensor], class_index: int,
                       *, eigen_smooth: bool = False) -> np.ndarray:
    """The library's map for recorded activations (and gradients) of `layer`, without re-running the model."""
    if not RECORDING_SUPPORTED:
        raise RuntimeError(f"grad-cam {GRAD_CAM_VERSION} is not a version whose internals were checked "
                           f"({', '.join(CHECKED_VERSIONS)}x); use map_from_library")
    with cam_class(method)(model=model, target_layers=[layer]) as cam:
        cam.activations_and_grads.activations = [activations]
        cam.activations_and_grads.gradients = gradients
        targets = [ClassifierOutputTarget(class_index)]
        return cam.aggregate_multi_layers(cam.compute_cam_per_layer(batch, targets, eigen_smooth))[0]
