"""The Streamlit app, run for real with AppTest: navigation, analysis of a real image, bad uploads."""
import pytest
from streamlit.testing.v1 import AppTest

from tests.support import HAM_DIR, ROOT, image_bytes, png_header_only, requires_ham, requires_model, skin_like

APP = str(ROOT / "dashboard" / "app.py")
TIMEOUT = 300


def _analyze_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def _texts(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "caption", "error", "warning", "info", "title", "subheader")
             for e in getattr(at, kind)]
    parts += [str(m.value) + str(m.label) for m in at.metric]
    return "\n".join(str(p) for p in parts)


@requires_model
def test_analyze_page_starts_with_notice_and_uploader():
    at = _analyze_page()
    assert "Decision support, not a diagnosis" in _texts(at)
    assert len(at.file_uploader) == 1
    assert "Known limits of this model" in [e.label for e in at.expander]


@requires_model
@requires_ham
def test_real_image_shows_probabilities_and_heatmap():
    at = _analyze_page()
    data = (HAM_DIR / "images" / "ISIC_0024306.jpg").read_bytes()
    at.file_uploader[0].upload("ISIC_0024306.jpg", data, "image/jpeg")
    at.run()
    assert not at.exception, at.exception
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    import json

    figure = json.loads(charts[0].proto.spec)
    bars = figure["data"][0]
    assert len(bars["x"]) == 7 and abs(sum(bars["x"]) - 1) < 1e-3
    assert sorted(bars["x"]) == list(bars["x"])  # sorted, highest drawn on top
    captions = [c for image in at.get("image") for c in image.captions]
    assert any(c.startswith("Grad-CAM for") for c in captions), captions
    assert "Suggested class:" in _texts(at)
    assert "Risk tier:" in _texts(at) and "concern" in _texts(at)
    # The opacity slider re-renders without recomputing or failing.
    at.slider[0].set_value(0.8).run()
    assert not at.exception


@requires_model
@pytest.mark.parametrize(
    "name, data, message",
    [
        ("empty.jpg", b"", "empty"),
        ("notes.jpg", b"clinical notes, not an image", "not a recognised image"),
        ("bomb.png", png_header_only(30000, 30000), "decompression bomb"),
        ("tiny.png", image_bytes(skin_like(10, 10), "PNG"), "10×10"),
    ],
)
def test_bad_upload_gets_a_message_and_the_app_recovers(name, data, message):
    at = _analyze_page()
    at.file_uploader[0].upload(name, data, "application/octet-stream")
    at.run()
    assert not at.exception, at.exception
    errors = " ".join(e.value for e in at.error)
    assert name in errors and message in errors
    # The next, valid upload works in the same session.
    at.file_uploader[0].upload("ok.png", image_bytes(skin_like(), "PNG"), "image/png")
    at.run()
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) == 1


def test_model_card_page_renders():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page(str(ROOT / "pages" / "model_card.py"))
    at.run()
    assert not at.exception, at.exception
    assert any("Model card" in m.value or "model card" in m.value.lower() for m in at.markdown)
    glance = [e for e in at.expander if e.label == "For clinicians: at a glance"]
    assert glance and glance[0].proto.expanded  # the summary first, open; every other section folded
    assert any(c.value.startswith("Contents: For clinicians: at a glance · Model details") for c in at.caption)
    assert any("| field | value |" in m.value for m in at.markdown)  # no empty table header


@requires_model
def test_a_non_skin_upload_is_not_offered_as_an_ordinary_case(tmp_path, monkeypatch):
    """Found in the real-browser walk: a non-skin upload still offered 'Save as case' as the primary button."""
    from PIL import Image, ImageDraw

    page = Image.new("RGB", (400, 300), "white")
    draw = ImageDraw.Draw(page)
    for row in range(12):
        draw.text((10, 10 + 22 * row), "Discharge summary: reviewed in clinic today. " * 2, fill="black")
    monkeypatch.setenv("DERMADESK_DATA_DIR", str(tmp_path / "data"))
    at = _analyze_page()
    at.file_uploader[0].upload("letter.png", image_bytes(page, "PNG"), "image/png")
    at.run()
    assert not at.exception, at.exception
    labels = [b.label for b in at.button]
    assert "Save anyway" in labels and "Save as case" not in labels
    assert "unlike a dermoscopy image" in _texts(at)


@requires_model
@requires_ham
def test_leaving_the_analysis_page_keeps_the_image_the_note_and_the_name():
    """Found in the real-browser walk: visiting another page dropped the upload and the note, and a reload
    dropped the clinician's name."""
    data = (HAM_DIR / "images" / "ISIC_0024306.jpg").read_bytes()
    at = _analyze_page()
    at.text_area[0].input("Mole on the back, bigger since spring.")
    at.file_uploader[0].upload("ISIC_0024306.jpg", data, "image/jpeg")
    at.run()
    assert "Suggested class:" in _texts(at)
    at.switch_page(str(ROOT / "pages" / "model_card.py")).run()
    at.switch_page(str(ROOT / "pages" / "analyze.py")).run()
    assert not at.exception, at.exception
    assert any(t.label.startswith("Continue with the last image, ISIC_0024306.jpg") and t.value for t in at.toggle)
    assert "Suggested class:" in _texts(at)
    assert at.text_area[0].value == "Mole on the back, bigger since spring."
    # The name typed in the sidebar goes into the address, so a reload or a link keeps it.
    at.sidebar.text_input[0].input("Dr Keep").run()
    assert at.query_params.get("user") in ("Dr Keep", ["Dr Keep"])


@requires_model
def test_the_name_in_the_address_survives_a_page_that_does_not_ask_for_it():
    """Found in the real-browser walk: reloading the analysis page (no image yet) with ?user= in the address, then
    opening the case queue from the menu, left the name empty: that page never read the address, and the menu
    drops the address's parameters. The app now reads the name for every page and keeps it in the address."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["user"] = "Dr Reload"
    at.run()  # the analysis page, which asks for no name before an upload
    assert not at.exception, at.exception
    assert not [t for t in at.sidebar.text_input if t.label.startswith("Your name")]
    at.query_params.clear()  # what the menu does on a page switch
    at.switch_page(str(ROOT / "pages" / "case_queue.py")).run()
    assert not at.exception, at.exception
    name = [t for t in at.sidebar.text_input if t.label.startswith("Your name")]
    assert len(name) == 1 and name[0].value == "Dr Reload"
    assert at.query_params.get("user") in ("Dr Reload", ["Dr Reload"])
