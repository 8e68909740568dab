"""The image-quality gate: real photos pass, blurred and badly exposed copies are caught, and a saved poor image is
marked in the queue."""
import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageFilter

from core.vision.quality import PROBLEM_TEXT, assess_quality
from tests.support import HAM_DIR, requires_ham


@pytest.fixture(scope="module")
def photo():
    with Image.open(HAM_DIR / "images" / "ISIC_0024310.jpg") as img:
        return img.convert("RGB")


@requires_ham
def test_a_real_photo_passes_and_degraded_copies_are_caught(photo):
    assert assess_quality(photo).ok
    assert assess_quality(photo.filter(ImageFilter.GaussianBlur(3))).codes == ("blurred",)
    assert "dark" in assess_quality(ImageEnhance.Brightness(photo).enhance(0.2)).codes
    assert "bright" in assess_quality(ImageEnhance.Brightness(photo).enhance(2.8)).codes
    assert assess_quality(photo.resize((1364, 1024))).ok  # measured at a fixed size: a large upload is not "sharper"


def test_flat_and_saturated_images_are_named_in_words():
    grey = assess_quality(Image.new("RGB", (300, 200), (128, 128, 128)))
    assert grey.codes == ("blurred",) and grey.problems == (PROBLEM_TEXT["blurred"],)
    white = assess_quality(Image.fromarray(np.full((200, 300, 3), 255, np.uint8)))
    assert "bright" in white.codes


@requires_ham
def test_a_poor_image_saved_as_a_case_is_marked_in_the_queue(case_store, photo):
    from core.cases.store import summaries_table
    from tests.test_cases import sample_case

    blurred = photo.filter(ImageFilter.GaussianBlur(3))
    codes = assess_quality(blurred).codes
    saved = case_store.create_case(sample_case(image=blurred, size=blurred.size, quality_problems=codes,
                                               heatmap=np.zeros((256, 341))), actor="Dr Q")
    (row,) = summaries_table([s for s in case_store.list_cases() if s.id == saved.id])
    assert row["predicted"].endswith("(poor image)") and row["image check"] == "poor image: blurred"
    assert case_store.get_case(saved.id).summary.quality_problems == ("blurred",)
