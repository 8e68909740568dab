"""Red-flag triage commands: triage (one text or a JSONL file) and eval-triage (confusion matrix on a labelled set).

Stable output contract, relied on by other tools:
- `python -m core triage "text"` prints one JSON object {"level", "findings", "advice", "sources"}.
- `python -m core triage --jsonl FILE` prints one JSON object per input line: {"id", "level", "findings"}.
Each finding object has at least "finding", "condition", "level" and "spans" ([[start, end], ...]).
Bad input lines are reported on stderr and skipped; the exit status is non-zero only when nothing could be triaged.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def _read_jsonl(path: str, required: tuple[str, ...]) -> Iterator[tuple[int, dict]]:
    """Yield (line number, record) for each usable line; report and skip the others."""
    if path == "-":
        lines = sys.stdin
    else:
        file = Path(path)
        if not file.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        lines = file.open(encoding="utf-8", errors="replace")
    with lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                _error(f"{path}:{number}: invalid JSON ({exc.msg}); line skipped")
                continue
            if not isinstance(record, dict):
                _error(f"{path}:{number}: expected a JSON object; line skipped")
                continue
            missing = [k for k in required if k not in record]
            if missing:
                _error(f"{path}:{number}: missing field(s) {', '.join(missing)}; line skipped")
                continue
            if not isinstance(record["text"], str) or not record["text"].strip():
                _error(f"{path}:{number}: empty or non-text 'text'; line skipped")
                continue
            yield number, record


def _triage(args: argparse.Namespace) -> int:
    from core.triage import TriageInputError, assess

    if (args.text is None) == (args.jsonl is None):
        _error('give either a text to triage or --jsonl FILE (for example: python -m core triage "rash and fever")')
        return 2
    if args.text is not None:
        try:
            assessment = assess(args.text)
        except TriageInputError as exc:
            _error(str(exc))
            return 2
        payload = assessment.to_dict()
        print(json.dumps({k: payload[k] for k in ("level", "findings", "advice", "sources")}, ensure_ascii=False))
        return 0
    done = 0
    try:
        for number, record in _read_jsonl(args.jsonl, ("text",)):
            try:
                assessment = assess(record["text"])
            except TriageInputError as exc:
                _error(f"{args.jsonl}:{number}: {exc}; line skipped")
                continue
            out = {"id": record.get("id"), "level": assessment.level,
                   "findings": [f.to_dict() for f in assessment.findings]}
            print(json.dumps(out, ensure_ascii=False), flush=False)
            done += 1
    except FileNotFoundError as exc:
        _error(str(exc))
        return 2
    if done == 0:
        _error(f"{args.jsonl}: no line could be triaged")
        return 1
    return 0


def _eval(args: argparse.Namespace) -> int:
    from core.triage import LEVELS, TriageInputError, assess

    rows: list[tuple[str, str, str, object]] = []
    try:
        for number, record in _read_jsonl(args.jsonl, ("text", "expected")):
            if record["expected"] not in LEVELS:
                _error(f"{args.jsonl}:{number}: expected must be one of {', '.join(LEVELS)}; line skipped")
                continue
            try:
                assessment = assess(record["text"])
            except TriageInputError as exc:
                _error(f"{args.jsonl}:{number}: {exc}; line skipped")
                continue
            rows.append((str(record.get("id", f"line {number}")), record["expected"], assessment.level, assessment))
    except FileNotFoundError as exc:
        _error(str(exc))
        return 2
    if not rows:
        _error(f"{args.jsonl}: no labelled line could be evaluated")
        return 1

    counts = {(t, p): 0 for t in LEVELS for p in LEVELS}
    for _, truth, predicted, _ in rows:
        counts[truth, predicted] += 1
    order = ("emergency", "urgent", "routine")
    width = max(len(x) for x in order) + 2
    print(f"Triage evaluation on {args.jsonl}: {len(rows)} texts")
    print("\nConfusion matrix (rows: expected, columns: predicted)")
    print(" " * width + "".join(f"{p:>{width}}" for p in order))
    for t in order:
        print(f"{t:<{width}}" + "".join(f"{counts[t, p]:>{width}}" for p in order))

    def ratio(num: int, den: int) -> str:
        return f"{num / den:.3f} ({num}/{den})" if den else "n/a (0/0)"

    print("\nPer level")
    for level in order:
        tp = counts[level, level]
        support = sum(counts[level, p] for p in LEVELS)
        predicted = sum(counts[t, level] for t in LEVELS)
        print(f"  {level:<10} recall {ratio(tp, support):<18} precision {ratio(tp, predicted)}")
    routine_total = sum(counts["routine", p] for p in LEVELS)
    print(f"\nRoutine specificity (routine texts not escalated): {ratio(counts['routine', 'routine'], routine_total)}")
    # Under-triage is the dangerous error; say how often it happens.
    under = sum(1 for _, t, p, _ in rows if LEVELS.index(p) < LEVELS.index(t))
    print(f"Under-triaged (predicted below expected): {under} of {len(rows)}")

    wrong = [r for r in rows if r[1] != r[2]]
    print(f"\nMisclassified: {len(wrong)}")
    for identifier, truth, predicted, assessment in wrong:
        if assessment.findings:
            reason = "; ".join(f"{f.finding} [{' | '.join(f.evidence) or f.detail}]" for f in assessment.findings)
        else:
            ignored = "; ".join(f"'{s.text}' {s.reason}" for s in assessment.set_aside)
            reason = "no red flag found" + (f" (set aside: {ignored})" if ignored else "")
        print(f"  {identifier}: expected {truth}, got {predicted} - {reason}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("triage", help="red-flag triage of a text or a JSONL file (prints JSON)")
    p.add_argument("text", nargs="?", help="the text to triage (quote it)")
    p.add_argument("--jsonl", metavar="FILE", help="JSONL file with 'id' and 'text' per line ('-' reads stdin)")
    p.set_defaults(func=_triage)

    e = sub.add_parser("eval-triage", help="confusion matrix and recall/precision of the triage filter on a labelled JSONL")
    e.add_argument("--jsonl", metavar="FILE", required=True, help="JSONL with 'id', 'text' and 'expected' per line")
    e.set_defaults(func=_eval)
