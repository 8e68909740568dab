"""Text normalisation before triage, with an offset map back to the text as written.

Phones and word processors type curly apostrophes ("doesn’t"), Unicode hyphens and dashes, minus signs,
no-break and thin spaces; copied text brings zero-width characters and soft hyphens. The rule tables are
written in plain ASCII punctuation, so every such character is mapped to its plain form first:
compatibility decomposition (NFKD: full-width letters, ligatures, superscripts), combining accents
dropped ("fièvre" -> "fievre"), a punctuation map, and format characters (category Cf) removed. Each
character of the result remembers the character of the original it came from, so highlighted spans
still line up with what the user typed.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_PUNCTUATION = {
    # apostrophes and single quotes
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u02bc": "'", "\u02b9": "'",
    "\u0060": "'", "\u00b4": "'", "\uff07": "'",
    # double quotes
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    # hyphens, dashes and minus signs
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2043": "-", "\ufe58": "-", "\ufe63": "-", "\uff0d": "-", "\u2e3a": "-", "\u2e3b": "-",
    # arrows written for "became"
    "\u2192": "->", "\u27f6": "->", "\u21d2": "->",
    "\u2026": "...",
    # written for "went up", "went down"
    "\u2191": " increased ", "\u2193": " decreased ",
    "\u2028": "\n", "\u2029": "\n",
}


@lru_cache(maxsize=4096)
def _normalise_char(ch: str) -> str:
    if ch in _PUNCTUATION:
        return _PUNCTUATION[ch]
    if ch.isascii():
        return ch
    category = unicodedata.category(ch)
    if category == "Cf":  # zero-width spaces and joiners, soft hyphen, BOM, bidi marks
        return ""
    if category == "Zs":  # no-break, thin, figure, ideographic spaces
        return " "
    decomposed = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return "".join(_PUNCTUATION.get(c, c) for c in decomposed)


@dataclass(frozen=True)
class NormalisedText:
    text: str
    # original index of each character of `text`, plus one past the end (len(text) + 1 entries)
    origin: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that produced `text[start:end]`."""
        if end <= start:
            return self.origin[start], self.origin[start]
        return self.origin[start], self.origin[end - 1] + 1


def normalise(text: str) -> NormalisedText:
    """The text with plain punctuation and no invisible characters, and where each character came from."""
    if text.isascii():
        return NormalisedText(text, tuple(range(len(text) + 1)))
    parts: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        mapped = _normalise_char(ch)
        parts.append(mapped)
        origin.extend([index] * len(mapped))
    origin.append(len(text))
    return NormalisedText("".join(parts), tuple(origin))
