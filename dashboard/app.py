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

from core.accounts.roles import Permission  # noqa: E402
from dashboard import auth_ui, cases_ui, resources  # noqa: E402

PAGES = ROOT / "pages"

st.set_page_config(page_title="DermaDesk", page_icon="🩺", layout="wide")
resources.warm_up()
user = auth_ui.signed_in_user()
if user is None:  # accounts mode, nobody signed in: the sign-in page is the only page
    # It also answers at every page's address, so that a link to a case opens the case after signing in
    # instead of a "page not found" notice over the sign-in form.
    navigation = st.navigation(
        [st.Page(auth_ui.sign_in_page, title="Sign in", icon=":material/login:", default=True)]
        + [st.Page(auth_ui.sign_in_page, title="Sign in", url_path=page.stem) for page in sorted(PAGES.glob("*.py"))],
        position="hidden")
else:
    # Each section lists only the pages the user's role allows; a page left out cannot be opened by its
    # address either (st.navigation serves only the pages it was given), and each page checks again.
    # The first page: analysis for clinicians, accounts for administrators, else the first one listed.
    sections = {
        "Review": [
            (Permission.ANALYSE, st.Page(PAGES / "analyze.py", title="Analyze an image", icon=":material/biotech:",
                                         default=user.can(Permission.ANALYSE))),
        ],
        "Cases": [
            (Permission.CASES, st.Page(PAGES / "case_queue.py", title="Case queue", icon=":material/list_alt:")),
            (Permission.CASES, st.Page(PAGES / "case.py", title="Case", icon=":material/folder_open:")),
            (Permission.TEACHING_CASES, st.Page(PAGES / "teaching_cases.py", title="Teaching cases",
                                                icon=":material/school:")),
        ],
        "Learn": [
            (Permission.CHAT, st.Page(PAGES / "chat.py", title="Ask the knowledge base", icon=":material/forum:")),
            (Permission.LAB, st.Page(PAGES / "explanation_lab.py", title="Explanation lab",
                                     icon=":material/visibility:")),
            (Permission.QUIZ, st.Page(PAGES / "quiz.py", title="Trainee quiz", icon=":material/quiz:")),
        ],
        "About": [
            (Permission.MODEL_CARD, st.Page(PAGES / "model_card.py", title="Model card",
                                            icon=":material/description:")),
        ],
        "Administration": [
            (Permission.USERS, st.Page(PAGES / "users.py", title="Users", icon=":material/group:",
                                       default=user.can(Permission.USERS) and not user.can(Permission.ANALYSE))),
        ],
    }
    allowed = {name: [page for permission, page in pages if user.can(permission)] for name, pages in sections.items()}
    navigation = st.navigation({name: pages for name, pages in allowed.items() if pages})
    auth_ui.sidebar_account(user)
    cases_ui.keep_name_in_address()
    auth_ui.single_user_on_network_warning()
st.sidebar.caption("DermaDesk · decision support for clinicians, not a diagnostic device.")
navigation.run()
