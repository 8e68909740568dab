"""Typing slips corrected before triage, with the offset map kept.

Messages typed on a phone carry slips ("hert rate 134", "im shiverin", "its swolen", "the pain is unbeleivable")
that no rule table can list. A word is corrected only when all of these hold, so that medical terms, British
spellings and abbreviations stay as written:

* it is not an English word (the pyspellchecker word list), not a word of the filter's own descriptions (the
  presentation bank, the conditions, the finding labels) and not written in its patterns ("shok"); it has at
  least `MIN_LENGTH` letters and at most `MAX_LENGTH` (a three-letter word, often an abbreviation, only gets a dropped letter back: "mol");
* an English word of `MIN_LENGTH` letters or more lies one edit away (insert, delete, replace or swap a letter)
  and is one of the filter's descriptive words or extends one of its patterns' stems ("shiver" of
  "shiver(?:s|ing)"): the correction is a word the filter reads, never merely a commoner English word ("swolen"
  -> "swollen", not "stolen");
* that word is not a respelling of the same word (British "oedema" is not corrected to "edema");
* it is written in lower case or with a capital first letter only: acronyms ("OSCE", "TEN") are left alone.

Of several such words the most frequent English word wins. Each corrected character maps back to the typed
word, so highlighted spans still cover what the user wrote.
"""
from __future__ import annotations

import re
from functools import lru_cache

from core.triage.normalise import NormalisedText

MIN_LENGTH = 4
# Longer "words" are not typing slips (pasted hashes, a held-down key); their edits grow with length squared in
# memory (a 20,000-letter run took 88 s and 20 GB before this bound).
MAX_LENGTH = 30
MIN_STEM = 5  # a pattern stem shorter than this ("burn", "rash") says too little about a longer word
# A word standing alone: not part of a contraction ("hasn't"), a hyphenated compound or a code with digits ("SpO2").
_WORD = re.compile(r"(?<![\w'-])[A-Za-z]+(?![\w'-])")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# British and American spellings of one word, which are not typing slips.
_RESPELLINGS = (("ae", "e"), ("oe", "e"), ("our", "or"), ("ise", "ize"), ("isation", "ization"), ("tre", "ter"), ("ogue", "og"))


@lru_cache(maxsize=1)
def _english():
    from spellchecker import SpellChecker

    return SpellChecker(distance=1).word_frequency


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """The filter's own words (of its descriptions, conditions and labels), its patterns' literal letters, and the
    word stems a correction may extend ("shiver" of "shiver(?:s|ing)")."""
    from core.triage.conditions import CONDITIONS
    from core.triage.features import FEATURES
    from core.triage.presentations import PRESENTATIONS, ROUTINE_LOOKALIKES

    prose = [d for p in PRESENTATIONS for d in p.descriptions] + list(ROUTINE_LOOKALIKES)
    prose += [f"{c.name} {c.advice}" for c in CONDITIONS.values()]
    prose += [f.label for f in FEATURES.values()]
    words = {w.lower() for text in prose for w in re.findall(r"[A-Za-z]+", text)}
    literals: set[str] = set()
    for feature in FEATURES.values():
        for pattern in feature.patterns + feature.shout_unsafe:
            # Letters after a backslash are escapes (\b, \w, \s), not text.
            literals.update(re.findall(r"[a-z]{%d,}" % (MIN_LENGTH - 1), re.sub(r"\\[A-Za-z]", " ", pattern.lower())))
    # A pattern's literal letters are known as written ("shok" is a slip the patterns already read); those of
    # MIN_STEM letters or more are also stems that a correction may extend ("shiver" -> "shivering").
    stems = {w for w in literals | words if len(w) >= MIN_STEM}
    return frozenset(words), frozenset(literals), frozenset(stems)


def _edits(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return ({a + b[1:] for a, b in splits if b}
            | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
            | {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
            | {a + c + b for a, b in splits for c in _LETTERS})


def _respelling(a: str, b: str) -> bool:
    return any(a.replace(x, y) == b or b.replace(x, y) == a for x, y in _RESPELLINGS)


@lru_cache(maxsize=8192)
def correction(word: str) -> str | None:
    """The word the filter reads that `word` is a slip for, or None (lower case in, lower case out)."""
    if not MIN_LENGTH - 1 <= len(word) <= MAX_LENGTH:
        return None
    english = _english()
    words, literals, stems = _vocabulary()
    if word in words or word in literals or word in english:
        return None
    if len(word) < MIN_LENGTH:
        # A three-letter word is often an abbreviation ("pcn", "abx"): only a dropped letter of one of the
        # filter's own words is put back ("mol" -> "mole").
        candidates = [c for c in _edits(word) if len(c) == len(word) + 1 and c in words and c in english]
    else:
        candidates = [c for c in _edits(word) if len(c) >= MIN_LENGTH and c in english and not _respelling(word, c)
                      and (c in words or any(c[:n] in stems for n in range(MIN_STEM, len(c) + 1)))]
    if not candidates:
        return None
    return max(candidates, key=lambda c: (english[c], c))


def correct_spelling(normalised: NormalisedText) -> NormalisedText:
    """`normalised` with typing slips corrected; each character of a corrected word maps to the typed word."""
    text = normalised.text
    parts: list[str] = []
    origin: list[int] = []
    last = 0
    for match in _WORD.finditer(text):
        typed = match.group()
        if not (typed.islower() or typed.istitle()):
            continue  # acronyms ("OSCE", "TEN") and codes are written as meant
        fixed = correction(typed.lower())
        if fixed is None:
            continue
        if typed[0].isupper():
            fixed = fixed.capitalize()
        start, end = match.span()
        parts.append(text[last:start])
        origin.extend(normalised.origin[last:start])
        parts.append(fixed)
        origin.extend(normalised.origin[start + min(i, end - start - 1)] for i in range(len(fixed)))
        last = end
    if not parts:
        return normalised
    parts.append(text[last:])
    origin.extend(normalised.origin[last:])  # includes the one-past-the-end entry
    return NormalisedText("".join(parts), tuple(origin))
