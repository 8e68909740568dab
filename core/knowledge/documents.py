"""Knowledge-base documents: `knowledge_base/<area>/<doc-id>.md`, YAML front matter + markdown body.

Front-matter fields: `title` and `sources` (required), `last_reviewed`, `review_note` (who reviewed the
document against its sources, and what changed), `audience`, `tags`. A file that
cannot be used is reported by name and left out; it never stops the rest from loading.

Beside a document, `<doc-id>.questions.yaml` lists questions it answers as users phrase them, each with the
document sentence that answers it (`ask`, `answer`): the "hypothetical questions" of a multi-vector retriever,
which the chat matches questions against (`core.knowledge.index`). A questions file that cannot be read is
reported and the document is used without it.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# Part of every document hash: bump it when splitting, stored fields or the embedder change so that
# the next ingestion re-embeds everything instead of mixing old and new chunks.
INDEX_VERSION = "kb-index-5/all-MiniLM-L6-v2"
REQUIRED_FIELDS = ("title", "sources")


class KnowledgeBaseError(ValueError):
    """A knowledge-base document or directory that cannot be used; the message says why."""


# ---------------------------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BankQuestion:
    """A question a document answers, phrased as a user would ask it, and the document sentence that answers it."""

    ask: str
    answer: str


@dataclass(frozen=True)
class KnowledgeDocument:
    """One curated markdown document; `doc_id` is its file stem."""

    doc_id: str
    path: Path
    title: str
    sources: tuple[str, ...]
    last_reviewed: str
    review_note: str
    audience: tuple[str, ...]
    tags: tuple[str, ...]
    body: str
    content_hash: str  # of the document and its questions file
    questions: tuple[BankQuestion, ...] = ()


@dataclass(frozen=True)
class LoadedKnowledgeBase:
    """Documents that parsed, and one message per file that did not (those are left out)."""

    documents: list[KnowledgeDocument]
    problems: list[str]


_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n(.*)\Z", re.DOTALL)


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple(part.strip() for part in str(value).split(",") if part.strip())


def questions_path(path: Path) -> Path:
    """Where the questions file of the document at `path` lives."""
    return path.with_name(f"{path.stem}.questions.yaml")


def parse_questions(path: Path) -> tuple[BankQuestion, ...]:
    """The questions file at `path` (none when it does not exist); raises `KnowledgeBaseError` naming the file."""
    if not path.is_file():
        return ()
    try:
        items = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise KnowledgeBaseError(f"{path}: cannot read the questions ({exc})") from exc
    if not isinstance(items, list):
        raise KnowledgeBaseError(f"{path}: expected a list of questions, each with `ask` and `answer`")
    questions = []
    for n, item in enumerate(items, start=1):
        if not (isinstance(item, dict) and str(item.get("ask") or "").strip() and str(item.get("answer") or "").strip()):
            raise KnowledgeBaseError(f"{path}: question {n} needs both `ask` and `answer`")
        questions.append(BankQuestion(" ".join(str(item["ask"]).split()), " ".join(str(item["answer"]).split())))
    return tuple(questions)


def parse_document(path: Path, problems: list[str] | None = None) -> KnowledgeDocument:
    """Parse one document and its questions file; raises `KnowledgeBaseError` naming the file and the problem.
    A questions file that cannot be read goes to `problems` (raised when `problems` is None)."""
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeBaseError(f"{path}: cannot read as UTF-8 text ({exc})") from exc
    match = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    if not match:
        raise KnowledgeBaseError(f"{path}: no YAML front matter (expected a leading '---' block)")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(f"{path}: front matter is not valid YAML ({exc})") from exc
    if not isinstance(meta, dict):
        raise KnowledgeBaseError(f"{path}: front matter must be a mapping of fields")
    missing = [name for name in REQUIRED_FIELDS if not meta.get(name)]
    if missing:
        raise KnowledgeBaseError(f"{path}: front matter lacks {', '.join(missing)}")
    body = match.group(2).strip()
    if not body:
        raise KnowledgeBaseError(f"{path}: document has no body")
    try:
        questions = parse_questions(questions_path(path))
    except KnowledgeBaseError as exc:
        if problems is None:
            raise
        problems.append(str(exc))
        questions = ()
    bank = "\n".join(f"{q.ask}\t{q.answer}" for q in questions).encode()
    digest = hashlib.sha256(INDEX_VERSION.encode() + b"\0" + raw + b"\0" + bank).hexdigest()
    return KnowledgeDocument(
        doc_id=path.stem,
        path=path,
        title=str(meta["title"]).strip(),
        sources=_as_tuple(meta.get("sources")),
        last_reviewed=str(meta.get("last_reviewed", "")),
        review_note=str(meta.get("review_note", "")).strip(),
        audience=_as_tuple(meta.get("audience")),
        tags=_as_tuple(meta.get("tags")),
        body=body,
        content_hash=digest,
        questions=questions,
    )


def load_documents(kb_dir: Path) -> LoadedKnowledgeBase:
    """Read every `*.md` below `kb_dir` except README files; unusable files are reported, not fatal."""
    kb_dir = Path(kb_dir)
    if not kb_dir.is_dir():
        raise KnowledgeBaseError(f"knowledge-base directory not found: {kb_dir}")
    documents: list[KnowledgeDocument] = []
    problems: list[str] = []
    seen: dict[str, Path] = {}
    for path in sorted(kb_dir.rglob("*.md")):
        if path.name.lower() == "readme.md":
            continue
        try:
            doc = parse_document(path, problems)
        except KnowledgeBaseError as exc:
            problems.append(str(exc))
            continue
        if doc.doc_id in seen:
            problems.append(f"{path}: document id '{doc.doc_id}' already used by {seen[doc.doc_id]}")
            continue
        seen[doc.doc_id] = path
        documents.append(doc)
    return LoadedKnowledgeBase(documents, problems)
