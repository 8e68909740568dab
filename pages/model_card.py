"""The model card: a clinician's summary first, then every section folded under its heading with a contents line."""
import re

import streamlit as st

from dashboard import components as ui
from core.accounts.roles import Permission
from dashboard import auth_ui

auth_ui.require(Permission.MODEL_CARD)

ui.decision_support_notice()
preamble, *sections = re.split(r"(?m)^## ", ui.model_card_markdown())
st.markdown(preamble)
headings = [section.split("\n", 1)[0].strip() for section in sections]
st.caption("Contents: " + " · ".join(headings))
for heading, section in zip(headings, sections):
    with st.expander(heading, expanded=heading.lower().startswith("for clinicians")):
        st.markdown(section.split("\n", 1)[1] if "\n" in section else "")
