"""Experiment (not shipped): medspaCy's ConText instead of, or beside, the hand-written context module.

`core.triage._current_hits` decides, per matched finding (a Hit), whether it is set aside (negated, past,
educational, named but not current ...). This script swaps that decision, by monkeypatching, for:

- "hand-written": the shipped module, unpatched;
- "ConText": medspaCy ConText with its default rules (the standard VA-derived set);
- "ConText adapted": the default rules less the FAMILY trigger (in this app a parent or partner usually writes
  about the patient: "my son has a rash"), plus a few obvious lay and British cues (`ADDED_RULES`);
- "ConText in slots": the shipped decision chain, with ConText (default rules) answering only its two per-hit
  assertion questions, `TextContext.negated` (negated or hypothetical) and `TextContext.past` (historical or
  family); the module's educational-question, general-claim and named-diagnosis checks, which ConText has no
  counterpart for, stay;
- "both": the shipped decision, then a hit it keeps is also set aside if ConText (default rules) says so.

ConText flags map onto the shipped policy for feature kinds (`features.Feature.kind`): negated or
hypothetical sets any hit aside; historical or family a presenting sign or a named diagnosis, not a background
("context") feature; uncertain (a hedge) never does, as hedges escalate in the shipped filter too. The
sentence split used by the rules, the physiology layer and the presentation (semantic) layer's own reading of
the text still come from the shipped `TextContext`: only the per-hit decision is swapped.

medspaCy 1.3.1 on Python 3.11 needs spaCy < 3.8, whose thinc < 8.3 needs numpy < 2, while the project pins
numpy 2 (opencv-python-headless 5 and pandas 3.1 need it), so it cannot live in the project venv. It is
installed into a separate folder and run in a second process (`--worker`) with `python -S`, which sees only
the standard library and that folder (not the venv's numpy-2 torch and scipy). The project process writes
each text's normalised form and hit spans as JSON; the worker writes back each span's ConText attributes.

Run from the repository root (5-13 minutes on two shared cores, the embedding cache making the variants after the
first cheap; --rules-only about 2.5 minutes):

    .venv/bin/python -m pip install --target /tmp/msp_site medspacy==1.3.1   # once
    HF_HUB_OFFLINE=1 .venv/bin/python scripts/compare_context_medspacy.py [--rules-only] [--extra FILE] [--msp-site DIR]

Printed: per data set and variant, emergency recall, urgent recall and routine kept routine (parsed from
core's own `eval-triage` code), for the full filter and rule-only; the median per-text time of the context
step; and texts on which the hand-written module and ConText disagree, with the expected level. The sets are
the dev set (../shared/eval/triage_dev.jsonl) and tuning sets 1-4, plus any `--extra` labelled set; the blind
set (tests/data/blind/) is never read. The hand-written rules were revised on every one of the default sets and
ConText on none, so only a set frozen before any rule change (such as tuning set 5 at commit c36ead4) compares
them on unseen text.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack, redirect_stdout
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SETS = [ROOT.parent / "shared" / "eval" / "triage_dev.jsonl",
        *(DATA / f"triage_tuning{suffix}.jsonl" for suffix in ("", "_2", "_3", "_4"))]
REPEATS = 3  # each text's context step is timed this many times; the fastest counts (the CPUs are shared)
ATTRIBUTES = ("is_negated", "is_historical", "is_hypothetical", "is_family", "is_uncertain")
RULE_SETS = ("default", "adapted")

# Lay and British cues the VA-derived defaults lack, taken from the shipped module's cue lists (not from
# errors on these sets): (category, literal, direction, token pattern or None for the literal itself).
ADDED_RULES: tuple[tuple[str, str, str, list | None], ...] = (
    ("NEGATED_EXISTENCE", "dont", "FORWARD",  # medspaCy tokenises "dont" as "do" "nt"
     [{"LOWER": {"IN": ["do", "does", "did", "is", "was", "has", "have", "had", "ca", "wo"]}}, {"LOWER": "nt"}]),
    ("NEGATED_EXISTENCE", "never", "FORWARD", None),
    ("NEGATED_EXISTENCE", "nil", "FORWARD", None),
    ("NEGATED_EXISTENCE", "absent", "BACKWARD", None),
    ("NEGATED_EXISTENCE", "-ve", "BACKWARD", None),
    ("NEGATED_EXISTENCE", "settled", "BACKWARD", [{"LOWER": {"IN": ["settled", "subsided"]}}]),
    ("HISTORICAL", "previous", "FORWARD", [{"LOWER": {"IN": ["previous", "previously", "prior", "pmh"]}}]),
    ("HISTORICAL", "years ago", "BIDIRECTIONAL", [{"LIKE_NUM": True, "OP": "?"}, {"LOWER": {"IN": ["years", "yrs"]}},
                                                   {"LOWER": "ago"}]),
    ("HISTORICAL", "as a child", "BIDIRECTIONAL", [{"LOWER": "as"}, {"LOWER": {"IN": ["a", "an"]}},
                                                    {"LOWER": {"IN": ["child", "kid", "baby", "teenager"]}}]),
    ("HISTORICAL", "in the past", "BIDIRECTIONAL", None),
    ("HISTORICAL", "last year", "BIDIRECTIONAL", None),
    ("HYPOTHETICAL", "what are", "FORWARD", [{"LOWER": {"IN": ["what", "how"]}}, {"LOWER": {"IN": ["are", "is", "do", "does"]}}]),
    ("HYPOTHETICAL", "what if", "FORWARD", None),
)


# ---------------------------------------------------------------------------------------------- worker side
def worker(in_path: str, out_path: str) -> None:
    """ConText attributes of every hit span, under both rule sets; runs with `python -S` and the medspaCy folder."""
    from loguru import logger

    logger.remove()  # PyRuSH logs every sentence at DEBUG level
    import medspacy
    from medspacy.context import ConTextRule

    pipelines = {}
    for rule_set in RULE_SETS:
        nlp = medspacy.load(medspacy_enable=["medspacy_tokenizer", "medspacy_pyrush"])
        # Targets go in a span group, not doc.ents, because hits overlap ("non-blanching rash" and "rash").
        context = nlp.add_pipe("medspacy_context", config={"input_span_type": "group", "span_group_name": "hits",
                                                           "rules": "default" if rule_set == "default" else None})
        if rule_set == "adapted":
            defaults = ConTextRule.from_json(context.DEFAULT_RULES_FILEPATH)
            context.add([r for r in defaults if r.category != "FAMILY"]
                        + [ConTextRule(literal, category, direction=direction, pattern=pattern)
                           for category, literal, direction, pattern in ADDED_RULES])
        pipelines[rule_set] = (nlp, context)

    def read(rule_set: str, text: str, spans: list[list[int]]) -> tuple[list[dict], float]:
        nlp, context = pipelines[rule_set]
        best = float("inf")
        for _ in range(REPEATS):
            start = time.perf_counter()
            doc = nlp.get_pipe("medspacy_pyrush")(nlp.tokenizer(text))
            targets = [(s, e, doc.char_span(s, e, label="HIT", alignment_mode="expand")) for s, e in spans]
            doc.spans["hits"] = [t for _, _, t in targets if t is not None]
            doc = context(doc)
            best = min(best, time.perf_counter() - start)
        return [{"span": [s, e], "flags": [a for a in ATTRIBUTES if t is not None and getattr(t._, a)],
                 "cues": [] if t is None else [f"{m.category}: {doc[m.modifier_span[0]:m.modifier_span[1]].text}"
                                               for m in t._.modifiers]} for s, e, t in targets], best

    items = json.loads(Path(in_path).read_text(encoding="utf-8"))
    results = []
    for item in items:
        entry = {"text": item["text"]}
        for rule_set in RULE_SETS:
            entry[rule_set], entry[f"{rule_set}_seconds"] = read(rule_set, item["text"], item["spans"])
        results.append(entry)
    leaked = sorted(m for m in ("torch", "pandas", "scipy", "cv2") if m in sys.modules)
    if leaked:
        raise SystemExit(f"the worker imported {leaked}: it must see only the medspaCy folder")
    Path(out_path).write_text(json.dumps(results), encoding="utf-8")


# ---------------------------------------------------------------------------------------------- project side
@dataclass(frozen=True)
class ContextRead:
    """ConText's reading of one hit span."""

    flags: frozenset[str]
    cues: tuple[str, ...]


Readings = dict[str, dict[tuple[int, int], ContextRead]]  # normalised text -> span -> reading


@dataclass(frozen=True)
class Scores:
    emergency: str
    urgent: str
    routine_kept: str


def context_reason(kind: str, flags: frozenset[str]) -> str | None:
    """Why ConText sets a hit aside, under the shipped policy for feature kinds (see the module docstring)."""
    if "is_negated" in flags:
        return "negated (ConText)"
    if "is_hypothetical" in flags:
        return "hypothetical (ConText)"
    if kind != "context" and "is_historical" in flags:
        return "historical (ConText)"
    if kind != "context" and "is_family" in flags:
        return "about a family member (ConText)"
    return None


def feature_kind(feature: str) -> str:
    from core.triage.features import FEATURES

    return FEATURES[feature].kind if feature in FEATURES else "presenting"  # measured signs are presenting


def context_current_hits(readings: Readings, shipped_first: bool) -> Callable:
    """A replacement for `core.triage._current_hits` that takes ConText's decision, after the shipped one or alone."""
    from core.triage import SetAside, _current_hits
    from core.triage.context import Hit
    from core.triage.features import feature_label

    def current_hits(text: str, raw: list[tuple[str, int, int]], context) -> tuple[list, list]:
        if shipped_first:
            candidates, set_aside = _current_hits(text, raw, context)
        else:
            candidates, set_aside = [Hit(f, s, e, context.sentence_of(s)) for f, s, e in raw], []
        aside_spans = {a.span for a in set_aside}
        kept = []
        for hit in candidates:
            kind = feature_kind(hit.feature)
            reason = context_reason(kind, readings[text][hit.start, hit.end].flags)
            if reason is None:
                kept.append(hit)
            elif kind != "context" and (hit.start, hit.end) not in aside_spans:  # as shipped: one entry per span
                aside_spans.add((hit.start, hit.end))
                set_aside.append(SetAside(feature_label(hit.feature), (hit.start, hit.end), text[hit.start:hit.end], reason))
        return kept, set_aside

    return current_hits


def context_slots(readings: Readings) -> dict[str, Callable]:
    """`TextContext.negated` and `.past` answered by ConText, for `mock.patch.multiple(TextContext, ...)`."""
    def negated(self, start: int, end: int) -> bool:
        return bool(readings[self.text][start, end].flags & {"is_negated", "is_hypothetical"})

    def past(self, start: int, end: int) -> bool:
        return bool(readings[self.text][start, end].flags & {"is_historical", "is_family"})

    return {"negated": negated, "past": past}


def load_sets(paths: list[Path]) -> dict[Path, list[dict]]:
    """The labelled records of each set, read by core's own JSONL reader (as eval-triage reads them)."""
    from core.cli.triage import _read_jsonl

    blind = (DATA / "blind").resolve()
    sets = {}
    for path in paths:
        if blind in path.resolve().parents:
            raise SystemExit(f"{path}: the blind set is reserved for judging")
        if path.is_file():
            sets[path] = [record for _, record in _read_jsonl(str(path), ("text", "expected"))]
        else:
            print(f"skipped {path}: not found", file=sys.stderr)
    return sets


def hand_written_step(text: str) -> tuple[str, list[tuple[str, int, int]], float]:
    """The normalised text, its raw hits, and the fastest time of the shipped context step
    (TextContext plus the per-hit decision)."""
    from core.triage import _current_hits
    from core.triage.context import TextContext, raw_hits
    from core.triage.normalise import normalise

    plain = normalise(text).text
    raw = raw_hits(plain)
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        _current_hits(plain, raw, TextContext(plain, [(s, e) for _, s, e in raw]))
        best = min(best, time.perf_counter() - start)
    return plain, raw, best


def run_worker(plains: list[tuple[str, list[tuple[str, int, int]]]], msp_site: Path) -> tuple[dict[str, Readings], dict[str, list[float]], float]:
    """ConText readings for every text under each rule set, the per-text times, and the worker's wall time."""
    with tempfile.TemporaryDirectory() as tmp:
        in_path, out_path = Path(tmp) / "hits.json", Path(tmp) / "context.json"
        in_path.write_text(json.dumps([{"text": p, "spans": sorted({(s, e) for _, s, e in raw})} for p, raw in plains]),
                           encoding="utf-8")
        env = {**os.environ, "PYTHONPATH": str(msp_site)}
        start = time.perf_counter()
        subprocess.run([sys.executable, "-S", __file__, "--worker", str(in_path), str(out_path)], env=env, check=True)
        wall = time.perf_counter() - start
        results = json.loads(out_path.read_text(encoding="utf-8"))
    readings = {rs: {r["text"]: {tuple(h["span"]): ContextRead(frozenset(h["flags"]), tuple(h["cues"])) for h in r[rs]}
                     for r in results} for rs in RULE_SETS}
    seconds = {rs: [r[f"{rs}_seconds"] for r in results] for rs in RULE_SETS}
    return readings, seconds, wall


_RECALL = re.compile(r"^\s+(emergency|urgent)\s+recall (\S+ \(\d+/\d+\))", re.MULTILINE)
_ROUTINE = re.compile(r"^Routine specificity[^:]*: (\S+ \(\d+/\d+\))", re.MULTILINE)


def evaluate(path: Path, semantic: bool) -> tuple[Scores, dict[str, str]]:
    """Core's eval-triage on one set, as shipped or under whatever patch is active; the scores and each text's level."""
    import core.triage
    from core.cli.triage import _eval

    assess = core.triage.assess
    levels: dict[str, str] = {}

    def recording(text: str, **_):
        assessment = assess(text, semantic=semantic)
        levels[text] = assessment.level
        return assessment

    buffer = io.StringIO()
    with mock.patch.object(core.triage, "assess", recording), redirect_stdout(buffer):
        _eval(argparse.Namespace(jsonl=str(path)))
    report = buffer.getvalue()
    recall = dict(_RECALL.findall(report))
    return Scores(recall["emergency"], recall["urgent"], _ROUTINE.search(report).group(1)), levels


def cache_embeddings() -> None:
    """Repeat calls to the embedding model with the same texts return the stored vectors (the variants share most
    sentences). The cache is keyed on the exact input, so no result changes."""
    from core.triage.semantic import default_matcher

    matcher = default_matcher()
    cached = lru_cache(maxsize=None)(lambda texts: matcher.__class__._embed(matcher, list(texts)))
    matcher._embed = lambda texts: cached(tuple(texts))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules-only", action="store_true", help="skip the full filter (semantic layer) runs")
    parser.add_argument("--msp-site", type=Path, default=Path("/tmp/msp_site"), help="folder medspaCy was installed into")
    parser.add_argument("--extra", type=Path, action="append", default=[], help="a further labelled JSONL set")
    parser.add_argument("--examples", type=int, default=6, help="disagreement examples to list of each kind")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(ROOT))
    import core.triage

    sets = load_sets(SETS + args.extra)
    steps = {path: [hand_written_step(r["text"]) for r in records] for path, records in sets.items()}
    everything = [(plain, raw) for rows in steps.values() for plain, raw, _ in rows]
    readings, context_seconds, wall = run_worker(everything, args.msp_site)
    print(f"medspaCy worker: {wall:.1f} s wall for {len(everything)} texts x {len(RULE_SETS)} rule sets x {REPEATS} "
          f"repeats (includes its start-up: import and pipeline build)", file=sys.stderr)

    from core.triage.context import TextContext

    def hits_patch(rule_set: str, shipped_first: bool) -> list:
        return [mock.patch.object(core.triage, "_current_hits", context_current_hits(readings[rule_set], shipped_first))]

    variants: dict[str, Callable[[], list]] = {  # each gives the patches to apply (fresh ones per use)
        "hand-written": lambda: [],
        "ConText": lambda: hits_patch("default", False),
        "ConText adapted": lambda: hits_patch("adapted", False),
        "ConText in slots": lambda: [mock.patch.multiple(TextContext, **context_slots(readings["default"]))],
        "both": lambda: hits_patch("default", True),
    }
    modes = [("rules", False)] + ([] if args.rules_only else [("full", True)])
    if not args.rules_only:
        cache_embeddings()
    table: dict[tuple[str, str, str], Scores] = {}
    levels: dict[tuple[str, str, str], dict[str, str]] = {}
    for path in sets:
        for mode, semantic in modes:
            for variant, patches in variants.items():
                print(f"evaluating {path.name} {mode} {variant}", file=sys.stderr)
                with ExitStack() as stack:
                    for patch in patches():
                        stack.enter_context(patch)
                    table[path, mode, variant], levels[path, mode, variant] = evaluate(path, semantic)

    # Median per-text time of the context step, in milliseconds, over all texts of all sets.
    # "ConText in slots" and "both" run the shipped step and ConText.
    hand = [t for rows in steps.values() for _, _, t in rows]
    both = [a + b for a, b in zip(hand, context_seconds["default"])]
    timing = {"hand-written": hand, "ConText": context_seconds["default"], "ConText adapted": context_seconds["adapted"],
              "ConText in slots": both, "both": both}
    print("\nMedian per-text time of the context step (fastest of %d runs per text, %d texts):" % (REPEATS, len(hand)))
    for variant, times in timing.items():
        print(f"  {variant:<16} {1000 * statistics.median(times):7.2f} ms")

    for mode, _ in modes:
        print(f"\n{'Full filter (rules, physiology, semantic layer)' if mode == 'full' else 'Rule-only (semantic=False)'}")
        print(f"  {'set':<24}{'variant':<17}{'emergency recall':<22}{'urgent recall':<22}routine kept routine")
        for path in sets:
            for variant in variants:
                s = table[path, mode, variant]
                print(f"  {path.name:<24}{variant:<17}{s.emergency:<22}{s.urgent:<22}{s.routine_kept}")

    mode = modes[-1][0]
    rank = {"routine": 0, "urgent": 1, "emergency": 2}
    disagreements: dict[str, list[str]] = {"ConText right": [], "neither": [], "hand-written right": []}
    for path, records in sets.items():
        for record, (plain, raw, _) in zip(records, steps[path]):
            hand_level = levels[path, mode, "hand-written"][record["text"]]
            ctx_level = levels[path, mode, "ConText"][record["text"]]
            if hand_level == ctx_level:
                continue
            right = ("hand-written right" if hand_level == record["expected"] else
                     "ConText right" if ctx_level == record["expected"] else "neither")
            cues = sorted({f"{plain[s:e]!r} <- {c}" for _, s, e in raw for c in readings["default"][plain][s, e].cues})
            disagreements[right].append(
                f"- {record.get('id')} expected {record['expected']}: hand-written {hand_level}, ConText {ctx_level} "
                f"({'higher' if rank[ctx_level] > rank[hand_level] else 'lower'} with ConText); {right}\n"
                f"    text: {record['text'][:220]}{'...' if len(record['text']) > 220 else ''}\n"
                f"    ConText cues: {'; '.join(cues[:6]) or 'none'}")
    print(f"\nTexts where the hand-written module and default ConText give different levels ({mode}): "
          + ", ".join(f"{k} {len(v)}" for k, v in disagreements.items()))
    for right, lines in disagreements.items():
        for line in lines[:args.examples]:
            print(line)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(main())
