"""Case-store errors: every message is written for the person using the app."""
from __future__ import annotations

from datetime import datetime


class CaseStoreError(Exception):
    """The case store cannot do what was asked; the message says why and what to do."""


class CaseInputError(CaseStoreError, ValueError):
    """A value given for a case or verdict is not acceptable."""


class CaseNotFoundError(CaseStoreError, LookupError):
    """No case has that number."""


class StorageBusyError(CaseStoreError):
    """The database stayed locked by other writers through every retry; nothing was saved."""


class StaleCaseError(CaseStoreError):
    """The case changed after the caller read it; the caller's change was not saved."""

    def __init__(self, case_id: int, expected_version: int, current_version: int,
                 changed_by: str | None, changed_at: datetime | None, action: str | None):
        self.case_id = case_id
        self.expected_version = expected_version
        self.current_version = current_version
        who = f" by {changed_by}" if changed_by else ""
        when = f" at {changed_at:%Y-%m-%d %H:%M} UTC" if changed_at else ""
        what = f" ({action})" if action else ""
        super().__init__(
            f"Case #{case_id} was changed{who}{when}{what} after you opened it (you were editing version "
            f"{expected_version}; it is now version {current_version}). Your change was NOT saved, so nothing "
            "was overwritten. Reload the case to see the current version, then enter your change again.")


