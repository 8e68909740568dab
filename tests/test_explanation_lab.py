"""The Explanation lab page, run for real with AppTest inside the app's navigation."""
import pytest
from streamlit.testing.v1 import AppTest

from tests.support import HAM_DIR, ROOT, image_bytes, requires_ham, requires_model, skin_like

APP = str(ROOT / "dashboard" / "app.py")
LAB = str(ROOT / "pages" / "explanation_lab.py")

pytestmark = requires_model


def _lab() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page(LAB)
    at.run()
    assert not at.exception, at.exception
    return at


def _captions(at: AppTest) -> list[str]:
    return [c for image in at.get("image") for c in image.captions]


def _texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "caption", "error", "warning", "info") for e in getattr(at, kind))


def test_lab_opens_with_explainer_and_source_choice():
    at = _lab()
    assert at.title[0].value == "Explanation lab"
    assert "What a CAM does and does not tell you" in [e.label for e in at.expander]
    assert "centre prior" in _texts(at) and "does not show" in _texts(at)
    # The knowledge-base article is one toggle away.
    article = [t for t in at.toggle if "knowledge-base article" in t.label]
    assert article
    article[0].set_value(True).run()
    assert "Grad-CAM (gradient-weighted class activation mapping)" in _texts(at)
    assert at.radio[0].options == ["Upload an image", "HAM10000 folder"]
    assert len(at.file_uploader) == 1


def test_upload_shows_a_grid_with_faithfulness_and_a_download():
    at = _lab()
    at.file_uploader[0].upload("lesion.png", image_bytes(skin_like(), "PNG"), "image/png")
    at.run()
    assert not at.exception, at.exception
    captions = _captions(at)
    for label in ("Grad-CAM ·", "Grad-CAM++ ·", "EigenCAM ·"):
        assert any(c.startswith(label) for c in captions), captions
    assert "Removing the most relevant 20\u00a0%" in _texts(at)
    assert "ROAD" in _texts(at)
    downloads = at.get("download_button")
    assert len(downloads) == 1 and "Download figure" in downloads[0].proto.label

    # Another method and two classes: one overlay per (method, class); the opacity slider re-renders.
    at.multiselect[0].set_value(["layercam"])
    at.multiselect[1].set_value(list(at.multiselect[1].options[:2]))
    at.slider[0].set_value(0.8)
    at.checkbox[0].uncheck()  # no faithfulness: fast
    at.run()
    assert not at.exception, at.exception
    overlays = [c for c in _captions(at) if "·" in c]
    assert len(overlays) == 2 and all(c.startswith("LayerCAM ·") for c in overlays), overlays


def test_no_method_chosen_gets_a_hint():
    at = _lab()
    at.file_uploader[0].upload("lesion.png", image_bytes(skin_like(), "PNG"), "image/png")
    at.run()
    at.multiselect[0].set_value([])
    at.run()
    assert not at.exception, at.exception
    assert any("at least one method" in i.value for i in at.info)


@pytest.mark.parametrize("name, data, message", [("empty.jpg", b"", "empty"),
                                                 ("notes.jpg", b"not an image", "not a recognised image")])
def test_bad_upload_gets_a_message(name, data, message):
    at = _lab()
    at.file_uploader[0].upload(name, data, "application/octet-stream")
    at.run()
    assert not at.exception, at.exception
    errors = " ".join(e.value for e in at.error)
    assert name in errors and message in errors


@requires_ham
def test_ham_folder_shows_ground_truth_and_mask(monkeypatch):
    monkeypatch.setenv("DERMADESK_HAM10000_DIR", str(HAM_DIR))
    at = _lab()
    at.radio[0].set_value("HAM10000 folder").run()
    assert not at.exception, at.exception
    at.selectbox[0].set_value("mel")
    at.multiselect[0].set_value(["gradcam"])
    at.run()
    assert not at.exception, at.exception
    text = _texts(at)
    assert "ground truth: **mel**" in text and "validation split" in text
    assert "green line is the hand-drawn mask" in text
    assert any(c.startswith("Grad-CAM ·") for c in _captions(at))
    # Each heatmap is scored against the mask, beside the centre prior on the same image.
    scores = [c.value for c in at.caption if c.value.startswith("**On the lesion** (hand-drawn mask):")]
    assert len(scores) == len(at.multiselect[1].value) and "centre prior" in scores[0] and "the lesion." in scores[0], scores

    # The segmentation model's outline instead: the same scores against the predicted outline.
    at.radio[1].set_value("segmentation model's outline").run()
    assert not at.exception, at.exception
    scores = [c.value for c in at.caption if c.value.startswith("**On the lesion** (segmentation model's outline):")]
    assert len(scores) == len(at.multiselect[1].value), _captions(at)
    assert "green line is the segmentation model's outline" in _texts(at)


def test_missing_ham_folder_is_explained(monkeypatch, tmp_path):
    monkeypatch.setenv("DERMADESK_HAM10000_DIR", str(tmp_path))
    at = _lab()
    at.radio[0].set_value("HAM10000 folder").run()
    assert not at.exception, at.exception
    assert any("cannot be used" in e.value and "metadata.csv" in e.value for e in at.error)


def test_analysis_page_has_a_method_selector_and_top_three_heatmaps():
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.file_uploader[0].upload("lesion.png", image_bytes(skin_like(), "PNG"), "image/png")
    at.run()
    assert not at.exception, at.exception
    per_class = [c for c in _captions(at) if c.startswith("Grad-CAM: ")]
    assert len(per_class) == 3, _captions(at)
    method = next(s for s in at.selectbox if s.label == "Heatmap method")
    method.set_value("eigencam").run()
    assert not at.exception, at.exception
    captions = _captions(at)
    assert any(c.startswith("EigenCAM for ") for c in captions), captions
    assert len([c for c in captions if c.startswith("EigenCAM: ")]) == 3


@requires_ham
def test_a_misclassified_case_is_flagged_and_both_classes_are_shown(monkeypatch):
    """Found in the real-browser walk: true mel, predicted vasc 42 %, and nothing said so."""
    monkeypatch.setenv("DERMADESK_HAM10000_DIR", str(HAM_DIR))
    at = _lab()
    at.radio[0].set_value("HAM10000 folder").run()
    at.selectbox[0].set_value("mel")
    at.multiselect[0].set_value(["gradcam"])
    at.run()
    for number in range(1, 25):  # the first validation melanoma the model gets wrong
        at.number_input[0].set_value(number).run()
        assert not at.exception, at.exception
        wrong = [w.value for w in at.warning if "The model is wrong on this image" in w.value]
        if wrong:
            break
    assert wrong, "no misclassified melanoma among the first 24 validation images"
    assert "the ground truth is mel" in wrong[0]
    assert "mel" in at.multiselect[1].value and len(at.multiselect[1].value) == 2



def test_a_slow_method_waits_for_a_click_and_says_how_long_it_takes():
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.file_uploader[0].upload("lesion.png", image_bytes(skin_like(), "PNG"), "image/png")
    at.run()
    next(s for s in at.selectbox if s.label == "Heatmap method").set_value("scorecam").run()
    assert not at.exception, at.exception
    notices = [i.value for i in at.info if "Score-CAM runs the model once per feature channel" in i.value]
    assert notices and "about 60 s" in notices[0]
    assert any(c.startswith("Grad-CAM for ") for c in _captions(at))  # shown meanwhile, nothing slow started
    assert any(b.label.startswith("Compute Score-CAM for ") for b in at.button)


def test_the_lab_shows_fast_maps_at_once_and_slow_ones_only_on_request():
    at = _lab()
    at.file_uploader[0].upload("lesion.png", image_bytes(skin_like(), "PNG"), "image/png")
    at.run()
    at.multiselect[0].set_value(["gradcam", "scorecam"])
    at.checkbox[0].uncheck()
    at.run()
    assert not at.exception, at.exception
    assert any("Score-CAM run the model once per feature channel" in w.value and "about 60 s" in w.value
               for w in at.warning)
    overlays = [c for c in _captions(at) if "·" in c]
    assert overlays and all(c.startswith("Grad-CAM ·") for c in overlays), overlays
    assert any(b.label.startswith("Compute Score-CAM") for b in at.button)
