"""Grad-CAM through the registry: shapes and ranges for every method, and tests that fail when the
target layer, the target class or the up-sampling is wrong."""
import numpy as np
import pytest
from PIL import Image, ImageOps

from core.classifier import Classifier
from core.data import lesion_split, mask_path, read_metadata, image_path
from core.explain import CAM_METHODS, explain
from core.imaging import load_image
from tests.support import HAM_DIR, MODEL_DIR, requires_ham, requires_model, skin_like

pytestmark = requires_model


@pytest.fixture(scope="module")
def classifier():
    return Classifier.load(MODEL_DIR)


@pytest.mark.parametrize("method", sorted(set(CAM_METHODS) - {"scorecam", "ablationcam"}))
def test_every_fast_method_returns_an_image_sized_map(classifier, method):
    image = skin_like(300, 200)
    result = explain(classifier, image, method, target="mel")
    assert result.heatmap.shape == (200, 300)
    assert result.heatmap.dtype == np.float32
    assert 0.0 <= result.heatmap.min() and result.heatmap.max() <= 1.0


def test_unknown_method_and_target_are_refused(classifier):
    with pytest.raises(ValueError, match="unknown CAM method"):
        explain(classifier, skin_like(), "magic")
    with pytest.raises(ValueError, match="unknown target"):
        explain(classifier, skin_like(), "gradcam", target="psoriasis")


@requires_ham
def test_heatmap_follows_a_flip_of_the_image(classifier):
    """A mis-registered up-sampling or crop mapping would break this symmetry."""
    records = read_metadata(HAM_DIR)[:3]
    for rec in records:
        image = load_image(image_path(HAM_DIR, rec.image_id)).image
        target = classifier.predict(image).predicted
        plain = explain(classifier, image, "gradcam", target).heatmap
        flipped = explain(classifier, ImageOps.mirror(image), "gradcam", target).heatmap
        assert np.corrcoef(plain.ravel(), flipped[:, ::-1].ravel())[0, 1] > 0.8


@requires_ham
def test_heatmap_energy_falls_on_the_lesion_more_than_uniform(classifier):
    """With the real checkpoint, the heatmap of the true class concentrates inside the lesion mask.
    A wrong target layer, class or up-sampling brings this down to the uniform baseline."""
    records = read_metadata(HAM_DIR)
    _, val = lesion_split(records)
    picked = [r for r in val if r.dx != "nv"][:8] + [r for r in val if r.dx == "nv"][:4]
    inside, uniform = [], []
    for rec in picked:
        image = load_image(image_path(HAM_DIR, rec.image_id)).image
        mask = np.asarray(Image.open(mask_path(HAM_DIR, rec.image_id))) > 127
        if mask.all() or not mask.any():
            continue
        heat = explain(classifier, image, "gradcam", rec.dx).heatmap
        inside.append(heat[mask].sum() / max(heat.sum(), 1e-9))
        uniform.append(mask.mean())
    assert len(inside) >= 8
    assert np.mean(inside) > np.mean(uniform) + 0.1
