"""The case store's fixed vocabularies and limits."""
from __future__ import annotations

import re

STATUSES: tuple[str, ...] = ("open", "reviewed", "closed")
AGREEMENTS: dict[str, str] = {
    "agree": "Agrees with the model",
    "partly": "Partly agrees with the model",
    "disagree": "Disagrees with the model",
}
MANAGEMENTS: dict[str, str] = {
    "reassure": "Reassure and discharge",
    "monitor": "Monitor (follow-up review)",
    "biopsy": "Biopsy",
    "excise": "Excise",
    "refer": "Refer to a specialist",
}
SEXES: tuple[str, ...] = ("female", "male")

LESION_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_NOTE_CHARS = 20_000
MAX_COMMENT_CHARS = 10_000
MAX_NAME_CHARS = 120
# A clinic's own pseudonymous patient reference (not a name): a hospital number or study code.
MAX_PATIENT_REF_CHARS = 64

