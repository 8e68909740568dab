"""Analyze an image: red flags first, then calibrated probabilities and a heatmap (any CAM method) of any
class, with the top three classes side by side."""
import streamlit as st

from core.analysis import HeatmapRequest, pre_image_red_flags
from core.vision.fusion import SITES as BODY_SITES
from core.vision.fusion import PatientDetails
from core.config import CLASS_NAMES
from core.explain import figures
from core.explain.methods import CAM_METHODS, DEFAULT_METHOD
from core.triage import MAX_TEXT_CHARS
from core.triage.checklist import ITEMS, ChecklistAnswers, score_checklist
from core.vision.imaging import FORMATS_NAMED, UPLOAD_EXTENSIONS
from core.vision.risk import risk_tier
from dashboard import components as ui
from dashboard import resources
from dashboard.cases_ui import save_as_case_panel
from core.accounts.roles import Permission
from dashboard import auth_ui

auth_ui.require(Permission.ANALYSE)

SITES = ["unknown", *BODY_SITES]

st.title("Analyze a lesion image")
ui.decision_support_notice()

model = resources.classifier()
if model is None:
    ui.missing_model_message()
    st.stop()

upload = st.file_uploader(f"Dermoscopy image ({FORMATS_NAMED})", type=UPLOAD_EXTENSIONS)
# Streamlit drops a page's widgets when the user visits another page: the last image and the note are kept
# here, in plain session state, so that coming back does not lose them.
if upload is not None:
    st.session_state["analysis_last_upload"] = (upload.name, upload.getvalue())
elif "analysis_last_upload" in st.session_state:
    last_name = st.session_state["analysis_last_upload"][0]
    keep = st.toggle(f"Continue with the last image, {last_name}", value=True, key="analysis_keep_last",
                     help="The image you analysed before leaving this page. Upload another to replace it.")
    if not keep:
        del st.session_state["analysis_last_upload"]
upload_name, upload_bytes = st.session_state.get("analysis_last_upload", (None, None))
# The result comes first once an image is analysed: red flags, then image, heatmap and probabilities, drawn into
# these places after the inputs below are read; the inputs fold away under one expander.
banner_area = st.container()
result_area = st.container()
inputs = st.expander("Patient details, clinical note and 7-point checklist", expanded=upload_bytes is None,
                     icon=":material/edit_note:")
with inputs:
    age_col, sex_col, site_col = st.columns(3)
    age = age_col.number_input("Age (years)", min_value=0, max_value=120, value=None, step=1)
    sex = sex_col.selectbox("Sex", ["unknown", "female", "male"])
    site = site_col.selectbox("Body site", SITES)
    details = PatientDetails(age=age, sex=None if sex == "unknown" else sex, site=None if site == "unknown" else site)
    st.session_state.setdefault("analysis_note", st.session_state.get("analysis_note_kept", ""))
    note = st.text_area("Clinical note (optional)", placeholder="History, symptoms, change over time…",
                        key="analysis_note", help="Read by the red-flag filter before anything else.",
                        max_chars=MAX_TEXT_CHARS)
    st.session_state["analysis_note_kept"] = note
    # Filled once an image is analysed and the red flags are known: a pointer to the banner, which the result
    # below it may push out of view from here.
    banner_pointer_area = st.empty()
    st.markdown("**NICE weighted 7-point checklist**")
    st.caption("Major features score 2, minor features 1; a total of 3 or more warrants a suspected-cancer "
               "pathway referral (NICE NG12).")
    answers = {item.key: st.checkbox(f"{item.label} ({item.kind}, {item.points})", key=f"seven-{item.key}")
               for item in ITEMS}
    checklist = score_checklist(ChecklistAnswers.from_mapping(answers))
    st.markdown(f"**Score: {checklist.score}** — "
                + ("refer urgently (3 or more)." if checklist.refer else "below the referral threshold of 3."))
    st.caption("Age, sex and site are recorded with the case and refine the probabilities (metadata fusion; "
               "leave a field empty when unknown)." if model.fusion is not None else
               "Age, sex and site are recorded with the case; this model reads the image only.")
flags_key = f"{resources.digest(note.encode())}-{checklist.score}"

if upload_bytes is None:
    with banner_area:
        red_flags, note_problem = pre_image_red_flags(note, checklist)
        ui.note_problem(note_problem)
        ui.escalation_banner(red_flags, key=f"note-{flags_key}", text=note, compact=True)
        st.info("Upload a dermoscopic image of a single lesion to see the model's assessment.")
    ui.model_limits()
    st.stop()

with banner_area:
    key, decoded = resources.decode_or_stop(upload_name, upload_bytes)
# The heatmap widgets are drawn below the result; their values from the previous run choose what to compute.
chosen_method = st.session_state.get("heatmap_method", DEFAULT_METHOD)
target = target_choice = st.session_state.get("heatmap_target")
# A slow method (a minute or more) runs only when asked for, this image and class, with its time said first;
# until then the page shows the default method's map.
slow_pending = CAM_METHODS[chosen_method].slow and \
    st.session_state.get("slow_heatmap_confirmed") != (key, chosen_method, target)
method = DEFAULT_METHOD if slow_pending else chosen_method
compare = st.session_state.get("compare_top3", True) and not CAM_METHODS[method].slow
request = HeatmapRequest(method, classes=(target,) if target else (), top=3 if compare else 1)
with st.spinner(f"Analysing ({CAM_METHODS[method].label})…"):
    analysis = resources.analysis(key, decoded, note, checklist, details, request)
prediction = analysis.prediction


def heatmap_of(target: str):
    """A heatmap of the analysis, or computed now for a class the analysis did not include (cached too)."""
    return analysis.heatmap(target) or resources.analysis(
        key, decoded, note, checklist, details, HeatmapRequest(method, classes=(target,))).heatmap(target)


# Red flags come before the model's output: note, checklist and classifier escalation together.
with banner_area:
    ui.note_problem(analysis.note_problem)
    ui.escalation_banner(analysis.red_flags, key=f"{key}-{flags_key}", text=note, compact=True)
ui.banner_pointer(banner_pointer_area, analysis.red_flags)
st.session_state["current_case"] = analysis.current_case(upload_name)

with result_area:
    ui.image_quality_notice(analysis.quality)
    if prediction.out_of_distribution:
        ui.out_of_distribution_notice()
        results = st.expander("Show the model's output anyway")
    else:
        results = st.container()

with results:
    image_col, result_col = st.columns(2)
    with result_col:
        st.subheader("Model output")
        ui.model_output(prediction, tier=risk_tier(prediction, model.meta.escalation_thresholds, model.meta.metrics))
        st.caption(f"Model {prediction.model_version}; probabilities are temperature-calibrated on a "
                   "lesion-level validation split. Red bars are malignant classes.")
    with image_col:
        ranked = [c for c, _ in prediction.ranked()]
        target = st.session_state.get("heatmap_target") or ranked[0]
        opacity = st.session_state.get("heatmap_opacity", 0.5)
        shown = heatmap_of(target)
        overlay = figures.heatmap_overlay(decoded.image, shown.heatmap, opacity)
        lesion = analysis.lesion
        outlined = lesion is not None and lesion.usable and st.session_state.get("show_outline", True)
        if outlined:
            overlay = figures.mask_outline(overlay, lesion.mask, width=max(2, round(min(decoded.size) / 160)))
        plain_col, overlay_col = st.columns(2)
        plain_col.image(decoded.image, caption="The image as uploaded", width="stretch")
        overlay_col.image(overlay, width="stretch",
                          caption=f"{shown.label} for {shown.target}" + (" · green: lesion outline" if outlined else ""))
        if slow_pending:
            slow = CAM_METHODS[chosen_method]
            st.info(f"{slow.label} runs the model once per feature channel: about {slow.typical_seconds:.0f} s for "
                    f"one map on a 2-core CPU, during which this page waits. {shown.label} is shown meanwhile.",
                    icon=":material/hourglass_top:")
            if st.button(f"Compute {slow.label} for {shown.target} (about {slow.typical_seconds:.0f} s)"):
                st.session_state["slow_heatmap_confirmed"] = (key, chosen_method, target_choice)
                st.rerun()
        ui.heatmap_legend()
        ui.heatmap_placement(analysis.placement(shown.target))
        ui.lesion_outline_note(lesion)
        target_col, method_col = st.columns(2)
        target_col.selectbox("Heatmap for class", ranked, key="heatmap_target",
                             format_func=lambda c: f"{c} — {CLASS_NAMES[c]}",
                             help="The heatmap shows where the model found evidence for this class.")
        method_col.selectbox("Heatmap method", list(CAM_METHODS), key="heatmap_method",
                             format_func=lambda m: CAM_METHODS[m].label + (" (slow)" if CAM_METHODS[m].slow else ""),
                             help="Grad-CAM is the default; the Explanation lab compares methods in depth.")
        opacity_col, outline_col = st.columns(2)
        opacity_col.slider("Heatmap opacity", 0.0, 1.0, 0.5, 0.05, key="heatmap_opacity")
        if lesion is not None and lesion.usable:
            outline_col.toggle("Show the lesion outline", value=True, key="show_outline",
                               help="The green line is where the segmentation model puts the lesion's edge.")
    # Per-class heatmaps: fast methods share one forward pass, so the top three cost little more than one.
    compare_on = st.toggle("Compare the top 3 classes", value=True, key="compare_top3",
                           disabled=CAM_METHODS[method].slow,
                           help="Fast methods only: the slow ones take one to two minutes per class on a 2-core CPU.")
    if compare_on and not CAM_METHODS[method].slow:
        for column, explanation in zip(st.columns(3), [heatmap_of(c) for c in ranked[:3]]):
            column.image(figures.heatmap_overlay(decoded.image, explanation.heatmap, opacity), width="stretch",
                         caption=f"{explanation.label}: {explanation.target} "
                                 f"({prediction.probabilities[explanation.target]:.0%})")

    if analysis.lesion is not None and analysis.lesion.usable and not prediction.out_of_distribution:
        with st.expander("Lesion measurements (ABCD) from the outline"):
            field_of_view = st.number_input("Width of the whole photo in mm (optional, for the diameter in mm)",
                                            min_value=1.0, max_value=500.0, value=None, step=1.0, key="field_of_view")
            ui.lesion_measurements(resources.measurements(key, analysis, field_of_view))

ui.model_limits()
save_as_case_panel(analysis, heatmap_target=shown.target, source_name=upload_name, red_flag_key=f"{key}-{flags_key}")
