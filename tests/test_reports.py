"""PDF reports built from a real saved case, opened again with pypdf and checked for their content."""
from __future__ import annotations

import io
import re

import numpy as np
import pytest
from pypdf import PdfReader

from core.cases import Verdict
from core.triage.checklist import ChecklistAnswers, checklist_finding, score_checklist
from core.explain.figures import dejavu_fonts
from core.reports import ReportError, clinician_report, patient_summary, to_latin1
from core.triage import assess, combine
from tests.support import HAM_DIR, SEGMENTER_DIR, requires_ham, requires_segmenter
from tests.test_cases import make_prediction, sample_case

NOTE = "Changing mole on the back, irregular border and several colours, now 9 mm. Patient: Müller ≥ 60 y."


@pytest.fixture
def store(case_store):
    return case_store


@pytest.fixture
def reviewed_case(store):
    checklist = score_checklist(ChecklistAnswers(change_in_size=True, diameter_7mm_or_more=True))
    saved = store.create_case(sample_case(
        seed=7, size=(200, 150), prediction=make_prediction("mel", 0.62, version="lite0-test-7"),
        triage=combine(assess(NOTE), checklist_finding(checklist)), checklist=checklist, note=NOTE,
        age=67, sex="male", site="back", heatmap_target="mel", lesion_id="back-1"), actor="Dr Lee")
    store.update_verdict(saved.id, Verdict("mel", "agree", "biopsy", "Atypical network at 5 o'clock."), 1, "Dr Lee")
    store.create_case(sample_case(seed=8, lesion_id="back-1"), actor="Dr Lee")
    return store.get_case(saved.id)


def _text(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_clinician_report_has_every_section(reviewed_case):
    reader, text = _text(clinician_report(reviewed_case))
    flat = re.sub(r"\s+", " ", text)
    assert f"case #{reviewed_case.id}" in flat
    assert "Decision support, not a diagnosis" in flat
    assert "lite0-test-7" in flat  # model version
    assert "URGENT" in flat and "changing lesion" in flat  # triage
    assert "mel - Melanoma (malignant)" in flat and "62.0%" in flat  # probabilities chart, labels and values
    assert "nv - Melanocytic naevus" in flat and "6.3%" in flat
    assert "Grad-CAM for mel" in flat  # heatmap overlay caption
    assert "Score 3" in flat and "Change in size (2)" in flat  # 7-point checklist
    assert "Biopsy" in flat and "Agrees with the model" in flat and "Atypical network" in flat  # verdict
    assert "Other visits of this lesion" in flat and "Case #2" in flat
    assert "History" in flat and "case created" in flat and "verdict:" in flat
    assert "Limits of this model" in flat and "7 classes only" in flat
    assert "Müller ≥ 60" in flat  # Unicode text survives with the bundled font
    images = [img for page in reader.pages for img in page.images]
    assert len(images) == 2  # lesion image and heatmap overlay


def test_clinician_report_is_written_even_when_image_files_are_lost(reviewed_case):
    reviewed_case.prediction.heatmap_path.unlink()
    reviewed_case.images[0].path.unlink()
    reader, text = _text(clinician_report(reviewed_case))
    flat = re.sub(r"\s+", " ", text)
    assert "lesion image file is missing" in flat and "heatmap file is missing" in flat
    assert "Atypical network" in flat and "History" in flat  # the rest of the record is there
    assert not [img for page in reader.pages for img in page.images]


def test_clinician_report_without_unicode_font_maps_text_to_latin1(reviewed_case):
    _, text = _text(clinician_report(reviewed_case, unicode_fonts=False))
    flat = re.sub(r"\s+", " ", text)
    assert "Müller >= 60" in flat and "mel - Melanoma (malignant)" in flat


def test_unreviewed_case_report_says_no_verdict_and_patient_summary_waits(store):
    case = store.get_case(store.create_case(sample_case(), actor="Dr Lee").id)
    _, text = _text(clinician_report(case))
    assert "No verdict has been recorded yet" in text and "Not completed" in text and "No red flag raised" in text
    with pytest.raises(ReportError, match="record the verdict first"):
        patient_summary(case)


def test_patient_summary_is_one_plain_page(reviewed_case):
    reader, text = _text(patient_summary(reviewed_case))
    flat = re.sub(r"\s+", " ", text)
    assert len(reader.pages) == 1
    assert "What your clinician found" in flat and "possible melanoma" in flat
    assert "What happens next" in flat and "small sample of the spot (a biopsy)" in flat
    assert "When to get help sooner" in flat and "emergency" in flat and "hard to breathe" in flat
    assert "on your back" in flat and "need attention soon" in flat  # the case had a red flag
    for jargon in ("%", "probab", "confidence", "calibrat", "lite0-test-7", "malignant", "Grad-CAM", "classifier"):
        assert jargon.lower() not in flat.lower(), jargon


def test_patient_summary_with_free_text_diagnosis(store):
    saved = store.create_case(sample_case(), actor="Dr Lee")
    store.update_verdict(saved.id, Verdict("Seborrhoeic keratosis, irritated", "disagree", "reassure"), 1, "Dr Lee")
    _, text = _text(patient_summary(store.get_case(saved.id)))
    flat = re.sub(r"\s+", " ", text)
    assert "Seborrhoeic keratosis, irritated" in flat and "No treatment or further tests are needed" in flat
    assert "need attention soon" not in flat


def test_latin1_mapping_and_font_lookup():
    assert to_latin1("≥ 7 mm — naevus “x” → Ωmega café") == '>= 7 mm - naevus "x" -> ?mega café'
    fonts = dejavu_fonts()
    assert fonts is None or (fonts.regular.is_file() and fonts.bold.is_file())


@requires_segmenter
@requires_ham
def test_clinician_report_outlines_the_lesion_and_lists_its_measurements(store):
    from PIL import Image

    from core.segmentation.segmenter import Segmenter

    with Image.open(HAM_DIR / "images" / "ISIC_0024310.jpg") as img:
        image = img.convert("RGB")
    saved = store.create_case(sample_case(image=image, heatmap=np.full((256, 341), 0.5), size=(341, 256)),
                              actor="Dr Lee")
    _, text = _text(clinician_report(store.get_case(saved.id), segmenter=Segmenter.load(SEGMENTER_DIR)))
    flat = " ".join(text.split())
    assert "Lesion outline and measurements" in flat and "green: lesion outline" in flat
    assert "inside the lesion outline" in flat  # the placement of the saved heatmap
    for feature in ("A: asymmetry", "B: border", "C: colours", "D: diameter", "Stolz TDS"):
        assert feature in flat
