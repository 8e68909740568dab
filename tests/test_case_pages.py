"""The case queue and case pages, run for real with AppTest against a real SQLite case database."""
from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.cases import QueueFilter, Verdict
from core.triage.checklist import ChecklistAnswers, checklist_finding, score_checklist
from core.triage import assess, combine
from tests.support import HAM_DIR, ROOT, requires_ham, requires_model, requires_segmenter
from tests.test_cases import make_prediction, sample_case

APP = str(ROOT / "dashboard" / "app.py")
QUEUE = str(ROOT / "pages" / "case_queue.py")
CASE = str(ROOT / "pages" / "case.py")
EMERGENCY_NOTE = "Fever of 39 and a purple rash that does not blanch on the legs."


@pytest.fixture
def store(case_store):
    return case_store


@pytest.fixture
def seeded(store):
    """Three cases: reviewed routine, open urgent (7-point score 3), open emergency (note)."""
    routine = store.create_case(sample_case(1, prediction=make_prediction("nv")), actor="Dr Seed")
    store.update_verdict(routine.id, Verdict("nv", "agree", "reassure"), routine.version, "Dr Seed")
    checklist = score_checklist(ChecklistAnswers(change_in_size=True, oozing_or_crusting=True))
    urgent = store.create_case(sample_case(2, prediction=make_prediction("mel", 0.55), checklist=checklist,
                                           triage=combine(checklist_finding(checklist))), actor="Dr Seed")
    emergency = store.create_case(sample_case(3, prediction=make_prediction("bcc", 0.4), note=EMERGENCY_NOTE,
                                              triage=assess(EMERGENCY_NOTE), age=7, site="leg"), actor="Dr Seed")
    return {"routine": routine.id, "urgent": urgent.id, "emergency": emergency.id}


def _open(page: str, case: int | str | None = None, user: str = "Dr Page") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["audit_name"] = user
    if case is not None:
        at.query_params["case"] = str(case)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _by_label(elements, label: str):
    matches = [e for e in elements if e.label == label]
    assert len(matches) == 1, [e.label for e in elements]
    return matches[0]


def _downloads(at: AppTest) -> list[str]:
    return [d.proto.label for d in at.get("download_button")]


def test_queue_shows_red_flags_counts_and_filters(seeded):
    at = _open(QUEUE)
    assert any("Decision support, not a diagnosis" in w.value for w in at.warning)
    assert any("1 case(s) with an EMERGENCY red flag await review" in e.value for e in at.error)
    assert any("1 case(s) with an URGENT red flag await review" in w.value for w in at.warning)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"EMERGENCY": "1", "URGENT": "1", "routine": "1", "open": "2", "reviewed": "1",
                       "closed": "0"}
    table = at.dataframe[0].value
    assert list(table["case"]) == [seeded["emergency"], seeded["urgent"], seeded["routine"]]
    assert table["urgency"].iloc[0] == "EMERGENCY" and table["predicted"].iloc[0] == "bcc (malignant)"
    # Missing values read as a dash (the routine case has no 7-point score), never "None".
    assert table["7-point"].iloc[2] == "–" and "None" not in table.astype(str).to_string()
    # Each row carries a thumbnail of its image, first among the columns a reviewer scans.
    assert all(str(uri).startswith("data:image/jpeg;base64,") for uri in table["image"])
    assert list(table.columns[:3]) == ["case", "image", "urgency"]
    assert "Download these cases as CSV" in _downloads(at)

    at.multiselect(key="queue-status").select("reviewed").run()
    assert not at.exception, at.exception
    assert list(at.dataframe[0].value["case"]) == [seeded["routine"]]
    at.multiselect(key="queue-status").unselect("reviewed").run()
    at.multiselect(key="queue-predicted").select("mel").run()
    assert list(at.dataframe[0].value["case"]) == [seeded["urgent"]]
    # The red-flag summary does not depend on the filters.
    assert any("EMERGENCY" in e.value for e in at.error)


def test_empty_queue_explains_how_to_add_cases(store):
    at = _open(QUEUE)
    assert any("No cases yet" in i.value for i in at.info)
    assert not at.dataframe


def test_case_page_puts_red_flags_first_and_saves_a_verdict(seeded, store):
    case_id = seeded["emergency"]
    at = _open(CASE, case_id)
    assert any("EMERGENCY" in e.value for e in at.error)
    assert any("Triggered by" in m.value and "purple" in m.value for m in at.markdown)
    note = [m.value for m in at.markdown if ":red-background[" in m.value and "Triggered by" not in m.value]
    assert note, "the note is shown with its red-flag words highlighted"
    assert any("Decision support, not a diagnosis" in w.value for w in at.warning)
    assert any("Low confidence" in i.value for i in at.info)  # 40% top class
    assert len(at.get("plotly_chart")) == 1
    captions = [c for image in at.get("image") for c in image.captions]
    assert any(c.startswith("Grad-CAM for") for c in captions), captions
    assert "Clinician report (PDF)" in _downloads(at) and "Patient summary (PDF)" not in _downloads(at)
    assert _by_label(at.button, "Patient summary (PDF)").disabled

    _by_label(at.selectbox, "Diagnosis").select("bcc")
    _by_label(at.radio, "Agreement with the model").set_value("agree")
    _by_label(at.selectbox, "Management").select("refer")
    _by_label(at.text_area, "Comment").input("Pearly edge; fever needs same-day care first.")
    _by_label(at.button, "Save verdict").click().run()
    assert not at.exception, at.exception
    assert any("Verdict saved (version 2)" in s.value for s in at.success)
    assert any("Verdict saved (version 2)" in t.value for t in at.toast)  # seen at the form, not only at the top
    case = store.get_case(case_id)
    assert case.verdict == Verdict("bcc", "agree", "refer", "Pearly edge; fever needs same-day care first.")
    assert case.verdict_by == "Dr Page" and case.summary.status == "reviewed"
    history = at.dataframe[-1].value
    assert list(history["who"]) == ["Dr Seed", "Dr Page"] and "verdict" in history["what"].iloc[1]
    assert "Patient summary (PDF)" in _downloads(at)
    # The red flag is still on screen after the save.
    assert any("EMERGENCY" in e.value for e in at.error)


def test_case_page_refuses_to_overwrite_a_colleagues_change(seeded, store):
    case_id = seeded["urgent"]
    at = _open(CASE, case_id)
    # A colleague saves a verdict while this page is open.
    store.update_verdict(case_id, Verdict("mel", "agree", "excise", "colleague"), 1, "Dr Colleague")

    _by_label(at.selectbox, "Diagnosis").select("nv")
    _by_label(at.radio, "Agreement with the model").set_value("disagree")
    _by_label(at.selectbox, "Management").select("reassure")
    _by_label(at.button, "Save verdict").click().run()
    assert not at.exception, at.exception
    errors = " ".join(e.value for e in at.error)
    assert "Not saved: someone else changed this case" in errors and "Dr Colleague" in errors
    assert any("changed after you opened it" in w.value for w in at.warning)
    assert store.get_case(case_id).verdict.comment == "colleague"

    _by_label(at.button, "Reload the case").click().run()
    assert not any("changed after you opened it" in w.value for w in at.warning)
    assert _by_label(at.selectbox, "Diagnosis").value == "mel"  # the form now starts from the colleague's verdict
    _by_label(at.text_area, "Comment").input("colleague; seen again")
    _by_label(at.button, "Save verdict").click().run()
    assert any("Verdict saved (version 3)" in s.value for s in at.success)
    assert store.get_case(case_id).verdict.comment == "colleague; seen again"


def test_case_page_close_and_reopen(seeded, store):
    case_id = seeded["routine"]
    at = _open(CASE, case_id)
    _by_label(at.button, "Close case").click().run()
    assert any("Case closed." in s.value for s in at.success)
    assert _by_label(at.button, "Save verdict").disabled
    _by_label(at.button, "Reopen case").click().run()
    assert store.get_case(case_id).summary.status == "open"
    assert [e.action for e in store.get_case(case_id).audit][-2:] == ["status", "status"]


def test_case_page_shows_other_visits_side_by_side(store):
    first = store.create_case(sample_case(1, lesion_id="arm-2", prediction=make_prediction("nv")), actor="Dr A")
    second = store.create_case(sample_case(2, lesion_id="arm-2", prediction=make_prediction("mel", 0.6)), actor="Dr A")
    at = _open(CASE, second.id)
    assert "Other visits of this lesion" in [s.value for s in at.subheader]
    visits = [m.value for m in at.markdown if "visit: case #" in m.value]
    assert visits == [f"**Other visit: case #{first.id}**, {first.created_at:%Y-%m-%d}",
                      f"**This visit: case #{second.id}**, {second.created_at:%Y-%m-%d}"]


def test_case_page_says_when_the_image_was_not_usable(store):
    odd = store.create_case(sample_case(1, prediction=make_prediction(out_of_distribution=True, ood_score=99.0)),
                            actor="Dr A")
    blurred = store.create_case(sample_case(2, quality_problems=("blurred",)), actor="Dr A")
    plain = store.create_case(sample_case(3), actor="Dr A")
    assert any("did not look like a dermoscopy image" in e.value for e in _open(CASE, odd.id).error)
    assert any(w.value.startswith("**Poor image (blurred)") for w in _open(CASE, blurred.id).warning)
    at = _open(CASE, plain.id)
    assert not any("did not look like" in e.value for e in at.error)
    assert not any("Poor image" in w.value for w in at.warning)


def test_case_page_survives_lost_image_files(store):
    saved = store.create_case(sample_case(3, heatmap_target="mel"), actor="Dr A")
    case = store.get_case(saved.id)
    case.prediction.heatmap_path.unlink()
    case.images[0].path.unlink()
    at = _open(CASE, saved.id)
    assert not at.exception, at.exception
    texts = [e.value for e in at.error] + [w.value for w in at.warning]
    assert any("heatmap file is missing" in t for t in texts), texts
    assert any(t.startswith(f"Case #{saved.id}: The image file is missing") for t in texts), texts
    assert "Clinician report (PDF)" in _downloads(at)  # the record can still be exported


@pytest.mark.parametrize("case, message", [(99, "There is no case #99"), ("abc", "is not a case number"),
                                           ("-3", "is not a case number")])
def test_case_page_handles_unknown_cases(store, case, message):
    at = _open(CASE, case)
    texts = [e.value for e in at.error] + [w.value for w in at.warning]
    assert any(message in t for t in texts), texts


def _save_panel_script() -> None:
    """An analysis page reduced to the panel, in a navigation that also holds the case page it links to."""
    import numpy as np
    import streamlit as st

    from core.analysis import Analysis
    from core.explain.cams import Explanation
    from core.triage import assess
    from core.triage.checklist import ChecklistAnswers, score_checklist
    from core.vision.classifier import Prediction
    from core.vision.fusion import PatientDetails
    from core.vision.imaging import decode_image
    from dashboard.cases_ui import CASE_PAGE, save_as_case_panel
    from tests.support import image_bytes, skin_like

    def analysis() -> None:
        decoded = decode_image(image_bytes(skin_like(120, 90, seed=4), "PNG"))
        probabilities = {"akiec": 0.05, "bcc": 0.05, "bkl": 0.1, "df": 0.05, "mel": 0.55, "nv": 0.15, "vasc": 0.05}
        prediction = Prediction(probabilities, "mel", 0.55, False, "panel-test-model")
        note = "Changing mole, irregular border and several colours, 9 mm."
        heatmap = Explanation(np.full((90, 120), 0.5, np.float32), "hirescam", "mel")
        save_as_case_panel(Analysis(decoded, prediction, assess(note), note=note,
                                    checklist=score_checklist(ChecklistAnswers(change_in_size=True)),
                                    details=PatientDetails(52, "female", "back"), heatmaps=(heatmap,)),
                           heatmap_target="mel", source_name="upload.png", red_flag_key="panel-flags")

    st.navigation([st.Page(analysis, title="Analyze", default=True), st.Page(CASE_PAGE, title="Case")]).run()


def test_save_as_case_panel_saves_once(store):
    at = AppTest.from_function(_save_panel_script, default_timeout=120)
    at.session_state["audit_name"] = "Dr Panel"
    at.run()
    assert not at.exception, at.exception
    assert _by_label(at.selectbox, "Lesion").value == "new lesion"
    _by_label(at.button, "Save as case").click().run()
    assert not at.exception, at.exception
    assert any("Saved as case #1" in s.value for s in at.success)
    case = store.get_case(1)
    s = case.summary
    assert (s.created_by, s.urgency, s.age, s.sex, s.site, s.seven_point_score) == ("Dr Panel", "urgent", 52,
                                                                                    "female", "back", 2)
    assert case.prediction.model_version == "panel-test-model" and case.prediction.heatmap_target == "mel"
    assert case.prediction.heatmap_method == "hirescam"
    assert s.source_name == "upload.png"
    assert case.red_flag_acknowledgement is None  # the red flag was not acknowledged on the page
    at.run()  # a rerun shows the saved case instead of offering to save it again
    assert not [b for b in at.button if b.label == "Save as case"]
    assert any("saved as case #1" in s.value for s in at.success)
    assert len(store.list_cases(QueueFilter())) == 1


def test_save_as_case_panel_needs_a_name(store):
    at = AppTest.from_function(_save_panel_script, default_timeout=120)
    at.run()
    assert _by_label(at.button, "Save as case").disabled


@requires_model
@requires_ham
def test_queue_batch_upload_saves_good_files_and_lists_bad_ones(store):
    at = _open(QUEUE)
    jpeg = (HAM_DIR / "images" / "ISIC_0024306.jpg").read_bytes()
    at.file_uploader(key="batch-upload").set_value([("ISIC_0024306.jpg", jpeg, "image/jpeg"),
                                                    ("scan.jpg", b"not really a jpeg", "image/jpeg")])
    at.checkbox(key="batch-heatmaps").uncheck()
    at.run()
    _by_label(at.button, "Analyse and save as cases").click().run()
    assert not at.exception, at.exception
    assert any("1 case(s) saved, 1 file(s) skipped" in m.value for m in at.markdown)
    assert any("scan.jpg" in e.value and "not a recognised image" in e.value for e in at.error)
    assert "Download the batch summary as CSV" in _downloads(at)
    assert [c.source_name for c in store.list_cases()] == ["ISIC_0024306.jpg"]
    assert list(at.dataframe[0].value["source"]) == ["ISIC_0024306.jpg"]  # the queue shows the new case


def test_names_and_verdicts_written_by_users_are_shown_as_text(store):
    """Hostile-input finding 9: the actor name and a free-text diagnosis went into markdown unescaped, so a
    link or remote image rendered for every other user."""
    hostile = "[click](http://evil.example) ![x](http://evil.example/p.png)"
    saved = store.create_case(sample_case(5), actor=hostile)
    store.update_verdict(saved.id, Verdict(hostile, "disagree", "biopsy"), saved.version, actor=hostile)
    at = _open(CASE, saved.id)
    shown = [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert any("evil" in text for text in shown)
    assert not any("](http" in text for text in shown), [t for t in shown if "evil" in t]


def test_red_flag_acknowledgement_is_recorded_with_name_and_time(seeded, store):
    """Found in the real-browser walk: 'I have read this red flag' was session-only, absent from the history."""
    from core.reports import clinician_report

    case_id = seeded["emergency"]
    nameless = _open(CASE, case_id, user="")
    assert next(c for c in nameless.checkbox if c.label.startswith("I have read this red flag")).disabled

    at = _open(CASE, case_id)
    next(c for c in at.checkbox if c.label.startswith("I have read this red flag")).check().run()
    assert not at.exception, at.exception
    acknowledgement = store.get_case(case_id).red_flag_acknowledgement
    assert acknowledgement is not None and acknowledgement.actor == "Dr Page"
    assert "emergency red flag" in acknowledgement.describe()
    # A colleague opening the case later sees who acknowledged it, and the red flag stays on screen.
    later = _open(CASE, case_id, user="Dr Later")
    assert any("EMERGENCY" in e.value and "acknowledged by Dr Page" in e.value for e in later.error)
    assert not [c for c in later.checkbox if c.label.startswith("I have read this red flag")]
    history = later.dataframe[-1].value
    assert "acknowledged" in " ".join(history["what"])
    # A verdict saved afterwards does not conflict with it (the acknowledgement changed no version).
    assert store.get_case(case_id).summary.version == 1
    # The clinician's PDF carries it in the history.
    import io

    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(clinician_report(store.get_case(case_id)))).pages)
    assert "acknowledged the emergency red flag" in " ".join(text.split())


def test_a_red_flag_acknowledged_before_saving_is_recorded_with_the_case(store):
    at = AppTest.from_function(_save_panel_script, default_timeout=120)
    at.session_state["audit_name"] = "Dr Panel"
    at.session_state["acknowledged-panel-flags"] = True  # what ticking the banner's box on the page sets
    at.run()
    _by_label(at.button, "Save as case").click().run()
    assert not at.exception, at.exception
    acknowledgement = store.get_case(1).red_flag_acknowledgement
    assert acknowledgement is not None and acknowledgement.actor == "Dr Panel"
    assert acknowledgement.details["level"] == "urgent"



@requires_segmenter
@requires_ham
def test_two_visits_of_a_lesion_are_aligned_and_their_change_measured(store):
    from PIL import Image

    images = []
    for image_id in ("ISIC_0024310", "ISIC_0027300"):  # two photos of one HAM10000 lesion
        with Image.open(HAM_DIR / "images" / f"{image_id}.jpg") as img:
            images.append(img.convert("RGB"))
    first = store.create_case(sample_case(image=images[0], size=(341, 256), lesion_id="back-7",
                                          heatmap=np.full((256, 341), 0.5)), actor="Dr Seed")
    store.create_case(sample_case(image=images[1], size=(341, 256), lesion_id="back-7",
                                  heatmap=np.full((256, 341), 0.5)), actor="Dr Seed")
    at = _open(CASE, first.id)
    text = " ".join(c.value for c in at.caption)
    assert "Aligned: aligned by matching landmarks" in text, text
    assert at.get("segmented_control") and len(at.table) >= 1
    measures = list(at.table[-1].value["Measure"])
    assert measures[0] == "Area" and "Model: malignant classes together" in measures

    # Linking the lesion to a patient and a site is shared by both visits and audited.
    _by_label(at.text_input, "Patient reference").input("H0042")
    _by_label(at.selectbox, "Body site").set_value("back")
    _by_label(at.button, "Save link").click().run()
    assert not at.exception, at.exception
    assert store.get_case(first.id).lesion.patient_ref == "H0042"
    assert any("patient H0042" in m.value for m in at.markdown)
