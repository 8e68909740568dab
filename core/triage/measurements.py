"""Small parsers for numbers in text: temperatures, vital signs, sizes, durations, checklist scores."""
from __future__ import annotations

import re

from core.triage.features import NUM_WORD

_NUM = r"(\d{1,3}(?:\.\d{1,2})?)"
_TEMP_PREFIXED = re.compile(
    r"(?:\b(?:temp(?:erature|rature|erture)?|fever(?:ish)?|febrile|pyrexi(?:a|al)|tmax)|(?-i:\bT))"
    r"\s*(?:of|is|was|at|to|now|up to|reached|=|:|~|-)?\s*(?:of\s*)?" + _NUM + r"(?:\s*(?:°|º|deg\w*))?(?:\s*(?-i:([CF])))?"
    # not followed by a letter or more digits: "38.4." at the end of a sentence is still a temperature
    r"(?!\w|\.\d)",
    re.IGNORECASE)
_TEMP_UNIT = re.compile(r"(?<![\w.])" + _NUM + r"\s*(?:°\s*(?-i:([CF]))?|º\s*(?-i:([CF]))?|degrees?\s*(?:(?-i:([CF]))\b|celsius|centigrade|fahrenheit)?)",
                        re.IGNORECASE)
_TEMP_LETTER = re.compile(r"(?<![\w.])(\d{2,3}(?:\.\d)?)\s?(?-i:([CF]))\b")
_TEMP_BARE = re.compile(r"(?<![\w.\-/])((?:3[4-9]|4[0-2])\.\d)(?![\d%/]|\.\d)"
                        r"(?!\s*(?:mm|cm|kg|g|mg|mcg|ml|l|%|x|weeks?|days?|years?|mmol|umol|µmol|ng|iu|units?|hours?)\b)",
                        re.IGNORECASE)
_BP = re.compile(r"\b(?:BP|B/P|blood pressure)(?:\s+(?:machine|monitor|cuff|reading))?(?:\s+(?:says|said|reads|read|shows|showed))?"
                 r"\s*(?:of|is|was|=|:|now|down to|(?:dropped|crashed|fell|fallen|plummeted|plunged)(?:\s+to)?)?\s*(\d{2,3})\s*(?:/|\bover\b)\s*(\d{2,3})\b"
                 r"|\b(?:SBP|systolic(?:\s+BP)?)\s*(?:of|is|was|=|:|now|<|down to)?\s*(\d{2,3})\b"
                 r"|\b(\d{2,3})\s*/\s*\d{2,3}\s*mm\s?Hg\b"
                 r"|\b(?:BP|blood pressure)\s*(?:of|is|was|=|:|now|down to|dropped to)?\s*(\d{2,3})\s*(?:systolic|sys)\b", re.IGNORECASE)
_HR = re.compile(r"\b(?:HR|heart rate|pulse(?: rate)?)\s*(?:of|is|was|=|:|now)?\s*(\d{2,3})\b|\b(\d{2,3})\s*(?:bpm|beats per min\w*)",
                 re.IGNORECASE)
_RR = re.compile(r"\b(?:RR|resp(?:iratory)? rate|resps?)\s*(?:of|is|was|=|:)?\s*(\d{1,2})\b", re.IGNORECASE)
_SPO2 = re.compile(r"\b(?:sats?|SpO2|SaO2|O2 sats?|oxygen sat\w*)\s*(?:of|is|was|=|:|now)?\s*(\d{2,3})\s*%?", re.IGNORECASE)
_LACTATE = re.compile(r"\blactate\s*(?:of|is|was|=|:)?\s*(\d+(?:\.\d+)?)", re.IGNORECASE)
_CRT = re.compile(r"\b(?:CRT|cap(?:illary)? refill(?: time)?)\s*(?:of|is|was|=|:|>)?\s*(\d+(?:\.\d+)?)\s*(?:s|secs?|seconds)\b",
                  re.IGNORECASE)
_NEWS = re.compile(r"\bNEWS\s*2?\s*(?:score\s*)?(?:of|is|was|=|:)?\s*(\d{1,2})\b")
_TRANSAMINASE = re.compile(r"\b(?:ALT|AST)\s*(?:of|is|was|=|:)?\s*(\d{2,4})\b")
_SIZE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(mm|cm)\b", re.IGNORECASE)
_SIZE_CHANGE = re.compile(r"\bfrom\s+(?:about\s+|around\s+|approx\.?\s+)?(\d+(?:\.\d+)?)\s?(mm|cm)?\s+to\s+(?:about\s+|around\s+)?(\d+(?:\.\d+)?)\s?(mm|cm)\b"
                          r"|(?<![\d.])(\d+(?:\.\d+)?)\s?(mm|cm)?\s*(?:->|=>)\s*(\d+(?:\.\d+)?)\s?(mm|cm)\b",
                          re.IGNORECASE)
# "4 mm wide, increased from 2 mm": the later size first.
_SIZE_UP_FROM = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s?(mm|cm)\b[^.;\n]{0,30}?\b(?:increased|up|grown|enlarged|widened|bigger)\s+from\s+"
                           r"(\d+(?:\.\d+)?)\s?(mm|cm)\b", re.IGNORECASE)
# Checklist points written in prose: "two for the size change, two for the colour and one because it itches".
_CHECKLIST_CONTEXT = re.compile(r"\b(?:check\s?list|(?:7|seven)[- ]?point|7-?PCL?|glasgow|points?)\b", re.IGNORECASE)
_PROSE_POINTS = re.compile(r"\b(1|2|one|two)\s*(?:points?|pts?|marks?)?\s+(?:for|because|as|since)\b", re.IGNORECASE)
_STATED_SCORE = re.compile(r"\b(?:scored?|score\s+(?:of|was|is|=)|total(?:led|s)?(?:\s+of)?|adds?\s+up\s+to|came\s+to)\s*(\d{1,2})\b",
                           re.IGNORECASE)
_SIZE_NOW = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s?(mm|cm)\b[^.;\n]{0,60}?\b(?:now|today|currently)\b[^.;\n]{0,20}?(?<![\d.])(\d+(?:\.\d+)?)\s?(mm|cm)\b"
                       r"|(?<![\d.])(\d+(?:\.\d+)?)\s?(mm|cm)\b[^.;\n]{0,60}?(?<![\d.])(\d+(?:\.\d+)?)\s?(mm|cm)\s+(?:now|today)\b"
                       # the later size without its unit: "it was 4 mm in March, now it's 8"
                       r"|(?<![\d.])(\d+(?:\.\d+)?)\s?(mm|cm)\b[^.;\n]{0,40}?\bnow\s+(?:it's|its|it is|about|around)?\s*(\d+(?:\.\d+)?)()"
                       r"(?!\d|\.\d|\s*(?:%|/|years?|yrs?|months?|weeks?|days?|am|pm|kg|mm|cm|in\b|of\b|x\b))",
                       re.IGNORECASE)
_DURATION = re.compile(rf"\b({NUM_WORD})\s*(?:-\s*)?(days?|weeks?|wks?|months?|mths?|years?|yrs?)\b(?![- ]?old)|\b(\d+)\s*/\s*(52|12)\b"
                       r"|\bsince\s+(?:the\s+)?(?:spring|summer|autumn|fall|winter|last year|january|february|march|april|may|june|july|august|september|october|november|december)\b",
                       re.IGNORECASE)
_CHECKLIST = re.compile(r"(?:(?:7|seven)[- ]?(?:point|pt)|7-?PCL?)\b[^\n]{0,200}?(?:\btotal(?:\s+score)?|\bscore[sd]?|\bscoring|=)\s*(?:of|is|was|:|=)?\s*(\d{1,2})\b"
                        r"|(?:(?:7|seven)[- ]?(?:point|pt)|7-?PCL?)\s*(?:weighted\s+)?(?:check\s?list|cl)?\s*(?:score)?\s*[:=]?\s*(\d{1,2})\b(?!\s*(?:items?|points? each|features|criteria|signs))"
                        r"|\bscor\w*\s+(\d{1,2})\s+(?:on|using)\s+(?:the\s+)?(?:weighted\s+)?(?:(?:7|seven)[- ]?(?:point|pt)|7-?PCL?)\b",
                        re.IGNORECASE)
# "She is 9 months" gives an age, not how long the problem has lasted.
_AGE_BEFORE = re.compile(r"\b(?:she|he|baby|son|daughter|child|boy|girl|toddler|infant|i)\s*(?:is|'s|was|am|'m)\s+"
                         r"(?:only\s+|just\s+|nearly\s+|almost\s+)?$", re.IGNORECASE)
# "A couple of times a year" says how often, not for how long.
_FREQUENCY_BEFORE = re.compile(r"\b(?:times?|once|twice)\s+$", re.IGNORECASE)
_WORD_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "several": 3, "a few": 3, "few": 3, "a couple of": 2,
                 "couple of": 2}
_WEEKS_PER_UNIT = {"d": 1 / 7, "w": 1.0, "m": 4.35, "y": 52.0}


def _celsius(value: float, unit: str | None) -> float | None:
    if unit and unit.upper() == "F" or value > 50:
        value = (value - 32) * 5 / 9
    return value if 30.0 <= value <= 44.0 else None  # anything else is not a body temperature


def read_measurements(text: str) -> list[tuple[str, int, int]]:
    """Read numeric findings; returns (feature, start, end) hits."""
    hits: list[tuple[str, int, int]] = []
    temp_spans: list[tuple[int, int]] = []
    for pattern in (_TEMP_PREFIXED, _TEMP_UNIT, _TEMP_LETTER, _TEMP_BARE):
        for m in pattern.finditer(text):
            if any(s <= m.start() < e for s, e in temp_spans):
                continue
            unit = next((g for g in m.groups()[1:] if g), None)
            celsius = _celsius(float(m.group(1)), unit)
            if celsius is None:
                continue
            temp_spans.append(m.span())
            # 37.8 °C: a common clinical fever cut-off, below NICE's 38 °C, so that borderline readings in
            # immunosuppressed patients are not missed; < 36 °C is a NICE NG51 moderate-risk sign.
            if celsius >= 37.8:
                hits.append(("fever", *m.span()))
            elif celsius < 36.0:
                hits.append(("hypothermia", *m.span()))
    for m in _BP.finditer(text):
        systolic = int(m.group(1) or m.group(3) or m.group(4) or m.group(5))
        if systolic <= 90:
            hits.append(("hypotension", *m.span()))  # NICE NG51 high risk: systolic <= 90 mmHg
        elif systolic <= 100:
            hits.append(("sbp_moderate", *m.span()))  # NG51 moderate to high risk: 91-100 mmHg
    for m in _HR.finditer(text):
        rate = int(m.group(1) or m.group(2))
        if rate > 130:
            hits.append(("hr_high", *m.span()))  # NG51 high risk: more than 130 per minute
        elif rate > 90:
            hits.append(("tachycardia", *m.span()))  # NG51 moderate to high risk: 91-130
    for m in _RR.finditer(text):
        rate = int(m.group(1))
        if rate >= 25:
            hits.append(("rr_high", *m.span()))
        elif rate >= 21:
            hits.append(("tachypnoea", *m.span()))
    for m in _SPO2.finditer(text):
        if 50 <= int(m.group(1)) < 92:
            hits.append(("spo2_low", *m.span()))
    for m in _LACTATE.finditer(text):
        value = float(m.group(1))
        if value >= 4:
            hits.append(("lactate_high", *m.span()))
        elif value >= 2:
            hits.append(("lactate_moderate", *m.span()))
    for m in _CRT.finditer(text):
        if float(m.group(1)) >= 3:
            hits.append(("crt_prolonged", *m.span()))
    for m in _NEWS.finditer(text):
        score = int(m.group(1))
        if score >= 7:
            hits.append(("news_high", *m.span()))  # NEWS2 7 or more: emergency response threshold
        elif score >= 5:
            hits.append(("news_moderate", *m.span()))  # NEWS2 5-6: urgent response threshold
    for m in _TRANSAMINASE.finditer(text):
        if int(m.group(1)) >= 80:  # more than about twice the usual upper limit (~40 U/L)
            hits.append(("liver", *m.span()))
    for m in _SIZE.finditer(text):
        millimetres = float(m.group(1)) * (10 if m.group(2).lower() == "cm" else 1)
        if 7 <= millimetres <= 300:  # NICE 7-point checklist: largest diameter 7 mm or more
            hits.append(("diameter_7mm", *m.span()))
    for pattern, later_first in ((_SIZE_CHANGE, False), (_SIZE_NOW, False), (_SIZE_UP_FROM, True)):
        for m in pattern.finditer(text):
            groups = m.groups()
            pairs = [(groups[i], groups[i + 1]) for i in range(0, len(groups), 2) if groups[i] is not None]
            (first, first_unit), (second, second_unit) = pairs[0], pairs[1]
            first_unit = first_unit or second_unit  # "from 4 to 6 mm": one unit for both
            before = float(first) * (10 if first_unit.lower() == "cm" else 1)
            after = float(second) * (10 if (second_unit or first_unit or "").lower() == "cm" else 1)
            if later_first:
                before, after = after, before
            if after > before:
                hits.append(("growth", *m.span()))
    for m in _DURATION.finditer(text):
        if m.group(1) and (_AGE_BEFORE.search(text, max(0, m.start() - 20), m.start())
                           or _FREQUENCY_BEFORE.search(text, max(0, m.start() - 12), m.start())):
            continue
        if m.group(1):
            word = m.group(1).lower()
            count = float(word) if word[0].isdigit() else _WORD_NUMBERS.get(word, 1)
            weeks = count * _WEEKS_PER_UNIT[m.group(2)[0].lower()]
        elif m.group(3):
            weeks = int(m.group(3)) * (1.0 if m.group(4) == "52" else 4.35)
        else:
            weeks = 8.0  # "since the spring", "since last year": months at least
        if weeks >= 4:
            hits.append(("duration_4w", *m.span()))
        else:
            hits.append(("duration_short", *m.span()))
    for m in _CHECKLIST.finditer(text):
        if int(next(g for g in m.groups() if g)) >= 3:
            hits.append(("checklist_3plus", *m.span()))
    hits.extend(_checklist_in_prose(text))
    return hits


def _checklist_in_prose(text: str) -> list[tuple[str, int, int]]:
    """A checklist total of 3 or more stated ("scored 5") or given as points ("2 for size, 1 for itch"), in
    a sentence that mentions the checklist or points."""
    hits = []
    for sentence in re.finditer(r"[^.!?\n]+(?:[.!?\n]+|$)", text):
        body = sentence.group()
        if not _CHECKLIST_CONTEXT.search(body):
            continue
        points = [m for m in _PROSE_POINTS.finditer(body)]
        total = sum(int(m.group(1)) if m.group(1).isdigit() else {"one": 1, "two": 2}[m.group(1).lower()] for m in points)
        stated = [m for m in _STATED_SCORE.finditer(body) if 3 <= int(m.group(1)) <= 13]
        if total >= 3:
            hits.append(("checklist_3plus", sentence.start() + points[0].start(), sentence.start() + points[-1].end()))
        elif stated:
            hits.append(("checklist_3plus", sentence.start() + stated[0].start(), sentence.start() + stated[0].end()))
    return hits


