"""Parse every knowledge-base document and list problems: missing fields, review notes, duplicate ids, and
questions (`<doc-id>.questions.yaml`) whose answer is not a sentence of their document.

    python scripts/check_kb.py [knowledge_base]
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.knowledge.documents import load_documents, questions_path  # noqa: E402
from core.knowledge.splitting import answer_locations, split_document  # noqa: E402


def main(kb_dir: str = "knowledge_base") -> int:
    loaded = load_documents(Path(kb_dir))
    problems = list(loaded.problems)
    for doc in loaded.documents:
        if not doc.last_reviewed:
            problems.append(f"{doc.path}: no last_reviewed date")
        if not doc.review_note:
            problems.append(f"{doc.path}: no review_note")
        if not doc.tags or not doc.audience:
            problems.append(f"{doc.path}: tags and audience are expected")
        chunks = split_document(doc)
        for n, question in enumerate(doc.questions, start=1):
            if not answer_locations(chunks, question.answer):
                problems.append(f"{questions_path(doc.path)}: the answer to question {n} ({question.ask!r}) is not "
                                "a sentence of the document")
    documents = {doc.path.stem for doc in loaded.documents}
    for orphan in sorted(Path(kb_dir).rglob("*.questions.yaml")):
        if orphan.name.removesuffix(".questions.yaml") not in documents:
            problems.append(f"{orphan}: no document of that name beside it")
    questions = sum(len(doc.questions) for doc in loaded.documents)
    print(f"{len(loaded.documents)} documents, {questions} questions, {len(problems)} problems")
    for problem in problems:
        print(" -", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
