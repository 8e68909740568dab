"""The CAM methods DermaDesk offers: registry keys, display labels and costs.

Pure data (no grad-cam or torch import), so the case store, the reports and `--help` can read labels
cheaply. Adding a method is one line here; `core.explain.cams` computes them.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CamMethod:
    name: str  # registry key, stored with saved cases
    label: str  # what users see
    library_class: str  # the pytorch_grad_cam class that computes it
    batch_size: int | None = None  # for perturbation methods that run many forward passes
    # True when the map needs only one forward pass's activations (and gradients) at the target layer.
    shares_pass: bool = False
    uses_gradients: bool = True
    # Seconds per map on the 2-core reference CPU (`benchmarks/bench_explain.py`), shown before a slow map starts.
    typical_seconds: float | None = None

    @property
    def slow(self) -> bool:
        """Runs one forward pass per feature channel (hundreds) for each map."""
        return self.batch_size is not None


CAM_METHODS: dict[str, CamMethod] = {
    m.name: m
    for m in (
        CamMethod("gradcam", "Grad-CAM", "GradCAM", shares_pass=True),
        CamMethod("gradcam++", "Grad-CAM++", "GradCAMPlusPlus", shares_pass=True),
        CamMethod("hirescam", "HiResCAM", "HiResCAM", shares_pass=True),
        CamMethod("xgradcam", "XGrad-CAM", "XGradCAM", shares_pass=True),
        CamMethod("layercam", "LayerCAM", "LayerCAM", shares_pass=True),
        CamMethod("eigencam", "EigenCAM", "EigenCAM", shares_pass=True, uses_gradients=False),
        CamMethod("scorecam", "Score-CAM", "ScoreCAM", batch_size=64, uses_gradients=False, typical_seconds=60),
        CamMethod("ablationcam", "Ablation-CAM", "AblationCAM", batch_size=64, uses_gradients=False,
                  typical_seconds=90),
    )
}
# For a network that ends in global average pooling and one linear layer, as LesionNet does, these methods'
# maps equal the class activation map relu(W[c] . A) of the forward pass itself (Zhou et al., CVPR 2016):
# the gradient of a class score with respect to A is W[c] / (h w) at every position. So they need no
# backward pass, and the maps of every class come from the one pass that also gives the prediction.
CAM_EQUIVALENT = frozenset({"gradcam", "hirescam", "xgradcam"})
DEFAULT_METHOD = "gradcam"  # fast, and the method the localisation and faithfulness figures are reported for


def method_label(name: str | None) -> str:
    """The display label of a registry key ("gradcam" -> "Grad-CAM"); any other text is returned as it is."""
    if not name:
        return "Heatmap"
    method = CAM_METHODS.get(name)
    return method.label if method else name
