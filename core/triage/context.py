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
    r";|\b(?:but|however|although|though|yet|whereas|where|which(?!\s+(?:has\s+|had\s+|have\s+)?(?:now\s+|since\s+)?(?:fully\s+|completely\s+)?(?:settled|resolved|subsided|recovered|gone|went|cleared|disappeared|healed|stopped))|now(?!\s+(?:fully\s+|completely\s+)?(?:settled|resolved|subsided|recovered|gone))|since then|currently|presently|today|tonight|recently)\b"
    # a comma before a new subject and its verb: "he's shaking, he's talking about work he retired from years ago"
    r"|,(?=\s+(?:and\s+)?(?:he|she|they|i|we|it)(?:'s|'re|'m|\s+is|\s+are|\s+was|\s+has|\s+had|\s+says|\s+said|\s+keeps)\b)",
    re.IGNORECASE)
_NEGATION_CUE = re.compile(
    r"\b(?:no|not|nil|without|denies|denied|deny|denying|never|none|nothing|neither|nor|free of|negative for|ruled out|stopped"
    r"|dont|doesnt|didnt|isnt|wasnt|hasnt|havent|wont|cant|cannot)\b|n't\b",
    re.IGNORECASE)
# Phrases that contain a negation word but do not negate what follows (hedges and ongoing problems).
_PSEUDO_NEGATION = re.compile(
    r"\bnot\s+(?:sure|certain|clear|only|improv\w*|settl\w*|getting better|better|responding to|helped|working)\b"
    r"|\b(?:can't|cannot|can not|couldn't|won't)\s+(?:rule out|exclude|stop|tell|say|be sure)\b|\bnot (?:been )?(?:excluded|ruled out)\b"
    r"|\bno (?:improvement|better|change in (?:treatment|plan))\b|\bnothing helps\b|\bfor no (?:\w+\s+)?reason\b"
    r"|\bno (?:idea|matter|doubt)\b",
    re.IGNORECASE)
_POST_NEGATION = re.compile(r"^(?:'s|s)?\s*(?:(?:is\s+|was\s+|sign\s+)?(?:absent|negative|-ve|not present|denied|ruled out|excluded|nil)\b"
                            r"|[:\-]\s*(?:no|none|nil|neg)\b)",
                            re.IGNORECASE)
_SOMEONE_ELSES_PAST = re.compile(
    r"\b(?:my|his|her|our|a)\s+(?:dad|father|mum|mom|mother|uncle|aunt(?:ie)?|cousin|friend|neighbou?r|colleague|grand\w+|"
    r"brother|sister|husband|wife|partner)(?:'s)?\b[^.;!?\n]{0,60}?\b(?:had|was|were|got|died|passed away|caught|suffered)\b"
    r"|\blast (?:year|summer|winter|spring|autumn|month)\b", re.IGNORECASE)
_NEGATION_WINDOW_WORDS = 6  # NegEx-style scope: a cue reaches at most this many words ahead
# A negated verb ("didn't take the tablets", "doesn't hurt", "wasn't there") negates its own clause, which a
# comma or "and <new subject>" ends: "didn't take malaria tablets, fevers every night" reports fevers. A
# negated "have", "feel", "report"... introduces a list of findings and keeps its reach ("doesn't have
# fever, rash or headache"), as "no", "without" and "denies" do.
_VERB_NEGATION = re.compile(r"^(?:not|dont|doesnt|didnt|isnt|wasnt|hasnt|havent|wont|cant|cannot|n't|never)$", re.IGNORECASE)
_LIST_VERB_AFTER = re.compile(
    r"\s*(?:\w+\s+)?(?:have|has|had|got|get|getting|feel|felt|feeling|report\w*|complain\w*|show\w*|notice\w*|see|seen|"
    r"seem\w*|look\w*|experienc\w*|suffer\w*|any|a|an)\b", re.IGNORECASE)
# Run-on text has no commas: a new subject with its verb ("... can't catch it my watch says 130") ends the clause too.
_CLAUSE_JOIN = re.compile(r",|\band\s+(?=(?:it|it's|its|he|she|they|i|we|the|his|her|my|now|then|today|since)\b)"
                          r"|\b(?:my|his|her|their|our)\s+\w+\s+(?=(?:says|said|shows|showed|reads|read|is|was|went)\b)",
                          re.IGNORECASE)
_HISTORY_MARKER = re.compile(
    r"\bin (?:19|20)\d\d\b|\b(?:\d+|a|one|two|three|four|five|six|seven|eight|nine|ten|several|many|some)\s+(?:years?|yrs?|decades?)\s+ago\b"
    r"|\bas an? (?:child|kid|baby|teenager|teen|toddler|student)\b|\bin (?:my|his|her|their) (?:childhood|teens|twenties|youth)\b"
    r"|\bwhen (?:i|he|she|they) (?:was|were) (?:young|little|a child|a baby|\d+)\b"
    r"|\b(?:now\s+)?(?:fully |completely )?(?:recovered|resolved)\b|\bfull recovery\b|\bfollow[- ]?ups?\s+(?:were\s+|have been\s+|all\s+)?clear\b"
    r"|\bclear since\b|\bdischarged\b|\bin remission\b|\bno recurrence\b|\b(?:had|was|were)\s+(?!not\s+like\b|not\s+the\s+same\b|different\b|(?:\w+\s+)?(?:thin|thinner|narrow|narrower|tiny|small|smaller|little|lighter|paler|flat|flatter|fainter|half)\b)(?:\w+\s+){0,5}?last year\b"
    # an illness had last month ("I had shingles round my eye last month"); "we were away last month" dates no illness
    r"|\bhad\s+(?:\w+\s+){0,5}?(?<!since )(?<!from )last month\b"
    r"|\bleft\s+(?:\w+\s+)?(?:scarring|scars)\b|\btreated for\b|\bexcised\b|\bat (?:the )?age (?:of )?\d+\b"
    r"|\b(?:years|a while|long) (?:back|ago)\b|\bin the past\b|\bdied\b|\bpassed away\b"
    r"|\bused to (?:have|get|suffer|react)\b",
    re.IGNORECASE)
# A past time that is the baseline of a comparison ("bigger than in a photo from two years ago", "it was tiny a
# year ago") dates the baseline, not the finding.
_COMPARISON_BEFORE = re.compile(
    r"(?:\b(?:compar\w*|than|vs|versus|photos?|pictures?|pics?|selfies?)\b[^.;!?\n]{0,50}"
    # absent then ("wasn't there at her visit two years ago"): the past time dates the absence, so the finding is new
    r"|\b(?:wasn'?t|was\s+not|weren'?t|were\s+not|not)\s+(?:there|present|visible|seen|noted|recorded)\b[^.;!?\n]{0,50}"
    r"|\b(?:was|were|used to be)\s+(?:only\s+|just\s+|much\s+|a lot\s+)?(?:tiny|small|smaller|little|flat|flatter|lighter|"
    r"paler|thin|thinner|narrow|narrower|round|rounder|regular|even|smooth|(?:\d+(?:\.\d+)?\s*mm))\b[^.;!?\n]{0,30})$", re.IGNORECASE)
# "Settled" and "subsided" look back: they end the problem named before them in the clause, not what follows.
# So does "gone" closing a clause ("had a temp but that's gone now"); "gone navy" or "gone black" is a change, not an end.
_SETTLED_MARKER = re.compile(
    r"\b(?:now\s+|has\s+|have\s+|had\s+|all\s+)*(?:settled|subsided)\b"
    # "lips swelled after kiwi, went down within an hour"
    r"|\b(?:went|gone|came)\s+(?:down|away)\s+(?:\w+\s+)?(?:within|after|in|by itself|on its own|with)\b(?:\s+(?:an?|a few|\d+|one|two|half an)\s+(?:hours?|minutes?|mins?|days?))?"
    r"|\b(?:now\s+gone|(?:that's|thats|it's|its|that has|it has|which has|has|have|had)\s+(?:now\s+|all\s+)?gone(?:\s+away)?(?:\s+now)?)"
    r"(?=\s*(?:[,.;!)]|$|and\b|but\b))", re.IGNORECASE)
# "... a temp for two days but that's gone now": the next clause ends the problem of this one.
_SETTLED_NEXT_CLAUSE = re.compile(
    r"\W*(?:but|however)\s+(?:that|it|which|this|they|those)(?:'s|s|\s+has|\s+have|\s+is|\s+are)?\s+(?:now\s+|all\s+)?"
    r"(?:gone|settled|subsided|resolved|went (?:down|away)|gone down|came down|calmed down|cleared|disappeared)\b",
    re.IGNORECASE)
_PROGRESSIVE_BEFORE = re.compile(r"(?:\b(?:is|are|am)|'s|'re|'m)\s+$", re.IGNORECASE)
# "History of", "previous", "PMH" qualify only the phrase that follows them (up to the next comma or "and").
_HISTORY_PREFIX = re.compile(
    r"\b(?:history of|hx(?: of)?|h/o|pmh\w*|previous(?:ly)?|prior|past (?:history|episode)s?(?: of)?)\b[^,;.\n]{0,60}",
    re.IGNORECASE)
# ... but "family history", "3-day history" or "short hx" describe the present illness, not the past.
_NOT_PAST_BEFORE_PREFIX = re.compile(
    r"(?:\bfamily|\d|\bshort|\bbrief|\brecent|\bhours?|\bhrs?|\bdays?|\bweeks?|\bwks?|\bmonths?|/12|/52|/7)[\s-]*$", re.IGNORECASE)
_PRESENT_CUE = re.compile(
    r"\b(?:new(?:ly)?|now|today|currently|current|recent(?:ly)?|presents?|presenting|developed|developing|noticed|found|"
    r"appeared|started|tonight|right now|at the moment|this (?:week|morning|month|evening|afternoon)|since (?:yesterday|last night|this morning))\b", re.IGNORECASE)
# Diagnoses named in a history, risk, prevention or information phrase are not a current problem.
_NAME_NOT_CURRENT = re.compile(
    r"\b(?:known|history|hx|h/o|previous\w*|prior|past|risk\w*|prone|vaccin\w*|jabs?|immuni[sz]\w*|prevent\w*|protect\w*|"
    r"avoid\w*|epi-?pens?|adrenaline pens?|auto-?injectors?|leaflets?|information|awareness|allergies|allergic to|outbreak|"
    r"essay|article|talk|project|assignment|questions?|ask(?:s|ed|ing)|wonder\w*|curious|read|reading|heard|protocol|guidelines?|poster|"
    r"friend|neighbou?r|colleague|cousin|someone|somebody|last (?:year|month|winter|summer|spring|autumn)|"
    r"letter|classmates?|(?:another|other)\s+(?:child|children|kid|kids|pupil|pupils|boy|girl)|a child in)\b", re.IGNORECASE)
# What the writer read or heard in general ("I read that a non-blanching rash can mean meningitis") is not a
# finding in anyone: the clause after "read/heard ... that" when it speaks of what something can mean or be.
_GENERAL_CLAIM = re.compile(
    r"\b(?:read|heard|seen|saw|learn(?:ed|t)|(?:was|were|been) told)\s+(?:\w+\s+){0,3}?that\b[^.?!;\n]{0,120}?"
    r"\b(?:can|could|may|might|means?|is a sign|are a sign|signs? of|is linked|are linked)\b[^.?!;\n]{0,80}", re.IGNORECASE)
# Safety-netting advice ("advised to seek help if a rash or mouth ulcers develop") and hypotheticals ("if he ever
# had ...") name what to watch for, not what the patient has: from the "if" or "should" to the end of the sentence.
_SAFETY_NET = re.compile(
    r"\b(?:seek\s+(?:urgent\s+|medical\s+)?(?:help|advice|attention|care)|return|come back|call\s+(?:999|111|112|911|us|back)|"
    r"re-?attend|re-?present|contact\s+(?:us|the|your|a|GP)|ring|report|attend|advised|told|explained|warned|counsell?ed|"
    r"safety[- ]?net\w*)\b[^.;!?\n]{0,60}?\b(?:if|should|in case)\b[^.;!?\n]{0,160}"
    # ... and a hypothetical: "if my son ever had a rash that didn't fade, what would I do?"
    r"|\bif\s+(?:\w+\s+){0,3}?(?:ever|were to|was to)\b[^.;!?\n]{0,160}"
    r"|\bwhat\s+(?:would|will|could|should)\s+(?:happen|i do|we do|they do)\s+if\b[^.;!?\n]{0,160}"
    r"|\bwhat\s+to\s+do\s+if\b[^.;!?\n]{0,160}"
    r"|\bsafety[- ]?net\w*\s+(?:re|about|regarding|for|on|with)\b[^.;!?\n]{0,160}", re.IGNORECASE)
# A diagnosis named on its own escalates only when framed as a current suspicion or problem.
_NAME_FRAME_BEFORE = re.compile(
    r"(?:\?|\b(?:query|suspect\w*|suspicious|concerning|worrying|possible|possibly|probable|probably|likely|think|thinks|thought|could|might|may|maybe|"
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
# A "?" mid-sentence before a lower-case word ("...swelled up? like how fast") still asks; "?SJS" does not.
_MID_QUESTION = re.compile(r"\w\?(?=\s)")
_EDUCATIONAL_CUE = re.compile(
    r"\b(?:teaching|revision|revise|exams|(?:my|an|the|upcoming|final|board|written|osce|mrcp)\s+exam(?!\w|\s+(?:shows?|showed|reveals?|revealed|finding))|"
    r"exam\s+(?:question|revision|prep\w*|practice)|osce|quiz|lecture|tutorial|for (?:my\s+)?students|textbook|in general|essay|article|"
    r"assignment|presentation|poster|blog|(?:school|science|biology)\s+project|project for|homework|hypothetical\w*|"
    r"what (?:would|will) happen if|what if|"
    r"is characteri[sz]ed by|is defined as|refers to|differential (?:diagnosis\s+)?(?:for|of))\b", re.IGNORECASE)
# Asking what a sign looks like while saying that nobody is ill ("nobody's ill, I just want to know what a meningitis
# rash looks like") is preparing, not reporting: a baby or the children named beside it are no patient.
_WANTS_TO_KNOW = re.compile(r"\b(?:want(?:ed)?|would\s+like|like)\s+to\s+(?:know|learn|understand|see)\s+(?:what|how|which)\b",
                            re.IGNORECASE)
_NOBODY_ILL = re.compile(
    r"\b(?:nobody|no one|no-one|none of (?:us|them))(?:'s|\s+is|\s+are)?\s+(?:ill|sick|unwell|poorly)\b"
    r"|\b(?:kids|children|everyone|everybody|we|they|all)\s+(?:are|is|'re)\s+(?:all\s+)?(?:fine|well|healthy)\b(?!\s+but\b)"
    r"|\bfor\s+(?:the\s+)?future\b|\bjust\s+in\s+case\b"
    # a teaching session for a group ("running a session for our toddler group")
    r"|\b(?:running|giving|leading|doing|preparing|planning)\s+(?:a\s+|an\s+)?(?:session|talk|class|workshop|training)\b",
    re.IGNORECASE)
_EXAM_VIGNETTE = re.compile(
    r"\b(?:(?:practice|exam|quiz|revision|mock|past[- ]paper|sample)\s+(?:question|paper|vignette|scenario|case)s?|"
    r"MCQs?|SBAs?|AKT|MRCGP|USMLE|PLAB|OSCE\s+station|(?:clinical\s+)?vignette)\b", re.IGNORECASE)
_PATIENT_ANCHOR = re.compile(
    r"\bmy\b(?!\s+(?:exams?|osces?|finals|boards|viva|students?|trainees?|teaching|notes|lecture|revision|class|talk|presentation|understanding|knowledge|questions?|course|module|essay|thesis|assignment|homework|studies|placement|rotation|colleagues?|tutor|supervisor|consultant)\b)"
    r"|\b(?:our|his|her|he|she|him|he's|she's)\b"
    r"|\bI(?:'ve|'m having|'m getting| have| had| got| noticed| found| feel| felt| woke| can't| cannot| started| keep| developed| am having)\b"
    r"|\bpts?\b|\b(?:the|this|our|ward|index)\s+(?:patient|child|baby|infant|man|woman|boy|girl|lady|gentleman)\b"
    r"|\bthis\s+(?:mole|lesion|rash|spot|lump|ulcer|sore|patch)\b"
    r"|\b\d{1,3}\s?(?:yo|y/o|yrs? old|years? old|-year-old|-month-old|-week-old|-day-old|months? old|weeks? old|days? old)\b"
    r"|(?-i:\b\d{1,3}\s?-?[MF]\b)|\b(?:aged|age)\s+\d{1,3}\b"
    r"|\b(?:son|daughter|baby|toddler|infant|neonate|newborn|husband|wife|partner|dad|mum|mom|father|mother|grandad|grandpa|grandma|granny|brother|sister|kid)\b"
    r"|\b(?:since (?:yesterday|this morning|last night|lunchtime)|(?<!teaching )(?<!lecture )(?<!tutorial )(?<!class )(?<!lesson )today|tonight|this morning|right now|just now)\b"
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


_WORD_START = re.compile(r"(?<!\S)\S")
_NON_WORD = re.compile(r"\W+")  # where each whitespace-separated word begins
_LOOKBACK_CHARS = 200  # findings and frames are short phrases: nothing further back can matter to one


class TextContext:
    """Where sentences and clauses start and end in one text, and which sentences are educational.

    Everything a mention is checked against is found once, here, in one pass per pattern; the checks
    then look things up by position (binary search), so a text costs time in proportion to its length.
    """

    def __init__(self, text: str, covered: list[tuple[int, int]] = ()):
        self.text = text
        breaks = [m.end() for m in _SENTENCE_BREAK.finditer(text)]
        self.sentence_starts = [0] + breaks
        sentence_ends = breaks + [len(text)]
        sentence_breaks = sorted(set(self.sentence_starts[1:]))
        self.negation_breaks = sorted(set(sentence_breaks + _boundaries(text, _NEGATION_BREAK)))
        self.history_breaks = sorted(set(sentence_breaks + _boundaries(text, _HISTORY_BREAK)))
        self.word_starts = [m.start() for m in _WORD_START.finditer(text)]
        pseudo = sorted(m.span() for m in _PSEUDO_NEGATION.finditer(text))
        spans = sorted(covered)
        span_starts = [s for s, _ in spans]
        self.negation_cues: list[tuple[int, int]] = []
        for cue_start, cue_end in (m.span() for m in _NEGATION_CUE.finditer(text)):
            # A cue inside a hedge ("not sure") or opening a finding ("hasn't healed", "no injury") negates nothing.
            if _inside(pseudo, cue_start) or any(
                    s <= cue_start < e and self._words_between(s, cue_start) <= 2
                    for s, e in spans[bisect.bisect_left(span_starts, cue_start - _LOOKBACK_CHARS):
                                      bisect.bisect_right(span_starts, cue_start)]):
                continue
            self.negation_cues.append((cue_start, cue_end))
        self.cue_ends = [e for _, e in self.negation_cues]
        joins = [m.start() for m in _CLAUSE_JOIN.finditer(text)]
        self.cue_reach: list[int] = []  # where each cue's scope ends at the latest (before clause and window)
        for cue_start, cue_end in self.negation_cues:
            verbal = _VERB_NEGATION.match(text[cue_start:cue_end].replace("\u2019", "'"))
            if verbal and not _LIST_VERB_AFTER.match(text, cue_end):
                j = bisect.bisect_right(joins, cue_end)
                self.cue_reach.append(joins[j] if j < len(joins) else len(text))
            else:
                self.cue_reach.append(len(text))
        self.history_markers = [m.span() for m in _HISTORY_MARKER.finditer(text)
                                if not _COMPARISON_BEFORE.search(text[max(0, m.start() - 60):m.start()])]
        self.history_marker_starts = [s for s, _ in self.history_markers]
        self.settled_markers = [m.span() for m in _SETTLED_MARKER.finditer(text)]
        self.settled_marker_starts = [s for s, _ in self.settled_markers]
        self.history_phrases = sorted(m.span() for m in _HISTORY_PREFIX.finditer(text)
                                      if not _NOT_PAST_BEFORE_PREFIX.search(text[max(0, m.start() - 12):m.start()]))
        self.present_cues = [m.start() for m in _PRESENT_CUE.finditer(text)]
        self.not_current = [m.start() for m in _NAME_NOT_CURRENT.finditer(text)]
        self.general_claims = [m.span() for m in _GENERAL_CLAIM.finditer(text)]
        self.safety_net = [m.span() for m in _SAFETY_NET.finditer(text)]
        # Runs of non-word characters, to ask "is there any word between a and b?" by binary search.
        self.gaps = [m.span() for m in _NON_WORD.finditer(text)]
        self.gap_starts = [s for s, _ in self.gaps]
        self.educational = [self._is_educational(s, e) for s, e in zip(self.sentence_starts, sentence_ends)]

    def sentence_of(self, position: int) -> int:
        return bisect.bisect_right(self.sentence_starts, position) - 1

    def _words_between(self, start: int, end: int) -> int:
        return bisect.bisect_left(self.word_starts, end) - bisect.bisect_left(self.word_starts, start)

    def _has_word(self, start: int, end: int) -> bool:
        if end <= start:
            return False
        i = bisect.bisect_right(self.gap_starts, start) - 1  # the gap holding `start`, if any
        return not (i >= 0 and self.gaps[i][1] >= end)

    def _is_educational(self, start: int, end: int) -> bool:
        sentence = self.text[start:end].strip()
        asks = (sentence.endswith("?") or bool(_MID_QUESTION.search(sentence)) or bool(_QUESTION_START.search(sentence))
                or bool(_EDUCATIONAL_CUE.search(sentence)))
        # An exam vignette gives its patient an age and a history; it is still not a patient.
        asks = asks or bool(_WANTS_TO_KNOW.search(sentence))
        return bool(_EXAM_VIGNETTE.search(sentence)) or (
            asks and (not _PATIENT_ANCHOR.search(sentence) or bool(_NOBODY_ILL.search(sentence))))

    @staticmethod
    def _clause(breaks: list[int], position: int, end_limit: int) -> tuple[int, int]:
        i = bisect.bisect_right(breaks, position)
        return (breaks[i - 1] if i else 0), (breaks[i] if i < len(breaks) else end_limit)

    def negated(self, start: int, end: int) -> bool:
        clause_start, clause_end = self._clause(self.negation_breaks, start, len(self.text))
        # Cues ending at or before the mention, nearest first; beyond the word window none can reach it.
        i = bisect.bisect_right(self.cue_ends, start) - 1
        while i >= 0:
            cue_start, cue_end = self.negation_cues[i]
            if cue_start < clause_start or self._words_between(cue_end, start) > _NEGATION_WINDOW_WORDS:
                break
            if start < self.cue_reach[i]:
                return True
            i -= 1  # a negated verb's clause ended before the mention; an earlier cue may still reach it
        return bool(_POST_NEGATION.match(self.text[end:min(clause_end, end + 40)]))

    def negated_spans(self, start: int, end: int) -> list[tuple[int, int]]:
        """The stretches of text[start:end] that negation cues cover (cue to the end of its scope)."""
        out = []
        cue_starts = [c for c, _ in self.negation_cues]
        first, last = bisect.bisect_left(cue_starts, start), bisect.bisect_left(cue_starts, end)
        for (cue_start, cue_end), reach in zip(self.negation_cues[first:last], self.cue_reach[first:last]):
            _, clause_end = self._clause(self.negation_breaks, cue_start, len(self.text))
            w = bisect.bisect_left(self.word_starts, cue_end) + _NEGATION_WINDOW_WORDS
            scope_end = self.word_starts[w] if w < len(self.word_starts) else len(self.text)
            out.append((cue_start, min(scope_end, clause_end, end, reach)))
        return out

    def only_past(self, start: int, end: int) -> bool:
        """A sentence about resolved or remote history, or about someone else's past illness, with nothing
        current in it."""
        if _SOMEONE_ELSES_PAST.search(self.text, start, end) and not self._present_cue_between(start, end):
            return True
        i = bisect.bisect_left(self.history_marker_starts, start)
        has_marker = (i < len(self.history_marker_starts) and self.history_marker_starts[i] < end) or any(
            start <= s < end for s, _ in self.history_phrases[bisect.bisect_left(self.history_phrases, (start, -1)):
                                                              bisect.bisect_left(self.history_phrases, (end, -1))])
        return has_marker and not self._present_cue_between(start, end)

    def past(self, start: int, end: int) -> bool:
        lo = bisect.bisect_left(self.history_phrases, (start - _LOOKBACK_CHARS, -1))
        if any(s < start < e for s, e in self.history_phrases[lo:bisect.bisect_left(self.history_phrases, (start, -1))]):
            return True  # a marker opening the finding itself does not count
        clause_start, clause_end = self._clause(self.history_breaks, start, len(self.text))
        # A finding told in the present progressive ("he's talking nonsense about work he retired from years ago")
        # is current whatever a later time phrase dates.
        progressive = bool(_PROGRESSIVE_BEFORE.search(self.text, max(0, start - 12), start))
        for marker_start, marker_end in self.history_markers[
                bisect.bisect_left(self.history_marker_starts, clause_start):
                bisect.bisect_left(self.history_marker_starts, clause_end)]:
            if progressive and marker_start >= end:
                continue
            lo, hi = (marker_end, start) if marker_end <= start else (end, marker_start)
            # "now resolved" after the finding reports the present state itself, whatever time words precede it
            now_resolved = marker_start >= end and self.text[marker_start:marker_end].lower().startswith("now")
            if now_resolved or not self._present_cue_between(lo, hi):
                return True
        for marker_start, marker_end in self.settled_markers[
                bisect.bisect_left(self.settled_marker_starts, max(clause_start, end)):
                bisect.bisect_left(self.settled_marker_starts, clause_end)]:
            if "gone" in self.text[marker_start:marker_end].lower() and "," in self.text[end:marker_start]:
                continue  # "blisters on hands, temp yesterday now gone": only the temperature has gone
            if (self.text[marker_start:marker_end].lower().startswith("now")
                    or not self._present_cue_between(end, marker_start)):
                return True
        return bool(_SETTLED_NEXT_CLAUSE.match(self.text, clause_end))

    def _present_cue_between(self, lo: int, hi: int) -> bool:
        return bisect.bisect_left(self.present_cues, hi) > bisect.bisect_left(self.present_cues, lo)

    def general_claim(self, start: int, end: int) -> bool:
        """Whether the mention sits in something read or heard about what a sign can mean, not in a person."""
        return any(s <= start and end <= e for s, e in self.general_claims)

    def safety_netting(self, start: int, end: int) -> bool:
        """Whether the mention sits in advice on what to watch for ("seek help if a rash develops")."""
        return any(s <= start and end <= e for s, e in self.safety_net)

    def name_not_current(self, start: int, end: int) -> bool:
        clause_start, clause_end = self._clause(self.history_breaks, start, len(self.text))
        i = bisect.bisect_left(self.not_current, clause_start)
        if i < len(self.not_current) and self.not_current[i] < clause_end:
            return True
        # The frame may sit inside the match itself ("?SCC", "suspected melanoma"), or just before or after it.
        framed = (_NAME_FRAME_BEFORE.search(self.text[max(clause_start, start - _LOOKBACK_CHARS):end])
                  or _NAME_FRAME_AFTER.match(self.text[end:min(clause_end, end + _LOOKBACK_CHARS)]))
        # A diagnosis standing alone as a note's heading or line ("HZO.", "NF -") is the working diagnosis.
        # A one-line message that is only the name is a topic to look up, not a note.
        heading = (not self._has_word(clause_start, start) and not self._has_word(end, clause_end)
                   and (self._has_word(0, clause_start) or self._has_word(clause_end, len(self.text))))
        return not (framed or heading)


def _inside(spans: list[tuple[int, int]], position: int) -> bool:
    """Whether `position` lies in one of the sorted (start, end) spans (each at most _LOOKBACK_CHARS long)."""
    hi = bisect.bisect_right(spans, (position, float("inf")))
    return any(s <= position < e for s, e in spans[bisect.bisect_left(spans, (position - _LOOKBACK_CHARS, -1)):hi])


def _shouting(text: str) -> bool:
    """Mostly capital letters (a shouted message), so that acronym patterns ("SJS", "TEN") are not trusted."""
    letters = sum(map(str.isalpha, text))
    return letters >= 12 and sum(map(str.isupper, text)) / letters > 0.7


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


