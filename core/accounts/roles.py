"""Roles and what each may see and change. The app builds its navigation from these permissions and every
page checks its own, so a page that is not in a user's menu cannot be opened by its address either."""
from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    ANALYSE = "analyse"  # upload an image on the analysis page
    CASES = "cases"  # read and change patient cases: queue, case page, verdicts, reports, batch import
    TEACHING_CASES = "teaching_cases"  # closed cases with every patient detail removed
    LAB_UPLOAD = "lab_upload"  # the Explanation lab on an uploaded image
    LAB = "lab"  # the Explanation lab on the HAM10000 folder
    CHAT = "chat"
    QUIZ = "quiz"
    MODEL_CARD = "model_card"
    USERS = "users"  # create accounts, change roles, reset passwords, disable accounts


ROLES: dict[str, str] = {
    "clinician": "Clinician: cases, verdicts and reports",
    "educator": "Educator: Explanation lab, quiz and de-identified teaching cases",
    "trainee": "Trainee: knowledge chat, quiz and the lab on the HAM10000 images; no patient cases",
    "admin": "Administrator: user accounts",
}

_EVERYONE = {Permission.CHAT, Permission.QUIZ, Permission.MODEL_CARD}
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "clinician": frozenset(_EVERYONE | {Permission.ANALYSE, Permission.CASES, Permission.LAB_UPLOAD, Permission.LAB}),
    "educator": frozenset(_EVERYONE | {Permission.TEACHING_CASES, Permission.LAB_UPLOAD, Permission.LAB}),
    "trainee": frozenset(_EVERYONE | {Permission.LAB}),
    "admin": frozenset({Permission.USERS, Permission.MODEL_CARD}),
}
# Single-user mode (one person on their own laptop, server on 127.0.0.1): every page but the accounts page,
# since that mode has no accounts.
SINGLE_USER_PERMISSIONS: frozenset[Permission] = frozenset(Permission) - {Permission.USERS}


def permissions_of(role: str) -> frozenset[Permission]:
    if role not in ROLE_PERMISSIONS:
        raise ValueError(f"Unknown role {role!r}; roles: {', '.join(ROLES)}.")
    return ROLE_PERMISSIONS[role]
