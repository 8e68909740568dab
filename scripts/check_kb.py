"""Parse every knowledge-base document and list problems: missing fields, review notes, duplicate ids.

    python scripts/check_kb.py [knowledge_base]
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.knowledge.documents import load_documents  # noqa: E402


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
    print(f"{len(loaded.documents)} documents, {len(problems)} problems")
    for problem in problems:
        print(" -", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
