"""Knowledge questions generated from the knowledge base, each answered by the passage it cites.

Two kinds, both read straight from a document's sentences so that the answer is the passage's own words:

* "name the condition": a defining sentence of a lesion or emergency document with the condition's name
  (title, abbreviations and synonyms from its tags) blanked; the choices are the titles of other documents
  of the same area.
* "the figure": a sentence holding a quantity (mm, cm, %, years, points, weeks...) with that quantity
  blanked; the choices are other quantities with the same unit found elsewhere in the knowledge base.

Every question works as multiple choice or as short answer (`grading.grade`). Generation is deterministic
for a given knowledge base and seed.
"""
from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import asdict, dataclass

from core.knowledge.documents import KnowledgeDocument
from core.knowledge.splitting import Chunk, split_document

BLANK = "_____"
N_CHOICES = 4
# Areas whose documents each describe one condition, so that "which condition is this?" is a fair question.
CONDITION_AREAS = ("lesions", "emergencies")
# Sections whose sentences define the condition rather than compare it with others.
DEFINING_SECTIONS = ("definition", "overview", "clinical features", "what it is", "recognition")
# A quantity: a number (with decimals or a range) followed by a unit the quiz can ask about.
_QUANTITY = re.compile(
    r"(?<![\w.])(\d+(?:\.\d+)?(?:\s*(?:to|-|–)\s*\d+(?:\.\d+)?)?)\s*"
    r"(%|per cent|mm|cm|years?|months?|weeks?|days?|hours?|points?|minutes?)(?![\w])", re.IGNORECASE)
_UNIT_KIND = {"%": "%", "per cent": "%", "mm": "mm", "cm": "cm", "year": "years", "years": "years",
              "month": "months", "months": "months", "week": "weeks", "weeks": "weeks", "day": "days",
              "days": "days", "hour": "hours", "hours": "hours", "point": "points", "points": "points",
              "minute": "minutes", "minutes": "minutes"}
MIN_SENTENCE_WORDS, MAX_SENTENCE_WORDS = 10, 60


@dataclass(frozen=True)
class Citation:
    doc: str
    section: str
    title: str


@dataclass(frozen=True)
class QuizQuestion:
    """One question; `answer` is one of `choices`, and `accepted` lists what a short answer may say."""

    question_id: str
    kind: str  # "condition" or "figure"
    topic: str  # the knowledge-base area ("lesions", "dermoscopy", ...), for weak-spot tracking
    question: str
    choices: tuple[str, ...]
    answer: str
    accepted: tuple[str, ...]
    explanation: str  # the cited sentence in full
    citations: tuple[Citation, ...]

    def to_json(self) -> dict:
        data = asdict(self)
        data["choices"] = list(self.choices)
        data["accepted"] = list(self.accepted)
        data["citations"] = [asdict(c) for c in self.citations]
        return data


def _area(doc: KnowledgeDocument) -> str:
    return doc.path.parent.name


def _title_variants(title: str) -> list[str]:
    """'Actinic keratosis (solar keratosis)' -> the whole, 'Actinic keratosis' and 'solar keratosis'."""
    variants = {title, re.sub(r"\s*\(.*?\)", "", title).strip(), *re.findall(r"\((.*?)\)", title)}
    for part in list(variants):
        variants.update(p.strip() for p in re.split(r"\s+and\s+|/", part))
    return [v for v in variants if len(v) >= 2]


def _names(doc: KnowledgeDocument) -> tuple[list[str], list[str]]:
    """(the condition's own names, everything to blank): the title's variants, plus the tags that are
    abbreviations or share a word with the title, which would give the answer away."""
    own = _title_variants(doc.title)
    title_words = {w.lower() for v in own for w in re.findall(r"[A-Za-z]{4,}", v)}
    giveaways = [t for t in doc.tags if (t.isupper() and len(t) <= 6)
                 or title_words & {w.lower() for w in re.findall(r"[A-Za-z]{4,}", t)}]
    by_length = lambda names: sorted(set(names), key=len, reverse=True)
    return by_length(own), by_length(own + giveaways)


def _mask(sentence: str, names: list[str]) -> tuple[str, int]:
    count = 0
    for name in names:
        pattern = re.compile(rf"(?<![\w-]){re.escape(name)}(?:e?s)?(?![\w-])", re.IGNORECASE)
        sentence, n = pattern.subn(BLANK, sentence)
        count += n
    # Adjacent blanks ("_____ (_____)") read as one.
    sentence = re.sub(rf"{BLANK}(?:\s*\(\s*{BLANK}\s*\))+", BLANK, sentence)
    return sentence, count


def _usable(sentence: str) -> bool:
    words = len(sentence.split())
    return MIN_SENTENCE_WORDS <= words <= MAX_SENTENCE_WORDS and "|" not in sentence


def _condition_questions(doc: KnowledgeDocument, chunks: list[Chunk], others: list[str]) -> list[dict]:
    own, masked_names = _names(doc)
    found = []
    for chunk in chunks:
        if not any(chunk.section.lower().startswith(s) for s in DEFINING_SECTIONS):
            continue
        for sentence in chunk.sentences:
            if not _usable(sentence) or not _mask(sentence, own)[1]:
                continue  # the sentence must name the condition itself, so the passage supports the answer
            masked, _ = _mask(sentence, masked_names)
            blanked = len(sentence) - len(masked.replace(BLANK, ""))
            # Readable once masked: at most a name and its synonym blanked, most of the sentence left.
            if masked.count(BLANK) <= 2 and blanked <= 0.3 * len(sentence):
                found.append({"kind": "condition", "prompt": f"Which condition is described? “{masked}”",
                              "answer": doc.title, "accepted": tuple(n for n in masked_names if len(n) >= 3),
                              "sentence": sentence, "chunk": chunk, "distractor_pool": others})
    return found


def _quantity_kind(unit: str) -> str:
    return _UNIT_KIND[unit.lower()]


def _figure_questions(doc: KnowledgeDocument, chunks: list[Chunk]) -> list[dict]:
    found = []
    for chunk in chunks:
        for sentence in chunk.sentences:
            if not _usable(sentence):
                continue
            matches = list(_QUANTITY.finditer(sentence))
            if len(matches) != 1:  # one figure per question: with several, the blank would be ambiguous
                continue
            match = matches[0]
            value = f"{match.group(1)} {match.group(2)}".replace(" %", "%")
            masked = sentence[:match.start()] + BLANK + sentence[match.end():]
            found.append({"kind": "figure", "prompt": f"Fill in the figure: “{masked}”", "answer": value,
                          "accepted": (value,), "sentence": sentence, "chunk": chunk,
                          "unit": _quantity_kind(match.group(2))})
    return found


def _numbers(value: str) -> set[float]:
    return {float(n) for n in re.findall(r"\d+(?:\.\d+)?", value)}


def build_bank(documents: list[KnowledgeDocument], seed: int = 0) -> list[QuizQuestion]:
    """Every question the knowledge base supports, choices drawn with `seed`."""
    rng = random.Random(seed)
    chunks = {doc.doc_id: split_document(doc) for doc in documents}
    titles_by_area: dict[str, list[str]] = defaultdict(list)
    for doc in documents:
        titles_by_area[_area(doc)].append(doc.title)
    drafts: list[tuple[KnowledgeDocument, dict]] = []
    for doc in documents:
        if _area(doc) in CONDITION_AREAS:
            others = [t for t in titles_by_area[_area(doc)] if t != doc.title]
            drafts += [(doc, d) for d in _condition_questions(doc, chunks[doc.doc_id], others)]
        drafts += [(doc, d) for d in _figure_questions(doc, chunks[doc.doc_id])]
    values_by_unit: dict[str, set[str]] = defaultdict(set)
    for _, draft in drafts:
        if draft["kind"] == "figure":
            values_by_unit[draft["unit"]].add(draft["answer"])

    bank: list[QuizQuestion] = []
    per_doc: dict[str, int] = defaultdict(int)
    for doc, draft in drafts:
        if draft["kind"] == "condition":
            pool = sorted(set(draft["distractor_pool"]))
        else:
            # A distractor sharing a number with the answer ("1.0 mm", "1 to 2 cm" for "1 cm") would be
            # ambiguous; one stated elsewhere in the same sentence would also be "right".
            taken = _numbers(draft["answer"]) | _numbers(draft["sentence"])
            pool = sorted(v for v in values_by_unit[draft["unit"]] if not _numbers(v) & taken)
        if len(pool) < N_CHOICES - 1:
            continue
        choices = rng.sample(pool, N_CHOICES - 1) + [draft["answer"]]
        rng.shuffle(choices)
        chunk: Chunk = draft["chunk"]
        number = per_doc[doc.doc_id]
        per_doc[doc.doc_id] += 1
        bank.append(QuizQuestion(
            question_id=f"{doc.doc_id}:{draft['kind']}:{number}",
            kind=draft["kind"], topic=_area(doc), question=draft["prompt"], choices=tuple(choices),
            answer=draft["answer"], accepted=draft["accepted"], explanation=draft["sentence"],
            citations=(Citation(doc.doc_id, chunk.section, doc.title),)))
    return bank


def draw(bank: list[QuizQuestion], n: int, *, seed: int = 0,
         topic_weights: dict[str, float] | None = None) -> list[QuizQuestion]:
    """n questions without repeats, one document at most twice, topics weighted (weak topics drawn more)."""
    rng = random.Random(seed)
    remaining = list(bank)
    per_doc: dict[str, int] = defaultdict(int)
    chosen: list[QuizQuestion] = []
    while remaining and len(chosen) < n:
        weights = [(topic_weights or {}).get(q.topic, 1.0) for q in remaining]
        pick = rng.choices(range(len(remaining)), weights=weights)[0]
        question = remaining.pop(pick)
        if per_doc[question.citations[0].doc] >= 2 and any(per_doc[q.citations[0].doc] < 2 for q in remaining):
            continue
        per_doc[question.citations[0].doc] += 1
        chosen.append(question)
    return chosen
