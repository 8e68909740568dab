"""Explanation lab: several CAM methods and target classes side by side on one image, each heatmap with
its faithfulness numbers, and an honest explainer of what a CAM can and cannot tell you."""
import streamlit as st

from core.explain import figures
from core.config import CLASS_NAMES
from core.vision.data import DataError, image_path
from core.explain.methods import CAM_METHODS
from core.explain.faithfulness import FaithfulnessError, view_to_image
from core.vision.imaging import FORMATS_NAMED, UPLOAD_EXTENSIONS
from core.explain.localisation import centre_gaussian, localise
from core.explain.placement import OFF_LESION_BELOW
from dashboard import components as ui
from dashboard import resources
from core.accounts.roles import Permission
from dashboard import auth_ui

user = auth_ui.require(Permission.LAB)

DEFAULT_METHODS = ["gradcam", "gradcam++", "eigencam"]
COLUMNS = 3
VIEW_TITLES = {"without_most_relevant": "most relevant 20 % removed (ROAD)",
               "without_least_relevant": "least relevant 20 % removed (ROAD)",
               "highlighted_only": "highlighted region only"}

st.title("Explanation lab")
st.caption("Where did the model look? Compare CAM methods and classes side by side, and see how far each "
           "heatmap can be trusted. For teaching and for checking a prediction, not for diagnosis.")
settings = resources.settings()
with st.expander("What a CAM does and does not tell you"):
    ui.cam_explainer()
    article = resources.knowledge_document(str(settings.kb_dir / "ai" / "grad-cam-explained.md"))
    if article and st.toggle(f"Read the knowledge-base article “{article[0]}”"):
        st.markdown(article[1])
    st.caption("Questions about heatmaps can also be put to the **Ask the knowledge base** page, "
               "e.g. “What does a Grad-CAM heatmap not show?”.")

model = resources.classifier()
if model is None:
    ui.missing_model_message()
    st.stop()

# Trainees work on the HAM10000 images only; uploads (possibly of patients) are for clinicians and educators.
sources = ["Upload an image", "HAM10000 folder"] if user.can(Permission.LAB_UPLOAD) else ["HAM10000 folder"]
source = st.radio("Image source", sources, horizontal=True)
mask, use_mask = None, False  # use_mask: the HAM10000 hand-drawn mask rather than the segmenter's outline
if source == "Upload an image":
    upload = st.file_uploader(f"Dermoscopy image ({FORMATS_NAMED})", type=UPLOAD_EXTENSIONS)
    if upload is None:
        st.info("Upload a dermoscopic image of a single lesion, or pick one from the HAM10000 folder.")
        st.stop()
    name, data = upload.name, upload.getvalue()
else:
    folder = settings.ham10000_dir
    config = model.meta.training.get("config", {})
    try:
        records, validation_ids = resources.ham_records(str(folder), config.get("val_fraction", 0.2),
                                                        config.get("seed", 42))
    except DataError as exc:
        st.error(f"The HAM10000 folder `{folder}` cannot be used: {exc} Set `DERMADESK_HAM10000_DIR` to a "
                 "HAM10000-format folder.")
        st.stop()
    class_col, split_col = st.columns(2)
    diagnosis = class_col.selectbox("Diagnosis", ["any", *model.classes],
                                    format_func=lambda c: c if c == "any" else f"{c} — {CLASS_NAMES[c]}")
    unseen_only = split_col.toggle("Validation images only", value=True,
                                   help="Images of lesions the model was not trained on.")
    candidates = [r for r in records if (diagnosis == "any" or r.dx == diagnosis)
                  and (not unseen_only or r.image_id in validation_ids)]
    if not candidates:
        st.info("No image matches these filters.")
        st.stop()
    record = candidates[st.number_input(f"Image number (1–{len(candidates)})", 1, len(candidates), 1) - 1]
    name = record.image_id
    try:
        data = image_path(folder, record.image_id).read_bytes()
    except OSError as exc:
        st.error(f"{record.image_id} cannot be read: {exc.strerror or exc}.")
        st.stop()
    st.markdown(f"**{record.image_id}** — ground truth: **{record.dx}** ({CLASS_NAMES[record.dx]}) · "
                f"age {f'{record.age:g}' if record.age is not None else 'unknown'} · {record.sex} · {record.localization}"
                + (" · validation split" if record.image_id in validation_ids else " · training split"))
    use_mask = st.radio("Lesion outline to score each heatmap against",
                        ["hand-drawn mask (HAM10000)", "segmentation model's outline"], horizontal=True,
                        help="On an upload there is no hand-drawn mask: the segmentation model's outline is used.",
                        ) == "hand-drawn mask (HAM10000)"

key, decoded = resources.decode_or_stop(name, data)
with st.spinner("Analysing…"):
    analysis = resources.analysis(key, decoded)
prediction = analysis.prediction
outline_name = "segmentation model's outline"
if use_mask:
    mask, problem = resources.ham_mask(str(settings.ham10000_dir), name, decoded.size)
    outline_name = "hand-drawn mask"
    if problem:
        st.caption(f"The lesion mask is not used: {problem}.")
elif analysis.lesion is None:
    st.caption("No lesion segmenter is installed: the heatmaps are not scored against an outline.")
elif analysis.lesion.problem:
    st.caption(f"Lesion outline not used: {analysis.lesion.problem}.")
else:
    mask = analysis.lesion.mask
if prediction.out_of_distribution:
    ui.out_of_distribution_notice("so its heatmaps explain nothing useful. They are shown only for teaching.")
truth = record.dx if source != "Upload an image" else None
if truth and prediction.predicted != truth:
    st.warning(f"**The model is wrong on this image**: it suggests {prediction.predicted} "
               f"({prediction.probabilities[prediction.predicted]:.0%}), the ground truth is {truth} "
               f"({prediction.probabilities[truth]:.0%}). Compare the heatmaps of both classes to see why.",
               icon=":material/error:")
ranked = prediction.ranked()

method_col, target_col = st.columns(2)
methods = method_col.multiselect(
    "CAM methods", list(CAM_METHODS), default=DEFAULT_METHODS,
    format_func=lambda m: CAM_METHODS[m].label + (" (slow)" if CAM_METHODS[m].slow else ""))
targets = target_col.multiselect(
    "Target classes", [c for c, _ in ranked],
    default=[prediction.predicted] + ([truth] if truth and truth != prediction.predicted else []),
    format_func=lambda c: f"{c} — {CLASS_NAMES[c]} ({prediction.probabilities[c]:.0%})",
    help="A heatmap shows evidence for one class; pick several to compare.")
opacity = st.slider("Heatmap opacity", 0.0, 1.0, 0.5, 0.05)
option_cols = st.columns(3)
measure = option_cols[0].checkbox("Measure faithfulness", value=True, help="About half a second per heatmap.")
aug_smooth = option_cols[1].checkbox("Augmentation smoothing", help="Average each map over flipped and rescaled "
                                     "copies of the image (6 passes; slower).")
eigen_smooth = option_cols[2].checkbox("Eigen smoothing", help="Keep only the first principal component of the "
                                       "weighted activations (less noise, may hide a second region).")
if not methods or not targets:
    st.info("Choose at least one method and one target class.")
    st.stop()
slow = [m for m in methods if CAM_METHODS[m].slow]
if slow and st.session_state.get("lab_slow_confirmed") != (key, tuple(slow), tuple(targets)):
    seconds = sum(CAM_METHODS[m].typical_seconds for m in slow) * len(targets)
    names = " and ".join(CAM_METHODS[m].label for m in slow)
    st.warning(f"{names} run the model once per feature channel (1,280 times): about {seconds:.0f} s for "
               f"{len(slow) * len(targets)} map(s) on a 2-core CPU (`benchmarks/bench_explain.py`), during which "
               "the page waits. The other methods are shown now.", icon="⏳")
    if st.button(f"Compute {names} (about {seconds:.0f} s)"):
        st.session_state["lab_slow_confirmed"] = (key, tuple(slow), tuple(targets))
        st.rerun()
    methods = [m for m in methods if m not in slow]
    if not methods:
        st.stop()

with st.spinner("Computing heatmaps…"):
    explanations = resources.explanations(key, decoded, tuple(methods), tuple(targets), model.meta.version,
                                          aug_smooth, eigen_smooth)
smoothing = ("aug" if aug_smooth else "") + ("eigen" if eigen_smooth else "")
tiles, first_views = [], None
# The same image's score for a plain blob on its centre: a heatmap tells us more only where it beats this.
centre = localise(centre_gaussian(mask.shape), mask) if mask is not None else None
cells = st.columns(min(COLUMNS, len(explanations)))
for position, explanation in enumerate(explanations):
    picture = figures.heatmap_overlay(decoded.image, explanation.heatmap, opacity)
    if mask is not None:
        picture = figures.mask_outline(picture, mask)
    caption = f"{explanation.label} · {explanation.target} ({prediction.probabilities[explanation.target]:.0%})"
    reading = ""
    with cells[position % len(cells)]:
        st.image(picture, caption=caption, width="stretch")
        if mask is not None:
            place = localise(explanation.heatmap, mask)
            st.caption(f"**On the lesion** ({outline_name}): {place.energy_inside:.0%} of the heatmap "
                       f"(centre prior {centre.energy_inside:.0%}); peak "
                       + ("inside" if place.pointing_hit >= 0.5 else "**outside**") + " the lesion.")
            if place.energy_inside < OFF_LESION_BELOW:
                st.warning("Mostly off the lesion: this map sits on the skin around it, a ruler, ink, hair or the "
                           "frame.", icon=":material/visibility_off:")
        if measure:
            try:
                with st.spinner("Measuring faithfulness…"):
                    result = resources.faithfulness(key, decoded, explanation, explanation.method,
                                                    explanation.target, model.meta.version, smoothing)
            except FaithfulnessError as exc:
                reading = f"Faithfulness not measured: {exc}."
                st.caption(reading)
            else:
                reading = result.reading
                st.caption(f"**ROAD** (20 % removed): most relevant → {result.without_most_relevant:.0%}, "
                           f"least relevant → {result.without_least_relevant:.0%} · **highlighted only** → "
                           f"{result.highlighted_only:.0%} · unperturbed {result.probability:.0%} (one un-flipped view)")
                st.caption(reading)
                first_views = first_views or (caption, result.views)
    tiles.append((picture, f"{caption}. {reading}".strip()))

st.caption(f"Heatmaps computed in {sum(e.seconds for e in explanations):.2f} s in all (methods sharing one "
           "forward pass count it once each). Percentages beside the class names are the calibrated probabilities "
           "the app shows (averaged over 4 flips); the faithfulness tests re-score single un-flipped views, so "
           "their unperturbed value can differ a little."
           + (f" The green line is the {outline_name}; \"on the lesion\" is the share of each heatmap's weight "
              "inside it, beside what a blob on the image centre gets (see the model card for these scores over "
              "the whole validation split); under half inside raises a warning." if mask is not None else ""))
st.download_button("Download figure (PNG)", data=figures.figure_png(tiles, min(COLUMNS, len(tiles)),
                                                               title=f"{name} — DermaDesk {model.meta.version}"),
                   file_name=f"dermadesk-cams-{key[:8]}.png", mime="image/png")

if first_views:
    with st.expander(f"What the model saw in the faithfulness tests ({first_views[0]})"):
        view_cols = st.columns(3)
        for column, (view, title) in zip(view_cols, VIEW_TITLES.items()):
            column.image(view_to_image(first_views[1][view], model.meta.mean, model.meta.std), caption=title,
                         width="stretch")
