"""Trainee quiz commands.

Stable contract: `python -m core quiz --n N --json [--seed S]` prints a JSON list of N knowledge
questions, each with `question`, `choices`, `answer`, `explanation` and `citations` (`doc`, `section`),
plus `id`, `kind` and `topic`; the same seed and knowledge base give the same questions.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _quiz(args: argparse.Namespace) -> int:
    from core.knowledge.documents import KnowledgeBaseError, load_documents
    from core.quiz import build_bank, draw

    if args.n < 1:
        print("error: --n must be at least 1", file=sys.stderr)
        return 2
    kb_dir = Path(args.kb) if args.kb else args.settings.kb_dir
    try:
        loaded = load_documents(kb_dir)
    except KnowledgeBaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for problem in loaded.problems:
        print(f"warning: left out {problem}", file=sys.stderr)
    bank = build_bank(loaded.documents, seed=args.seed)
    questions = draw(bank, args.n, seed=args.seed)
    if len(questions) < args.n:
        print(f"warning: the knowledge base supports only {len(questions)} questions", file=sys.stderr)
    if args.json:
        print(json.dumps([{"id": q.question_id, "kind": q.kind, "topic": q.topic, "question": q.question,
                           "choices": list(q.choices), "answer": q.answer, "explanation": q.explanation,
                           "citations": [{"doc": c.doc, "section": c.section} for c in q.citations]}
                          for q in questions], ensure_ascii=False, indent=2))
        return 0
    for number, q in enumerate(questions, 1):
        print(f"{number}. {q.question}")
        for letter, choice in zip("ABCD", q.choices):
            print(f"   {letter}. {choice}")
    print("\nAnswers:")
    for number, q in enumerate(questions, 1):
        cited = q.citations[0]
        print(f"{number}. {'ABCD'[q.choices.index(q.answer)]}. {q.answer}  [{cited.doc} › {cited.section}]")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("quiz", help="knowledge questions generated from the knowledge base, with answers and citations")
    p.add_argument("--n", type=int, default=10, help="number of questions (default 10)")
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same questions")
    p.add_argument("--json", action="store_true", help="print the questions as a JSON list")
    p.add_argument("--kb", help="knowledge-base folder (default: settings)")
    p.set_defaults(func=_quiz)
