"""Case-workflow pieces shared by pages: the open case store, the clinician's name for the audit
trail, and the analysis page's "Save as case" panel."""
from __future__ import annotations

import hashlib

import streamlit as st

from core.analysis import Analysis
from core.cases import CaseStore, CaseStoreError, database_url
from core.config import PROJECT_ROOT, Settings
from dashboard import components as ui
from dashboard import resources

CASE_PAGE = str(PROJECT_ROOT / "pages" / "case.py")
QUEUE_PAGE = str(PROJECT_ROOT / "pages" / "case_queue.py")
NEW_LESION = "new lesion"


@st.cache_resource(show_spinner="Opening the case database…")
def _open_store(url: str, image_store: str, _settings: Settings) -> CaseStore:
    return CaseStore.open(_settings)


def case_store() -> CaseStore | None:
    """The store for the configured database (opened once per server), or None after showing why not."""
    settings = resources.settings()
    try:
        return _open_store(database_url(settings), str(settings.image_store), settings)
    except CaseStoreError as exc:
        st.error(f"**The case database cannot be opened.** {exc}")
        return None


def _remember_name() -> None:
    st.session_state["audit_name"] = st.session_state["audit_name_input"].strip()


def keep_name_in_address() -> None:
    """Single-user mode, on every page before it runs: take the clinician's name from the address (?user=) when
    this browser session has none yet, and put it back in the address when a page switch dropped it. Every page,
    also one that does not ask for the name (the analysis page before an upload, the chat), thus keeps it for a
    reload and for the next page."""
    if resources.settings().auth == "accounts":
        return
    if "audit_name" not in st.session_state:
        st.session_state["audit_name"] = (st.query_params.get("user") or resources.settings().user_name).strip()[:120]
    if st.session_state["audit_name"] and st.query_params.get("user") != st.session_state["audit_name"]:
        st.query_params["user"] = st.session_state["audit_name"]


def current_user() -> str:
    """The name every saved change records: in accounts mode the signed-in account; in single-user mode the
    name typed in the sidebar (kept across pages, and in the address as ?user= so that a reload or a copied
    link keeps it)."""
    if resources.settings().auth == "accounts":
        from dashboard.auth_ui import signed_in_user  # here: auth_ui builds on this module's case_store

        user = signed_in_user()
        return user.name if user else ""
    keep_name_in_address()  # already done by the app for every page; again here for a page run on its own
    # Widget state is dropped on pages that do not draw the widget; the plain key above survives.
    st.session_state["audit_name_input"] = st.session_state["audit_name"]
    st.sidebar.text_input("Your name (recorded with every change to a case)", key="audit_name_input",
                          on_change=_remember_name, placeholder="e.g. Dr A. Lee")
    if not st.session_state["audit_name"]:
        st.sidebar.caption("Enter your name to save cases and verdicts.")
    elif st.query_params.get("user") != st.session_state["audit_name"]:
        st.query_params["user"] = st.session_state["audit_name"]
    return st.session_state["audit_name"]


def _analysis_key(analysis: Analysis, *parts: object) -> str:
    digest = hashlib.sha256(analysis.image.image.tobytes())
    digest.update(repr((analysis.model_version, analysis.details, analysis.note,
                        analysis.checklist.score if analysis.checklist else None, *parts)).encode())
    return digest.hexdigest()[:24]


def save_as_case_panel(analysis: Analysis, *, heatmap_target: str | None = None, source_name: str = "",
                       red_flag_key: str | None = None) -> None:
    """"Save as case" for the analysis on screen: stores the image, the model's output and the heatmap of
    `heatmap_target`, the red flags and the checklist, linked to a new or an earlier lesion."""
    st.subheader("Save as case")
    store = case_store()
    if store is None:
        return
    user = current_user()
    key = _analysis_key(analysis, heatmap_target)
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
    not_a_lesion = analysis.prediction.out_of_distribution
    poor_image = analysis.quality is not None and not analysis.quality.ok
    if not_a_lesion:
        st.caption("The model found this image unlike a dermoscopy image of a skin lesion. Saving it keeps the "
                   "image for the record; the queue marks it “not a lesion image?” instead of a class.")
    elif poor_image:
        st.caption("This image failed the quality check. Saving it keeps it for the record; the queue marks the "
                   "case “(poor image)”. A sharper, well-lit photo gives a result that can be read.")
    flagged = not_a_lesion or poor_image
    if st.button("Save anyway" if flagged else "Save as case", type="secondary" if flagged else "primary",
                 disabled=not user, key=f"save-{key}", help=None if user else "Enter your name in the sidebar first."):
        try:
            summary = store.create_case(analysis.new_case(
                source_name=source_name, heatmap_target=heatmap_target,
                lesion_id=None if lesion == NEW_LESION else lesion), actor=user)
        except CaseStoreError as exc:
            st.error(f"The case was not saved: {exc}")
            return
        st.session_state[f"saved-case-{key}"] = summary.id
        if red_flag_key and analysis.red_flags.escalated and ui.acknowledged_in_session(red_flag_key):
            # Read on this page before saving: the case history says so, with the name and the time.
            try:
                store.acknowledge_red_flags(summary.id, user, analysis.red_flags.level,
                                            [f.finding for f in analysis.red_flags.findings])
            except CaseStoreError as exc:
                st.warning(f"The case was saved, but the red-flag acknowledgement was not recorded: {exc}")
        st.success(f"Saved as case #{summary.id} (lesion {summary.lesion_id}).")
        st.page_link(CASE_PAGE, label=f"Open case #{summary.id}", icon=":material/folder_open:",
                     query_params={"case": str(summary.id)})


THUMBNAIL_SIDE = 72


@st.cache_data(max_entries=2000, show_spinner=False)
def thumbnail_uri(path: str) -> str | None:
    """A small JPEG of a stored image as a data URI (queue thumbnails); None when the file is missing."""
    import base64
    import io

    from PIL import Image

    try:
        with Image.open(path) as img:
            img = img.convert("RGB")
            img.thumbnail((THUMBNAIL_SIDE * 4 // 3, THUMBNAIL_SIDE))
            buffer = io.BytesIO()
            img.save(buffer, format="JPEG", quality=80)
    except OSError:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()
