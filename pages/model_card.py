"""The model card: intended use, data, metrics, limits."""
import streamlit as st

from dashboard import components as ui

ui.decision_support_notice()
st.markdown(ui.model_card_markdown())
