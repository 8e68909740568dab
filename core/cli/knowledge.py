"""Knowledge-base commands: ingest, ask, eval-chat.

Stable contracts (other tools parse them):

* `python -m core ingest [--kb DIR] [--chroma-dir DIR]`
* `python -m core ask "question"` prints one JSON object
  `{"answer", "citations": [{"n", "doc", "title", "section"}], "refused", "triage_level"}`;
  `python -m core ask --jsonl FILE` prints one such object per input line, with its `id` added first.
* `python -m core eval-chat --jsonl FILE` scores a question set (shared/eval/README.md format).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _fail(message: str, code: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _index_dirs(args: argparse.Namespace) -> tuple[Path, Path | str]:
    """(knowledge-base folder, Chroma folder or server URL): the options when given, else the settings."""
    settings = args.settings
    return (Path(args.kb) if args.kb else settings.kb_dir,
            Path(args.chroma_dir) if args.chroma_dir else settings.chroma_location)


def _open_index(args: argparse.Namespace):
    """Open the index, building it first when missing (progress on stderr)."""
    from core.knowledge.index import KnowledgeIndex, ensure_index

    kb_dir, chroma_dir = _index_dirs(args)
    report = ensure_index(kb_dir, chroma_dir)
    if report is not None:
        print(f"built the knowledge index: {report.added} documents, {report.chunks} passages "
              f"in {report.seconds:.1f} s", file=sys.stderr)
    return KnowledgeIndex.open(chroma_dir)


def _ingest(args: argparse.Namespace) -> int:
    from core.knowledge.documents import KnowledgeBaseError
    from core.knowledge.index import ingest

    try:
        report = ingest(*_index_dirs(args))
    except KnowledgeBaseError as exc:
        return _fail(str(exc))
    for problem in report.problems:
        print(f"skipped: {problem}", file=sys.stderr)
    print(f"added {report.added}, updated {report.updated}, removed {report.removed}, "
          f"unchanged {report.unchanged} documents; embedded {report.chunks} passages, "
          f"{report.sentences} sentences and {report.questions} questions in {report.seconds:.1f} s")
    return 0


def _read_jsonl_questions(path: Path) -> list[dict]:
    if not path.is_file():
        raise ValueError(f"file not found: {path}")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
        if not isinstance(row, dict) or "id" not in row or "question" not in row:
            raise ValueError(f"{path}:{number}: each line needs 'id' and 'question'")
        rows.append(row)
    return rows


def _current_case(raw: str):
    """The --case JSON as a `CurrentCase`; raises ValueError with a message for the user."""
    from core.analysis import CurrentCase

    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"--case is not valid JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise ValueError('--case must be a JSON object like {"predicted": "bcc", "probabilities": {...}}')
    probabilities = value.get("probabilities") or {}
    if not isinstance(probabilities, dict):
        raise ValueError('--case "probabilities" must be an object of class: probability')
    try:
        probabilities = {str(c): float(p) for c, p in probabilities.items()}
    except (TypeError, ValueError):
        raise ValueError('--case "probabilities" must hold numbers') from None
    return CurrentCase(image_name=str(value.get("image", "")), predicted=str(value.get("predicted", "")),
                       probabilities=probabilities, model_version=str(value.get("model_version", "")))


def _ask(args: argparse.Namespace) -> int:
    from core.knowledge.chat import ask
    from core.knowledge.documents import KnowledgeBaseError

    if (args.question is None) == (args.jsonl is None):
        return _fail("give either a question or --jsonl FILE")
    case = None
    if args.case:
        try:
            case = _current_case(args.case)
        except ValueError as exc:
            return _fail(str(exc))
    if args.jsonl is None:
        if not args.question.strip():
            return _fail("the question is empty")
        rows = [{"question": args.question}]
    else:
        try:
            rows = _read_jsonl_questions(Path(args.jsonl))
        except ValueError as exc:
            return _fail(str(exc))
    try:
        index = _open_index(args)
    except KnowledgeBaseError as exc:
        return _fail(str(exc))
    for row in rows:
        try:
            payload = ask(str(row["question"]), case=case, index=index).to_json()
        except ValueError as exc:
            if args.jsonl is None:
                return _fail(str(exc))
            print(f"warning: question {row['id']!r} skipped: {exc}", file=sys.stderr)
            continue
        if "id" in row:
            payload = {"id": row["id"], **payload}
        print(json.dumps(payload, ensure_ascii=False), flush=True)
    return 0


def _eval_chat(args: argparse.Namespace) -> int:
    from core.knowledge.chat_eval import evaluate, load_eval_items
    from core.knowledge.documents import KnowledgeBaseError

    try:
        items = load_eval_items(Path(args.jsonl))
    except ValueError as exc:
        return _fail(str(exc))
    if not items:
        return _fail(f"no questions in {args.jsonl}")
    try:
        index = _open_index(args)
    except KnowledgeBaseError as exc:
        return _fail(str(exc))
    report = evaluate(items, index)
    summary = report.summary()
    if args.json:
        print(json.dumps({"summary": summary, "failures": [
            {"id": r.item.id, "kind": r.item.kind, "refused": r.answer.refused,
             "missing": r.missing_groups, "answer": r.answer.answer} for r in report.failures]}, indent=2))
        return 0
    answers = sum(1 for r in report.results if r.item.kind == "answer")
    print(f"questions: {summary['questions']} ({answers} answer, {summary['questions'] - answers} refuse)")
    print(f"answer questions passed:   {summary['answer_pass_rate']:.1%}")
    print(f"refuse questions refused:  {summary['refuse_pass_rate']:.1%}")
    print(f"answers with citations:    {summary['cited_rate']:.1%}")
    print(f"retrieval hit rate:        {summary['retrieval_hit_rate']:.1%} "
          "(every must-group present in the passages considered)")
    print(f"latency per ask:           p50 {summary['latency_ms_p50']:.0f} ms, p95 {summary['latency_ms_p95']:.0f} ms")
    if report.failures:
        print(f"\nfailures ({len(report.failures)}):")
    for r in report.failures:
        if r.item.kind == "refuse":
            reason = "answered an out-of-scope question"
        elif r.answer.refused:
            reason = f"refused ({r.answer.refusal_reason})"
        elif not r.cited:
            reason = "no citation"
        else:
            reason = f"missing {r.missing_groups}"
        hit = "" if r.retrieval_hit is None else f" [retrieval {'hit' if r.retrieval_hit else 'miss'}]"
        print(f"- {r.item.id} ({r.item.topic}): {reason}{hit}\n  Q: {r.item.question}\n  A: {r.answer.answer[:400]}")
    return 0


def _add_index_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kb", help="knowledge-base directory (default: DERMADESK_KB_DIR, else knowledge_base/)")
    parser.add_argument("--chroma-dir", help="Chroma index directory (default: DERMADESK_CHROMA_URL when set, "
                                             "else <data dir>/chroma)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ingest", help="index the knowledge base in Chroma (only new or changed documents)")
    _add_index_options(p)
    p.set_defaults(func=_ingest)

    p = sub.add_parser("ask", help="answer a question from the knowledge base, as JSON")
    p.add_argument("question", nargs="?", help="the question (quote it)")
    p.add_argument("--jsonl", help="file of JSON lines with 'id' and 'question'; one answer line each")
    p.add_argument("--case", help='current case as JSON, e.g. \'{"predicted": "bcc", "probabilities": {"bcc": 0.7}}\'')
    _add_index_options(p)
    p.set_defaults(func=_ask)

    p = sub.add_parser("eval-chat", help="score the chatbot on a question set (must-groups, refusals, latency)")
    p.add_argument("--jsonl", required=True, help="question set, e.g. ../shared/eval/chat_dev.jsonl")
    p.add_argument("--json", action="store_true", help="print the summary and failures as JSON")
    _add_index_options(p)
    p.set_defaults(func=_eval_chat)
