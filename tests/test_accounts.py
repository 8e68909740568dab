"""Accounts and roles (core): hashing, sign-in with lock-out, sessions that expire, role changes, the last
administrator, the accounts' audit trail, and the `python -m core users` commands. On SQLite and PostgreSQL."""
from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import update

from core.accounts import accounts as accounts_module
from core.accounts.accounts import MAX_FAILED_LOGINS, AccountError, Accounts, SessionPolicy
from core.accounts.passwords import verify_password
from core.accounts.roles import ROLE_PERMISSIONS, ROLES, SINGLE_USER_PERMISSIONS, Permission
from core.cases.schema import LoginSessionRow, UserRow
from tests.support import ROOT
from tests.test_cases import backend, store  # noqa: F401  (fixtures)

PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(store):  # noqa: F811
    return Accounts(store)


def test_passwords_are_stored_only_as_argon2id_hashes(accounts, store):
    accounts.add("Dr A. Lee", "clinician", PASSWORD, "admin")
    with store.engine.connect() as c:
        stored = c.execute(UserRow.__table__.select()).one().password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert verify_password(stored, PASSWORD) and not verify_password(stored, PASSWORD + "x")


def test_the_password_rule_refuses_short_passwords_and_the_user_name(accounts):
    with pytest.raises(AccountError, match="at least 10"):
        accounts.add("lee", "clinician", "short", "admin")
    with pytest.raises(AccountError, match="user name"):
        accounts.add("lee.a.clinician", "clinician", "Lee.A.Clinician", "admin")
    with pytest.raises(AccountError, match="Unknown role"):
        accounts.add("lee", "superuser", PASSWORD, "admin")
    assert accounts.count() == 0


def test_sign_in_gives_the_role_and_a_session_that_resolves_until_sign_out(accounts):
    accounts.add("trainee1", "trainee", PASSWORD, "admin")
    user, token = accounts.sign_in("trainee1", PASSWORD)
    assert (user.name, user.role) == ("trainee1", "trainee")
    assert user.can(Permission.CHAT) and not user.can(Permission.CASES)
    assert accounts.session_user(token) == user
    accounts.sign_out(token)
    assert accounts.session_user(token) is None


def test_a_wrong_name_and_a_wrong_password_get_the_same_answer(accounts):
    accounts.add("lee", "clinician", PASSWORD, "admin")
    with pytest.raises(AccountError) as wrong_password:
        accounts.sign_in("lee", "not the password")
    with pytest.raises(AccountError) as wrong_name:
        accounts.sign_in("nobody", PASSWORD)
    assert str(wrong_password.value) == str(wrong_name.value)


def test_repeated_wrong_passwords_lock_the_account_until_unlocked(accounts):
    accounts.add("lee", "clinician", PASSWORD, "admin")
    for _ in range(MAX_FAILED_LOGINS):
        with pytest.raises(AccountError, match="not right"):
            accounts.sign_in("lee", "guess")
    with pytest.raises(AccountError, match="locked"):
        accounts.sign_in("lee", PASSWORD)  # even the right password, while locked
    accounts.unlock("lee", "admin")
    assert accounts.sign_in("lee", PASSWORD)[0].name == "lee"
    actions = [e.action for e in accounts.events()]
    assert actions.count("sign_in_refused") == MAX_FAILED_LOGINS and "unlock" in actions


def test_sessions_expire_when_idle_and_after_their_longest_life(accounts, store):
    accounts.add("lee", "clinician", PASSWORD, "admin")
    policy = Accounts(store, SessionPolicy(idle_minutes=30, max_hours=12))
    _, token = policy.sign_in("lee", PASSWORD)
    now = accounts_module._now()
    with store.engine.begin() as c:
        c.execute(update(LoginSessionRow).values(last_seen=now - timedelta(minutes=31)))
    assert policy.session_user(token) is None  # idle too long
    _, token = policy.sign_in("lee", PASSWORD)
    with store.engine.begin() as c:
        c.execute(update(LoginSessionRow).values(created_at=now - timedelta(hours=13), last_seen=now))
    assert policy.session_user(token) is None  # in use, but older than the longest session
    _, token = policy.sign_in("lee", PASSWORD)
    assert policy.session_user(token).name == "lee"


def test_disabling_a_role_change_or_a_new_password_ends_the_sessions(accounts):
    accounts.add("boss", "admin", PASSWORD, "setup")
    accounts.add("lee", "clinician", PASSWORD, "boss")
    _, token = accounts.sign_in("lee", PASSWORD)
    accounts.set_role("lee", "trainee", "boss")
    assert accounts.session_user(token) is None
    user, token = accounts.sign_in("lee", PASSWORD)
    assert user.role == "trainee"
    accounts.set_disabled("lee", True, "boss")
    assert accounts.session_user(token) is None
    with pytest.raises(AccountError, match="disabled"):
        accounts.sign_in("lee", PASSWORD)
    accounts.set_disabled("lee", False, "boss")
    _, token = accounts.sign_in("lee", PASSWORD)
    accounts.set_password("lee", "another long passphrase", "boss")
    assert accounts.session_user(token) is None
    with pytest.raises(AccountError):
        accounts.sign_in("lee", PASSWORD)


def test_the_last_active_administrator_cannot_be_disabled_or_demoted(accounts):
    accounts.add("boss", "admin", PASSWORD, "setup")
    with pytest.raises(AccountError, match="only active administrator"):
        accounts.set_disabled("boss", True, "boss")
    with pytest.raises(AccountError, match="only active administrator"):
        accounts.set_role("boss", "clinician", "boss")
    accounts.add("deputy", "admin", PASSWORD, "boss")
    accounts.set_role("boss", "clinician", "deputy")
    assert {a.name: a.role for a in accounts.list()} == {"boss": "clinician", "deputy": "admin"}


def test_the_first_run_administrator_is_refused_once_an_account_exists(accounts):
    first = accounts.add_first_admin("owner", PASSWORD)
    assert first.role == "admin"
    with pytest.raises(AccountError, match="already exists"):
        accounts.add_first_admin("intruder", PASSWORD)
    assert [a.name for a in accounts.list()] == ["owner"]


def test_every_role_has_its_pages_and_no_more():
    assert set(ROLES) == set(ROLE_PERMISSIONS)
    assert Permission.CASES in ROLE_PERMISSIONS["clinician"]
    for role in ("educator", "trainee", "admin"):
        assert Permission.CASES not in ROLE_PERMISSIONS[role] and Permission.ANALYSE not in ROLE_PERMISSIONS[role]
    assert Permission.LAB_UPLOAD not in ROLE_PERMISSIONS["trainee"]
    assert Permission.TEACHING_CASES in ROLE_PERMISSIONS["educator"]
    assert ROLE_PERMISSIONS["admin"] >= {Permission.USERS}
    assert Permission.USERS not in SINGLE_USER_PERMISSIONS and Permission.CASES in SINGLE_USER_PERMISSIONS


def _users_cli(*args: str, stdin: str = "", env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", "users", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=120)


def test_users_command_adds_lists_changes_and_logs_accounts(tmp_data_dir):
    import os

    env = {**os.environ, "DERMADESK_USER": "it-admin"}
    added = _users_cli("add", "Dr A. Lee", "--role", "clinician", "--password-stdin", stdin=PASSWORD + "\n", env=env)
    assert added.returncode == 0, added.stderr
    short = _users_cli("add", "tr", "--role", "trainee", "--password-stdin", stdin="short\n", env=env)
    assert short.returncode == 2 and "at least 10" in short.stderr and "Traceback" not in short.stderr
    no_tty = _users_cli("add", "tr", "--role", "trainee", env=env)
    assert no_tty.returncode == 2 and "--password-stdin" in no_tty.stderr
    assert _users_cli("set-role", "Dr A. Lee", "--role", "educator", env=env).returncode == 0
    assert _users_cli("disable", "nobody", env=env).returncode == 2
    listed = _users_cli("list", env=env)
    assert listed.stdout.split("\t")[:3] == ["Dr A. Lee", "educator", "active"]
    log = _users_cli("log", env=env).stdout.splitlines()
    assert [line.split("\t")[1:4] for line in log] == [["it-admin", "set_role", "Dr A. Lee"],
                                                     ["it-admin", "add", "Dr A. Lee"]]
