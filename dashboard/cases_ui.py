"""Case-workflow pieces shared by pages: the open case store, the clinician's name for the audit
trail, and the analysis page's "Save as case" panel."""
from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from core.cases import CaseStore, CaseStoreError, NewCase, database_url
from core.triage.checklist import ChecklistResult
from core.vision.classifier import Prediction
from core.config import PROJECT_ROOT, Settings
from core.vision.imaging import DecodedImage
from core.triage import Assessment

CASE_PAGE = str(PROJECT_ROOT / "pages" / "case.py")
QUEUE_PAGE = str(PROJECT_ROOT / "pages" / "case_queue.py")
NEW_LESION = "new lesion"


@st.cache_resource(show_spinner="Opening the case database…")
def _open_store(url: str, image_store: str, _settings: Settings) -> CaseStore:
    return CaseStore.open(_settings)


def case_store() -> CaseStore | None:
    """The store for the configured database (opened once per server), or None after showing why not."""
    settings = Settings.from_env()
    try:
        return _open_store(database_url(settings), str(settings.image_store), settings)
    except CaseStoreError as exc:
        st.error(f"**The case database cannot be opened.** {exc}")
        return None


def _remember_name() -> None:
    st.session_state["audit_name"] = st.session_state["audit_name_input"].strip()


def current_user() -> str:
    """The clinician's name from the sidebar (kept across pages); every saved change records it."""
    if "audit_name" not in st.session_state:
        st.session_state["audit_name"] = Settings.from_env().user_name.strip()
    # Widget state is dropped on pages that do not draw the widget; the plain key above survives.
    st.session_state["audit_name_input"] = st.session_state["audit_name"]
    st.sidebar.text_input("Your name (recorded with every change to a case)", key="audit_name_input",
                          on_change=_remember_name, placeholder="e.g. Dr A. Lee")
    if not st.session_state["audit_name"]:
        st.sidebar.caption("Enter your name to save cases and verdicts.")
    return st.session_state["audit_name"]


def _analysis_key(decoded: DecodedImage, *parts: object) -> str:
    digest = hashlib.sha256(decoded.image.tobytes())
    digest.update(repr(parts).encode())
    return digest.hexdigest()[:24]


def save_as_case_panel(decoded: DecodedImage, prediction: Prediction, heatmap: np.ndarray | None,
                       age: int | None, sex: str | None, site: str | None, note: str,
                       red_flags: Assessment | None, checklist: ChecklistResult | None, *,
                       heatmap_target: str | None = None, heatmap_method: str = "Grad-CAM",
                       source_name: str = "") -> None:
    """"Save as case" for the analysis on screen: stores the image, the model's output and heatmap,
    the red flags and the checklist, linked to a new or an earlier lesion."""
    st.subheader("Save as case")
    store = case_store()
    if store is None:
        return
    user = current_user()
    key = _analysis_key(decoded, prediction.model_version, age, sex, site, note,
                        checklist.score if checklist else None, heatmap_target, heatmap_method)
    saved_id = st.session_state.get(f"saved-case-{key}")
    if saved_id is not None:
        st.success(f"This analysis is saved as case #{saved_id}.")
        st.page_link(CASE_PAGE, label=f"Open case #{saved_id}", icon=":material/folder_open:",
                     query_params={"case": str(saved_id)})
        return

    try:
        lesions = store.list_lesions()
    except CaseStoreError as exc:
        st.error(str(exc))
        return
    labels = {ref.lesion_id: f"{ref.lesion_id} — {ref.visits} visit(s), last {ref.last_seen:%Y-%m-%d}, "
              f"model said {ref.last_predicted}" for ref in lesions}
    lesion = st.selectbox("Lesion", [NEW_LESION, *labels], format_func=lambda v: labels.get(v, "A new lesion"),
                          help="Choose an earlier lesion to record this as a follow-up visit of it; the case page "
                               "then shows the visits side by side.", key=f"save-lesion-{key}")
    if st.button("Save as case", type="primary", disabled=not user, key=f"save-{key}",
                 help=None if user else "Enter your name in the sidebar first."):
        try:
            summary = store.create_case(NewCase(
                image=decoded.image, prediction=prediction, source_name=source_name,
                source_format=decoded.source_format, heatmap=heatmap, heatmap_target=heatmap_target,
                heatmap_method=heatmap_method,
                triage=red_flags, checklist=checklist, age=age, sex=sex, site=site, note=note,
                lesion_id=None if lesion == NEW_LESION else lesion), actor=user)
        except CaseStoreError as exc:
            st.error(f"The case was not saved: {exc}")
            return
        st.session_state[f"saved-case-{key}"] = summary.id
        st.success(f"Saved as case #{summary.id} (lesion {summary.lesion_id}).")
        st.page_link(CASE_PAGE, label=f"Open case #{summary.id}", icon=":material/folder_open:",
                     query_params={"case": str(summary.id)})
