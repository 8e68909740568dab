"""Password hashing with Argon2id (argon2-cffi, its RFC 9106 low-memory profile) and the password rule."""
from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_CHARS = 10  # NIST SP 800-63B asks for at least 8; no composition rules, long passphrases welcome
MAX_PASSWORD_CHARS = 256

_HASHER = PasswordHasher()  # argon2-cffi's defaults: Argon2id, RFC 9106's low-memory recommendation


class PasswordRuleError(ValueError):
    """The password does not meet the rule; the message says what is wrong."""


def check_password_rule(password: str, name: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        raise PasswordRuleError(f"The password must be at least {MIN_PASSWORD_CHARS} characters long.")
    if len(password) > MAX_PASSWORD_CHARS:
        raise PasswordRuleError(f"The password must be at most {MAX_PASSWORD_CHARS} characters long.")
    if password.strip().casefold() == name.strip().casefold():
        raise PasswordRuleError("The password must not be the user name.")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)


@cache
def dummy_hash() -> str:
    """Verified against when the user name is unknown, so that a wrong name takes as long as a wrong password."""
    return hash_password("not-a-real-password-0")
