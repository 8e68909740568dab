"""Reusable UI pieces: notices, the probability chart, red-flag banners, the CAM explainer.

Pictures (overlays, mask outlines, figure grids) are drawn by `core.explain.figures`."""
from __future__ import annotations

import re

import plotly.graph_objects as go
import streamlit as st

from core.config import CLASS_NAMES, MALIGNANT, PROJECT_ROOT
from core.vision.classifier import Prediction
from core.vision.limits import MODEL_LIMITS
from core.vision.risk import RiskTier

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
        st.markdown("\n".join(f"- {limit}" for limit in MODEL_LIMITS)
                    + "\n\nFull details, metrics per class and failure modes: the **Model card** page.")


def out_of_distribution_notice(consequence: str = "so the probabilities below are meaningless. Upload a "
                               "dermoscopic photograph of a single lesion.") -> None:
    st.error("**This does not look like a dermoscopy image of a skin lesion.** Its features are far from every "
             f"image the model was trained on, {consequence}", icon=":material/block:")


def note_problem(problem: str | None) -> None:
    """Say so when the clinical note could not be checked for red flags (e.g. longer than the filter reads)."""
    if problem:
        st.error(f"The clinical note could not be checked for red flags: {problem}")


def model_output(prediction: Prediction, chart_key: str | None = None, tier: RiskTier | None = None) -> None:
    """The risk tier (when given), the suggested class with its probability, a low-confidence notice when
    due, and the probability chart."""
    if tier is not None:
        badge = {"high": ":red-background[High concern]", "intermediate": ":orange-background[Intermediate concern]",
                 "low": ":green-background[Low concern]"}[tier.key]
        st.markdown(f"**Risk tier:** {badge}")
        st.caption(tier.meaning)
    st.markdown(f"**Suggested class:** {prediction.predicted} — {prediction.predicted_name} "
                f"({prediction.confidence:.0%} probability)")
    top = prediction.most_probable
    if top != prediction.predicted:
        st.caption(f"The most probable class is {top} ({prediction.probabilities[top]:.0%}). The suggestion weighs "
                   "rarer classes up, as fitted on the validation split, so that melanomas and other rare lesions "
                   "are not lost among the common naevi (model card: decision rule).")
    if prediction.low_confidence:
        low_confidence_notice(prediction)
    close = close_call(prediction)
    if close:
        st.info(close, icon=":material/balance:")
    st.plotly_chart(probability_chart(prediction), width="stretch", config={"displayModeBar": False}, key=chart_key)


CLOSE_CALL_MARGIN = 0.15  # two leading classes nearer than this are not separated by the model


def close_call(prediction: Prediction) -> str | None:
    """A notice when the two most probable classes are within CLOSE_CALL_MARGIN of each other."""
    (first, p1), (second, p2) = prediction.ranked()[:2]
    if p1 - p2 >= CLOSE_CALL_MARGIN:
        return None
    return (f"**Close call:** {first} ({p1:.0%}) and {second} ({p2:.0%}) are nearly as likely as each other. "
            f"Look at the heatmaps of both classes and decide on the clinical and dermoscopic features.")


def low_confidence_notice(prediction: Prediction) -> None:
    st.info(
        f"**Low confidence.** The most probable class has only {max(prediction.probabilities.values()):.0%} "
        "probability: the model cannot "
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


def escape_markdown(text: str) -> str:
    """User-written text shown inside markdown: links, images and formatting stay plain text."""
    return _escape_markdown(str(text))


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


def _acknowledge(flag_key: str, record=None) -> None:
    st.session_state[flag_key] = True
    if record is not None:
        record()


def acknowledged_in_session(key: str) -> bool:
    """Whether the banner drawn with `key` was acknowledged in this browser session."""
    return bool(st.session_state.get(f"acknowledged-{key}", False))


def escalation_banner(assessment, key: str, text: str | None = None, *, recorded: str | None = None,
                      on_acknowledge=None, can_acknowledge: bool = True, compact: bool = False) -> bool:
    """Show an escalated assessment before anything else; it stays in full until acknowledged, and
    in short form after that (never hidden). Returns True once acknowledged (or if nothing to show).

    `key` identifies this assessment in the session (e.g. a hash of the text it came from). `recorded`
    is an acknowledgement already kept in the audit trail ("Dr A, 2026-12-02 10:14 UTC"); `on_acknowledge`
    is called when the clinician ticks the box, to record it there; without a name (`can_acknowledge`
    False) the box is disabled, so no acknowledgement goes unattributed.

    `compact` (the analysis and case pages, where the image and the result must stay on the first screen):
    the level, the most severe finding and its first action in the banner itself, always shown; every finding,
    the words that raised them, the full advice and the sources in a folded expander right below it, beside
    the acknowledgement box.
    """
    if assessment is None or not assessment.escalated:
        return True
    show, icon, heading = _LEVEL_STYLE[assessment.level]
    flag_key = f"acknowledged-{key}"  # plain session state: survives reruns, unlike an unrendered widget
    acknowledged = bool(recorded) or st.session_state.get(flag_key, False)
    if compact:
        _compact_banner(assessment, key, text, recorded=recorded, acknowledged=acknowledged,
                        on_acknowledge=on_acknowledge, can_acknowledge=can_acknowledge)
        return acknowledged
    lines = [f"**{heading}**", ""]
    lines += [f"- **{f.condition}**: {f.finding}" + (f" — {f.detail}" if f.detail else "") for f in assessment.findings]
    if recorded:
        lines += ["", f"_Read and acknowledged by {_escape_markdown(recorded)} (in the case history)._"]
    elif acknowledged:
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
        st.checkbox("I have read this red flag and will act on it", key=f"ack-{key}", disabled=not can_acknowledge,
                    on_change=_acknowledge, args=(flag_key, on_acknowledge),
                    help=None if can_acknowledge else _NAME_FIRST)
    return acknowledged


_NAME_FIRST = "Enter your name in the sidebar: the acknowledgement is recorded with it."
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def first_action(assessment) -> str:
    """The single most important thing to do: the first sentence of the most severe finding's advice (of the
    level's advice when that finding names no condition with advice of its own)."""
    from core.triage import CONDITIONS

    top = assessment.findings[0] if assessment.findings else None
    condition = None
    if top is not None:  # a finding read back from a saved case has its condition's name but not its key
        condition = CONDITIONS.get(top.condition_key) or next(
            (c for c in CONDITIONS.values() if c.name == top.condition), None)
    advice = condition.advice if condition is not None else (assessment.advice[0] if assessment.advice else "")
    return _SENTENCE_END.split(advice, maxsplit=1)[0]


def banner_headline(assessment) -> str:
    """The level, the most severe finding and how many more there are, in one line of markdown."""
    _, _, heading = _LEVEL_STYLE[assessment.level]
    findings = assessment.findings
    if not findings:
        return f"**{heading}.**"
    top = findings[0]
    more = len(findings) - 1
    return (f"**{heading}:** {_escape_markdown(top.condition)}: {_escape_markdown(top.finding)}"
            + (f" — and {more} more finding{'s' if more > 1 else ''} below." if more else "."))


def banner_pointer(area, assessment) -> None:
    """Where the red flags are, said beside an input that raised them (the banner may be scrolled out of view)."""
    if assessment is None or not assessment.escalated:
        return
    show, _, _ = _LEVEL_STYLE[assessment.level]
    with area:
        show(f"**{assessment.level.upper()} red flag** — shown at the top of this page, above the result.",
             icon=":material/arrow_upward:")


def _compact_banner(assessment, key: str, text: str | None, *, recorded: str | None, acknowledged: bool,
                    on_acknowledge, can_acknowledge: bool) -> None:
    show, icon, _ = _LEVEL_STYLE[assessment.level]
    lines = [banner_headline(assessment), f"**First action:** {_escape_markdown(first_action(assessment))}"]
    if recorded:
        lines.append(f"_Read and acknowledged by {_escape_markdown(recorded)} (in the case history)._")
    elif acknowledged:
        lines.append("_Acknowledged by the clinician._")
    show("  \n".join(lines), icon=icon)
    count = len(assessment.findings)
    details_col, ack_col = st.columns([3, 2], vertical_alignment="center")
    with details_col.expander(f"{count} finding{'s' if count != 1 else ''} in full, with the words that raised "
                              "them, the advice and its sources", icon=":material/list:"):
        st.markdown("\n".join(f"- **{f.condition}**: {f.finding}" + (f" — {f.detail}" if f.detail else "")
                               for f in assessment.findings))
        if text:
            st.markdown("Triggered by: " + highlighted(text, assessment.findings))
        st.markdown("\n\n".join(assessment.advice))
        if assessment.sources:
            st.markdown("**Sources for this advice**\n\n" + "\n".join(f"- {s}" for s in assessment.sources))
    if not acknowledged:
        ack_col.checkbox("I have read this red flag and will act on it", key=f"ack-{key}",
                         disabled=not can_acknowledge, on_change=_acknowledge,
                         args=(f"acknowledged-{key}", on_acknowledge), help=None if can_acknowledge else _NAME_FIRST)


# --- Explanation lab ------------------------------------------------------------------------------


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


# --- Lesion outline and measurements ----------------------------------------------------------------


def heatmap_legend() -> None:
    """The heatmap's colour scale as a bar, with what the colours mean and do not mean."""
    import numpy as np

    from core.explain.figures import heatmap_colours

    st.image(heatmap_colours(np.tile(np.linspace(0.0, 1.0, 256), (10, 1))), width="stretch",
             caption="Heatmap colour scale: dark blue (left) where the model found little evidence for this class, "
                     "through cyan and yellow, to red (right) where it found the most. A heatmap on the lesion does "
                     "not prove the prediction right; one on a ruler, ink mark or hair is a warning sign.")


def image_quality_notice(quality) -> None:
    """A warning above the result when the photo is blurred or badly exposed."""
    if quality is None or quality.ok:
        return
    st.warning("**Image quality: the result may not be reliable.** " + "; ".join(quality.problems).capitalize()
               + ". Retake the photo in focus, with the dermatoscope's light on and the lesion filling the frame.",
               icon=":material/blur_on:")


def heatmap_placement(placement) -> None:
    """Is the heatmap on the lesion? A warning when it sits mostly off the outline, else a caption."""
    if placement is None or placement.outline_problem:  # lesion_outline_note says why there is no check
        return
    if placement.off_lesion:
        st.warning(placement.summary(), icon=":material/visibility_off:")
    else:
        st.caption(placement.summary())


def lesion_outline_note(lesion) -> None:
    if lesion is None:
        st.caption("No lesion segmenter is installed, so there is no outline, placement check or measurement.")
    elif lesion.problem:
        st.caption(f"Lesion outline: {lesion.problem}; the placement check and the measurements are skipped.")
    elif lesion.runs_off_frame:
        st.caption("The lesion runs off the edge of the photo: its diameter and symmetry are measured on the visible "
                   "part only.")


def lesion_measurements(measurements) -> None:
    """The ABCD rows in plain words, with what each measurement means and cannot tell."""
    st.caption("Measured from the outline (green line) and the image's colours — teaching aids, not a diagnosis, "
               "and not the clinician's own ABCD assessment.")
    st.table({"Feature": [r[0] for r in measurements.plain_words()],
              "Measured": [r[1] for r in measurements.plain_words()],
              "What it means": [r[2] for r in measurements.plain_words()]})
