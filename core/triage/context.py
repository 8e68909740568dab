"""Where a mention stands in its text: sentences, clauses, negation, past history, educational questions."""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from core.triage.features import COMPILED_FEATURES, fold_case
from core.triage.measurements import read_measurements

_SENTENCE_BREAK = re.compile(r"(?<=[.!])\s+|(?<=\?)\s+(?=[A-Z\"'(])|\n+")
_NEGATION_BREAK = re.compile(
    r"[;:]|\s[-–—]+\s|\(|\)|\b(?:but|however|although|though|yet|except|apart from|aside from|whereas|while|now|since then|then|which)\b",
    re.IGNORECASE)
_HISTORY_BREAK = re.compile(  # "now" starts a new clause unless it reports that the problem has gone ("now settled")
    r";|\b(?:but|however|although|though|yet|whereas|now(?!\s+(?:fully\s+|completely\s+)?(?:settled|resolved|subsided|recovered))|since then|currently|presently|today|recently)\b", re.IGNORECASE)
_NEGATION_CUE = re.compile(
    r"\b(?:no|not|nil|without|denies|denied|deny|denying|never|none|neither|nor|free of|negative for|ruled out|stopped"
    r"|dont|doesnt|didnt|isnt|wasnt|hasnt|havent|wont|cant|cannot)\b|n't\b",
    re.IGNORECASE)
# Phrases that contain a negation word but do not negate what follows (hedges and ongoing problems).
_PSEUDO_NEGATION = re.compile(
    r"\bnot\s+(?:sure|certain|clear|only|improv\w*|settl\w*|getting better|better|responding to|helped|working)\b"
    r"|\b(?:can't|cannot|can not|couldn't|won't)\s+(?:rule out|exclude|stop|tell|say|be sure)\b|\bnot (?:been )?(?:excluded|ruled out)\b"
    r"|\bno (?:improvement|better|change in (?:treatment|plan))\b|\bnothing helps\b|\bfor no (?:\w+\s+)?reason\b"
    r"|\bno (?:idea|matter|doubt)\b",
    re.IGNORECASE)
_POST_NEGATION = re.compile(r"^\s*(?:(?:is\s+|was\s+|sign\s+)?(?:absent|negative|-ve|not present|denied|ruled out|excluded|nil)\b"
                            r"|[:\-]\s*(?:no|none|nil|neg)\b)",
                            re.IGNORECASE)
_NEGATION_WINDOW_WORDS = 6  # NegEx-style scope: a cue reaches at most this many words ahead
_HISTORY_MARKER = re.compile(
    r"\bin (?:19|20)\d\d\b|\b(?:\d+|a|one|two|three|four|five|six|seven|eight|nine|ten|several|many|some)\s+(?:years?|yrs?|decades?)\s+ago\b"
    r"|\bas an? (?:child|kid|baby|teenager|teen|toddler|student)\b|\bin (?:my|his|her|their) (?:childhood|teens|twenties|youth)\b"
    r"|\bwhen (?:i|he|she|they) (?:was|were) (?:young|little|a child|a baby|\d+)\b"
    r"|\b(?:now\s+)?(?:fully |completely )?(?:recovered|resolved)\b|\bfull recovery\b|\bfollow[- ]?ups?\s+(?:were\s+|have been\s+|all\s+)?clear\b"
    r"|\bclear since\b|\bdischarged\b|\bin remission\b|\bno recurrence\b"
    r"|\bleft\s+(?:\w+\s+)?(?:scarring|scars)\b|\btreated for\b|\bexcised\b|\bat (?:the )?age (?:of )?\d+\b"
    r"|\b(?:years|a while|long) (?:back|ago)\b|\bin the past\b|\bdied\b|\bpassed away\b",
    re.IGNORECASE)
# "Settled" and "subsided" look back: they end the problem named before them in the clause, not what follows.
_SETTLED_MARKER = re.compile(r"\b(?:now\s+|has\s+|have\s+|had\s+|all\s+)*(?:settled|subsided)\b", re.IGNORECASE)
# "History of", "previous", "PMH" qualify only the phrase that follows them (up to the next comma or "and").
_HISTORY_PREFIX = re.compile(
    r"\b(?:history of|hx(?: of)?|h/o|pmh\w*|previous(?:ly)?|prior|past (?:history|episode)s?(?: of)?)\b[^,;.\n]{0,60}",
    re.IGNORECASE)
# ... but "family history", "3-day history" or "short hx" describe the present illness, not the past.
_NOT_PAST_BEFORE_PREFIX = re.compile(
    r"(?:\bfamily|\d|\bshort|\bbrief|\brecent|\bhours?|\bhrs?|\bdays?|\bweeks?|\bwks?|\bmonths?|/12|/52|/7)[\s-]*$", re.IGNORECASE)
_PRESENT_CUE = re.compile(
    r"\b(?:new(?:ly)?|now|today|currently|current|recent(?:ly)?|presents?|presenting|developed|developing|noticed|found|"
    r"appeared|started|this (?:week|morning|month|evening)|since (?:yesterday|last night|this morning))\b", re.IGNORECASE)
# Diagnoses named in a history, risk, prevention or information phrase are not a current problem.
_NAME_NOT_CURRENT = re.compile(
    r"\b(?:known|history|hx|h/o|previous\w*|prior|past|risk\w*|prone|vaccin\w*|jabs?|immuni[sz]\w*|prevent\w*|protect\w*|"
    r"avoid\w*|epi-?pens?|adrenaline pens?|auto-?injectors?|leaflets?|information|awareness|allergies|allergic to|outbreak|"
    r"essay|article|talk|project|assignment|questions?|asking|wonder\w*|curious|read|reading|heard|protocol|guidelines?|poster|"
    r"friend|neighbou?r|colleague|cousin|someone|somebody|last (?:year|month|winter|summer|spring|autumn))\b", re.IGNORECASE)
# A diagnosis named on its own escalates only when framed as a current suspicion or problem.
_NAME_FRAME_BEFORE = re.compile(
    r"(?:\?|\b(?:query|suspect\w*|possible|possibly|probable|probably|likely|think|thinks|thought|could|might|may|maybe|"
    r"looks like|look like|signs of|developing|developed|has|have|got|with|diagnosed|treating|treated as|admitted|"
    r"r/o|rule out|exclude|dd?x|diagnos\w*|impression|c/w|consistent with|in keeping with|having|going into|into))\W*(?:\w+\W+){0,5}\w*$",
    re.IGNORECASE)
# ... or followed by "?", "suspected", or a dash or colon that opens the details, as in a note heading ("TEN - 30% BSA").
_NAME_FRAME_AFTER = re.compile(
    r"^\W{0,3}(?:\?|suspected|likely|query|possible)"
    r"|^\s*[-–—:]\s+(?!(?:what|how|why|when|which|signs|symptoms|overview|facts|guide|causes|treatment|management|info\w*|"
    r"definition|key points|summary|notes?|recognition|red flags)\b)", re.IGNORECASE)

# A sentence asks or requests teaching when it ends with "?", opens like a question or request, or names a
# teaching setting. "When I press..." or "Can't breathe" are statements, so bare "when" and contractions do not count.
_QUESTION_START = re.compile(
    r"^\W*(?:[\w ]{0,30}[:\-–]\s*)?(?:(?:what|why|how|which|explain|describe|define|list|outline|compare|contrast|"
    r"tell me|give me|quiz me|summari[sz]e|teach me)\b(?![’'])"
    r"|(?:is|are|can|could|does|do|should|would|will)\s+(?:the|a|an|it|there|you|i|we|this|that|these|those)\b)",
    re.IGNORECASE)
_EDUCATIONAL_CUE = re.compile(
    r"\b(?:teaching|revision|revise|exams|(?:my|an|the|upcoming|final|board|written|osce|mrcp)\s+exam(?!\w|\s+(?:shows?|showed|reveals?|revealed|finding))|"
    r"exam\s+(?:question|revision|prep\w*|practice)|osce|quiz|lecture|tutorial|for (?:my\s+)?students|textbook|in general|essay|article|"
    r"assignment|presentation|poster|blog|"
    r"is characteri[sz]ed by|is defined as|refers to|differential (?:diagnosis\s+)?(?:for|of))\b", re.IGNORECASE)
_PATIENT_ANCHOR = re.compile(
    r"\bmy\b(?!\s+(?:exams?|osces?|finals|boards|viva|students?|trainees?|teaching|notes|lecture|revision|class|talk|presentation|understanding|knowledge|questions?|course|module|essay|thesis|assignment|homework|studies|placement|rotation|colleagues?|tutor|supervisor|consultant)\b)"
    r"|\b(?:our|his|her|he|she|him|he's|she's)\b"
    r"|\bI(?:'ve|'m having|'m getting| have| had| got| noticed| found| feel| felt| woke| can't| cannot| started| keep| developed| am having)\b"
    r"|\bpts?\b|\b(?:the|this|our|ward|index)\s+(?:patient|child|baby|infant|man|woman|boy|girl|lady|gentleman)\b"
    r"|\bthis\s+(?:mole|lesion|rash|spot|lump|ulcer|sore|patch)\b"
    r"|\b\d{1,3}\s?(?:yo|y/o|yrs? old|years? old|-year-old|-month-old|-week-old|-day-old|months? old|weeks? old|days? old)\b"
    r"|(?-i:\b\d{1,3}\s?-?[MF]\b)|\b(?:aged|age)\s+\d{1,3}\b"
    r"|\b(?:son|daughter|baby|toddler|infant|neonate|newborn|husband|wife|partner|dad|mum|mom|father|mother|grandad|grandpa|grandma|granny|brother|sister|kid)\b"
    r"|\b(?:since (?:yesterday|this morning|last night|lunchtime)|today|tonight|this morning|right now|just now)\b"
    r"|(?-i:\b(?:T|BP|HR|SBP|RR)\s?\d)|\btemp\w*\s+(?:is\s+)?\d|\bo/e\b|\bon examination\b",
    re.IGNORECASE)


@dataclass(frozen=True)
class Hit:
    feature: str
    start: int
    end: int
    sentence: int


def _boundaries(text: str, pattern: re.Pattern) -> list[int]:
    return [m.start() for m in pattern.finditer(text)]


class TextContext:
    """Where sentences and clauses start and end in one text, and which sentences are educational."""

    def __init__(self, text: str):
        self.text = text
        breaks = [m.end() for m in _SENTENCE_BREAK.finditer(text)]
        self.sentence_starts = [0] + breaks
        sentence_ends = breaks + [len(text)]
        sentence_breaks = sorted(set(self.sentence_starts[1:]))
        self.negation_breaks = sorted(set(sentence_breaks + _boundaries(text, _NEGATION_BREAK)))
        self.history_breaks = sorted(set(sentence_breaks + _boundaries(text, _HISTORY_BREAK)))
        self.negation_cues = [m.span() for m in _NEGATION_CUE.finditer(text)]
        self.pseudo = [m.span() for m in _PSEUDO_NEGATION.finditer(text)]
        self.history_markers = [m.span() for m in _HISTORY_MARKER.finditer(text)]
        self.settled_markers = [m.span() for m in _SETTLED_MARKER.finditer(text)]
        self.history_phrases = [m.span() for m in _HISTORY_PREFIX.finditer(text)
                                if not _NOT_PAST_BEFORE_PREFIX.search(text[max(0, m.start() - 12):m.start()])]
        self.present_cues = [m.start() for m in _PRESENT_CUE.finditer(text)]
        self.educational = [self._is_educational(s, e) for s, e in zip(self.sentence_starts, sentence_ends)]

    def sentence_of(self, position: int) -> int:
        return bisect.bisect_right(self.sentence_starts, position) - 1

    def _is_educational(self, start: int, end: int) -> bool:
        sentence = self.text[start:end].strip()
        asks = sentence.endswith("?") or bool(_QUESTION_START.search(sentence)) or bool(_EDUCATIONAL_CUE.search(sentence))
        return asks and not _PATIENT_ANCHOR.search(sentence)

    @staticmethod
    def _clause(breaks: list[int], position: int, end_limit: int) -> tuple[int, int]:
        i = bisect.bisect_right(breaks, position)
        return (breaks[i - 1] if i else 0), (breaks[i] if i < len(breaks) else end_limit)

    def negated(self, start: int, end: int, covered: list[tuple[int, int]]) -> bool:
        clause_start, clause_end = self._clause(self.negation_breaks, start, len(self.text))
        for cue_start, cue_end in self.negation_cues:
            if cue_end > start or cue_start < clause_start:
                continue
            if any(s <= cue_start < e for s, e in self.pseudo) or any(
                    s <= cue_start < e and len(self.text[s:cue_start].split()) <= 2 for s, e in covered):
                continue  # the cue opens a finding ("hasn't healed", "no injury") or a hedge ("not sure")
            if len(self.text[cue_end:start].split()) <= _NEGATION_WINDOW_WORDS:
                return True
        return bool(_POST_NEGATION.match(self.text[end:min(clause_end, end + 40)]))

    def past(self, start: int, end: int) -> bool:
        if any(s < start < e for s, e in self.history_phrases):  # a marker opening the finding itself does not count
            return True
        clause_start, clause_end = self._clause(self.history_breaks, start, len(self.text))
        for marker_start, marker_end in self.history_markers:
            if not (clause_start <= marker_start < clause_end):
                continue
            lo, hi = (marker_end, start) if marker_end <= start else (end, marker_start)
            # "now resolved" after the finding reports the present state itself, whatever time words precede it
            now_resolved = marker_start >= end and self.text[marker_start:marker_end].lower().startswith("now")
            if now_resolved or not any(lo <= p < hi for p in self.present_cues):
                return True
        for marker_start, marker_end in self.settled_markers:
            if clause_start <= marker_start < clause_end and marker_start >= end and (
                    self.text[marker_start:marker_end].lower().startswith("now")
                    or not any(end <= p < marker_start for p in self.present_cues)):
                return True
        return False

    def name_not_current(self, start: int, end: int) -> bool:
        clause_start, clause_end = self._clause(self.history_breaks, start, len(self.text))
        if _NAME_NOT_CURRENT.search(self.text, clause_start, clause_end):
            return True
        # The frame may sit inside the match itself ("?SCC", "suspected melanoma").
        framed = _NAME_FRAME_BEFORE.search(self.text[clause_start:end]) or _NAME_FRAME_AFTER.match(self.text[end:clause_end])
        # A diagnosis standing alone as a note's heading or line ("HZO.", "NF -") is the working diagnosis.
        # A one-line message that is only the name is a topic to look up, not a note.
        heading = (not re.search(r"\w", self.text[clause_start:start]) and not re.search(r"\w", self.text[end:clause_end])
                   and bool(re.search(r"\w", self.text[:clause_start] + self.text[clause_end:])))
        return not (framed or heading)


def _shouting(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.7


def raw_hits(text: str) -> list[tuple[str, int, int]]:
    shouting = _shouting(text)
    folded = fold_case(text)
    hits: list[tuple[str, int, int]] = []
    for name, plain, acronyms in COMPILED_FEATURES:
        if plain is not None:
            hits.extend((name, *m.span()) for m in plain.finditer(folded) if m.end() > m.start())
        if acronyms is not None and not shouting:
            hits.extend((name, *m.span()) for m in acronyms.finditer(text))
    hits.extend(read_measurements(text))
    return hits


