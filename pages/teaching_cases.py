"""Teaching cases for educators: reviewed cases with the clinician's verdict and no patient details."""
import secrets

import streamlit as st
from PIL import Image

from core.accounts.roles import Permission
from core.cases import AGREEMENTS, MANAGEMENTS, CaseStoreError
from core.cases.teaching import teaching_cases
from core.config import CLASS_NAMES
from dashboard import auth_ui, cases_ui
from dashboard import components as ui

auth_ui.require(Permission.TEACHING_CASES)


@st.cache_resource
def _reference_salt() -> str:
    """Random per server process: the references stay stable while it runs and cannot be traced to case numbers."""
    return secrets.token_hex(16)


st.title("Teaching cases")
ui.decision_support_notice()
st.caption("Cases a clinician has reviewed, with their verdict. Patient reference, dates, clinical note, comments "
           "and names are removed; age is shown in ten-year bands. The model's output is as it was when the case "
           "was analysed.")
store = cases_ui.case_store()
if store is None:
    st.stop()
try:
    cases = teaching_cases(store, _reference_salt())
except CaseStoreError as exc:
    st.error(str(exc))
    st.stop()
if not cases:
    st.info("No reviewed case with a verdict yet.")
    st.stop()

diagnoses = sorted({c.diagnosis for c in cases})
left, middle, right = st.columns(3)
chosen = left.multiselect("Verdict diagnosis", diagnoses, format_func=lambda d: CLASS_NAMES.get(d, d))
agreement = middle.multiselect("Clinician's agreement with the model", list(AGREEMENTS), format_func=AGREEMENTS.get)
hide = right.toggle("Hide the verdicts (quiz the class)", value=False)
shown = [c for c in cases if (not chosen or c.diagnosis in chosen) and (not agreement or c.agreement in agreement)]
st.caption(f"{len(shown)} of {len(cases)} teaching case(s), most recently reviewed first.")

for case in shown:
    with st.container(border=True):
        image_col, text_col = st.columns([1, 2])
        try:
            with Image.open(case.image_path) as img:
                image_col.image(img.convert("RGB"), width="stretch")
        except OSError:
            image_col.warning("The image file is missing from the image store.")
        details = " · ".join(v for v in (case.sex, f"age {case.age_band}" if case.age_band else None, case.site) if v)
        text_col.markdown(f"**{case.reference}**" + (f" · {details}" if details else ""))
        if case.not_a_lesion_image:
            text_col.warning("The model found this image unlike dermoscopy of a skin lesion; its output means nothing.")
        if case.quality_problems:
            text_col.warning("Image quality: " + ", ".join(case.quality_problems) + ".")
        top = sorted(case.probabilities.items(), key=lambda kv: kv[1], reverse=True)[:3]
        text_col.markdown("Model (decision support, not a diagnosis): " + ", ".join(
            f"{CLASS_NAMES.get(c, c)} {p:.0%}" for c, p in top))
        verdict = (f"Clinician's verdict: **{ui.escape_markdown(CLASS_NAMES.get(case.diagnosis, case.diagnosis))}**"
                   f" · {AGREEMENTS.get(case.agreement, '–')} · {MANAGEMENTS.get(case.management, '–')}")
        if hide:
            with text_col.expander("Show the verdict"):
                st.markdown(verdict)
        else:
            text_col.markdown(verdict)
