"""DermaDesk entry point: `streamlit run dashboard/app.py`. Sets up the page frame and navigation."""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run` only puts dashboard/ on the path
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # fail at once, never hang, on an accidental hub lookup

import streamlit as st  # noqa: E402

from dashboard import resources  # noqa: E402

PAGES = ROOT / "pages"

st.set_page_config(page_title="DermaDesk", page_icon="🩺", layout="wide")
resources.warm_up()
navigation = st.navigation(
    {
        "Review": [
            st.Page(PAGES / "analyze.py", title="Analyze an image", icon=":material/biotech:", default=True),
        ],
        "Cases": [
            st.Page(PAGES / "case_queue.py", title="Case queue", icon=":material/list_alt:"),
            st.Page(PAGES / "case.py", title="Case", icon=":material/folder_open:"),
        ],
        "Learn": [
            st.Page(PAGES / "chat.py", title="Ask the knowledge base", icon=":material/forum:"),
            st.Page(PAGES / "explanation_lab.py", title="Explanation lab", icon=":material/visibility:"),
            st.Page(PAGES / "quiz.py", title="Trainee quiz", icon=":material/quiz:"),
        ],
        "About": [
            st.Page(PAGES / "model_card.py", title="Model card", icon=":material/description:"),
        ],
    }
)
st.sidebar.caption("DermaDesk · decision support for clinicians, not a diagnostic device.")
navigation.run()
