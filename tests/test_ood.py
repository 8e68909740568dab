"""The not-a-dermoscopy-image check with the shipped checkpoint: real lesions pass, non-skin inputs are flagged."""
import numpy as np
import pytest
from PIL import Image, ImageDraw

from core.vision.classifier import Classifier
from core.vision.data import image_path, lesion_split, read_metadata
from core.vision.imaging import load_image
from core.vision.ood import fit_feature_gaussian
from tests.support import HAM_DIR, MODEL_DIR, requires_ham, requires_model


@pytest.fixture(scope="module")
def classifier():
    return Classifier.load(MODEL_DIR)


def _text_page() -> Image.Image:
    page = Image.new("RGB", (400, 300), "white")
    draw = ImageDraw.Draw(page)
    for row in range(12):
        draw.text((10, 10 + 22 * row), "Discharge summary: reviewed in clinic today. " * 2, fill="black")
    return page


@requires_model
@pytest.mark.parametrize("name, image", [
    ("blank", Image.new("RGB", (300, 200), "white")),
    ("noise", Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 300, 3), dtype=np.uint8))),
    ("text", _text_page()),
    ("gradient", Image.fromarray(np.tile(np.linspace(0, 255, 400, dtype=np.uint8), (300, 1))).convert("RGB")),
])
def test_non_skin_inputs_are_flagged(classifier, name, image):
    assert classifier.ood is not None
    prediction = classifier.predict(image, tta=False)
    assert prediction.out_of_distribution, (name, prediction.ood_score, classifier.ood.threshold)


@requires_model
@requires_ham
def test_real_validation_lesions_pass(classifier):
    _, val = lesion_split(read_metadata(HAM_DIR))
    picked = val[::200][:8]
    flagged = [r.image_id for r in picked
               if classifier.predict(load_image(image_path(HAM_DIR, r.image_id)).image, tta=False).out_of_distribution]
    assert len(flagged) <= 1, flagged


def test_threshold_is_a_held_out_quantile():
    rng = np.random.default_rng(1)
    features = rng.normal(0, 1, (2000, 32))
    model = fit_feature_gaussian(features, k=8, quantile=0.99)
    fresh = rng.normal(0, 1, (4000, 32))
    assert 0.003 < model.is_outlier(fresh).mean() < 0.03
    assert model.is_outlier(fresh * 4).all()
