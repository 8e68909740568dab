"""Local user accounts, kept in the case database: creation, sign-in with lock-out, signed-in sessions
that expire, role changes, and the accounts' audit trail."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, select

from core.accounts.passwords import (
    PasswordRuleError,
    check_password_rule,
    dummy_hash,
    hash_password,
    needs_rehash,
    verify_password,
)
from core.accounts.roles import ROLES, Permission, permissions_of
from core.cases.errors import CaseInputError, CaseStoreError
from core.cases.schema import AccountEventRow, LoginSessionRow, UserRow
from core.cases.store import CaseStore, check_actor

# After this many wrong passwords in a row the account is locked for LOCK_MINUTES (a guessing brake that a
# legitimate user waits out; an administrator can unlock at once).
MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15


class AccountError(CaseStoreError):
    """An account operation was refused; the message says why."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    permissions: frozenset[Permission]

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    created_at: datetime
    created_by: str
    disabled: bool
    locked_until: datetime | None
    last_login: datetime | None


@dataclass(frozen=True)
class AccountEvent:
    at: datetime
    actor: str
    action: str
    target: str
    detail: str


@dataclass(frozen=True)
class SessionPolicy:
    """Signed-in sessions end after `idle_minutes` without use, and after `max_hours` whatever happens."""

    idle_minutes: int = 30
    max_hours: int = 12


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _checked_password(password: str, name: str) -> str:
    try:
        check_password_rule(password, name)
    except PasswordRuleError as exc:
        raise AccountError(str(exc)) from None
    return password


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    return role


class Accounts:
    """The repository of accounts; shares the case store's database, transactions and retries."""

    def __init__(self, store: CaseStore, policy: SessionPolicy | None = None):
        self.store = store
        self.policy = policy or SessionPolicy()

    # --- administration -------------------------------------------------------------------------

    def count(self) -> int:
        return self.store.run(lambda s: s.scalar(select(func.count()).select_from(UserRow)), write=False)

    def add(self, name: str, role: str, password: str, actor: str) -> Account:
        _check_role(role)
        return self._create(self._name(name), role, password, check_actor(actor), "add", first_run=False)

    def add_first_admin(self, name: str, password: str) -> Account:
        """The first-run set-up: an administrator account, refused once any account exists."""
        name = self._name(name)
        return self._create(name, "admin", password, name, "first_admin", first_run=True)

    def _create(self, name: str, role: str, password: str, actor: str, action: str, *, first_run: bool) -> Account:
        password_hash = hash_password(_checked_password(password, name))
        now = _now()

        def work(session) -> Account:
            if first_run and session.scalar(select(func.count()).select_from(UserRow)):
                raise AccountError("An account already exists; sign in, or ask an administrator for one.")
            if session.get(UserRow, name) is not None:
                raise AccountError(f"An account named {name!r} already exists.")
            row = UserRow(name=name, role=role, password_hash=password_hash, created_at=now, created_by=actor,
                          disabled=False, failed_logins=0)
            session.add(row)
            session.add(AccountEventRow(at=now, actor=actor, action=action, target=name, detail=f"role {role}"))
            session.flush()
            return _account(row)

        return self.store.run(work, write=True)

    def list(self) -> list[Account]:
        return self.store.run(lambda s: [_account(r) for r in s.scalars(select(UserRow).order_by(UserRow.name))],
                              write=False)

    def set_role(self, name: str, role: str, actor: str) -> Account:
        _check_role(role)
        return self._change(name, actor, "set_role", f"role {role}", role=role)

    def set_password(self, name: str, password: str, actor: str) -> Account:
        return self._change(name, actor, "set_password", "", password_hash=hash_password(_checked_password(password, name)),
                            failed_logins=0, locked_until=None, end_sessions=True)

    def set_disabled(self, name: str, disabled: bool, actor: str) -> Account:
        return self._change(name, actor, "disable" if disabled else "enable", "", disabled=disabled,
                            failed_logins=0, locked_until=None, end_sessions=disabled)

    def unlock(self, name: str, actor: str) -> Account:
        return self._change(name, actor, "unlock", "", failed_logins=0, locked_until=None)

    def events(self, limit: int = 200) -> list[AccountEvent]:
        def work(session) -> list[AccountEvent]:
            rows = session.scalars(select(AccountEventRow).order_by(AccountEventRow.id.desc()).limit(limit))
            return [AccountEvent(r.at, r.actor, r.action, r.target, r.detail) for r in rows]

        return self.store.run(work, write=False)

    def _change(self, name: str, actor: str, action: str, detail: str, *, end_sessions: bool = False,
                **values) -> Account:
        name, actor = self._name(name), check_actor(actor)
        now = _now()

        def work(session) -> Account:
            row = session.get(UserRow, name, with_for_update=True)
            if row is None:
                raise AccountError(f"No account is named {name!r}.")
            if row.role == "admin" and (values.get("disabled") or values.get("role", "admin") != "admin"):
                others = session.scalar(select(func.count()).select_from(UserRow).where(
                    UserRow.role == "admin", UserRow.disabled.is_(False), UserRow.name != name))
                if not others:
                    raise AccountError(f"{name} is the only active administrator; make another one first.")
            for key, value in values.items():
                setattr(row, key, value)
            if end_sessions or "role" in values:
                session.execute(delete(LoginSessionRow).where(LoginSessionRow.user_name == name))
            session.add(AccountEventRow(at=now, actor=actor, action=action, target=name, detail=detail))
            session.flush()
            return _account(row)

        return self.store.run(work, write=True)

    @staticmethod
    def _name(name: str) -> str:
        try:
            return check_actor(name)
        except CaseInputError:
            raise AccountError("Enter a user name (at most 120 characters).") from None

    # --- signing in -----------------------------------------------------------------------------

    def sign_in(self, name: str, password: str) -> tuple[User, str]:
        """(the user, a new session token) for a right name and password; AccountError otherwise, with the
        same message for an unknown name as for a wrong password."""
        refused = AccountError("The user name or password is not right.")
        name = (name or "").strip()
        now = _now()
        row = self.store.run(lambda s: s.get(UserRow, name), write=False) if 0 < len(name) <= 120 else None
        if row is None:
            verify_password(dummy_hash(), password or "")
            raise refused
        if row.locked_until is not None and row.locked_until > now:
            raise AccountError(f"This account is locked after {MAX_FAILED_LOGINS} wrong passwords until "
                               f"{row.locked_until:%H:%M} UTC; wait, or ask an administrator to unlock it.")
        good = verify_password(row.password_hash, password or "")
        token = secrets.token_urlsafe(32)

        def work(session) -> User | None:
            current = session.get(UserRow, name, with_for_update=True)
            if not good:
                current.failed_logins += 1
                detail = f"wrong password ({current.failed_logins} in a row)"
                if current.failed_logins >= MAX_FAILED_LOGINS:
                    current.locked_until = now + timedelta(minutes=LOCK_MINUTES)
                    current.failed_logins = 0
                    detail += f"; locked for {LOCK_MINUTES} minutes"
                session.add(AccountEventRow(at=now, actor=name, action="sign_in_refused", target=name, detail=detail))
                return None
            if current.disabled:
                session.add(AccountEventRow(at=now, actor=name, action="sign_in_refused", target=name,
                                            detail="account disabled"))
                return None
            current.failed_logins, current.locked_until, current.last_login = 0, None, now
            if needs_rehash(current.password_hash):
                current.password_hash = hash_password(password)
            session.add(LoginSessionRow(token_sha256=_token_digest(token), user_name=name, created_at=now,
                                        last_seen=now))
            session.add(AccountEventRow(at=now, actor=name, action="sign_in", target=name, detail=""))
            return User(name, current.role, permissions_of(current.role))

        user = self.store.run(work, write=True)
        if user is None:
            if good:
                raise AccountError("This account is disabled; ask an administrator.")
            raise refused
        return user, token

    def session_user(self, token: str | None) -> User | None:
        """The user signed in with `token`, or None when the session ended, expired, or its account was
        disabled. Each call counts as use (the idle clock restarts)."""
        if not token:
            return None
        digest, now = _token_digest(token), _now()
        idle, longest = timedelta(minutes=self.policy.idle_minutes), timedelta(hours=self.policy.max_hours)

        def work(session) -> User | None:
            row = session.get(LoginSessionRow, digest)
            if row is None:
                return None
            user = session.get(UserRow, row.user_name)
            if user is None or user.disabled or now - row.last_seen > idle or now - row.created_at > longest:
                session.delete(row)
                return None
            row.last_seen = now
            return User(user.name, user.role, permissions_of(user.role))

        return self.store.run(work, write=True)

    def sign_out(self, token: str | None) -> None:
        if not token:
            return
        digest = _token_digest(token)

        def work(session) -> None:
            row = session.get(LoginSessionRow, digest)
            if row is not None:
                session.add(AccountEventRow(at=_now(), actor=row.user_name, action="sign_out", target=row.user_name,
                                            detail=""))
                session.delete(row)

        self.store.run(work, write=True)


def _account(r: UserRow) -> Account:
    return Account(r.name, r.role, r.created_at, r.created_by, bool(r.disabled), r.locked_until, r.last_login)
