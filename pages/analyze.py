"""Analyze an image: upload, calibrated probabilities, Grad-CAM of the top (or chosen) class."""
import streamlit as st

from core.config import CLASS_NAMES
from core.imaging import UPLOAD_EXTENSIONS, ImageError
from dashboard import components as ui
from dashboard import resources

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
st.caption("Age, sex and site are recorded with the case; this model reads the image only.")

if upload is None:
    st.info("Upload a dermoscopic image of a single lesion to see the model's assessment.")
    st.stop()

data = upload.getvalue()
key = resources.digest(data)
try:
    decoded = resources.decode(key, data)
except ImageError as exc:
    st.error(f"**{upload.name}** cannot be analysed: {exc}")
    st.stop()
for note in decoded.notes:
    st.caption(f"ℹ️ {note}")

with st.spinner("Analysing…"):
    prediction = resources.predict(key, decoded)

image_col, result_col = st.columns(2)
with result_col:
    st.subheader("Model output")
    st.metric("Most likely class", f"{prediction.predicted} — {prediction.predicted_name}",
              f"{prediction.confidence:.0%} probability", delta_color="off")
    if prediction.low_confidence:
        ui.low_confidence_notice(prediction)
    st.plotly_chart(ui.probability_chart(prediction), width="stretch")
    st.caption(f"Model {prediction.model_version}; probabilities are temperature-calibrated on a "
               "lesion-level validation split. Red bars are malignant classes.")

with image_col:
    ranked = [c for c, _ in prediction.ranked()]
    target = st.selectbox("Heatmap for class", ranked, format_func=lambda c: f"{c} — {CLASS_NAMES[c]}",
                          help="Grad-CAM shows where the model found evidence for this class.")
    opacity = st.slider("Heatmap opacity", 0.0, 1.0, 0.5, 0.05)
    with st.spinner("Computing Grad-CAM…"):
        cam = resources.heatmap(key, decoded, "gradcam", target)
    st.image(ui.overlay(decoded.image, cam, opacity), caption=f"Grad-CAM for {target}", width="stretch")
    st.caption("Warm colours mark regions that raised this class's score. A heatmap on the lesion does not "
               "prove the prediction is right; one on a ruler, ink mark or hair is a warning sign.")
