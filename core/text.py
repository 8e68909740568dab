"""Text from users, made storable: a lone surrogate (from a broken copy-paste or a mis-decoded file) cannot
be encoded as UTF-8 and would stop a database write or the tokenizer; it becomes U+FFFD, the replacement
character, and every other character is kept."""
from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")  # in a Python str every surrogate is unpaired


def storable(text: str) -> str:
    """`text` with each unpaired surrogate replaced by U+FFFD (unchanged when there is none)."""
    return _SURROGATE.sub("\ufffd", text)
