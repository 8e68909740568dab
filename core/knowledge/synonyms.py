"""The knowledge base's own synonyms: names it defines as equal, read from its sentences.

Two patterns are read:

* an abbreviation in parentheses after its long form, "Atypical fibroxanthoma (AFX)" (the long form is the
  shortest run of words before the parenthesis whose letters contain the abbreviation's in order, starting
  with its first letter: the Schwartz-Hearst rule);
* "X, also called Y or Z" / "X (also known as Y)" / "sometimes called", where X is the sentence's short
  subject (a long prefix is not taken as a name).

Names sharing a synonym form one group. `Synonyms.expand` adds the terms of every name of a group to the
terms of a text that mentions one of them, so that a question about "AFX" meets a sentence that says
"atypical fibroxanthoma", and "age spot" meets "solar lentigo".
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from core.knowledge.lexical import tokenize

_ABBREVIATION = re.compile(r"\(([A-Za-z][A-Za-z0-9-]*[A-Z][A-Za-z0-9-]*)[,;)]")
_ALSO_CALLED = re.compile(r"\b(?:also|sometimes|often|formerly|previously)\s+(?:called|known\s+as|named|termed)\s+",
                          re.IGNORECASE)
_NAME_END = re.compile(r"[,;:.()]|\s(?:is|are|was|were|which|that)\s")
_ALTERNATIVES = re.compile(r",\s*|\s+or\s+")
_PARENTHESIS = re.compile(r"\([^()]*\)")
MAX_SUBJECT_WORDS = 6  # "X, also called Y": a longer X is a clause, not a name
MAX_NAME_WORDS = 6


def _long_form(words: Sequence[str], abbreviation: str) -> list[str]:
    """The shortest run of `words` (ending at the last) that the abbreviation abbreviates, else []."""
    letters = [c for c in abbreviation.lower() if c.isalpha()]
    if len(letters) < 2:
        return []
    for size in range(1, min(len(words), len(letters) + 2) + 1):
        window = words[-size:]
        if not window[0][:1].lower() == letters[0]:
            continue
        text, at = " ".join(window).lower(), 0
        for letter in letters:
            at = text.find(letter, at) + 1
            if not at:
                break
        else:
            return list(window)
    return []


def defined_names(sentence: str) -> list[list[str]]:
    """Groups of names that `sentence` defines as one thing, e.g. [["Atypical fibroxanthoma", "AFX"]]."""
    groups: list[list[str]] = []
    for match in _ABBREVIATION.finditer(sentence):
        if sum(c.isupper() for c in match.group(1)) < 2:  # "(pT)" is a prefix convention, not a name
            continue
        before = _PARENTHESIS.sub(" ", sentence[:match.start()]).split()
        long_form = _long_form([w.strip(",;:") for w in before], match.group(1))
        if long_form:
            groups.append([" ".join(long_form), match.group(1)])
    for match in _ALSO_CALLED.finditer(sentence):
        prefix = sentence[:match.start()]
        opened = prefix.rfind("(")
        if opened > prefix.rfind(")"):  # "X (also called Y)" or "X (ABBR, also called Y)"
            inner = re.split(r"[,;]", prefix[opened + 1:])[0].strip()
            subject = inner or prefix[:opened]
        else:
            subject = prefix
        subject = _PARENTHESIS.sub(" ", subject).strip(" ,;")
        if not subject or len(subject.split()) > MAX_SUBJECT_WORDS:
            continue
        rest = sentence[match.end():]
        end = _NAME_END.search(rest)
        # "... or basal cell papilloma" may run to the end of a list; the list ends at the first clause mark.
        names = [n.strip() for n in _ALTERNATIVES.split(rest[:end.start()] if end else rest) if n.strip()]
        names = [n for n in names if len(n.split()) <= MAX_NAME_WORDS]
        if names:
            groups.append([subject, *names])
    return groups


def _ambiguous_abbreviations(sentences: Sequence[str]) -> set[str]:
    """Abbreviations the knowledge base more often writes as another word: "SCAR" (severe cutaneous adverse
    reaction) and "scar", "NM" (nodular melanoma) and "nm" (nanometres). Equating them would mislead."""
    text = "\n".join(sentences)
    abbreviations = {m.group(1) for m in _ABBREVIATION.finditer(text)}
    ambiguous = set()
    for abbreviation in abbreviations:
        word = re.compile(rf"(?<![\w-]){re.escape(abbreviation)}(?![\w-])", re.IGNORECASE)
        spellings = [m.group() for m in word.finditer(text)]
        if 2 * spellings.count(abbreviation) < len(spellings):
            ambiguous.add(abbreviation)
    return ambiguous


class Synonyms:
    """Synonym groups of a knowledge base, as term runs (`tokenize` of each name)."""

    def __init__(self, sentences: Iterable[str]) -> None:
        # Union-find over names (as term tuples): "LPLK" = "lichen planus-like keratosis" = "lichenoid keratosis".
        parent: dict[tuple[str, ...], tuple[str, ...]] = {}

        def root(name: tuple[str, ...]) -> tuple[str, ...]:
            while parent.setdefault(name, name) != name:
                name = parent[name]
            return name

        sentences = list(sentences)
        ambiguous = _ambiguous_abbreviations(sentences)
        self._written: dict[tuple[str, ...], str] = {}  # a name's terms -> the name as the knowledge base writes it
        for sentence in sentences:
            for group in defined_names(sentence):
                spelled = [(tuple(tokenize(written)), written) for written in group if written not in ambiguous]
                names = [name for name, _ in spelled if name]
                for name, written in spelled:
                    if name:
                        self._written.setdefault(name, written)
                for other in names[1:]:
                    parent[root(other)] = root(names[0])
        members: dict[tuple[str, ...], set[tuple[str, ...]]] = {}
        for name in parent:
            members.setdefault(root(name), set()).add(name)
        self.groups: list[frozenset[tuple[str, ...]]] = [frozenset(g) for g in members.values() if len(g) > 1]
        self._by_first_term: dict[str, list[tuple[tuple[str, ...], int]]] = {}
        for number, group in enumerate(self.groups):
            for name in group:
                self._by_first_term.setdefault(name[0], []).append((name, number))

    def _names_starting(self, term: str) -> list[tuple[tuple[str, ...], int]]:
        """The names (and their group numbers) whose first term is `term`; a plural abbreviation ("aks", "bccs")
        finds the abbreviation it is the plural of."""
        names = self._by_first_term.get(term, [])
        if not names and len(term) > 2 and term.endswith("s"):
            names = [(name, number) for name, number in self._by_first_term.get(term[:-1], ()) if len(name) == 1]
        return names

    def spelled_out(self, terms: Sequence[str]) -> list[str]:
        """For each abbreviation in `terms` (a one-term name, "bcc"), the longest other name of its group as the
        knowledge base writes it ("basal cell carcinoma"): what a sentence embedder needs to read the abbreviation."""
        out: list[str] = []
        for term in dict.fromkeys(terms):
            for name, number in self._names_starting(term):
                if len(name) != 1:
                    continue
                others = [self._written[n] for n in self.groups[number] if n != name and n in self._written]
                longest = max(others, key=len, default="")
                if len(longest) > len(term) and longest not in out:
                    out.append(longest)
        return out

    def expand(self, terms: Sequence[str]) -> list[str]:
        """`terms` plus the terms of every synonym of a name that occurs in them (as a run of terms)."""
        found: set[int] = set()
        for i, term in enumerate(terms):
            for name, number in self._names_starting(term):
                if number not in found and (tuple(terms[i:i + len(name)]) == name or name == (term[:-1],)):
                    found.add(number)
        extra = [t for number in sorted(found) for name in sorted(self.groups[number]) for t in name]
        return list(terms) + [t for t in dict.fromkeys(extra) if t not in set(terms)]
