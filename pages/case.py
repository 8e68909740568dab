"""Case review: red flags first, the model's output as it was at analysis, the clinician's verdict (with
optimistic locking), the audit history, other visits of the same lesion side by side, and PDF reports."""
import pandas as pd
import streamlit as st
from PIL import Image

from core.explain import figures
from core.cases import (
    AGREEMENTS,
    MANAGEMENTS,
    CaseDetail,
    CaseNotFoundError,
    CaseStoreError,
    StaleCaseError,
    Verdict,
    database_url,
)
from core.triage.checklist import ITEMS
from core.cases.vocabulary import MAX_PATIENT_REF_CHARS
from core.config import CLASS_NAMES, CLASSES
from core.vision.fusion import SITES
from core.explain.methods import method_label
from core.reports import clinician_report, patient_summary
from dashboard import cases_ui
from dashboard import components as ui
from dashboard import resources
from core.accounts.roles import Permission
from dashboard import auth_ui

auth_ui.require(Permission.CASES)

OTHER = "other"
STATUS_BADGE = {"open": ":orange-badge[open — awaiting verdict]", "reviewed": ":green-badge[reviewed]",
                "closed": ":gray-badge[closed]"}


def _requested_case() -> int | None:
    raw = st.query_params.get("case") or st.session_state.get("case_id")
    if raw is None:
        return None
    try:
        number = int(raw)
    except (TypeError, ValueError):
        number = 0
    if number < 1:
        st.warning(f"{str(raw)!r} is not a case number.")
        return None
    return number


@st.cache_data(max_entries=16, show_spinner="Writing the report…")
def _clinician_pdf(db: str, case_id: int, version: int, visits: int, _case: CaseDetail) -> bytes:
    return clinician_report(_case, segmenter=resources.segmenter())


@st.cache_data(max_entries=16, show_spinner=False)
def _patient_pdf(db: str, case_id: int, version: int, _case: CaseDetail) -> bytes:
    return patient_summary(_case)


def _load_image(case: CaseDetail) -> Image.Image | None:
    try:
        return case.images[0].load()
    except CaseStoreError as exc:
        st.error(f"Case #{case.id}: {exc}")
        return None


def _visit_panel(case: CaseDetail, heading: str) -> None:
    s = case.summary
    st.markdown(f"**{heading}: case #{s.id}**, {s.created_at:%Y-%m-%d}")
    image = _load_image(case)
    if image is not None:
        st.image(image, width="stretch")
    st.caption(f"Model {case.prediction.model_version}: {s.predicted_class} ({s.confidence:.0%}). "
               f"Verdict: {ui.escape_markdown(case.verdict.diagnosis_label) + ', ' + case.verdict.management if case.verdict else 'none yet'}. "
               f"Red flags: {s.urgency}.")


@st.cache_data(max_entries=8, show_spinner="Aligning the two visits…")
def _change(earlier_image: str, later_image: str, segmenter_dir: str, _earlier: CaseDetail, _later: CaseDetail):
    """Keyed by the two images' content hashes (case numbers repeat across databases), and the segmenter."""
    from core.segmentation.change import compare_visits, visit

    segmenter = resources.segmenter()
    visits = []
    for detail in (_earlier, _later):
        visits.append(visit(segmenter, detail.images[0].load(), detail.prediction.probabilities,
                            f"case #{detail.id}, {detail.summary.created_at:%Y-%m-%d}"))
    return compare_visits(*visits)


def _visit_change(earlier: CaseDetail, later: CaseDetail) -> None:
    """The two visits aligned (side by side, swipe or difference) and what changed, with a flag when it is large."""
    from core.segmentation.change import difference, swipe

    st.markdown("**Change between the visits**")
    if resources.segmenter() is None:
        st.caption("No lesion segmenter is installed, so the visits cannot be outlined and compared.")
        return
    try:
        change = _change(earlier.images[0].sha256, later.images[0].sha256, str(resources.settings().segmenter_dir),
                         earlier, later)
    except CaseStoreError as exc:
        st.error(f"Cannot compare the visits: {exc}")
        return
    if change.flags:
        st.warning("**Large change: look at this lesion again.** " + "; ".join(change.flags) + ".",
                   icon=":material/compare:")
    st.caption(("Aligned: " if change.alignment.ok else "") + change.alignment.message + ".")
    if change.alignment.ok:
        warped = change.alignment.warp(change.later.image, change.earlier.image)
        view = st.segmented_control("View", ["Swipe", "Difference", "Outlines"], default="Swipe",
                                    key=f"change-view-{earlier.id}-{later.id}")
        if view == "Difference":
            st.image(difference(change.earlier.image, warped), width="stretch",
                     caption="Brightness difference after alignment: dark = unchanged, bright = changed")
        elif view == "Outlines":
            outlined = figures.mask_outline(change.earlier.image, change.earlier.lesion.mask, colour=(0, 200, 255))
            later_mask = change.alignment.warp_mask(change.later.lesion.mask, change.earlier.image.size)
            st.image(figures.mask_outline(outlined, later_mask, colour=(255, 80, 0)), width="stretch",
                     caption="Earlier outline in blue, later outline (aligned) in orange, on the earlier photo")
        else:
            position = st.slider("Swipe", 0, 100, 50, key=f"swipe-{earlier.id}-{later.id}",
                                 help="Left of the line: the earlier visit; right of it: the later visit, aligned.")
            st.image(swipe(change.earlier.image, warped, position / 100), width="stretch",
                     caption=f"{change.earlier.label} (left) and {change.later.label} (right)")
    st.table(pd.DataFrame(change.rows(), columns=["Measure", change.earlier.label, change.later.label, "Change"]))
    st.caption("Measured from the segmentation model's outlines and the stored probabilities; lighting and zoom "
               "differ between photos, so small changes mean little. The flag marks changes over 20 % in area, an "
               "outline overlap under 0.80, a new colour, more asymmetry or a malignant probability up by 15 points "
               "or more — this tool's thresholds, not published cut-offs.")


st.title("Case")
ui.decision_support_notice()
store = cases_ui.case_store()
if store is None:
    st.stop()
user = cases_ui.current_user()

case_id = st.number_input("Case number", min_value=1, step=1, value=_requested_case(), placeholder="e.g. 12")
if case_id is None:
    st.info("Choose a case in the queue, or type its number above.")
    st.page_link(cases_ui.QUEUE_PAGE, label="Go to the case queue", icon=":material/list:")
    st.stop()
case_id = int(case_id)
st.query_params["case"] = str(case_id)
st.session_state["case_id"] = case_id

try:
    case = store.get_case(case_id)
except CaseNotFoundError as exc:
    st.error(str(exc))
    st.page_link(cases_ui.QUEUE_PAGE, label="Go to the case queue", icon=":material/list:")
    st.stop()
except CaseStoreError as exc:
    st.error(str(exc))
    st.stop()
summary = case.summary
assessment = case.assessment()

# Red flags come before everything else, short (level, the most severe finding, the first action; every finding
# in a folded expander below) so that the case's image stays on the first screen, and they stay once
# acknowledged; an acknowledgement is recorded in the case's history with the clinician's name and the time.
acknowledgement = case.red_flag_acknowledgement


def record_acknowledgement() -> None:
    try:
        store.acknowledge_red_flags(case_id, user, assessment.level, [f.finding for f in assessment.findings])
    except CaseStoreError as exc:
        st.session_state[f"case-{case_id}-ack-error"] = str(exc)


ui.escalation_banner(assessment, key=f"case-{case_id}", text=case.note or None, on_acknowledge=record_acknowledgement,
                     can_acknowledge=bool(user), recorded=f"{acknowledgement.actor}, {acknowledgement.at:%Y-%m-%d %H:%M} UTC"
                     if acknowledgement else None, compact=True)
ack_error = st.session_state.pop(f"case-{case_id}-ack-error", None)
if ack_error:
    st.error(f"The acknowledgement was not recorded: {ack_error}")

flash = st.session_state.pop(f"case-{case_id}-flash", None)
if flash:
    st.success(flash)
    st.toast(flash, icon=":material/check_circle:")  # also seen where the user is, e.g. at the verdict form

st.subheader(f"Case #{case_id} · lesion {summary.lesion_id}")
st.markdown(f"{STATUS_BADGE[summary.status]} &nbsp; saved {summary.created_at:%Y-%m-%d %H:%M} UTC by "
            f"{ui.escape_markdown(summary.created_by)} · version {summary.version}")

stored = case.prediction
prediction = stored.to_prediction()
if stored.out_of_distribution:
    st.error("**This image did not look like a dermoscopy image of a skin lesion to the model.** Its probabilities "
             "below are not meaningful.", icon=":material/block:")
elif summary.quality_problems:
    st.warning(f"**Poor image ({', '.join(summary.quality_problems)}) when it was saved:** the model output below may "
               "not be reliable. A sharper, well-lit image as a follow-up visit gives a result that can be read.",
               icon=":material/blur_on:")
image_col, result_col = st.columns(2)
with result_col:
    st.markdown("**Model output at the time of analysis**")
    ui.model_output(prediction, chart_key=f"chart-{case_id}")
    st.caption(f"Model {stored.model_version}, analysed {stored.created_at:%Y-%m-%d %H:%M} UTC. Red bars are "
               "malignant classes.")
with image_col:
    image = _load_image(case)
    try:
        heatmap = stored.heatmap()
    except CaseStoreError as exc:
        heatmap = None
        st.warning(str(exc))
    if image is not None:
        if heatmap is not None:
            opacity = st.slider("Heatmap opacity", 0.0, 1.0, 0.5, 0.05, key=f"opacity-{case_id}")
            st.image(figures.heatmap_overlay(image, heatmap, opacity), width="stretch",
                     caption=f"{method_label(stored.heatmap_method)} for {stored.heatmap_target} (saved with the case)")
        else:
            st.image(image, width="stretch", caption="Lesion image (no heatmap was saved)")

st.markdown("**Patient and lesion**")
lesion = case.lesion
st.markdown(
    f"- Age: {summary.age if summary.age is not None else 'unknown'} · sex: {summary.sex or 'unknown'} · "
    f"site at this visit: {summary.site or 'unknown'}\n"
    f"- Lesion {summary.lesion_id}: patient {ui.escape_markdown(lesion.patient_ref) if lesion and lesion.patient_ref else 'not linked'}"
    f" · body site {lesion.body_site if lesion and lesion.body_site else 'not recorded'}\n"
    f"- Image: {summary.source_name or 'upload'} ({case.images[0].width}×{case.images[0].height} px)")
with st.expander("Link this lesion to a patient and body site"):
    st.caption("Every visit of this lesion shares the link. Use the clinic's own pseudonymous reference "
               "(a hospital number or study code), not a name.")
    with st.form(f"lesion-link-{case_id}", enter_to_submit=False):
        patient_ref = st.text_input("Patient reference", value=(lesion.patient_ref or "") if lesion else "",
                                    max_chars=MAX_PATIENT_REF_CHARS)
        sites = ["", *SITES]
        current_site = (lesion.body_site if lesion else None) or ""
        body_site = st.selectbox("Body site", sites, index=sites.index(current_site) if current_site in sites else 0,
                                 format_func=lambda v: v or "not recorded")
        linked = st.form_submit_button("Save link", disabled=not user)
    if linked:
        try:
            store.link_lesion(case_id, patient_ref, body_site, user)
        except CaseStoreError as exc:
            st.error(f"Not saved: {exc}")
        else:
            st.session_state[f"case-{case_id}-flash"] = "Lesion link saved."
            st.rerun()
    if lesion and lesion.patient_ref:
        others = [x for x in store.lesions_of_patient(lesion.patient_ref) if x.lesion_id != summary.lesion_id]
        st.caption(f"Other lesions of patient {ui.escape_markdown(lesion.patient_ref)}: "
                   + (", ".join(f"{x.lesion_id} ({x.body_site or 'site not recorded'})" for x in others) or "none"))
st.markdown("**Clinical note**")
st.markdown(ui.highlighted(case.note, assessment.findings) if case.note.strip() else "_No note was recorded._")
if case.checklist is not None:
    labels = {item.key: f"{item.label} ({item.points})" for item in ITEMS}
    present = ", ".join(labels.get(k, k) for k in case.checklist.get("present", [])) or "no features"
    st.markdown(f"**NICE 7-point checklist: score {case.checklist.get('score', 0)}** — {present}"
                + (" — 3 or more: refer urgently." if case.checklist.get("refer") else "."))

st.divider()
st.subheader("Clinician verdict")
base_key = f"case-{case_id}-base-version"
if base_key not in st.session_state:
    st.session_state[base_key] = summary.version  # the version this clinician started from
base_version = st.session_state[base_key]
if summary.version != base_version:
    last = case.audit[-1]
    st.warning(f"This case changed after you opened it: {ui.escape_markdown(last.actor)} ({last.at:%H:%M} UTC) — "
               f"{ui.escape_markdown(last.describe())}. "
               "Saving now would be refused. Reload to start from the current version.", icon="🔄")
    if st.button("Reload the case", key=f"reload-{case_id}"):
        st.session_state[base_key] = summary.version
        st.rerun()
if case.verdict is not None:
    st.markdown(f"Current verdict by **{ui.escape_markdown(case.verdict_by)}** ({case.verdict_at:%Y-%m-%d %H:%M} UTC): "
                f"**{ui.escape_markdown(case.verdict.diagnosis_label)}**, {AGREEMENTS[case.verdict.agreement].lower()}, "
                f"{MANAGEMENTS[case.verdict.management].lower()}.")

current = case.verdict
closed = summary.status == "closed"
form_key = f"verdict-{case_id}-{base_version}"
draft_key = f"verdict-draft-{case_id}"


def _keep_draft() -> None:
    """Runs before the page on "Save verdict": a copy of the form, so that a verdict submitted just after the
    sign-in session ended is filled in again once its author has signed back in, not lost."""
    st.session_state[draft_key] = {"version": base_version, **{
        field: st.session_state.get(f"{form_key}-{field}") for field in ("diagnosis", "other", "agreement",
                                                                         "management", "comment")}}


draft = st.session_state.get(draft_key)
if draft is not None and draft["version"] != base_version:
    draft = None  # written for an older version of the case
if draft is not None:
    st.info("Your verdict below was not saved when you submitted it (your sign-in session had ended). Check it "
            "and save it again.", icon=":material/edit_note:")
    current = Verdict(draft["other"] if draft["diagnosis"] == OTHER else (draft["diagnosis"] or ""),
                      draft["agreement"] or "", draft["management"] or "", draft["comment"] or "")
    if not current.diagnosis:
        current = None
# enter_to_submit=False: Ctrl+Enter in the comment box must not save a verdict half written.
with st.form(form_key, enter_to_submit=False):
    options = [*CLASSES, OTHER]
    known = current is not None and current.diagnosis in CLASSES
    diagnosis = st.selectbox("Diagnosis", options, index=None if current is None else options.index(
        current.diagnosis if known else OTHER), format_func=lambda c: f"{c} — {CLASS_NAMES[c]}" if c in CLASS_NAMES
        else "Other (type it below)", placeholder="Choose your diagnosis", key=f"{form_key}-diagnosis")
    other = st.text_input("Other diagnosis", value="" if current is None or known else current.diagnosis,
                          key=f"{form_key}-other")
    agreements = list(AGREEMENTS)
    agreement = st.radio("Agreement with the model", agreements, format_func=AGREEMENTS.get, horizontal=True,
                         index=None if current is None or current.agreement not in agreements
                         else agreements.index(current.agreement), key=f"{form_key}-agreement")
    managements = list(MANAGEMENTS)
    management = st.selectbox("Management", managements, format_func=MANAGEMENTS.get, placeholder="Choose",
                              index=None if current is None or current.management not in managements
                              else managements.index(current.management), key=f"{form_key}-management")
    comment = st.text_area("Comment", value="" if current is None else current.comment, key=f"{form_key}-comment")
    submitted = st.form_submit_button("Save verdict", type="primary", disabled=closed, on_click=_keep_draft)
if closed:
    st.caption("The case is closed; reopen it to change the verdict.")
if submitted:
    st.session_state.pop(draft_key, None)  # this run handles the submission: the copy is not needed
    try:
        verdict = Verdict(other if diagnosis == OTHER else (diagnosis or ""), agreement or "", management or "", comment)
        saved = store.update_verdict(case_id, verdict, base_version, user)
    except StaleCaseError as exc:
        st.error(f"**Not saved: someone else changed this case.** {exc}", icon="🔄")
    except CaseStoreError as exc:
        st.error(f"Not saved: {exc}")
    else:
        st.session_state[base_key] = saved.version
        st.session_state[f"case-{case_id}-flash"] = f"Verdict saved (version {saved.version})."
        st.rerun()

new_status, label = ("open", "Reopen case") if closed else ("closed", "Close case")
if st.button(label, key=f"status-{case_id}", disabled=not user):
    try:
        saved = store.set_status(case_id, new_status, base_version, user)
    except CaseStoreError as exc:
        st.error(f"Not changed: {exc}")
    else:
        st.session_state[base_key] = saved.version
        st.session_state[f"case-{case_id}-flash"] = f"Case {'reopened' if new_status == 'open' else 'closed'}."
        st.rerun()

visits = [*case.previous_visits, *case.later_visits]
if visits:
    st.divider()
    st.subheader("Other visits of this lesion")
    chosen = st.selectbox("Compare with", visits, index=len(case.previous_visits) - 1 if case.previous_visits else 0,
                          format_func=lambda v: f"case #{v.id}, {v.created_at:%Y-%m-%d} — model {v.predicted_class}, "
                                                f"verdict {v.verdict_diagnosis or 'none yet'}", key=f"visit-{case_id}")
    try:
        other_case = store.get_case(chosen.id)
    except CaseStoreError as exc:
        st.error(str(exc))
    else:
        earlier, later = sorted([(case, "This visit"), (other_case, "Other visit")],
                                key=lambda pair: (pair[0].summary.created_at, pair[0].id))
        left, right = st.columns(2)
        with left:
            _visit_panel(*earlier)
        with right:
            _visit_panel(*later)
        _visit_change(earlier[0], later[0])
        st.page_link(cases_ui.CASE_PAGE, label=f"Open case #{chosen.id}", query_params={"case": str(chosen.id)})

st.divider()
st.subheader("History")
st.dataframe(pd.DataFrame([{"when (UTC)": e.at.strftime("%Y-%m-%d %H:%M:%S"), "who": e.actor, "what": e.describe()}
                           for e in case.audit]), hide_index=True, width="stretch")

st.subheader("Reports")
db = database_url(resources.settings())
report_col, leaflet_col = st.columns(2)
with report_col:
    st.download_button("Clinician report (PDF)", _clinician_pdf(db, case_id, summary.version, len(visits), case),
                       file_name=f"dermadesk_case_{case_id}.pdf", mime="application/pdf", icon=":material/download:")
with leaflet_col:
    if case.verdict is None:
        st.button("Patient summary (PDF)", disabled=True, icon=":material/download:", key="patient-pdf-disabled")
        st.caption("Written from the clinician's verdict: available once a verdict is saved.")
    else:
        st.download_button("Patient summary (PDF)", _patient_pdf(db, case_id, summary.version, case),
                           file_name=f"dermadesk_case_{case_id}_patient.pdf", mime="application/pdf",
                           icon=":material/download:")
