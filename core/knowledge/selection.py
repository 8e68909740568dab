"""Query-aware sentence selection: the sentences of the retrieved passages that answer a question, best first.

Every sentence of the top passages is scored against the question:

* its embedding similarity to the question (sentence vectors are stored in the index, so nothing is embedded
  here but the parts of a compound question);
* lexical overlap: the IDF-weighted share of the question's terms that the sentence or its section heading
  holds, counting the knowledge base's own synonyms (`core.knowledge.synonyms`);
* the kind of content asked for (`AskedFor`): a figure that is not already in the question for "how many",
  "how likely", "what margin", "how often", "when ..." questions, more when it is a figure of the kind asked
  (a percentage, a size, a time, a count of the thing asked about; "formula" asks for figures too); a reason for
  "why"; what a finding indicates for "what does X suggest?"; the people affected for "who gets X?"; what is done
  or given for "how is X treated?" or "what should the GP do?"; for "what
  is it called?", a sentence using a term of its section heading that the question lacks (the heading names
  the concept);
* a bonus for the sentence using the question's rare term in a passage holding all its terms (`Passage.exact`);
* its passage's similarity (context), a bonus for a document's opening sentence when the question asks
  "what is X?", and a penalty for a sentence that adds little beyond the question's own words;
* its similarity is that of the nearest knowledge-base question it answers (`<doc>.questions.yaml`) when that
  is higher.

The best sentence leads the answer; the best sentence for each further part of a compound question follows (a
wider margin when it comes from the first sentence's document; a part may start "and on which ..."),
then a few supporting sentences that score close to the first, within a reading budget.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.knowledge.index import IndexedSentence, KnowledgeIndex
from core.knowledge.lexical import tokenize
from core.knowledge.retrieval import Passage, Retrieval

# Tuning (scores are cosine similarities plus weighted shares; see `score_sentences`).
PASSAGES_CONSIDERED = 5
MAX_SENTENCES = 5
MAX_SENTENCES_FOR_LISTS = 6  # "list the six phototypes", "what are the criteria"
MIN_SENTENCES = 2  # one sentence rarely answers a clinical question; the second may score lower
MAX_ANSWER_CHARS = 1400  # reading budget for the sentences after the first two
MIN_SENTENCE_MARGIN = 0.4
# The best sentence for one part of a compound question ("..., and which blood abnormality is characteristic?")
# scores lower on the whole question than sentences about the other part, so it gets a wider margin when it comes
# from the first sentence's document.
PART_MARGIN = 0.6
CONTEXT_WEIGHT = 0.3
LEXICAL_WEIGHT = 0.3  # share of the question's terms in the sentence or its heading
FIGURE_BONUS = 0.08  # a new figure, when the question asks for a quantity
FIGURE_KIND_BONUS = 0.16  # ... of the kind asked: a percentage for "how likely", a size for "what margin"
REASON_BONUS = 0.1
MEANING_BONUS = 0.2
DEFINITION_BONUS = 0.1
PEOPLE_BONUS = 0.1  # "who gets X?": a sentence about the people affected
NAME_BONUS = 0.15  # "what is it called?": a sentence naming the concept its section heading names
TREATMENT_BONUS = 0.1  # "how is it treated?", "what should the GP do?": a sentence saying what is done
MIN_NEW_TERMS = 5
TOPIC_SENTENCE_PENALTY = 0.1
RARE_NAME_BONUS = 0.3  # the sentence naming the rare term of a passage that holds every term of the question
SAME_SECTION_BONUS = 0.1  # further sentences from the best sentence's section read as one answer
CONTINUATION_BONUS = 0.2  # the sentence right after a chosen one often completes it ("The rest were ...")
COVERAGE_GAIN_WEIGHT = 0.3
ANSWER_MARGIN = 0.3  # a further sentence must score within this of the first one
NEAR_DUPLICATE = 0.9  # cosine above which a second sentence adds nothing
# A sentence that answers a knowledge-base question counts as that question's similarity to the user's, less this
# (fitted with ASKED_RANK_WEIGHT and ASKED_CONFIDENT_SIMILARITY on chat tuning sets 1 and 2, dev set not worse).
ASKED_OFFSET = 0.05

# What a question asks for. A quantity question names the kind of figure it wants where it can.
_FIGURE_KINDS = {
    "percent": re.compile(
        r"\bhow\s+(likely|common|often|frequent\w*|rare|many\s+(of|out\s+of))\b|\b(percentage|proportion|share|"
        r"fraction|odds|chances?|likelihood|probability|prevalence|incidence|per\s*cent|rate)\b", re.IGNORECASE),
    "length": re.compile(
        r"\bhow\s+(big|large|small|thick|deep|wide|far)\b|\b(margins?|size|diameter|thickness|depth|width|"
        r"distance)\b", re.IGNORECASE),
    "time": re.compile(
        r"\bhow\s+(long|soon|often|quickly|fast|frequently|old)\b|\b(at\s+)?what\s+age\b|(^|\band\s+|[,;:?-]\s*)"
        r"when\s+(do|does|did|is|are|was|should|can|must|will|would|to)\b|\b(interval|duration|latency|"
        r"follow-?up\s+schedule)\b", re.IGNORECASE),
    "count": re.compile(
        r"\bhow\s+(many|much)\b|\bwhat\s+(number|score|dose|spf|level|value|grade|amount)\b|\bwhich\s+score\b|"
        r"\b(cut-?offs?|thresholds?|formula|equation|calculat\w*)\b", re.IGNORECASE),
}
_COUNTED = re.compile(r"\bhow\s+many\s+((?:[\w-]+\s+){0,2}[\w-]+)", re.IGNORECASE)
# A figure: digits not part of a name (HAM10000, NG12, T1a); the words after it say its kind. A range ("2 to 8
# weeks", "0.5–1 cm") takes the unit after its second number.
_FIGURE = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")
_RANGE = r"^\s*(?:(?:to|-|–|and|or)\s*\d+(?:[.,]\d+)*\s*)?"
_UNIT_KINDS = (
    ("percent", re.compile(_RANGE + r"(%|per\s*cent|percent|in\s+\d|out\s+of\s+\d)", re.IGNORECASE)),
    ("length", re.compile(_RANGE + r"(mm|cm|m|millimet\w*|centimet\w*|metres?|meters?)\b", re.IGNORECASE)),
    ("time", re.compile(_RANGE + r"(seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|-year)\b",
                        re.IGNORECASE)),
)
_YEAR = re.compile(r"^(19|20)\d\d$")  # "the 2019 guideline": a date, not an answer to "how many"
_WHY = re.compile(r"\bwhy\b|\bwhat\s+(causes|is\s+the\s+reason)\b|\bhow\s+come\b", re.IGNORECASE)
_REASON = re.compile(r"\b(because|so\s+that|since|therefore|as\s+a\s+result|leads?\s+to|due\s+to|owing\s+to|"
                     r"caused\s+by|causes?|otherwise|which\s+means)\b", re.IGNORECASE)
# "What does X suggest?", "Glomerular vessels point to what?": the answer names what a finding indicates.
_ASKS_MEANING = re.compile(r"\b(suggest\w*|indicat\w*|signif\w*|point\s+to|sign\s+of|what\s+does\s+(that|this|it)\s+"
                           r"mean|mean\s+on\s+dermoscopy)\b", re.IGNORECASE)
_MEANING = re.compile(r"\b(suggests?|indicat\w*|points?\s+to|typical\s+of|sign\s+of|clue\s+to|favou?rs?|"
                      r"characteristic\s+of|specific\s+for|hallmark|points?\s+towards?)\b", re.IGNORECASE)
# "Who gets X?", "Which patients develop X?": the answer names a group of people (their sex, age, condition).
_ASKS_WHO = re.compile(r"(^|[,;:?-]\s*|\band\s+)who\s+(?!is\s+(?:it|this)\b)|\b(which|what)\s+(people|patients|groups?|"
                       r"population|age\s+groups?)\b", re.IGNORECASE)
_PEOPLE = re.compile(r"\b(men|women|people|patients|children|adults|infants|babies|elderly|older|younger|decades?|"
                     r"aged|years?\s+of\s+age|recipients|males?|females?)\b", re.IGNORECASE)
# "How is X treated?", "What should the GP do immediately?", "which targeted Rx?": the answer says what is done or
# given (a treatment, a drug, an operation, a referral).
_ASKS_TREATMENT = re.compile(
    r"\b(treat\w*|treament\w*|therap\w*|rx|manag\w*|cure[sd]?|first[- ]line|next\s+step|drugs?|medicines?|medications?|"
    r"what\s+(?:should|do|does|can|must|would)\s+(?:the\s+|a\s+|you\s+|i\s+|we\s+)?(?:\w+\s+)?(?:do|give|prescribe|offer|use))\b",
    re.IGNORECASE)
_TREATMENT = re.compile(
    r"\b(treat\w*|therap\w*|prescrib\w*|giv(?:e|en|ing)|offer\w*|excis\w*|surg\w*|debrid\w*|antibiotics?|antivirals?|"
    r"aciclovir|valaciclovir|imiquimod|fluorouracil|5-fu|cryotherapy|curettage|photodynamic|radiotherapy|"
    r"chemotherapy|immunotherapy|inhibitors?|\w+(?:inib|umab|imab|zumab)|benzylpenicillin|ceftriaxone|adrenaline|"
    r"epinephrine|refer\w*|admi(?:t|tted|ssion)|transfer\w*)\b", re.IGNORECASE)
# "What is it called?", "What is the name of ...?": the answer is a name the question does not hold.
_ASKS_NAME = re.compile(r"\b(called|termed|known\s+as|(the\s+)?(name|term)\s+(of|for)\b)", re.IGNORECASE)
# "... and how/what/which ..." or a second question mark starts another part of a compound question.
_PART_SPLIT = re.compile(
    r",?\s+and\s+(?=(?:(?:on|in|at|for|from|by|with|to|of)\s+(?:which|what|whom)|how|what|which|when|where|why|who|"
    r"does|do|is|are|can|should|will|roughly)\b)"
    r"|\?\s+(?=\S)", re.IGNORECASE)
_DEFINITION = re.compile(
    r"\s*(what\s+(is|are)\s+(an?\s+|the\s+)?[\w' /-]{1,60}\??\s*$|define\b|definition\s+of\b|tell\s+me\s+about\b|"
    r"what\s+does\s+[\w' /-]{1,40}\s+(mean|stand\s+for)\??\s*$)", re.IGNORECASE)
_ENUMERATION = re.compile(
    r"\b(list|name|enumerate|run\s+(me\s+)?through|what\s+are\s+the|which\s+(features|criteria|signs|types|classes)|"
    r"criteria|types|phototypes|classes|features|signs|steps|stages)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Figure:
    """A figure in a text: its digits and the kind its unit says ("percent", "length", "time" or "count")."""

    digits: str
    kind: str
    following: tuple[str, ...]  # terms of the words after it, for "how many <noun>"


def figures_in(text: str) -> list[Figure]:
    """The figures of `text`; years standing alone ("in 2019") are dates, not figures."""
    found = []
    for match in _FIGURE.finditer(text):
        digits, after = match.group().replace(",", ""), text[match.end():match.end() + 40]
        kind = next((k for k, unit in _UNIT_KINDS if unit.match(after)), "count")
        if kind == "count" and _YEAR.match(digits):
            continue
        found.append(Figure(digits, kind, tuple(tokenize(" ".join(after.split()[:3])))))
    return found


@dataclass(frozen=True)
class AskedFor:
    """What kind of content a question asks for, read from its wording."""

    figure_kinds: frozenset[str]  # empty: not a quantity question
    counted: tuple[str, ...]  # terms of "how many <these>"
    given_figures: frozenset[str]  # the figures the question states itself ("which thickness needs a 2 cm margin")
    reason: bool
    meaning: bool  # what a finding indicates
    definition: bool
    enumeration: bool
    name: bool = False  # a name for something the question describes
    who: bool = False  # the people a condition affects
    treatment: bool = False  # what is done or given

    @classmethod
    def read(cls, question: str) -> AskedFor:
        counted = _COUNTED.search(question)
        return cls(
            figure_kinds=frozenset(kind for kind, pattern in _FIGURE_KINDS.items() if pattern.search(question)),
            counted=tuple(tokenize(counted.group(1))) if counted else (),
            given_figures=frozenset(f.digits for f in figures_in(question)),
            reason=bool(_WHY.search(question)),
            meaning=bool(_ASKS_MEANING.search(question)),
            # "What is X?", alone or as the first part of a compound question ("What is X, and why is it treated?")
            definition=bool(_DEFINITION.match(question) or _DEFINITION.match(question_parts(question)[0])),
            enumeration=bool(_ENUMERATION.search(question)),
            name=bool(_ASKS_NAME.search(question)),
            who=bool(_ASKS_WHO.search(question)),
            # "why is it treated?" asks for a reason, not for the treatment
            treatment=bool(_ASKS_TREATMENT.search(question)) and not _WHY.search(question),
        )

    def figure_bonus(self, sentence: str) -> float:
        """The bonus for a sentence holding a figure the question asks for (0 when it asks for none)."""
        if not self.figure_kinds:
            return 0.0
        new = [f for f in figures_in(sentence) if f.digits not in self.given_figures]
        if not new:
            return 0.0
        return FIGURE_BONUS + (FIGURE_KIND_BONUS if any(self._fits(f) for f in new) else 0.0)

    def _fits(self, figure: Figure) -> bool:
        if figure.kind in self.figure_kinds - {"count"}:
            return True
        # "How many images": a count of images, not any number.
        return self.counted[0] in figure.following if self.counted else figure.kind in self.figure_kinds


@dataclass(frozen=True)
class PickedSentence:
    passage: Passage
    position: int
    text: str
    score: float


@dataclass(frozen=True, eq=False)
class Candidate:
    """A sentence of a retrieved passage with its scores."""

    score: float  # for the whole question
    sentence: IndexedSentence
    passage: Passage
    terms: frozenset[str]  # the sentence's matched terms and its heading's
    part_scores: tuple[float, ...]  # for each part of a compound question


def question_parts(question: str) -> list[str]:
    """The sub-questions of a compound question ("What causes X and how is it treated?"), else [question]."""
    parts = [p.strip(" ,;?") for p in _PART_SPLIT.split(question)]
    parts = [p for p in parts if len(p.split()) >= 2]
    return parts if len(parts) > 1 else [question]


def score_sentences(index: KnowledgeIndex, retrieval: Retrieval, query_terms: Sequence[str], asked: AskedFor,
                    parts: Sequence[str] = (), part_vectors: Sequence[Sequence[float]] = ()) -> list[Candidate]:
    """Every sentence of the top passages, scored for the question and for each of its `parts` (embedded as
    `part_vectors`), as the module docstring describes."""
    query_vector = np.asarray(retrieval.query_embedding, dtype=np.float32)
    part_matrix = np.asarray(part_vectors, dtype=np.float32).reshape(-1, query_vector.shape[0])
    part_terms = [index.query_terms(part) for part in parts]
    part_answered = [index.answer_similarities(part_matrix[i]) for i in range(len(part_matrix))]
    rarest = index.rarest_term(query_terms)
    candidates: list[Candidate] = []
    for passage in retrieval.passages[:PASSAGES_CONSIDERED]:
        heading = set(index.heading_terms(passage.chunk_id))
        context = CONTEXT_WEIGHT * max(passage.dense, passage.best_sentence)
        for sentence in index.sentences_of(passage.chunk_id):
            terms = sentence.matched_terms | heading
            prior = context + asked.figure_bonus(sentence.text)
            if asked.reason and _REASON.search(sentence.text):
                prior += REASON_BONUS
            if asked.who and _PEOPLE.search(sentence.text):
                prior += PEOPLE_BONUS
            if asked.meaning and _MEANING.search(sentence.text):
                prior += MEANING_BONUS
            if asked.treatment and _TREATMENT.search(sentence.text):
                prior += TREATMENT_BONUS
            # The embedder does not know a rare name ("Marjolin ulcer"); the sentence that uses it answers.
            if passage.exact and rarest in sentence.matched_terms:
                prior += RARE_NAME_BONUS
            # A sentence that adds few words beyond the question ("The scale has important limits.")
            # introduces a topic without answering; the embedding still rates it highly.
            if len(set(sentence.terms) - set(query_terms)) < MIN_NEW_TERMS:
                prior -= TOPIC_SENTENCE_PENALTY
            # A section heading names its concept ("Negative pigment network"): for "what is it called?" the
            # sentence that uses a heading term the question lacks gives the name.
            if asked.name and sentence.matched_terms & (heading - set(query_terms)):
                prior += NAME_BONUS
            # "What is X?" is best answered by a document's opening sentence, which defines X.
            if asked.definition and passage.chunk_id.endswith("#000") and sentence.position == 0:
                prior += DEFINITION_BONUS

            key = (passage.chunk_id, sentence.position)

            def score(vector: np.ndarray, wanted: Sequence[str], answered: dict[tuple[str, int], float]) -> float:
                # A sentence is as near the question as the nearest knowledge-base question it answers, less a
                # little: two questions are more alike than a question and its answer.
                similarity = max(float(sentence.vector @ vector), answered.get(key, 0.0) - ASKED_OFFSET)
                return similarity + prior + LEXICAL_WEIGHT * index.coverage(wanted, terms)

            candidates.append(Candidate(
                score(query_vector, query_terms, retrieval.answered), sentence, passage, frozenset(terms),
                tuple(score(part_matrix[i], part_terms[i], part_answered[i]) for i in range(len(part_matrix)))))
    return candidates


def select_sentences(index: KnowledgeIndex, retrieval: Retrieval, query_terms: Sequence[str], question: str,
                     parts: Sequence[str] = (), part_vectors: Sequence[Sequence[float]] = ()) -> list[PickedSentence]:
    """The few sentences of the top passages that best answer the question, the best first.

    After the best sentence for the whole question comes the best for each part of a compound question, then
    further sentences added greedily, favouring the best sentence's section, the sentence that continues a
    chosen one and question terms not yet covered, while they score within `ANSWER_MARGIN` of the first and fit
    the reading budget; near-duplicates are skipped. The supporting sentences read in passage order.
    """
    asked = AskedFor.read(question)
    candidates = score_sentences(index, retrieval, query_terms, asked, parts, part_vectors)
    if not candidates:
        return []

    def redundant(candidate: Candidate, chosen: list[Candidate]) -> bool:
        return any(c is candidate or float(candidate.sentence.vector @ c.sentence.vector) > NEAR_DUPLICATE
                   for c in chosen)

    first = max(candidates, key=lambda c: c.score)
    chosen = [first]
    for part in range(len(part_vectors)):
        best_for_part = max(candidates, key=lambda c: c.part_scores[part])
        # A later part often leaves its subject to the first ("..., and what is the treatment of choice?"): only
        # a sentence of the first sentence's document gets the wider margin.
        margin = PART_MARGIN if best_for_part.passage.doc == first.passage.doc else MIN_SENTENCE_MARGIN
        if not redundant(best_for_part, chosen) and best_for_part.score >= first.score - margin:
            chosen.append(best_for_part)
    leading = len(chosen)

    limit = max(len(chosen), MAX_SENTENCES_FOR_LISTS if asked.enumeration else MAX_SENTENCES)
    covered = set().union(*(c.terms for c in chosen))
    length = sum(len(c.sentence.text) for c in chosen)
    while len(chosen) < limit:
        best_value, best = -1.0, None
        for candidate in candidates:
            if redundant(candidate, chosen):
                continue
            if len(chosen) >= MIN_SENTENCES and length + len(candidate.sentence.text) > MAX_ANSWER_CHARS:
                continue
            value = candidate.score + COVERAGE_GAIN_WEIGHT * index.coverage(query_terms, candidate.terms - covered)
            if candidate.passage.chunk_id == first.passage.chunk_id:
                value += SAME_SECTION_BONUS
            if any(c.passage.chunk_id == candidate.passage.chunk_id
                   and c.sentence.position == candidate.sentence.position - 1 for c in chosen):
                value += CONTINUATION_BONUS
            if value > best_value:
                best_value, best = value, candidate
        margin = MIN_SENTENCE_MARGIN if len(chosen) < MIN_SENTENCES else ANSWER_MARGIN
        if best is None or best_value < first.score - margin:
            break
        chosen.append(best)
        covered |= best.terms
        length += len(best.sentence.text)

    passage_rank: dict[str, int] = {}
    for candidate in chosen:
        passage_rank.setdefault(candidate.passage.chunk_id, len(passage_rank))

    def reading_order(c: Candidate) -> tuple[int, bool, int]:
        # What follows the first sentence in its passage comes straight after it.
        follows_first = c.passage.chunk_id == first.passage.chunk_id and c.sentence.position > first.sentence.position
        return passage_rank[c.passage.chunk_id], not follows_first, c.sentence.position

    ordered = chosen[:leading] + sorted(chosen[leading:], key=reading_order)
    return [PickedSentence(c.passage, c.sentence.position, c.sentence.text, c.score) for c in ordered]
