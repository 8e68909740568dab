"""Cited chatbot engine: answers only from the curated knowledge base, or refuses.

`ask(question)` runs, in order:

1. the red-flag triage filter on the raw message (`core.triage.assess`), so an emergency is escalated
   whatever else happens;
2. a scope guard: prompt-injection attempts, requests to dump the knowledge base and creative-writing
   requests are refused without retrieval (user text is data, never instructions);
3. fused retrieval (`KnowledgeIndex.search`); weak retrieval means refusal;
4. the extractive composer: the most relevant knowledge-base sentences, verbatim, each followed by its
   [n] citation. Nothing else is written apart from the fixed framing and refusal texts below.

For the Streamlit page: keep one `KnowledgeIndex` per process (opening loads the embedder and reads
the collections) and pass it as `index=`; render `Answer.answer`, then one expandable card per
`Answer.citations` item (title, section, passage, sources); show a banner when `Answer.triage_level`
is "emergency" or "urgent".
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.config import CLASS_NAMES
from core.text import storable
from core.knowledge.index import IndexedSentence, KnowledgeIndex
from core.knowledge.lexical import tokenize
from core.knowledge.retrieval import Passage, Retrieval
from core.triage import Assessment, assess

if TYPE_CHECKING:
    from core.analysis import CurrentCase

REFUSAL = "I don't have that in the knowledge base."
SCOPE = ("I can answer questions about skin lesions and their dermoscopy, skin-cancer referral, staging and "
         "follow-up rules, skin emergencies, sun protection, skin biopsy and Mohs surgery, and how DermaDesk's "
         "model and heatmaps work.")
ESCALATION = {
    "emergency": "This message describes red flags that need emergency care now: call the local emergency "
                 "number or go to the emergency department. Background from the knowledge base follows.",
    "urgent": "This message describes features that need urgent specialist review (same week, often the "
              "same day). Background from the knowledge base follows.",
}

# Composer tuning (scores are cosine similarities plus weighted shares; see `select_sentences`).
PASSAGES_CONSIDERED = 5
MAX_SENTENCES = 5
MAX_SENTENCES_FOR_LISTS = 6  # "list the six phototypes", "what are the criteria"
MIN_SENTENCES = 2  # one sentence rarely answers a clinical question; the second may score lower
MIN_SENTENCE_MARGIN = 0.4
CONTEXT_WEIGHT = 0.3
LEXICAL_WEIGHT = 0.3
ANSWER_TYPE_BONUS = 0.1
DEFINITION_BONUS = 0.1
MIN_NEW_TERMS = 5
TOPIC_SENTENCE_PENALTY = 0.1
SAME_SECTION_BONUS = 0.1  # further sentences from the best sentence's section read as one answer
CONTINUATION_BONUS = 0.2  # the sentence right after a chosen one often completes it ("The rest were ...")
COVERAGE_GAIN_WEIGHT = 0.3
ANSWER_MARGIN = 0.3  # a further sentence must score within this of the first one
NEAR_DUPLICATE = 0.9  # cosine above which a second sentence adds nothing
MAX_QUESTION_CHARS = 2000

_INJECTION = [re.compile(p, re.IGNORECASE) for p in (
    r"\b(ignore|disregard|forget|override|bypass|overrule)\b.{0,40}\b(instructions?|rules?|prompts?|guidelines?|"
    r"guardrails?|restrictions?|previous|above|earlier)\b",
    r"\bsystem\s+(prompt|message|instructions?)\b",
    r"\b(reveal|show|print|repeat|output|tell me)\b.{0,30}\b(your|the)\s+(prompt|instructions|configuration|rules)\b",
    r"\byou\s+are\s+now\b",
    r"\bfrom\s+now\s+on\s+you\b",
    r"\b(pretend|act)\s+(to\s+be|as\s+(if|a|an))\b",
    r"\b(jailbreak|developer\s+mode|dan\s+mode)\b",
    r"\b(dump|export|print|output|reproduce|copy|list|show|give\s+me|send\s+me)\b.{0,40}"
    r"\b(whole|entire|full|complete|all(\s+of)?(\s+the)?|every)\b.{0,30}"
    r"\b(knowledge[\s-]*base|kb|database|documents?|corpus|index|passages|chunks|contents?)\b",
)]
# SQL, formulas and code pasted as a question: nothing in the knowledge base answers them, and their digits
# ("1=1") would otherwise match scoring rules.
_CODE = re.compile(
    r"'\s*(or|and)\s+\S+\s*=|\bunion\s+(all\s+)?select\b|;\s*(drop|delete|insert|update|select)\b|"
    r"\bselect\b.{0,40}\bfrom\b.{0,40}\bwhere\b|^\s*[=+@]|<\s*script\b|\$\{|\{\{", re.IGNORECASE)
_CREATIVE = re.compile(
    r"\b(write|compose|create|generate|make\s+up|draft)\b.{0,40}\b(poems?|sonnets?|haikus?|limericks?|songs?|"
    r"lyrics|stor(y|ies)|novel|raps?|jokes?|essays?|screenplay|script|fan\s*fiction|ballad|verse)\b"
    r"|\btell\s+me\s+a\s+(joke|story)\b",
    re.IGNORECASE,
)
# Dosing questions must be clearly about something the knowledge base covers: it holds no general
# prescribing information, so a passage sharing only the word "dose" is not an answer.
_DOSING = re.compile(r"\b(dose|doses|dosing|dosage|mg/kg|loading\s+dose|titrat\w*|how\s+many\s+mg)\b", re.IGNORECASE)
DOSING_MIN_COVERAGE = 0.75
_QUANTITY = re.compile(
    r"\b(how\s+(many|much|long|often|big|large|thick|deep|soon)|what\s+(share|proportion|percentage|fraction|size|"
    r"score|age|dose|spf|number)|which\s+score|cut-?offs?|thresholds?|how\s+common)\b", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![A-Za-z])\d")  # a figure, not the digits of a name such as HAM10000
_WHY = re.compile(r"\bwhy\b|\bwhat\s+(causes|is\s+the\s+reason)\b|\bhow\s+come\b", re.IGNORECASE)
_REASON = re.compile(r"\b(because|so\s+that|since|therefore|as\s+a\s+result|leads?\s+to|due\s+to|owing\s+to|"
                     r"caused\s+by|causes?|otherwise|which\s+means)\b", re.IGNORECASE)
# "... and how/what/which ..." or a second question mark starts another part of a compound question.
_PART_SPLIT = re.compile(
    r",?\s+and\s+(?=(?:how|what|which|when|where|why|who|does|do|is|are|can|should|will|roughly|at\s+what)\b)"
    r"|\?\s+(?=\S)", re.IGNORECASE)
_DEFINITION = re.compile(
    r"\s*(what\s+(is|are)\s+(an?\s+|the\s+)?[\w' /-]{1,60}\??\s*$|define\b|definition\s+of\b|tell\s+me\s+about\b|"
    r"what\s+does\s+[\w' /-]{1,40}\s+(mean|stand\s+for)\??\s*$)", re.IGNORECASE)
_ENUMERATION = re.compile(
    r"\b(list|name|enumerate|run\s+(me\s+)?through|what\s+are\s+the|which\s+(features|criteria|signs|types|classes)|"
    r"criteria|types|phototypes|classes|features|signs|steps|stages)\b", re.IGNORECASE)
# Words that tie a question to the current case rather than to a topic in general.
_COMPARISON = re.compile(r"\b(rather\s+than|instead\s+of|versus|vs\.?|differ\w*|distinguish|tell\s+apart|compared?|"
                         r"or\s+an?\b|other\s+options?|runner-?up|second)\b", re.IGNORECASE)
_CASE_REFERENCE = re.compile(
    r"\b(this|the|current|that|our)\s+(case|lesion|image|picture|photo|prediction|spot|mole|one|patient)\b"
    r"|\bthis\s+be\b|\bis\s+(this|it)\b|\bwhy\s+(might|would|could|does|is)\s+(this|it)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Citation:
    """One numbered source of an answer: a knowledge-base document section and the passage quoted."""

    n: int
    doc: str
    title: str
    section: str
    passage: str
    sources: tuple[str, ...]
    last_reviewed: str = ""


@dataclass(frozen=True)
class Answer:
    """What the chatbot says. `refused` means the knowledge base could not (or must not) answer."""

    answer: str
    citations: list[Citation]
    refused: bool
    triage_level: str
    triage: Assessment
    refusal_reason: str | None = None  # "empty-retrieval", "weak-retrieval", "injection", "creative", "dosing"
    retrieved: tuple[Passage, ...] = field(default=(), repr=False)  # for evaluation and debugging

    def to_json(self) -> dict[str, Any]:
        """The stable JSON contract of `python -m core ask`."""
        return {
            "answer": self.answer,
            "citations": [{"n": c.n, "doc": c.doc, "title": c.title, "section": c.section} for c in self.citations],
            "refused": self.refused,
            "triage_level": self.triage_level,
        }


def run_triage(text: str) -> tuple[str, Assessment]:
    """Level and assessment of the message from `core.triage`.

    Raises ValueError (triage's own input error) for text triage cannot read, e.g. far too long.
    """
    assessment = assess(text)
    return assessment.level, assessment


def scope_violation(question: str) -> str | None:
    """Why a question must be refused before retrieval ("injection", "creative", "not-a-question"), or None."""
    if any(pattern.search(question) for pattern in _INJECTION):
        return "injection"
    if _CREATIVE.search(question):
        return "creative"
    if _CODE.search(question) or not any(any(ch.isalpha() for ch in token) for token in tokenize(question)):
        return "not-a-question"
    return None


def case_query(question: str, case: CurrentCase | None) -> tuple[str, list[str]]:
    """Retrieval query and favoured class codes for a question, steered by the current case if it refers to it.

    The predicted (else most probable) class is named in the query, so "how should this lesion be
    managed?" retrieves that class's documents; a comparative question ("why might this be a BCC rather
    than a naevus?") also names the runner-up.
    """
    if case is None or not _CASE_REFERENCE.search(question):
        return question, []
    probabilities = case.probabilities or {}
    ranked = [c for c in sorted(probabilities, key=lambda c: -float(probabilities[c])) if c in CLASS_NAMES]
    classes = [case.predicted] if case.predicted in CLASS_NAMES else ranked[:1]
    if _COMPARISON.search(question):
        classes += [c for c in ranked if c not in classes][:1]
    if not classes:
        return question, []
    return f"{question} ({'; '.join(CLASS_NAMES[c] for c in classes)})", classes


def ask(
    question: str,
    *,
    case: CurrentCase | None = None,
    index: KnowledgeIndex,
) -> Answer:
    """Answer `question` from the knowledge base with [n] citations, or refuse.

    `index` is opened once per process and shared. `case` (the analysis on screen) steers questions
    that refer to it ("how is this lesion managed?"). Raises ValueError with a readable message for an
    empty or unreadable question.
    """
    if not isinstance(question, str) or not question.strip():
        raise ValueError("the question is empty: type a question about dermatology")
    question = storable(question)
    # Triage reads the whole message (a red flag may be buried anywhere); retrieval needs only the start.
    triage_level, assessment = run_triage(question.strip())
    question = question.strip()[:MAX_QUESTION_CHARS]

    def refuse(reason: str, retrieved: Sequence[Passage] = ()) -> Answer:
        text = f"{ESCALATION[triage_level]} {REFUSAL}" if triage_level in ESCALATION else f"{REFUSAL} {SCOPE}"
        return Answer(text, [], True, triage_level, assessment, reason, tuple(retrieved))

    violation = scope_violation(question)
    if violation:
        return refuse(violation)

    query, case_classes = case_query(question, case)
    # The knowledge base tags documents about a HAM10000 class with the lower-case class code ("bcc").
    retrieval = index.search(query, boost_docs=index.documents_tagged(case_classes) if case_classes else ())
    if not retrieval.passages:
        return refuse("empty-retrieval")
    if not retrieval.confident:
        return refuse("weak-retrieval", retrieval.passages)
    if _DOSING.search(question) and retrieval.passages[0].coverage < DOSING_MIN_COVERAGE:
        return refuse("dosing", retrieval.passages)

    parts = question_parts(question)
    part_vectors = index.embed_many(parts) if len(parts) > 1 else []
    picked = select_sentences(index, retrieval, index.query_terms(query), question, parts if len(part_vectors) else (),
                              part_vectors)
    text, citations = render_with_citations(picked)
    if triage_level in ESCALATION:
        text = f"{ESCALATION[triage_level]} {text}"
    return Answer(text, citations, False, triage_level, assessment, None, tuple(retrieval.passages))


@dataclass(frozen=True)
class PickedSentence:
    passage: Passage
    position: int
    text: str
    score: float


def question_parts(question: str) -> list[str]:
    """The sub-questions of a compound question ("What causes X and how is it treated?"), else [question]."""
    parts = [p.strip(" ,;?") for p in _PART_SPLIT.split(question)]
    parts = [p for p in parts if len(p.split()) >= 2]
    return parts if len(parts) > 1 else [question]


def select_sentences(index: KnowledgeIndex, retrieval: Retrieval, query_terms: Sequence[str],
                     question: str = "", parts: Sequence[str] = (),
                     part_vectors: Sequence[Sequence[float]] = ()) -> list[PickedSentence]:
    """Pick the few sentences of the top passages that best answer the query, in reading order.

    Score of a sentence for a query: its cosine similarity to the query, plus its passage's
    similarity (context), plus the share of query terms found in the sentence or its section
    heading, plus a bonus when it has the kind of content the question asks for (a figure for "how
    many", a reason for "why"). The best sentence for the whole question comes first; for a compound
    question (`parts`, embedded as `part_vectors`) the best sentence for each part follows. Further
    sentences are added greedily, favouring the best sentence's section, the sentence that continues
    a chosen one, and query terms not yet covered; near-duplicates are skipped.
    """
    import numpy as np

    query_vector = np.asarray(retrieval.query_embedding, dtype=np.float32)
    part_matrix = np.asarray(part_vectors, dtype=np.float32).reshape(-1, query_vector.shape[0])
    part_terms = [index.query_terms(part) for part in parts]
    wants_number = bool(_QUANTITY.search(question))
    wants_reason = bool(_WHY.search(question))
    wants_definition = bool(_DEFINITION.match(question))
    candidates: list[_Candidate] = []
    for passage in retrieval.passages[:PASSAGES_CONSIDERED]:
        heading = index.heading_terms(passage.chunk_id)
        context = CONTEXT_WEIGHT * max(passage.dense, passage.best_sentence)
        for sentence in index.sentences_of(passage.chunk_id):
            terms = set(sentence.terms) | set(heading)
            answer_type = ((wants_number and _NUMBER.search(sentence.text))
                           or (wants_reason and _REASON.search(sentence.text)))
            prior = context + (ANSWER_TYPE_BONUS if answer_type else 0.0)
            # A sentence that adds few words beyond the question ("The scale has important limits.")
            # introduces a topic without answering; the embedding still rates it highly.
            if len(set(sentence.terms) - set(query_terms)) < MIN_NEW_TERMS:
                prior -= TOPIC_SENTENCE_PENALTY
            # "What is X?" is best answered by a document's opening sentence, which defines X.
            if wants_definition and passage.chunk_id.endswith("#000") and sentence.position == 0:
                prior += DEFINITION_BONUS
            base = float(sentence.vector @ query_vector) + prior + LEXICAL_WEIGHT * index.coverage(query_terms, terms)
            part_scores = [
                float(sentence.vector @ part_matrix[i]) + prior + LEXICAL_WEIGHT * index.coverage(part_terms[i], terms)
                for i in range(len(part_matrix))
            ]
            candidates.append(_Candidate(base, sentence, passage, terms, part_scores))
    if not candidates:
        return []

    def redundant(candidate: _Candidate, chosen: list[_Candidate]) -> bool:
        return any(c is candidate or float(candidate.sentence.vector @ c.sentence.vector) > NEAR_DUPLICATE
                   for c in chosen)

    first = max(candidates, key=lambda c: c.base)
    chosen = [first]
    for part in range(len(part_matrix)):
        best_for_part = max(candidates, key=lambda c: c.part_scores[part])
        if not redundant(best_for_part, chosen) and best_for_part.base >= first.base - MIN_SENTENCE_MARGIN:
            chosen.append(best_for_part)

    limit = max(len(chosen), MAX_SENTENCES_FOR_LISTS if _ENUMERATION.search(question) else MAX_SENTENCES)
    covered = set().union(*(c.terms for c in chosen))
    while len(chosen) < limit:
        best_value, best = -1.0, None
        for candidate in candidates:
            if redundant(candidate, chosen):
                continue
            value = candidate.base + COVERAGE_GAIN_WEIGHT * index.coverage(query_terms, candidate.terms - covered)
            if candidate.passage.chunk_id == first.passage.chunk_id:
                value += SAME_SECTION_BONUS
            if any(c.passage.chunk_id == candidate.passage.chunk_id
                   and c.sentence.position == candidate.sentence.position - 1 for c in chosen):
                value += CONTINUATION_BONUS
            if value > best_value:
                best_value, best = value, candidate
        margin = MIN_SENTENCE_MARGIN if len(chosen) < MIN_SENTENCES else ANSWER_MARGIN
        if best is None or best_value < first.base - margin:
            break
        chosen.append(best)
        covered |= best.terms

    passage_rank: dict[str, int] = {}
    for candidate in chosen:
        passage_rank.setdefault(candidate.passage.chunk_id, len(passage_rank))
    chosen.sort(key=lambda c: (passage_rank[c.passage.chunk_id], c.sentence.position))
    return [PickedSentence(c.passage, c.sentence.position, c.sentence.text, c.base) for c in chosen]


@dataclass(frozen=True, eq=False)
class _Candidate:
    base: float  # score for the whole question
    sentence: IndexedSentence
    passage: Passage
    terms: set[str]
    part_scores: list[float]  # score for each part of a compound question


def render_with_citations(picked: Iterable[PickedSentence]) -> tuple[str, list[Citation]]:
    """Join sentences verbatim, each followed by the [n] of its passage; number passages by first use."""
    numbers: dict[str, int] = {}
    citations: list[Citation] = []
    parts: list[str] = []
    for item in picked:
        p = item.passage
        if p.chunk_id not in numbers:
            numbers[p.chunk_id] = len(numbers) + 1
            citations.append(Citation(numbers[p.chunk_id], p.doc, p.title, p.section, p.text, p.sources, p.last_reviewed))
        parts.append(f"{drop_spelling_variants(item.text)} [{numbers[p.chunk_id]}]")
    return " ".join(parts), citations


_PARENTHESIS = re.compile(r"\s\(([A-Za-z][A-Za-z' -]{1,40})\)")


def drop_spelling_variants(sentence: str) -> str:
    """'colour (color)', 'tumour (tumor)', 'millimetres (millimeters)' -> the first spelling only. The knowledge
    base keeps both so that either finds the passage; an answer reads better with one. A parenthesis that is
    not a respelling of the words before it ('(SCC)', '(the Nikolsky sign)') stays."""
    from difflib import SequenceMatcher

    def replace(match: re.Match) -> str:
        variant = match.group(1)
        words = sentence[:match.start()].split()[-len(variant.split()):]
        before = " ".join(w.strip(",;:") for w in words).lower()
        alike = SequenceMatcher(None, before, variant.lower()).ratio() >= 0.8 and before != variant.lower()
        return "" if alike else match.group(0)

    return _PARENTHESIS.sub(replace, sentence)
