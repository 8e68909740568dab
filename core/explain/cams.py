"""Class activation maps over pytorch-grad-cam for any registered method (`core.explain.methods`) and
any target class, returned on the original image's pixel grid.

Six methods (Grad-CAM, Grad-CAM++, XGrad-CAM, HiResCAM, LayerCAM, EigenCAM) are functions of the
target layer's activations and of the gradient of one class score with respect to them. For those,
`explain_many` runs the model once, takes one gradient per target class (back-propagated only as far
as the target layer), and hands these to each library CAM object, whose own code then weights,
rectifies, rescales and upsamples them exactly as its `cam(...)` call would (tests check equality;
`core.explain.library` holds that use of the library's internals).
Score-CAM, Ablation-CAM and anything with `aug_smooth` run through the library call itself.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from PIL import Image

from core.explain.methods import CAM_EQUIVALENT, CAM_METHODS, DEFAULT_METHOD, CamMethod
from core.vision.classifier import Classifier
from core.vision.transforms import Prepared, heatmap_to_original


@dataclass(frozen=True)
class Explanation:
    heatmap: np.ndarray  # float32 (H, W) in [0, 1] on the original image grid
    method: str
    target: str
    # float32 (h, w) in [0, 1] on the model's input grid, as the library returned it: what the
    # faithfulness metrics perturb the input tensor with.
    model_grid: np.ndarray | None = None
    # Compute time of this map alone: the shared forward pass (and its class's gradient) plus its own work.
    seconds: float = 0.0

    @property
    def label(self) -> str:
        return CAM_METHODS[self.method].label


def target_layer(classifier: Classifier) -> torch.nn.Module:
    """The last convolutional feature map (after its activation): the layer every CAM here reads."""
    return classifier.model.act


def _check_methods(methods: Sequence[str]) -> None:
    unknown = [m for m in methods if m not in CAM_METHODS]
    if unknown:
        raise ValueError(f"unknown CAM method {unknown[0]!r}; choose from {', '.join(CAM_METHODS)}")
    if not methods:
        raise ValueError("no CAM method given")


def _check_targets(classifier: Classifier, targets: Sequence[str | None]) -> None:
    for target in targets:
        if target is not None and target not in classifier.classes:
            raise ValueError(f"unknown target class {target!r}; choose from {', '.join(classifier.classes)}")


class _SharedPass:
    """One forward pass with the target layer's output kept in the graph; gradients of any class
    score with respect to it are taken on demand (and cached), each reaching back only to that layer."""

    def __init__(self, model: torch.nn.Module, layer: torch.nn.Module, batch: torch.Tensor):
        captured: list[torch.Tensor] = []
        handle = layer.register_forward_hook(lambda module, inputs, output: captured.append(output))
        try:
            start = time.perf_counter()
            with torch.enable_grad():
                self.logits = model(batch)
            self.forward_seconds = time.perf_counter() - start
        finally:
            handle.remove()
        self._activations = captured[-1]
        self.activations = self._activations.detach()
        self._gradients: dict[int, tuple[torch.Tensor, float]] = {}

    def top_class(self) -> int:
        return int(self.logits[0].argmax())

    def gradient(self, class_index: int) -> tuple[torch.Tensor, float]:
        """(d logit[class] / d activations, seconds it took)."""
        if class_index not in self._gradients:
            start = time.perf_counter()
            (grad,) = torch.autograd.grad(self.logits[0, class_index], self._activations, retain_graph=True)
            self._gradients[class_index] = (grad.detach(), time.perf_counter() - start)
        return self._gradients[class_index]


def _map_from_pass(spec: CamMethod, model: torch.nn.Module, layer: torch.nn.Module, batch: torch.Tensor,
                   shared: _SharedPass, class_index: int, eigen_smooth: bool) -> tuple[np.ndarray, float]:
    """The library's map for `spec`, computed from the shared pass; (model-grid map, seconds incl. the pass)."""
    seconds = shared.forward_seconds
    gradients: list[torch.Tensor] = []
    if spec.uses_gradients:
        grad, grad_seconds = shared.gradient(class_index)
        gradients, seconds = [grad], seconds + grad_seconds
    start = time.perf_counter()
    from core.explain import library

    grid = library.map_from_recording(spec, model, layer, batch, shared.activations, gradients, class_index,
                                      eigen_smooth=eigen_smooth)
    return grid, seconds + time.perf_counter() - start


def _map_from_library(spec: CamMethod, model: torch.nn.Module, layer: torch.nn.Module, batch: torch.Tensor,
                      class_index: int, aug_smooth: bool, eigen_smooth: bool) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    from core.explain import library

    grid = library.map_from_library(spec, model, layer, batch, class_index, aug_smooth=aug_smooth,
                                    eigen_smooth=eigen_smooth)
    return grid, time.perf_counter() - start


def explain_many(
    classifier: Classifier,
    prepared: Prepared,
    methods: Sequence[str],
    targets: Sequence[str | None] = (None,),
    *,
    aug_smooth: bool = False,
    eigen_smooth: bool = False,
) -> list[Explanation]:
    """One heatmap per (method, target), methods in the outer loop. A target of None means the top
    class of the un-augmented forward pass. Methods that can share one forward pass do."""
    _check_methods(methods)
    _check_targets(classifier, targets)
    model, layer = classifier.model, target_layer(classifier)
    batch = prepared.tensor.unsqueeze(0)
    # aug_smooth averages over augmented inputs, each needing its own pass: the library does that.
    from core.explain import library

    sharing = [m for m in methods if CAM_METHODS[m].shares_pass and not aug_smooth and library.RECORDING_SUPPORTED]
    shared = _SharedPass(model, layer, batch) if sharing else None
    if None in targets:
        top = shared.top_class() if shared else int(np.argmax(classifier.logits(batch, tta=False)[0]))
    names = [classifier.classes[top] if t is None else t for t in targets]
    results = []
    for method in methods:
        spec = CAM_METHODS[method]
        for name in names:
            index = classifier.classes.index(name)
            if method in sharing:
                grid, seconds = _map_from_pass(spec, model, layer, batch, shared, index, eigen_smooth)
            else:
                grid, seconds = _map_from_library(spec, model, layer, batch, index, aug_smooth, eigen_smooth)
            grid = np.clip(grid.astype(np.float32), 0.0, 1.0)
            results.append(Explanation(heatmap=heatmap_to_original(grid, prepared), method=method, target=name,
                                       model_grid=grid, seconds=seconds))
    return results


def _scale_like_library(cam: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """pytorch-grad-cam's `scale_cam_image` for one 2-D map: min-max to [0, 1], then cv2.resize to (w, h).
    Restated here so that the one-pass path does not import the library (over 2 s of start-up, most of it
    scikit-learn and matplotlib pulled in by its utils); `tests/test_one_pass.py` checks the maps stay equal."""
    import cv2

    cam = cam - np.min(cam)
    cam = cam / (1e-7 + np.max(cam))
    if size is not None:
        cam = cv2.resize(np.float32(cam), size)
    return np.float32(cam)


def maps_from_pass(classifier: Classifier, prepared: Prepared, activations: torch.Tensor, method: str,
                   targets: Sequence[str]) -> list[Explanation]:
    """Heatmaps of `targets` from the last feature map `activations` (1, channels, h, w) of a forward pass,
    scaled and resized exactly as pytorch-grad-cam does (`scale_cam_image`); equal to the library's maps
    for the methods in CAM_EQUIVALENT (a test checks it)."""
    if method not in CAM_EQUIVALENT:
        raise ValueError(f"{method!r} needs gradients or perturbations; use explain_many")
    _check_targets(classifier, targets)
    weights = classifier.model.fc.weight.detach().float()
    maps = activations[0].float()
    size = (prepared.tensor.shape[-1], prepared.tensor.shape[-2])
    out = []
    for name in targets:
        start = time.perf_counter()
        cam = torch.relu(torch.einsum("d,dhw->hw", weights[classifier.classes.index(name)], maps)
                         / (maps.shape[-1] * maps.shape[-2])).numpy()
        grid = _scale_like_library(np.maximum(_scale_like_library(cam, size), 0))
        grid = np.clip(grid.astype(np.float32), 0.0, 1.0)
        out.append(Explanation(heatmap=heatmap_to_original(grid, prepared), method=method, target=name,
                               model_grid=grid, seconds=time.perf_counter() - start))
    return out


def explain_prepared(
    classifier: Classifier,
    prepared: Prepared,
    method: str = DEFAULT_METHOD,
    target: str | None = None,
    *,
    aug_smooth: bool = False,
    eigen_smooth: bool = False,
) -> Explanation:
    """Heatmap of `target` (a class name; default the top class without TTA) for a prepared image."""
    return explain_many(classifier, prepared, [method], [target], aug_smooth=aug_smooth, eigen_smooth=eigen_smooth)[0]


def explain(classifier: Classifier, image: Image.Image, method: str = DEFAULT_METHOD, target: str | None = None,
            *, aug_smooth: bool = False, eigen_smooth: bool = False) -> Explanation:
    return explain_prepared(classifier, classifier.prepare(image), method, target,
                            aug_smooth=aug_smooth, eigen_smooth=eigen_smooth)
