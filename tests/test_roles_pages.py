"""Accounts mode in the real app (AppTest, real SQLite case database): first-run administrator, sign-in and
sign-out, what each role's menu offers, pages refused to roles without them (by menu, by page address and by
running the page file), and the audit trail recording the signed-in account."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.accounts.accounts import Accounts
from core.cases import Verdict
from dashboard.auth_ui import TOKEN_KEY
from tests.support import ROOT
from tests.test_cases import make_prediction, sample_case

APP = str(ROOT / "dashboard" / "app.py")
PAGES = ROOT / "pages"
PASSWORD = "correct horse battery"
ROLE_PAGES = {  # page file -> roles whose menu has it
    "analyze.py": {"clinician"},
    "case_queue.py": {"clinician"},
    "case.py": {"clinician"},
    "teaching_cases.py": {"educator"},
    "chat.py": {"clinician", "educator", "trainee"},
    "explanation_lab.py": {"clinician", "educator", "trainee"},
    "quiz.py": {"clinician", "educator", "trainee"},
    "model_card.py": {"clinician", "educator", "trainee", "admin"},
    "users.py": {"admin"},
}
PAGE_TITLES = {"analyze.py": "Analyze a lesion image", "case_queue.py": "Case queue", "case.py": "Case",
               "teaching_cases.py": "Teaching cases", "chat.py": "Ask the knowledge base",
               "explanation_lab.py": "Explanation lab", "quiz.py": "Trainee quiz", "model_card.py": "# Model card",
               "users.py": "Users"}


@pytest.fixture
def accounts(case_store, monkeypatch, mini_kb_dir):
    monkeypatch.setenv("DERMADESK_AUTH", "accounts")
    # The chat page (a trainee's first page) indexes the knowledge base into this test's fresh data folder:
    # the four-document test base takes seconds where the real one takes minutes on two cores.
    monkeypatch.setenv("DERMADESK_KB_DIR", str(mini_kb_dir))
    repository = Accounts(case_store)
    repository.add("boss", "admin", PASSWORD, "setup")
    for role in ("clinician", "educator", "trainee"):
        repository.add(f"{role}1", role, PASSWORD, "boss")
    return repository


def _signed_in(accounts: Accounts, name: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state[TOKEN_KEY] = accounts.sign_in(name, PASSWORD)[1]
    return at


def _not_served(at: AppTest, page: str) -> bool:
    """True when the app's navigation for this session does not include `page` (AppTest, like the server,
    serves only the pages given to st.navigation)."""
    try:
        at.switch_page(str(PAGES / page))
    except ValueError as exc:
        return "Could not find a navigation page" in str(exc)
    return False


def _fill_verdict(at: AppTest, diagnosis: str, agreement: str, management: str, comment: str | None = None) -> None:
    """Fill the case page's verdict form (not submitted)."""
    [box] = [s for s in at.selectbox if s.label == "Diagnosis"]
    box.select(diagnosis)
    [radio] = [r for r in at.radio if r.label == "Agreement with the model"]
    radio.set_value(agreement)
    [box] = [s for s in at.selectbox if s.label == "Management"]
    box.select(management)
    if comment is not None:
        [area] = [t for t in at.text_area if t.label == "Comment"]
        area.input(comment)


def _texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("title", "markdown", "error", "warning", "info", "success", "subheader")
                     for e in getattr(at, kind))


def test_signed_out_visitors_see_only_the_sign_in_page(accounts):
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Sign in to DermaDesk"]
    assert all(_not_served(at, page) for page in ROLE_PAGES)


def test_sign_in_wrong_then_right_password_then_sign_out(accounts):
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    name, password = at.text_input
    name.input("clinician1")
    password.input("wrong password!")
    at.button[0].click().run()
    assert any("not right" in e.value for e in at.error) and TOKEN_KEY not in at.session_state
    name, password = at.text_input  # the elements of the new run
    name.input("clinician1")
    password.input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert TOKEN_KEY in at.session_state
    assert any("Signed in as **clinician1** · clinician" in m.value for m in at.sidebar.markdown)
    [sign_out] = [b for b in at.sidebar.button if b.label == "Sign out"]
    sign_out.click().run()
    assert TOKEN_KEY not in at.session_state and [t.value for t in at.title] == ["Sign in to DermaDesk"]
    assert [e.action for e in accounts.events(3)] == ["sign_out", "sign_in", "sign_in_refused"]


def test_first_run_offers_the_administrator_set_up_once(case_store, monkeypatch):
    monkeypatch.setenv("DERMADESK_AUTH", "accounts")
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert any("First run: create the administrator account" in s.value for s in at.subheader)
    name, password, again = at.text_input
    name.input("owner")
    password.input(PASSWORD)
    again.input(PASSWORD + "x")
    at.button[0].click().run()
    assert any("differ" in e.value for e in at.error) and Accounts(case_store).count() == 0
    name, password, again = at.text_input
    name.input("owner")
    password.input(PASSWORD)
    again.input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert [a.role for a in Accounts(case_store).list()] == ["admin"]
    assert [t.value for t in at.title] == ["Users"]  # the administrator's first page


@pytest.mark.parametrize("role", ["clinician", "educator", "trainee", "admin"])
def test_each_role_is_served_its_pages_and_no_others(accounts, role):
    name = "boss" if role == "admin" else f"{role}1"
    for page, roles in ROLE_PAGES.items():
        at = _signed_in(accounts, name)
        at.run()
        assert not at.exception, at.exception
        if role not in roles:
            assert _not_served(at, page), (role, page)
            continue
        at.switch_page(str(PAGES / page)).run()
        assert not at.exception, (page, at.exception)
        assert "does not give access" not in _texts(at)
        shown = [t.value for t in at.title] + [m.value.split("\n")[0][:12] for m in at.markdown]
        assert any(PAGE_TITLES[page] == text or text.startswith(PAGE_TITLES[page]) for text in shown), (role, page)


@pytest.mark.parametrize("role", ["educator", "trainee", "admin"])
def test_running_a_patient_case_page_directly_is_refused_without_the_clinician_role(accounts, role, case_store):
    saved = case_store.create_case(sample_case(1, prediction=make_prediction("mel"), note="Patient X, flat 3"),
                                   actor="Dr Seed")
    for page in ("case.py", "case_queue.py", "analyze.py"):
        at = AppTest.from_file(str(PAGES / page), default_timeout=180)
        at.session_state[TOKEN_KEY] = accounts.sign_in("boss" if role == "admin" else f"{role}1", PASSWORD)[1]
        at.query_params["case"] = str(saved.id)
        at.run()
        assert not at.exception, at.exception
        assert any(f"Your role ({role}) does not give access to this page." in e.value for e in at.error)
        assert "flat 3" not in _texts(at) and not at.get("image") and not at.dataframe


def test_the_case_audit_trail_records_the_signed_in_clinician(accounts, case_store):
    saved = case_store.create_case(sample_case(2, prediction=make_prediction("bcc")), actor="Dr Seed")
    at = _signed_in(accounts, "clinician1")
    at.query_params["case"] = str(saved.id)
    at.switch_page(str(PAGES / "case.py")).run()
    assert not at.exception, at.exception
    assert not [t for t in at.sidebar.text_input if t.label.startswith("Your name")]  # no free-text name
    _fill_verdict(at, "bcc", "agree", "refer")
    [save] = [b for b in at.button if b.label == "Save verdict"]
    save.click().run()
    assert not at.exception, at.exception
    case = case_store.get_case(saved.id)
    assert case.verdict == Verdict("bcc", "agree", "refer", "") and case.verdict_by == "clinician1"
    assert [a.actor for a in case.audit] == ["Dr Seed", "clinician1"]


def test_an_ended_session_returns_to_sign_in_with_a_notice(accounts):
    at = _signed_in(accounts, "trainee1")
    at.run()
    assert any("Signed in as **trainee1**" in m.value for m in at.sidebar.markdown)
    accounts.set_disabled("trainee1", True, "boss")  # an administrator ends it
    at.run()
    assert [t.value for t in at.title] == ["Sign in to DermaDesk"]
    assert any("Your session ended" in i.value for i in at.info)


def test_educators_see_teaching_cases_without_patient_details(accounts, case_store):
    saved = case_store.create_case(sample_case(3, prediction=make_prediction("mel", 0.6), note="Mrs Q. Smith, 12 Elm",
                                               age=47, sex="female", site="back"), actor="Dr Seed")
    case_store.link_lesion(saved.id, "HOSP-99812", "back", "Dr Seed")
    case_store.update_verdict(saved.id, Verdict("mel", "disagree", "excise", "Told Mrs Smith today"), saved.version,
                              "Dr Seed")
    open_case = case_store.create_case(sample_case(4, prediction=make_prediction("nv")), actor="Dr Seed")
    at = _signed_in(accounts, "educator1")
    at.switch_page(str(PAGES / "teaching_cases.py")).run()
    assert not at.exception, at.exception
    shown = _texts(at)
    assert "1 of 1 teaching case(s)" in "\n".join(c.value for c in at.caption)
    assert "age 40-49" in shown and "female" in shown and "Melanoma" in shown
    for secret in ("Smith", "Elm", "HOSP-99812", "Dr Seed", f"#{saved.id}", f"#{open_case.id}", "lesion_3.jpg"):
        assert secret not in shown, secret
    assert len(at.get("image")) == 1


def test_administrators_manage_accounts_on_the_users_page(accounts):
    at = _signed_in(accounts, "boss")
    at.switch_page(str(PAGES / "users.py")).run()
    assert not at.exception, at.exception
    assert set(at.dataframe[0].value["User"]) == {"boss", "clinician1", "educator1", "trainee1"}
    user_name, first_password = at.text_input[0], at.text_input[1]
    user_name.input("newtrainee")
    first_password.input("short")
    [add] = [b for b in at.button if b.label == "Add the account"]
    add.click().run()
    assert any("at least 10" in e.value for e in at.error)
    at.text_input[0].input("newtrainee")
    at.selectbox[0].select("trainee")
    at.text_input[1].input(PASSWORD)
    [add] = [b for b in at.button if b.label == "Add the account"]
    add.click().run()
    assert not at.exception, at.exception
    assert any("Added newtrainee (trainee)" in s.value for s in at.success)
    assert "newtrainee" in set(at.dataframe[0].value["User"])
    assert accounts.sign_in("newtrainee", PASSWORD)[0].role == "trainee"
    at.selectbox[1].select("boss")
    [disable] = [b for b in at.button if b.label == "Disable / enable"]
    disable.click().run()
    assert any("only active administrator" in e.value for e in at.error)


def test_single_user_mode_on_a_network_address_says_anyone_can_edit_every_case(tmp_data_dir):
    from streamlit import config

    at = AppTest.from_file(str(PAGES.parent / "dashboard" / "app.py"), default_timeout=180)
    before = config.get_option("server.address")
    try:
        config.set_option("server.address", "0.0.0.0")
        at.run()
        assert any("Single-user mode on a network address" in w.value for w in at.warning)
        config.set_option("server.address", "127.0.0.1")
        at.run()
        assert not any("Single-user mode" in w.value for w in at.warning)
    finally:
        config.set_option("server.address", before)


def test_a_verdict_submitted_after_the_session_ended_is_kept_for_after_signing_in(accounts, case_store):
    from datetime import timedelta

    from sqlalchemy import update

    from core.accounts import accounts as accounts_module
    from core.cases.schema import LoginSessionRow

    saved = case_store.create_case(sample_case(5, prediction=make_prediction("mel")), actor="Dr Seed")
    at = _signed_in(accounts, "clinician1")
    at.query_params["case"] = str(saved.id)
    at.switch_page(str(PAGES / "case.py")).run()
    _fill_verdict(at, "mel", "agree", "excise",
                  "Asymmetric, three colours, regression structures; excise with 2 mm margins.")
    with case_store.engine.begin() as c:  # the clinician left the form for longer than the idle limit
        c.execute(update(LoginSessionRow).values(last_seen=accounts_module._now() - timedelta(hours=1)))
    [save] = [b for b in at.button if b.label == "Save verdict"]
    save.click().run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Sign in to DermaDesk"]
    assert case_store.get_case(saved.id).verdict is None
    name, password = at.text_input
    name.input("clinician1")
    password.input(PASSWORD)
    at.button[0].click().run()
    at.switch_page(str(PAGES / "case.py")).run()
    assert not at.exception, at.exception
    assert any("was not saved when you submitted it" in i.value for i in at.info)
    [comment] = [t for t in at.text_area if t.label == "Comment"]
    assert comment.value.startswith("Asymmetric, three colours")
    [save] = [b for b in at.button if b.label == "Save verdict"]
    save.click().run()
    case = case_store.get_case(saved.id)
    assert case.verdict == Verdict("mel", "agree", "excise",
                                   "Asymmetric, three colours, regression structures; excise with 2 mm margins.")
    assert case.verdict_by == "clinician1"
