"""Reusable UI pieces: notices, the probability chart, heatmap overlays."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from PIL import Image

from core.classifier import Prediction
from core.config import CLASS_NAMES, MALIGNANT, PROJECT_ROOT

MODEL_CARD = PROJECT_ROOT / "models" / "MODEL_CARD.md"


def decision_support_notice() -> None:
    st.warning(
        "**Decision support, not a diagnosis.** These probabilities come from a research model trained on "
        "HAM10000 dermoscopy images. They do not replace clinical examination, dermoscopy by a trained "
        "clinician, or histology. If in doubt, refer.",
        icon=":material/warning:",
    )


def model_limits() -> None:
    with st.expander("Known limits of this model"):
        st.markdown(
            "- Trained on 7 classes only (akiec, bcc, bkl, df, mel, nv, vasc): it cannot recognise SCC, "
            "Merkel cell carcinoma, inflammatory disease or anything else, and will still answer with one of the 7.\n"
            "- Trained on dermoscopy images from Austria and Australia, mostly fair skin: performance on darker "
            "skin, clinical (non-dermoscopic) photos or other devices is unknown.\n"
            "- Probabilities are calibrated on a validation split of the same data set; on other populations "
            "they may be over- or under-confident.\n"
            "- A heatmap shows where evidence for a class was found, not that the prediction is right.\n\n"
            "Full details, metrics per class and failure modes: the **Model card** page."
        )


def low_confidence_notice(prediction: Prediction) -> None:
    st.info(
        f"**Low confidence.** The top class has only {prediction.confidence:.0%} probability: the model cannot "
        "separate the leading diagnoses. Rely on clinical and dermoscopic assessment.",
        icon=":material/help:",
    )


def probability_chart(prediction: Prediction) -> go.Figure:
    """Horizontal bars sorted by probability, highest on top; malignant classes in red and marked."""
    ranked = prediction.ranked()[::-1]  # plotly draws the first bar at the bottom
    labels = [f"{c} · {SHORT_NAMES[c]}{' (malignant)' if c in MALIGNANT else ''}" for c, _ in ranked]
    values = [p for _, p in ranked]
    colours = ["#c0392b" if c in MALIGNANT else "#2e86c1" for c, _ in ranked]
    fig = go.Figure(go.Bar(x=values, y=labels, orientation="h", marker_color=colours,
                           text=[f"{v:.1%}" for v in values], textposition="outside",
                           customdata=[CLASS_NAMES[c] for c, _ in ranked],
                           hovertemplate="%{customdata}: %{x:.1%}<extra></extra>"))
    fig.update_layout(xaxis=dict(range=[0, 1.18], tickformat=".0%", title="calibrated probability"),
                      margin=dict(l=10, r=10, t=10, b=10), height=300, showlegend=False)
    return fig


SHORT_NAMES = {"akiec": "AK / Bowen's", "bcc": "BCC", "bkl": "benign keratosis", "df": "dermatofibroma",
               "mel": "melanoma", "nv": "naevus", "vasc": "vascular"}


def _colormap(heatmap: np.ndarray) -> np.ndarray:
    """A perceptually ordered blue→red ramp (like 'jet' but calmer), no matplotlib needed."""
    stops = np.array([[0, 0, 130], [0, 110, 255], [0, 220, 200], [250, 230, 0], [255, 60, 0], [170, 0, 0]], float)
    x = np.clip(heatmap, 0, 1) * (len(stops) - 1)
    lo = np.floor(x).astype(int).clip(0, len(stops) - 2)
    frac = (x - lo)[..., None]
    return (stops[lo] * (1 - frac) + stops[lo + 1] * frac).astype(np.uint8)


def overlay(image: Image.Image, heatmap: np.ndarray, opacity: float) -> Image.Image:
    """Blend the heatmap onto the image; cold areas stay mostly transparent so the lesion shows."""
    base = np.asarray(image.convert("RGB"), dtype=np.float32)
    colour = _colormap(heatmap).astype(np.float32)
    alpha = (opacity * (0.25 + 0.75 * np.clip(heatmap, 0, 1)))[..., None]
    return Image.fromarray((base * (1 - alpha) + colour * alpha).clip(0, 255).astype(np.uint8))


def model_card_markdown() -> str:
    return MODEL_CARD.read_text() if MODEL_CARD.is_file() else "The model card is missing from models/."


def missing_model_message() -> None:
    st.error(
        "No trained classifier was found. The repository ships one in `models/dermadesk-classifier/`; "
        "if you moved it, set `DERMADESK_MODEL_DIR`, or train one with "
        "`python -m core train --data PATH --out models/dermadesk-classifier`."
    )


# --- Red-flag escalation -------------------------------------------------------------------------

_LEVEL_STYLE = {
    "emergency": (st.error, ":material/emergency:", "EMERGENCY — needs emergency care now"),
    "urgent": (st.warning, ":material/schedule:", "URGENT — same-week specialist review (suspected cancer pathway)"),
}


def _escape_markdown(text: str) -> str:
    return "".join("\\" + ch if ch in "\\`*_{}[]()#+-.!|<>~:$" else ch for ch in text)


def highlighted(text: str, findings) -> str:
    """The text as markdown with every span that triggered a finding on a red background."""
    spans = sorted({span for f in findings for span in f.spans})
    out, cursor = [], 0
    for start, end in spans:
        if start < cursor:
            continue  # overlapping spans: the first one wins
        out.append(_escape_markdown(text[cursor:start]))
        out.append(f":red-background[**{_escape_markdown(text[start:end])}**]")
        cursor = end
    out.append(_escape_markdown(text[cursor:]))
    return "".join(out)


def _acknowledge(flag_key: str) -> None:
    st.session_state[flag_key] = True


def escalation_banner(assessment, key: str, text: str | None = None) -> bool:
    """Show an escalated assessment before anything else; it stays in full until acknowledged, and
    in short form after that (never hidden). Returns True once acknowledged (or if nothing to show).

    `key` identifies this assessment in the session (e.g. a hash of the text it came from).
    """
    if assessment is None or not assessment.escalated:
        return True
    show, icon, heading = _LEVEL_STYLE[assessment.level]
    flag_key = f"acknowledged-{key}"  # plain session state: survives reruns, unlike an unrendered widget
    acknowledged = st.session_state.get(flag_key, False)
    lines = [f"**{heading}**", ""]
    lines += [f"- **{f.condition}**: {f.finding}" + (f" — {f.detail}" if f.detail else "") for f in assessment.findings]
    if acknowledged:
        lines += ["", "_Acknowledged by the clinician._"]
    else:
        lines += ["", *assessment.advice]
    show("\n".join(lines), icon=icon)
    if not acknowledged:
        if text:
            st.markdown("Triggered by: " + highlighted(text, assessment.findings))
        if assessment.sources:
            with st.expander("Sources for this advice"):
                st.markdown("\n".join(f"- {s}" for s in assessment.sources))
        st.checkbox("I have read this red flag and will act on it", key=f"ack-{key}",
                    on_change=_acknowledge, args=(flag_key,))
    return acknowledged


# --- Explanation lab ------------------------------------------------------------------------------


def mask_outline(image: Image.Image, mask: np.ndarray, colour: tuple[int, int, int] = (0, 255, 90),
                 width: int = 2) -> Image.Image:
    """Draw the boundary of a binary lesion mask onto the image (the mask must share its pixel grid)."""
    inside = np.asarray(mask, dtype=bool)
    eroded = inside.copy()
    for _ in range(width):  # erode by one pixel per step: a pixel stays only if its 4 neighbours are inside
        shrunk = eroded.copy()
        shrunk[1:, :] &= eroded[:-1, :]
        shrunk[:-1, :] &= eroded[1:, :]
        shrunk[:, 1:] &= eroded[:, :-1]
        shrunk[:, :-1] &= eroded[:, 1:]
        eroded = shrunk
    edge = inside & ~eroded
    out = np.asarray(image.convert("RGB")).copy()
    out[edge] = colour
    return Image.fromarray(out)


def _figure_font(size: int):
    """DejaVu Sans (shipped inside matplotlib, a dependency of pytorch-grad-cam), or None if absent."""
    from PIL import ImageFont

    try:
        import matplotlib

        return ImageFont.truetype(str(Path(matplotlib.__file__).parent / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"), size)
    except (ImportError, OSError):
        return None


def _ascii_text(text: str) -> str:
    return text.replace("\u00a0", " ").replace("→", "->").replace("—", "-").replace("·", "-")


def figure_png(tiles: list[tuple[Image.Image, str]], columns: int, title: str = "", tile_width: int = 400) -> bytes:
    """A slide-ready PNG: tiles in a grid, each with its caption underneath, and an optional title."""
    import io
    import textwrap

    from PIL import ImageDraw, ImageFont

    font, text = _figure_font(15), str
    if font is None:  # Pillow's built-in font lacks arrows, dashes and no-break spaces
        font = ImageFont.load_default(size=15)
        text = _ascii_text
    columns = max(1, min(columns, len(tiles)))
    scaled = [img.resize((tile_width, round(img.height * tile_width / img.width)), Image.LANCZOS) for img, _ in tiles]
    wrapped = [textwrap.wrap(text(caption), width=tile_width // 8) or [""] for _, caption in tiles]
    line_h, pad = 19, 12
    text_h = max(len(lines) for lines in wrapped) * line_h
    cell_h = max(img.height for img in scaled) + text_h + pad
    title_h = (line_h + pad) if title else 0
    rows = -(-len(tiles) // columns)
    canvas = Image.new("RGB", (columns * (tile_width + pad) + pad, title_h + rows * cell_h + pad), "white")
    draw = ImageDraw.Draw(canvas)
    if title:
        draw.text((pad, pad // 2), text(title), fill="black", font=font)
    for i, (img, lines) in enumerate(zip(scaled, wrapped)):
        x = pad + (i % columns) * (tile_width + pad)
        y = title_h + pad + (i // columns) * cell_h
        canvas.paste(img, (x, y))
        for n, line in enumerate(lines):
            draw.text((x, y + img.height + 2 + n * line_h), line, fill="black", font=font)
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return buffer.getvalue()


def cam_explainer() -> None:
    """What a class activation map does and does not tell you, in a few honest lines."""
    st.markdown(
        "**What a CAM shows.** Where, on a coarse 7×10 grid of the last feature map, the network found "
        "evidence that raised its score for the chosen class, smoothly up-sampled to the image.\n\n"
        "**What it does not show.** Whether the prediction is right, which dermoscopic feature was recognised, "
        "or why. Methods disagree with each other, and a map can look plausible without being faithful.\n\n"
        "**Why 'on the lesion' is weak evidence.** Dermoscopy photos are centred on the lesion, so a plain blob "
        "in the middle of the image also lands on it. A map is informative only where it beats that centre "
        "prior; a map on a ruler, ink mark, hair or dark corner is a reason to distrust the prediction.\n\n"
        "**How faithful is it?** Each heatmap below is tested by removing its most (and least) relevant 20 % "
        "of pixels (ROAD) and by keeping only the highlighted region, then re-scoring the image. A faithful "
        "map's most relevant region changes the score far more than its least relevant one."
    )
