"""Case queue: every saved case, most urgent first; filters, counts, CSV export and batch analysis."""
import io

import pandas as pd
import streamlit as st

from core.cases.batch import BatchInputError, analyse_batch, files_from_uploads
from core.cases import STATUSES, CaseStoreError, QueueFilter, summaries_table
from core.config import CLASS_NAMES, CLASSES, MALIGNANT
from core.vision.imaging import UPLOAD_EXTENSIONS
from core.triage import LEVELS
from dashboard import cases_ui
from dashboard import components as ui
from core.accounts.roles import Permission
from dashboard import auth_ui

auth_ui.require(Permission.CASES)

# Words, not emoji: without an emoji font (common on clinic PCs) emoji render as empty boxes.
URGENCY_MARK = {"emergency": "EMERGENCY", "urgent": "URGENT", "routine": "routine"}

st.title("Case queue")
ui.decision_support_notice()
store = cases_ui.case_store()
if store is None:
    st.stop()
user = cases_ui.current_user()

try:
    counts = store.counts()
except CaseStoreError as exc:
    st.error(str(exc))
    st.stop()

# Red flags awaiting review are stated before anything else and are never filtered away here.
waiting = counts.open_by_urgency
if waiting["emergency"]:
    st.error(f"**{waiting['emergency']} case(s) with an EMERGENCY red flag await review.** They are at the top of "
             "the queue.", icon=":material/emergency:")
if waiting["urgent"]:
    st.warning(f"**{waiting['urgent']} case(s) with an URGENT red flag await review.**", icon=":material/schedule:")

metric_cols = st.columns(len(LEVELS) + len(STATUSES))
for col, level in zip(metric_cols, reversed(LEVELS)):
    col.metric(URGENCY_MARK[level], counts.by_urgency[level])
for col, status in zip(metric_cols[len(LEVELS):], STATUSES):
    col.metric(status, counts.by_status[status])

with st.container(border=True):
    f1, f2, f3, f4 = st.columns(4)
    statuses = f1.multiselect("Status", STATUSES, key="queue-status")
    urgencies = f2.multiselect("Red-flag level", list(reversed(LEVELS)), key="queue-urgency")
    predicted = f3.multiselect("Predicted class", CLASSES, key="queue-predicted",
                               format_func=lambda c: f"{c} — {CLASS_NAMES[c]}")
    dates = f4.date_input("Saved between", value=(), key="queue-dates", help="Dates in UTC; leave empty for any date.")

date_from = dates[0] if len(dates) >= 1 else None
date_to = dates[1] if len(dates) == 2 else date_from
queue_filter = QueueFilter(statuses=tuple(statuses), urgencies=tuple(urgencies), predicted=tuple(predicted),
                           created_from=date_from, created_to=date_to)
try:
    cases = store.list_cases(queue_filter)
except CaseStoreError as exc:
    st.error(str(exc))
    st.stop()

st.caption(f"Showing {len(cases)} of {counts.total} case(s), most urgent first, then newest. Click a column "
           "header to sort; select a row to open the case.")
if cases:
    table = pd.DataFrame(summaries_table(cases)).astype(object)
    table = table.where(table.notna(), "–")  # a missing age or score reads as a dash, not "None"
    table["urgency"] = table["urgency"].map(URGENCY_MARK)
    table["predicted"] = [f"{c} (malignant)" if c in MALIGNANT else c for c in table["predicted"]]
    paths = store.image_paths([c.id for c in cases])
    table.insert(1, "image", [cases_ui.thumbnail_uri(str(paths[c.id])) if c.id in paths else None for c in cases])
    # The columns a reviewer scans come first; the rest (lesion, source file, sex, site) fit in the page's width.
    selection = st.dataframe(
        table, hide_index=True, on_select="rerun", selection_mode="single-row", key="queue-table", width="stretch",
        row_height=cases_ui.THUMBNAIL_SIDE + 8,
        column_order=["case", "image", "urgency", "status", "image check", "predicted", "confidence", "7-point", "verdict",
                      "management", "age", "sex", "site", "created", "lesion", "source"],
        column_config={"image": st.column_config.ImageColumn("image", width="small"),
                       "confidence": st.column_config.ProgressColumn("confidence", format="percent",
                                                                     min_value=0.0, max_value=1.0, width="small"),
                       "case": st.column_config.NumberColumn("case", format="#%d", width="small"),
                       "7-point": st.column_config.TextColumn("7-point", width="small"),
                       "age": st.column_config.TextColumn("age", width="small"),
                       "image check": st.column_config.TextColumn(
                           "image check", width="small",
                           help="'not a lesion image?' or 'poor image': the model's output for that case cannot be "
                                "read as an ordinary result"),
                       "source": st.column_config.TextColumn("source", width="medium"),
                       "lesion": st.column_config.TextColumn("lesion", width="small")})
    chosen = selection.selection.rows if selection else []
    if chosen:  # one click: selecting a row opens the case
        case_id = int(table.iloc[chosen[0]]["case"])
        st.session_state["case_id"] = case_id
        st.switch_page(cases_ui.CASE_PAGE, query_params={"case": str(case_id)})
    buffer = io.StringIO()
    store.export_csv(buffer, queue_filter)
    st.download_button("Download these cases as CSV", buffer.getvalue(), file_name="dermadesk_cases.csv",
                       mime="text/csv", icon=":material/download:")
else:
    st.info("No case matches these filters." if counts.total else
            "No cases yet. Save an analysis from the analysis page, or analyse a batch of images below.")

st.divider()
st.subheader("Batch analysis")
st.caption("Several images, or a zip of images: each becomes a case. Files that cannot be read are listed and "
           "skipped; the rest are analysed.")
uploads = st.file_uploader("Images or zip archives", type=[*UPLOAD_EXTENSIONS, "zip"], accept_multiple_files=True,
                           key="batch-upload")
heatmaps = st.checkbox("Compute Grad-CAM heatmaps (slower)", value=True, key="batch-heatmaps")
if st.button("Analyse and save as cases", type="primary", disabled=not uploads or not user,
             help=None if user else "Enter your name in the sidebar first."):
    from dashboard import resources  # loads the model: only when a batch is actually run

    model = resources.classifier()
    if model is None:
        ui.missing_model_message()
        st.stop()
    try:
        files = files_from_uploads((u.name, u.getvalue()) for u in uploads)
    except BatchInputError as exc:
        st.error(str(exc))
        st.stop()
    bar = st.progress(0.0, text="Starting…")

    def on_progress(done: int, total: int, name: str) -> None:
        bar.progress(done / max(total, 1), text=f"{done}/{total}: {name}")

    st.session_state["batch-result"] = analyse_batch(files, model, store, user, resources.settings(),
                                                     heatmaps=heatmaps, progress=on_progress)
    bar.empty()
    st.rerun()  # the queue above now includes the new cases

result = st.session_state.get("batch-result")
if result is not None:
    st.markdown(f"**Last batch:** {len(result.rows)} case(s) saved, {len(result.skipped)} file(s) skipped.")
    urgent_rows = [r for r in result.rows if r.urgency != "routine"]
    if urgent_rows:
        st.warning(f"{len(urgent_rows)} image(s) in this batch raised a red flag; they are listed first.", icon=":material/schedule:")
    if result.rows:
        summary = pd.DataFrame(result.table())
        summary["urgency"] = summary["urgency"].map(URGENCY_MARK)
        st.dataframe(summary, hide_index=True)
    if result.skipped:
        st.error("**Skipped files**\n\n" + "\n".join(f"- `{s.name}`: {s.reason}" for s in result.skipped))
    st.download_button("Download the batch summary as CSV", result.to_csv(), file_name="dermadesk_batch.csv",
                       mime="text/csv", icon=":material/download:", key="batch-csv")
