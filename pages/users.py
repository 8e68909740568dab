"""User accounts (administrators): create accounts, change roles, reset passwords, disable, unlock; the log."""
import pandas as pd
import streamlit as st

from core.accounts.accounts import AccountError
from core.accounts.roles import ROLES, Permission
from core.cases import CaseStoreError
from dashboard import auth_ui

admin = auth_ui.require(Permission.USERS)
st.title("Users")
repository = auth_ui.accounts()
if repository is None:
    st.stop()


FLASH = "users-page-outcome"


def _done(action) -> None:
    """Run an account change; on success redraw the page (the table above is then current) with the outcome
    on top; a refusal is shown here in words, never as a traceback."""
    try:
        st.session_state[FLASH] = action()
    except (AccountError, CaseStoreError) as exc:
        st.error(str(exc))
        return
    st.rerun()


if FLASH in st.session_state:
    st.success(st.session_state.pop(FLASH))


try:
    accounts = repository.list()
except CaseStoreError as exc:
    st.error(str(exc))
    st.stop()
st.dataframe(pd.DataFrame([{
    "User": a.name, "Role": a.role,
    "State": "disabled" if a.disabled else ("locked" if a.locked_until else "active"),
    "Last sign-in (UTC)": f"{a.last_login:%Y-%m-%d %H:%M}" if a.last_login else "never",
    "Created by": a.created_by} for a in accounts]), hide_index=True, width="stretch")

add_col, change_col = st.columns(2)
with add_col, st.form("add-user", clear_on_submit=True, enter_to_submit=False):
    st.subheader("Add an account")
    name = st.text_input("User name")
    role = st.selectbox("Role", list(ROLES), format_func=ROLES.get)
    password = st.text_input("First password (at least 10 characters; tell it to the user in person)", type="password")
    if st.form_submit_button("Add the account", type="primary"):
        _done(lambda: f"Added {repository.add(name, role, password, admin.name).name} ({role}).")

names = [a.name for a in accounts]
with change_col, st.form("change-user", enter_to_submit=False):
    st.subheader("Change an account")
    target = st.selectbox("Account", names)
    new_role = st.selectbox("New role", list(ROLES), format_func=ROLES.get)
    new_password = st.text_input("New password", type="password")
    buttons = st.columns(4)
    set_role = buttons[0].form_submit_button("Set role")
    reset = buttons[1].form_submit_button("Set password")
    toggle = buttons[2].form_submit_button("Disable / enable")
    unlock = buttons[3].form_submit_button("Unlock")
if set_role:
    _done(lambda: f"{repository.set_role(target, new_role, admin.name).name} is now {new_role}; their sessions ended.")
if reset:
    _done(lambda: f"New password set for {repository.set_password(target, new_password, admin.name).name}; "
                  "their sessions ended.")
if toggle:
    current = next(a for a in accounts if a.name == target)
    _done(lambda: f"{repository.set_disabled(target, not current.disabled, admin.name).name} "
                  f"{'enabled' if current.disabled else 'disabled; their sessions ended'}.")
if unlock:
    _done(lambda: f"{repository.unlock(target, admin.name).name} unlocked.")

st.subheader("Account log")
events = repository.events(200)
st.dataframe(pd.DataFrame([{"When (UTC)": f"{e.at:%Y-%m-%d %H:%M:%S}", "Who": e.actor, "Action": e.action,
                            "Account": e.target, "Detail": e.detail} for e in events]), hide_index=True,
             width="stretch")
