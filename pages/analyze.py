"""Analyze an image: red flags first, then calibrated probabilities and a heatmap (any CAM method) of any
class, with the top three classes side by side."""
import streamlit as st

from core.explain import figures
from core.triage.checklist import ITEMS, ChecklistAnswers, checklist_finding, score_checklist
from core.config import CLASS_NAMES
from core.explain.cams import CAM_METHODS
from core.vision.imaging import UPLOAD_EXTENSIONS
from core.triage import TriageInputError, assess, classifier_finding, combine
from dashboard import components as ui
from dashboard import resources
from dashboard.cases_ui import save_as_case_panel

SITES = ["unknown", "abdomen", "acral", "back", "chest", "ear", "face", "foot", "genital", "hand",
         "lower extremity", "neck", "scalp", "trunk", "upper extremity"]

st.title("Analyze a lesion image")
ui.decision_support_notice()
ui.model_limits()

model = resources.classifier()
if model is None:
    ui.missing_model_message()
    st.stop()

upload = st.file_uploader("Dermoscopy image (JPEG, PNG, WebP, TIFF or BMP)", type=UPLOAD_EXTENSIONS)
age_col, sex_col, site_col = st.columns(3)
age = age_col.number_input("Age (years)", min_value=0, max_value=120, value=None, step=1)
sex = sex_col.selectbox("Sex", ["unknown", "female", "male"])
site = site_col.selectbox("Body site", SITES)
note = st.text_area("Clinical note (optional)", placeholder="History, symptoms, change over time…",
                    help="Read by the red-flag filter before anything else.")
with st.expander("NICE weighted 7-point checklist"):
    st.caption("Major features score 2, minor features 1; a total of 3 or more warrants a suspected-cancer "
               "pathway referral (NICE NG12).")
    answers = {item.key: st.checkbox(f"{item.label} ({item.kind}, {item.points})", key=f"seven-{item.key}")
               for item in ITEMS}
    checklist = score_checklist(ChecklistAnswers.from_mapping(answers))
    st.markdown(f"**Score: {checklist.score}** — "
                + ("refer urgently (3 or more)." if checklist.refer else "below the referral threshold of 3."))
st.caption("Age, sex and site are recorded with the case; this model reads the image only.")

try:
    note_assessment = assess(note) if note.strip() else None
except TriageInputError as exc:
    note_assessment = None
    st.error(f"The clinical note could not be checked for red flags: {exc}")

if upload is None:
    red_flags = combine(note_assessment, checklist_finding(checklist))
    ui.escalation_banner(red_flags, key=f"note-{resources.digest(note.encode())}-{checklist.score}", text=note)
    st.info("Upload a dermoscopic image of a single lesion to see the model's assessment.")
    st.stop()

data = upload.getvalue()
key, decoded = resources.decode_or_stop(upload.name, data)

with st.spinner("Analysing…"):
    prediction = resources.predict(key, decoded, model.meta.version)

# Red flags come before the model's output: note, checklist and classifier escalation together.
thresholds = model.meta.escalation_thresholds
sensitivities = {c: v.get("sensitivity") for c, v in model.meta.metrics.get("escalation", {}).items()
                 if c in thresholds and isinstance(v, dict)}
red_flags = combine(note_assessment, checklist_finding(checklist),
                    None if prediction.out_of_distribution else
                    classifier_finding(prediction.probabilities, thresholds, sensitivities))
ui.escalation_banner(red_flags, key=f"{key}-{resources.digest(note.encode())}-{checklist.score}", text=note)

st.session_state["current_case"] = {"predicted": prediction.predicted, "probabilities": prediction.probabilities,
                                    "image": upload.name, "model_version": prediction.model_version}

if prediction.out_of_distribution:
    st.error("**This does not look like a dermoscopy image of a skin lesion.** Its features are far from every "
             "image the model was trained on, so the probabilities below are meaningless. Upload a dermoscopic "
             "photograph of a single lesion.", icon=":material/block:")
    results = st.expander("Show the model's output anyway")
else:
    results = st.container()

with results:
    image_col, result_col = st.columns(2)
    with result_col:
        st.subheader("Model output")
        ui.model_output(prediction)
        st.caption(f"Model {prediction.model_version}; probabilities are temperature-calibrated on a "
                   "lesion-level validation split. Red bars are malignant classes.")
    with image_col:
        ranked = [c for c, _ in prediction.ranked()]
        target = st.selectbox("Heatmap for class", ranked, format_func=lambda c: f"{c} — {CLASS_NAMES[c]}",
                              help="The heatmap shows where the model found evidence for this class.")
        opacity = st.slider("Heatmap opacity", 0.0, 1.0, 0.5, 0.05)
        method = st.selectbox("Heatmap method", list(CAM_METHODS), format_func=lambda m: CAM_METHODS[m].label
                              + (" (slow)" if CAM_METHODS[m].slow else ""),
                              help="Grad-CAM is the default; the Explanation lab compares methods in depth.")
        label = CAM_METHODS[method].label
        with st.spinner(f"Computing {label}…"):
            cam = resources.heatmap(key, decoded, method, target, model.meta.version)
        st.image(figures.heatmap_overlay(decoded.image, cam, opacity), caption=f"{label} for {target}", width="stretch")
        st.caption("Warm colours mark regions that raised this class's score. A heatmap on the lesion does not "
                   "prove the prediction is right; one on a ruler, ink mark or hair is a warning sign.")
    # Per-class heatmaps: fast methods share one forward pass, so the top three cost little more than one.
    top3 = ranked[:3]
    if st.toggle("Compare the top 3 classes", value=not CAM_METHODS[method].slow,
                 help="The slow methods take one to two minutes per class on a 2-core CPU."):
        with st.spinner(f"Computing {label} for {', '.join(top3)}…"):
            per_class = resources.explanations(key, decoded, (method,), tuple(top3), model.meta.version)
        for column, explanation in zip(st.columns(len(per_class)), per_class):
            column.image(figures.heatmap_overlay(decoded.image, explanation.heatmap, opacity), width="stretch",
                         caption=f"{label}: {explanation.target} ({prediction.probabilities[explanation.target]:.0%})")

save_as_case_panel(decoded, prediction, cam, age, sex, site, note, red_flags, checklist,
                   heatmap_target=target, heatmap_method=label, source_name=upload.name)
