"""Physiology layer: observations written as numbers, read against NICE sepsis risk criteria and NEWS2.

Reads heart rate, respiratory rate, oxygen saturation (and supplemental oxygen), systolic blood
pressure (also "40 below their usual"), temperature, urine output and a stated NEWS2 or GCS, in
clinical shorthand and in lay wording ("my watch says 135", "the oxygen thing says 89%"), plus the
person's age when the text gives it. Then:

* NICE NG51 risk stratification (2016, amended 2024; now NG253 for 16 and over, NG254 for under 16),
  with the age-specific heart and breathing rates for children under 5 and aged 5 to 11;
* NEWS2 (Royal College of Physicians 2017) from the parameters present: 7 or more, or 3 in any one
  parameter, is the emergency-response trigger. Missing parameters score nothing, so the score is a floor.

Criteria escalate only in a text that describes a possible infection, rash or skin injury (the
setting of suspected sepsis); NEWS2 of 7 or more escalates in any context. The layer can only raise
a level; each finding names the criterion that fired and the numbers it read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from core.triage.results import Finding

NG51 = "NICE NG51 (2016, amended 2024) Suspected sepsis: recognition, diagnosis and early management"
NEWS2 = "Royal College of Physicians (2017) National Early Warning Score (NEWS) 2"

_SEP = r"\s*(?:of|is|was|at|=|:|~|now|reads?|reading|says?|showed|shows|shows?\s+me|counted|measured|around|about|approx\.?|up to|down to|dropped to|went (?:up|down) to)*\s*"
_HR = re.compile(r"\b(?:hr|heart\s*rate|pulse(?:\s*rate)?|heart\s+(?:is\s+)?(?:beating|going|racing)(?:\s+at)?|"
                 r"(?:smart)?watch|fitbit)"
                 + _SEP + r"(\d{2,3})\b(?!\s*%)(?:\s*(?:bpm|/min|beats))?|\b(\d{2,3})\s*(?:bpm|beats\s*(?:per|a|/)\s*min\w*)\b")
_RR = re.compile(r"\b(?:rr|resp(?:iratory|iration)?s?\s*(?:rate)?|breathing\s*(?:rate)?|breaths?)" + _SEP
                 + r"(\d{1,2})\b|\b(\d{1,2})\s*(?:breaths\s*(?:per|a|/)\s*min\w*|/min\s+breaths)\b")
_SPO2 = re.compile(r"\b(?:sats?|spo2|sao2|o2\s*sats?|oxygen\s*(?:sat\w*|levels?|thing|reading)?|pulse\s*ox\w*|oximeter|sats\s+probe)"
                   + _SEP + r"(\d{2,3})\s*%?|\b(\d{2,3})\s*%\s*(?:on\s+)?(?:ra|room air|in air|on air|sats|o2|spo2)\b")
_OXYGEN = re.compile(r"\b(?:on|needing|needs|started on|requiring)\s+(?:\d+\s*(?:l|litres?|liters?)\s*(?:/min\s*)?(?:of\s+)?)?(?:o2|oxygen)\b"
                     r"|\b\d+\s*(?:l|litres?|liters?)\s*(?:/min\s*)?(?:of\s+)?(?:o2|oxygen)\b|\bnon-?rebreather\b|\bnasal cannula\w*\b")
_BP = re.compile(r"\b(?:bp|b/p|blood\s*pressure|nibp)(?:\s+(?:machine|monitor|cuff|reading))?(?:\s+(?:says|said|reads|read|shows|showed))?"
                 + _SEP + r"(\d{2,3})\s*(?:/|\bover\b)\s*(\d{2,3})\b|\b(?:sbp|systolic(?:\s*bp)?)"
                 + _SEP + r"(\d{2,3})\b|\b(\d{2,3})\s*/\s*(\d{2,3})\s*(?:mm\s?hg)\b"
                 r"|\b(?:bp|blood\s*pressure)" + _SEP + r"(\d{2,3})\s*(?:systolic|sys)\b")
_USUAL_BP = re.compile(r"\(?\s*(?:usual(?:ly)?|normally|baseline|normal(?:ly)? (?:for (?:him|her|them))?|usual bp)\s*(?:is|of|~|:)?\s*(\d{2,3})(?:\s*/\s*\d{2,3}|s)?\b")
_TEMP = re.compile(r"(?:\b(?:temp(?:erature)?|t|fever(?:ish)?|febrile|pyrexi\w*|tmax|thermometer)" + _SEP
                   + r"(\d{2,3}(?:[.,]\d)?)\s*(?:°|º|deg\w*)?\s*([cf])?\b(?![.,]?\d)|(?<![\w.])(\d{2,3}(?:[.,]\d)?)\s*(?:°|º|deg\w*)\s*([cf])?\b)")
_URINE_RATE = re.compile(r"\b(?:uo|u/o|urine\s*output|urine)\s*(?:of|is|was|=|:|~)?\s*(\d{1,4})\s*(?:ml|mls)\s*/\s*(?:h|hr|hour)\b")
_URINE_NONE = re.compile(r"\b(?:no|not\s+passed\s+(?:any\s+)?|hasn't\s+passed\s+(?:any\s+)?|hasnt\s+passed\s+(?:any\s+)?|nothing\s+in\s+(?:the|his|her|their)\s+(?:catheter\s+)?bag|"
                         r"no\s+wet|dry)\s*(?:urine|wee|pee|nappies|nappy|diapers?|output)?\b[^.;\n]{0,40}?\b(?:(?:for|in)\s+(?:the\s+)?(?:last\s+|past\s+)?)?(\d{1,2})\s*(?:h|hrs?|hours?)\b"
                         r"|\b(?:no|not\s+passed)\s+(?:urine|wee|pee)\s+since\s+(?:yesterday|last night|this morning)\b"
                         r"|\bnothing\s+in\s+(?:the|his|her|their)\s+(?:catheter\s+)?bag\s+since\s+(?:yesterday|last night)\b"
                         r"|\b(?:catheter\s+)?bag\s+(?:has\s+had|had|has)\s+nothing\s+in\s+(?:it\s+)?since\s+(?:yesterday|last night)\b"
                         r"|\b(?:hasn't|hasnt|has not|haven't|havent|not)\s+(?:been\s+for\s+|had\s+|done\s+)?an?\s+(?:wee|pee)\s+since\s+(?:yesterday|last night)\b")
_WEIGHT = re.compile(r"\b(\d{2,3})\s*kg\b")
_NEWS = re.compile(r"\bnews\s*2?\s*(?:score\s*)?(?:of|is|was|=|:)?\s*(\d{1,2})\b")
_GCS = re.compile(r"\bgcs\s*(?:of|is|was|=|:)?\s*(\d{1,2})\b")
# Ages, not durations: "2yo", "8 y/o", "6-week-old", "14mo", "10 months old", "aged 6", "76M" (on the text as
# written: the sex letter is a capital). "for 3 years" or "5 weeks ago" are durations and do not count.
_AGE = re.compile(
    r"(?i:\b(\d{1,3})\s*(?:-\s*)?(yo|y/o|yrs?\s*old|years?\s*old|year-old|yr-old|mo|mos|mths?\s*old|months?\s*old|month-old|"
    r"wks?\s*old|weeks?\s*old|week-old|day-old|days?\s*old|/52\s*old|/12\s*old|/7\s*old)\b)"
    r"|\b(\d{1,3})\s?([MF])\b(?!\s*(?:cells?|/))"
    r"|(?i:\baged?\s+(\d{1,3})\b(?!\s*(?:months?|weeks?|days?)))")
_CHILD_WORDS = re.compile(r"\b(?:baby|babies|infant|newborn|neonate|toddler)\b")


@dataclass(frozen=True)
class Observation:
    kind: str  # "hr", "rr", "spo2", "sbp", "sbp_drop", "temp", "urine_rate", "anuria_hours", "news2", "gcs", "oxygen"
    value: float
    span: tuple[int, int]


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def read_age_years(text: str) -> float | None:
    """The first age the text (as written, not lower-cased) states, in years."""
    for m in _AGE.finditer(text):
        if m.group(1):
            value, unit = int(m.group(1)), m.group(2).lower()
            unit = {"/5": "w", "/1": "m", "/7": "d"}.get(unit[:2], unit)  # "3/52 old" three weeks, "2/12old" two months
            if unit.startswith("w"):
                return value / 52
            if unit.startswith("d"):
                return value / 365
            if unit.startswith("m"):
                return value / 12
            return float(value) if value <= 120 else None
        if m.group(3) or m.group(5):
            value = int(m.group(3) or m.group(5))
            return float(value) if value <= 120 else None
    return None


def read_observations(folded: str) -> list[Observation]:
    """Every observation the (lower-cased) text states, with where it is written."""
    out: list[Observation] = []
    for m in _HR.finditer(folded):
        value = int(m.group(1) or m.group(2))
        if 20 <= value <= 250:
            out.append(Observation("hr", value, m.span()))
    for m in _RR.finditer(folded):
        value = int(m.group(1) or m.group(2))
        if 4 <= value <= 90:
            out.append(Observation("rr", value, m.span()))
    for m in _SPO2.finditer(folded):
        value = int(m.group(1) or m.group(2))
        if 50 <= value <= 100:
            out.append(Observation("spo2", value, m.span()))
    for m in _OXYGEN.finditer(folded):
        out.append(Observation("oxygen", 1, m.span()))
    for m in _BP.finditer(folded):
        systolic = int(m.group(1) or m.group(3) or m.group(4) or m.group(6))
        if 40 <= systolic <= 260:
            out.append(Observation("sbp", systolic, m.span()))
            usual = _USUAL_BP.search(folded, m.end(), min(len(folded), m.end() + 40))
            if usual:
                baseline = int(usual.group(1))
                if 60 <= baseline <= 260:
                    out.append(Observation("sbp_drop", baseline - systolic, (m.start(), usual.end())))
    for m in _TEMP.finditer(folded):
        raw, unit = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        value = _number(raw)
        if (unit or "").lower() == "f" or value > 50:
            value = (value - 32) * 5 / 9
        if 30 <= value <= 44:
            out.append(Observation("temp", round(value, 1), m.span()))
    weight = _WEIGHT.search(folded)
    for m in _URINE_RATE.finditer(folded):
        rate = int(m.group(1))
        if weight:
            out.append(Observation("urine_rate", rate / int(weight.group(1)), m.span()))
    for m in _URINE_NONE.finditer(folded):
        hours = int(m.group(1)) if m.group(1) else 18  # "since yesterday": a day or most of one
        out.append(Observation("anuria_hours", hours, m.span()))
    for m in _NEWS.finditer(folded):
        out.append(Observation("news2", int(m.group(1)), m.span()))
    for m in _GCS.finditer(folded):
        if 3 <= int(m.group(1)) <= 15:
            out.append(Observation("gcs", int(m.group(1)), m.span()))
    return out


@dataclass(frozen=True)
class Criterion:
    level: str  # "high" or "moderate" (NG51 "moderate to high")
    description: str
    span: tuple[int, int]


def _child_band(age: float) -> str:
    return "under 1" if age < 1 else "1-2" if age < 3 else "3-4" if age < 5 else "5" if age < 6 else "6-7" if age < 8 else "8-11"


# NG51 tables 1 and 2: (high-risk rate at or above, moderate-to-high rate at or above) per age band.
_CHILD_HR = {"under 1": (160, 150), "1-2": (150, 140), "3-4": (140, 130), "5": (130, 120), "6-7": (120, 110), "8-11": (115, 105)}
_CHILD_RR = {"under 1": (60, 50), "1-2": (50, 40), "3-4": (40, 35), "5": (29, 24), "6-7": (27, 24), "8-11": (25, 22)}


def _child_criterion(label: str, value: float, table: dict, age: float, span: tuple[int, int]) -> Criterion | None:
    """The NG51 high or moderate-to-high risk criterion a child's rate meets in its age band's table, if any."""
    band = _child_band(age)
    high, moderate = table[band]
    if value >= high:
        return Criterion("high", f"{label} {value:.0f}/min (NG51 high risk at age {band}: {high} or more)", span)
    if value >= moderate:
        return Criterion("moderate", f"{label} {value:.0f}/min (NG51 moderate to high risk at age {band})", span)
    return None


def sepsis_criteria(observations: list[Observation], age: float | None) -> list[Criterion]:
    """NG51 high and moderate-to-high risk criteria met by the numbers (adult tables from age 12)."""
    found: list[Criterion] = []
    child = age is not None and age < 12
    for o in observations:
        v = o.value
        if o.kind == "hr":
            if child:
                banded = _child_criterion("heart rate", v, _CHILD_HR, age, o.span)
                if banded is not None:
                    found.append(banded)
                elif v < 60:
                    found.append(Criterion("high", f"heart rate {v:.0f}/min (NG51 high risk: under 60)", o.span))
            elif v > 130:
                found.append(Criterion("high", f"heart rate {v:.0f}/min (NG51 high risk: more than 130)", o.span))
            elif v >= 91:
                found.append(Criterion("moderate", f"heart rate {v:.0f}/min (NG51 moderate to high risk: 91-130)", o.span))
        elif o.kind == "rr":
            if child:
                banded = _child_criterion("respiratory rate", v, _CHILD_RR, age, o.span)
                if banded is not None:
                    found.append(banded)
            elif v >= 25:
                found.append(Criterion("high", f"respiratory rate {v:.0f}/min (NG51 high risk: 25 or more)", o.span))
            elif v >= 21:
                found.append(Criterion("moderate", f"respiratory rate {v:.0f}/min (NG51 moderate to high risk: 21-24)", o.span))
        elif o.kind == "spo2":
            limit = 90 if child else 92
            if v < limit:
                found.append(Criterion("high", f"oxygen saturation {v:.0f}% (NG51 high risk: under {limit}%)", o.span))
            elif child and v < 92:
                found.append(Criterion("moderate", f"oxygen saturation {v:.0f}% (NG51 moderate to high risk)", o.span))
        elif o.kind == "sbp" and not child:
            if v <= 90:
                found.append(Criterion("high", f"systolic blood pressure {v:.0f} mmHg (NG51 high risk: 90 or less)", o.span))
            elif v <= 100:
                found.append(Criterion("moderate", f"systolic blood pressure {v:.0f} mmHg (NG51 moderate to high risk: 91-100)", o.span))
        elif o.kind == "sbp_drop" and not child and v > 40:
            found.append(Criterion("high", f"systolic blood pressure {v:.0f} mmHg below the usual (NG51 high risk: more than 40 below)", o.span))
        elif o.kind == "temp":
            if v < 36:
                found.append(Criterion("high" if child and age < 5 else "moderate",
                                       f"temperature {v:.1f} °C (NG51: under 36 °C)", o.span))
            elif child and age < 0.25 and v >= 38:
                found.append(Criterion("high", f"temperature {v:.1f} °C at under 3 months (NG51 high risk)", o.span))
        elif o.kind == "urine_rate":
            if v < 0.5:
                found.append(Criterion("high", f"urine output {v:.2f} ml/kg/h (NG51 high risk: under 0.5)", o.span))
            elif v < 1:
                found.append(Criterion("moderate", f"urine output {v:.2f} ml/kg/h (NG51 moderate to high risk: 0.5-1)", o.span))
        elif o.kind == "anuria_hours":
            if v >= 18 or (child and v >= 12):
                found.append(Criterion("high" if not child else "moderate", f"no urine for about {v:.0f} hours (NG51: 18 hours high risk in adults)", o.span))
            elif v >= 12:
                found.append(Criterion("moderate", f"no urine for about {v:.0f} hours (NG51 moderate to high risk: 12-18 hours)", o.span))
        elif o.kind == "gcs" and v < 15:
            found.append(Criterion("high", f"GCS {v:.0f} (NG51 high risk: altered mental state)", o.span))
        elif o.kind == "oxygen" and not child:
            found.append(Criterion("high", "needs supplemental oxygen (NG51 high risk: new need for oxygen)", o.span))
    return found


def news2_score(observations: list[Observation], new_confusion: bool) -> tuple[int, bool, list[tuple[int, int]]]:
    """(NEWS2 from the parameters present, whether any one parameter scores 3, spans of the parameters used)."""
    parts: dict[str, tuple[int, tuple[int, int]]] = {}

    def put(name: str, points: int, span: tuple[int, int]) -> None:
        if points > parts.get(name, (-1,))[0]:
            parts[name] = (points, span)

    for o in observations:
        v = o.value
        if o.kind == "rr":
            put("rr", 3 if v <= 8 else 1 if v <= 11 else 0 if v <= 20 else 2 if v <= 24 else 3, o.span)
        elif o.kind == "spo2":
            put("spo2", 3 if v <= 91 else 2 if v <= 93 else 1 if v <= 95 else 0, o.span)
        elif o.kind == "oxygen":
            put("air_or_oxygen", 2, o.span)
        elif o.kind == "sbp":
            put("sbp", 3 if v <= 90 else 2 if v <= 100 else 1 if v <= 110 else 0 if v <= 219 else 3, o.span)
        elif o.kind == "hr":
            put("pulse", 3 if v <= 40 else 1 if v <= 50 else 0 if v <= 90 else 1 if v <= 110 else 2 if v <= 130 else 3, o.span)
        elif o.kind == "temp":
            put("temperature", 3 if v <= 35.0 else 1 if v <= 36.0 else 0 if v <= 38.0 else 1 if v <= 39.0 else 2, o.span)
        elif o.kind == "gcs" and v < 15:
            put("consciousness", 3, o.span)
    if new_confusion:
        parts.setdefault("consciousness", (3, (0, 0)))
    score = sum(p for p, _ in parts.values())
    return score, any(p == 3 for p, _ in parts.values()), [s for p, s in parts.values() if p and s != (0, 0)]


_INFECTION_CONTEXT = frozenset({
    "soft_tissue_infection", "rash", "widespread_rash", "purpura", "non_blanching", "blisters", "erythroderma",
    "urticaria", "burn", "burn_severe", "fever", "skin_peeling", "skin_detachment", "necrosis", "zoster_rash",
    "ulcer_sore", "rigors", "name_sepsis", "mottled", "recent_chickenpox_flu"})


def physiology_findings(text: str, features: set[str], sentence_is_educational, immunosuppressed: bool) -> list[Finding]:
    """Findings from the observations in `text`. `features` are the rule layer's current (not negated, not
    past) features; `sentence_is_educational(position)` skips teaching questions."""
    folded = text.lower()
    observations = [o for o in read_observations(folded) if not sentence_is_educational(o.span[0])]
    if not observations:
        return []
    age = read_age_years(text)
    if age is None and _CHILD_WORDS.search(folded):
        age = 1.0  # a baby or toddler of unstated age: the under-5 tables, not the adult ones
    findings: list[Finding] = []
    context = bool(features & _INFECTION_CONTEXT)
    criteria = sepsis_criteria(observations, age)
    high = [c for c in criteria if c.level == "high"]
    moderate = [c for c in criteria if c.level == "moderate"]
    if context and high:
        findings.append(_finding("emergency", "a NICE high-risk sepsis criterion met in the numbers given", high))
    elif context and (len({c.description.split(" (")[0].split()[0] for c in moderate}) >= 2 or (moderate and immunosuppressed)):
        findings.append(_finding("emergency", "two or more NICE moderate-to-high risk sepsis criteria"
                                 + (" (immunosuppressed: one is enough)" if immunosuppressed and len(moderate) == 1 else ""),
                                 moderate))
    elif context and moderate:
        findings.append(_finding("urgent", "a NICE moderate-to-high risk sepsis criterion with a possible infection", moderate))
    stated_news = max((o for o in observations if o.kind == "news2"), key=lambda o: o.value, default=None)
    score, any_three, spans = news2_score(observations, "confusion" in features)
    if age is None or age >= 16:
        if stated_news is not None and stated_news.value >= 7:
            findings.append(Finding(f"NEWS2 of {stated_news.value:.0f} stated (emergency threshold 7)", _CONDITION,
                                    "emergency", (stated_news.span,), condition_key="sepsis_shock",
                                    detail="physiology: NEWS2 stated", sources=(NEWS2,), layer="physiology"))
        elif score >= 7 or (any_three and context):
            why = f"NEWS2 at least {score} from the observations given" + (" (one parameter scores 3)" if any_three and score < 7 else "")
            findings.append(Finding(why, _CONDITION, "emergency", tuple(sorted(set(spans))), condition_key="sepsis_shock",
                                    detail="physiology: NEWS2", sources=(NEWS2,), layer="physiology"))
    return findings


_CONDITION = "Physiology suggesting sepsis or critical illness (NICE risk criteria, NEWS2)"


def _finding(level: str, finding: str, criteria: list[Criterion]) -> Finding:
    return Finding(finding, _CONDITION, level, tuple(sorted({c.span for c in criteria})),
                   condition_key="sepsis_shock", detail="physiology: " + "; ".join(c.description for c in criteria),
                   sources=(NG51,), layer="physiology")
