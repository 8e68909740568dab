"""Who is using the app: the sign-in page (accounts mode), the signed-in user, and the permission check that
every page makes. In single-user mode (the default) there is no sign-in and every page but the accounts page
is open."""
from __future__ import annotations

import ipaddress

import streamlit as st

from core.accounts.accounts import AccountError, Accounts, SessionPolicy, User
from core.accounts.roles import SINGLE_USER_PERMISSIONS, Permission
from core.cases import CaseStoreError
from dashboard import cases_ui, resources
from dashboard.components import escape_markdown

TOKEN_KEY = "dermadesk_session_token"
ENDED_KEY = "dermadesk_session_ended"


def accounts_mode() -> bool:
    return resources.settings().auth == "accounts"


def accounts() -> Accounts | None:
    store = cases_ui.case_store()
    if store is None:
        return None
    settings = resources.settings()
    return Accounts(store, SessionPolicy(settings.session_idle_minutes, settings.session_max_hours))


def signed_in_user() -> User | None:
    """The user of this browser session: in single-user mode a user with every page but the accounts page;
    in accounts mode the account signed in here, or None (never signed in, signed out, or the session
    expired or was ended by an administrator)."""
    if not accounts_mode():
        return User(name="", role="single", permissions=SINGLE_USER_PERMISSIONS)
    token = st.session_state.get(TOKEN_KEY)
    if not token:
        return None
    repository = accounts()
    try:
        user = repository.session_user(token) if repository else None
    except CaseStoreError as exc:
        st.error(f"Your session could not be checked: {exc}")
        return None
    if user is None:
        del st.session_state[TOKEN_KEY]
        st.session_state[ENDED_KEY] = True
    return user


def require(permission: Permission) -> User:
    """Stop the page, with a message, unless the user of this session may use it."""
    user = signed_in_user()
    if user is None:
        st.warning("Sign in to use DermaDesk.", icon=":material/lock:")
        st.stop()
    if not user.can(permission):
        st.error(f"Your role ({user.role}) does not give access to this page.", icon=":material/block:")
        st.stop()
    return user


def _from_this_computer() -> bool:
    """True when the browser runs on the server's own computer (or there is no network client, as in tests)."""
    address = st.context.ip_address
    if not isinstance(address, str) or not address:  # no network client behind this session
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def sign_in_page() -> None:
    st.title("Sign in to DermaDesk")
    st.caption("Decision support for clinicians, not a diagnostic device.")
    repository = accounts()
    if repository is None:
        return
    if st.session_state.pop(ENDED_KEY, False):
        st.info("Your session ended (unused for a while, or ended by an administrator). Sign in again.")
    try:
        first_run = repository.count() == 0
    except CaseStoreError as exc:
        st.error(str(exc))
        return
    if first_run:
        _first_administrator(repository)
        return
    with st.form("sign-in", enter_to_submit=True):
        name = st.text_input("User name", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        _sign_in(repository, name, password)
    st.caption("No account? Ask your DermaDesk administrator.")


def _sign_in(repository: Accounts, name: str, password: str, *, create_first_admin: bool = False) -> None:
    """Sign in (after creating the first administrator, on first run) and redraw as that user; a refusal is
    shown in words."""
    try:
        if create_first_admin:
            repository.add_first_admin(name, password)
        _, token = repository.sign_in(name, password)
    except (AccountError, CaseStoreError) as exc:
        st.error(str(exc))
        return
    st.session_state[TOKEN_KEY] = token
    st.rerun()


def _first_administrator(repository: Accounts) -> None:
    st.subheader("First run: create the administrator account")
    if not _from_this_computer():
        st.error("No account exists yet. Create the first administrator on the server itself: "
                 "`python -m core users add NAME --role admin`, or open DermaDesk in a browser on that computer.")
        return
    st.write("This account creates the others (clinicians, educators, trainees) on the Users page.")
    with st.form("first-admin", enter_to_submit=False):
        name = st.text_input("Administrator's user name", autocomplete="username")
        password = st.text_input("Password (at least 10 characters)", type="password", autocomplete="new-password")
        again = st.text_input("The same password again", type="password", autocomplete="new-password")
        submitted = st.form_submit_button("Create the administrator account", type="primary")
    if submitted:
        if password != again:
            st.error("The two passwords differ; nothing was created.")
            return
        _sign_in(repository, name, password, create_first_admin=True)


LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}


def single_user_on_network_warning() -> None:
    """Single-user mode has no sign-in: say so on every page when the server listens beyond this computer."""
    if accounts_mode():
        return
    address = str(st.get_option("server.address") or "")  # empty = every interface
    if address not in LOOPBACK_NAMES:
        st.warning("**Single-user mode on a network address:** anyone who can reach this server reads and edits "
                   "every case. Restart it with `DERMADESK_AUTH=accounts` (see docs/DEPLOYMENT.md), or on "
                   "127.0.0.1 only.", icon=":material/lock_open:")


def sidebar_account(user: User) -> None:
    """Who is signed in, with a sign-out button (accounts mode only)."""
    if not accounts_mode():
        return
    st.sidebar.markdown(f"Signed in as **{escape_markdown(user.name)}** · {user.role}")
    if st.sidebar.button("Sign out", icon=":material/logout:"):
        repository = accounts()
        if repository is not None:
            try:
                repository.sign_out(st.session_state.get(TOKEN_KEY))
            except CaseStoreError as exc:
                st.sidebar.error(str(exc))
        st.session_state.pop(TOKEN_KEY, None)
        st.rerun()

