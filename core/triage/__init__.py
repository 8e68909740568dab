"""Emergency red-flag triage: free text in, an explainable escalation level out.

`assess(text)` reads a chat message or clinical note and returns an `Assessment` with a level
("emergency", "urgent" or "routine"), the `Finding`s that triggered it (each naming the finding, the
condition, the level and the character spans to highlight), what to do now, and the sources behind
that advice.

How it works, in four declarative tables, one module each:
- `features.FEATURES`: clinical findings and the ways people write them (lay and clinical wording, British
  and American spelling, abbreviations), as regular expressions compiled once at import; vital signs
  and measurements ("BP 80/40", "HR 130", "T 39", "39.5", "9 mm", "3/52") are read by small parsers
  (`measurements`).
- `context`: every mention is checked against its clause and sentence. A negation cue before it
  ("no", "denies", "without"; scope ends at "but", "however", ";" ...) or after it ("absent",
  "-ve") sets it aside; hedges ("?", "query", "possible", "cannot rule out") do not. Mentions of
  resolved or remote history ("in 2015", "as a child", "fully recovered") are set aside unless a
  present-tense cue ("now", "new") intervenes; background features (a drug started, eczema,
  immunosuppression) count whatever their tense. A question or teaching request with no patient in
  it ("what are the signs of ...?") is educational and escalates nothing, sentence by sentence. A
  diagnosis named outright ("?SJS", "my son has meningitis") counts only when framed as a current
  suspicion, not in a history, prevention, reading or third-party phrase.
- `rules.RULES`: combinations of features that make a red flag (fever + non-blanching rash, rash + fever +
  drug started weeks ago, spreading infection + sepsis signs ...), each with its level.
- `conditions.CONDITIONS`: per condition, what to do now and the guideline it comes from.

Everything is data plus pure functions: no state is kept between calls.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from core.config import CLASS_NAMES, MALIGNANT
from core.triage.conditions import CONDITIONS, LEVEL_ADVICE, NG12, SEVEN_POINT, Condition
from core.triage.context import Hit, TextContext, raw_hits
from core.triage.features import ACUTE_FEATURES, CONCERN_FEATURES, FEATURES, feature_label
from core.triage.normalise import NormalisedText, normalise
from core.triage.physiology import physiology_findings
from core.triage.learned import default_learned_layer
from core.triage.semantic import Segment, default_matcher, segments
from core.triage.spelling import correct_spelling
from core.triage.results import LEVELS, MAX_TEXT_CHARS, Assessment, Finding, SetAside, TriageInputError, level_rank
from core.triage.rules import RULES, Rule, apply_rule, index_window, merge_spans, rule_windows

__all__ = ["CONDITIONS", "FEATURES", "LEVELS", "LEVEL_ADVICE", "MAX_TEXT_CHARS", "NG12", "RULES", "SEVEN_POINT",
           "Assessment", "Condition", "Finding", "Reading", "Rule", "SetAside", "TriageInputError", "assess",
           "assessment_from_findings", "classifier_finding", "combine", "level_rank", "read"]


def assess(text: str, *, semantic: bool = True, learned: bool = True) -> Assessment:
    """Triage one free-text message or note. Raises `TriageInputError` for empty or non-text input.

    Layers, each able only to raise the level and each named in the findings it adds: the rule tables,
    physiology (numbers against NICE sepsis criteria and NEWS2) and, with `semantic`, presentations
    matched by meaning (loads the packaged embedding model once per process) and, with `learned` too, the
    learned layer (`core.triage.learned`) over the same sentence vectors. The text is normalised
    first (`normalise`: curly quotes, Unicode dashes and spaces, invisible characters; `spelling`: typing slips
    such as "swolen"); every span in the result refers to the text as given."""
    if not isinstance(text, str):
        raise TriageInputError(f"expected text, got {type(text).__name__}")
    if not text.strip():
        raise TriageInputError("the text is empty: nothing to triage")
    if len(text) > MAX_TEXT_CHARS:
        raise TriageInputError(f"the text has {len(text)} characters; the limit is {MAX_TEXT_CHARS}: split it into parts")
    reading = read(text)
    findings = list(reading.findings)
    parts = reading.meaning_segments() if semantic else []
    if parts:
        # Layers that read by meaning embed the same sentences once. Their emergencies need an acute sign and
        # their urgent findings a sign of change or concern that the rules or the numbers found.
        matcher = default_matcher()
        vectors = matcher.embed(parts)
        findings += _named(findings, reading.text, [f for f in matcher.findings(parts, vectors) if reading.corroborates(f)])
        if learned:
            # It names no condition of its own (it quotes the nearest description), so it speaks only when it raises.
            top = max((level_rank(f.level) for f in findings), default=0)
            findings += [f for f in _named(findings, reading.text, default_learned_layer().findings(
                parts, vectors, matcher, emergency_allowed=reading.acute, urgent_allowed=reading.concern))
                if level_rank(f.level) > top]
    return _in_original(assessment_from_findings(findings, reading.set_aside), reading.normalised, text)


@dataclass(frozen=True)
class Reading:
    """What the rule and physiology layers make of a text, and what the layers that read by meaning start from."""

    normalised: NormalisedText
    context: TextContext
    kept: tuple[Hit, ...]  # mentions of a current problem
    set_aside: tuple[SetAside, ...]
    findings: tuple[Finding, ...]  # rules and physiology
    # An emergency recognised by meaning alone must be corroborated by at least one acute sign that the rules or
    # the numbers found (topic similarity is not severity: a dark nail is not a necrotic wound); an urgent one by
    # a sign of change or concern (a stable mole reads like a changing one).
    acute: bool
    concern: bool

    @property
    def text(self) -> str:
        return self.normalised.text

    def meaning_segments(self) -> list[Segment]:
        """The current-problem sentences the meaning-based layers read (`semantic.segments`)."""
        return segments(self.context, {h.sentence for h in self.kept})

    def corroborates(self, finding: Finding) -> bool:
        return self.acute if finding.level == "emergency" else self.concern


def read(text: str) -> Reading:
    """The rule and physiology layers over the normalised text (input already checked by `assess`)."""
    normalised = correct_spelling(normalise(text))
    plain = normalised.text
    raw = raw_hits(plain)
    context = TextContext(plain, [(s, e) for _, s, e in raw])
    kept, set_aside = _current_hits(plain, raw, context)
    findings = _rule_findings(plain, kept)
    features = {h.feature for h in kept}
    findings += _new_conditions(findings, physiology_findings(
        plain, features, lambda position: context.educational[context.sentence_of(position)],
        immunosuppressed="immunosuppressed" in features))
    acute = bool(features & ACUTE_FEATURES) or any(f.layer == "physiology" for f in findings)
    return Reading(normalised, context, tuple(kept), tuple(set_aside), tuple(findings), acute,
                   acute or bool(features & CONCERN_FEATURES))


def _current_hits(text: str, raw: list[tuple[str, int, int]], context: TextContext) -> tuple[list[Hit], list[SetAside]]:
    """The mentions that describe a current problem, and those set aside (negated, past, educational...)."""
    kept: list[Hit] = []
    set_aside: list[SetAside] = []
    aside_spans: set[tuple[int, int]] = set()
    for feature, start, end in raw:
        kind = FEATURES[feature].kind if feature in FEATURES else "presenting"
        sentence = context.sentence_of(start)
        reason = None
        if context.educational[sentence]:
            reason = "educational question, no patient described"
        elif context.negated(start, end):
            reason = "negated"
        elif kind != "context" and context.general_claim(start, end):
            reason = "something read or heard in general, not about a patient"
        elif context.safety_netting(start, end):
            reason = "advice on what to watch for, not a current finding"
        elif kind == "presenting" and context.past(start, end):
            reason = "resolved or past history"
        elif kind == "name" and (context.past(start, end) or context.name_not_current(start, end)):
            reason = "named, but not as a current problem"
        if reason is None:
            kept.append(Hit(feature, start, end, sentence))
        elif kind != "context" and (start, end) not in aside_spans:  # one entry per span, even if two features matched it
            aside_spans.add((start, end))
            set_aside.append(SetAside(feature_label(feature), (start, end), text[start:end], reason))
    return kept, set_aside


def _rule_findings(text: str, kept: list[Hit]) -> list[Finding]:
    """The rule layer: combinations of current mentions that make a red flag."""
    hits_by_sentence: dict[int, list[Hit]] = {}
    for hit in kept:
        hits_by_sentence.setdefault(hit.sentence, []).append(hit)
    windows = {scope: [index_window(w) for w in rule_windows(hits_by_sentence, scope)]
               for scope in {rule.scope for rule in RULES}}
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for rule in RULES:
        for window in windows[rule.scope]:
            used = apply_rule(rule, window)
            if used is None:
                continue
            key = (rule.condition, rule.finding)
            if key not in seen:
                seen.add(key)
                # The words that raised the level are highlighted and named; context words ("mole",
                # "child") that only say what the signs are about are not called triggers.
                signs = [h for h in used if FEATURES.get(h.feature) is None or FEATURES[h.feature].kind != "context"] or used
                spans = merge_spans(signs)
                condition = CONDITIONS[rule.condition]
                findings.append(Finding(
                    finding=rule.finding, condition=condition.name, level=rule.level, spans=spans,
                    evidence=tuple(text[s:e] for s, e in spans), condition_key=rule.condition,
                    detail="signs: " + "; ".join(sorted({feature_label(h.feature) for h in signs})), sources=rule.sources))
            break
    return findings


def _named(found: list[Finding], text: str, extra: list[Finding]) -> list[Finding]:
    """A meaning-based layer's new findings with their condition's name and the words they quote."""
    return _new_conditions(found, [replace(f, condition=CONDITIONS[f.condition_key].name,
                                           evidence=tuple(text[s:e] for s, e in f.spans)) for f in extra])


def _new_conditions(found: list[Finding], extra: list[Finding]) -> list[Finding]:
    """Findings of a further layer, except those whose condition an earlier layer already raised as high."""
    return [f for f in extra if not any(g.condition_key == f.condition_key and level_rank(g.level) >= level_rank(f.level)
                                        for g in found)]


def _in_original(assessment: Assessment, normalised: NormalisedText, text: str) -> Assessment:
    """Spans and quoted words mapped from the normalised text back to the text as the user wrote it."""
    if normalised.text == text:
        return assessment

    def spans(pairs):
        return tuple(normalised.original_span(s, e) for s, e in pairs)

    findings = tuple(replace(f, spans=(mapped := spans(f.spans)), evidence=tuple(text[s:e] for s, e in mapped))
                     for f in assessment.findings)
    set_aside = tuple(replace(a, span=(span := normalised.original_span(*a.span)), text=text[span[0]:span[1]])
                      for a in assessment.set_aside)
    return replace(assessment, findings=findings, set_aside=set_aside)


# A milder finding is dropped when the same condition, or the condition it can progress to, is present at a higher
# level: "erythroderma" beside "erythroderma with systemic upset", lip swelling beside airway compromise.
_PROGRESSES_TO = {"angioedema": "anaphylaxis", "periorbital_cellulitis": "orbital_cellulitis"}


def _superseded(finding: Finding, others: list[Finding]) -> bool:
    return any(level_rank(o.level) > level_rank(finding.level)
               and o.condition_key in (finding.condition_key, _PROGRESSES_TO.get(finding.condition_key))
               for o in others)


def assessment_from_findings(findings: Iterable[Finding], set_aside: Iterable[SetAside] = ()) -> Assessment:
    """Build an Assessment (level, advice, sources) from findings, most severe first."""
    findings = list(findings)
    ordered = sorted((f for f in findings if not _superseded(f, findings)), key=lambda f: -level_rank(f.level))
    level = ordered[0].level if ordered else "routine"
    advice = [LEVEL_ADVICE[level]]
    sources: list[str] = []
    for f in ordered:
        condition = CONDITIONS.get(f.condition_key)
        if condition is not None:
            if condition.advice not in advice:
                advice.append(condition.advice)
            sources.extend(s for s in condition.sources if s not in sources)
        sources.extend(s for s in f.sources if s not in sources)
    return Assessment(level, tuple(ordered), tuple(advice), tuple(sources), tuple(set_aside))


def combine(*parts: Assessment | Finding | None) -> Assessment:
    """Merge assessments and stand-alone findings (checklist, classifier); the level is the highest. None is skipped."""
    findings: list[Finding] = []
    set_aside: list[SetAside] = []
    for part in parts:
        if isinstance(part, Assessment):
            findings.extend(part.findings)
            set_aside.extend(part.set_aside)
        elif isinstance(part, Finding):
            findings.append(part)
        elif part is not None:
            raise TypeError(f"combine() takes Assessment, Finding or None, not {type(part).__name__}")
    return assessment_from_findings(findings, set_aside)


def classifier_finding(probabilities: Mapping[str, float], thresholds: Mapping[str, float],
                       sensitivities: Mapping[str, float] | None = None) -> Finding | None:
    """Urgent finding when a malignant class (mel, bcc, akiec) reaches its escalation threshold, else None.

    `thresholds` are the per-class escalation thresholds from the model checkpoint; `sensitivities` the
    validation sensitivity measured at each threshold. The finding names the class with the largest
    probability among those at or above threshold; `detail` lists every class that crossed.
    """
    unknown = sorted(set(probabilities) - set(CLASS_NAMES))
    if unknown:
        raise ValueError(f"unknown class(es) in probabilities: {', '.join(unknown)}")
    not_malignant = sorted(set(thresholds) - MALIGNANT)
    if not_malignant:
        raise ValueError(f"thresholds are only for the malignant classes {sorted(MALIGNANT)}; got {', '.join(not_malignant)}")
    for name, value in [*probabilities.items(), *thresholds.items()]:
        if not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"{name}: {value!r} is not a probability between 0 and 1")
    sensitivities = sensitivities or {}
    crossed = sorted((c for c, t in thresholds.items() if float(probabilities.get(c, 0.0)) >= float(t)),
                     key=lambda c: -float(probabilities[c]))
    if not crossed:
        return None

    def describe(c: str) -> str:
        sens = sensitivities.get(c)
        sens_text = f", validation sensitivity {float(sens):.2f} at this threshold" if sens is not None else ", validation sensitivity not provided"
        return f"{c} ({CLASS_NAMES[c]}) probability {float(probabilities[c]):.2f} >= threshold {float(thresholds[c]):.2f}{sens_text}"

    top = crossed[0]
    return Finding(
        finding=f"classifier: {CLASS_NAMES[top]} probability at or above its escalation threshold",
        condition=CONDITIONS["skin_cancer"].name, level="urgent", condition_key="skin_cancer",
        detail="; ".join(describe(c) for c in crossed), layer="classifier")
