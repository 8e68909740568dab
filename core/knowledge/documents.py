"""Knowledge-base documents: `knowledge_base/<area>/<doc-id>.md`, YAML front matter + markdown body.

Front-matter fields: `title` and `sources` (required), `last_reviewed`, `review_note` (who reviewed the
document against its sources, and what changed), `audience`, `tags`. A file that
cannot be used is reported by name and left out; it never stops the rest from loading.
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
INDEX_VERSION = "kb-index-3/all-MiniLM-L6-v2"
REQUIRED_FIELDS = ("title", "sources")


class KnowledgeBaseError(ValueError):
    """A knowledge-base document or directory that cannot be used; the message says why."""


# ---------------------------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------------------------

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
    content_hash: str


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


def parse_document(path: Path) -> KnowledgeDocument:
    """Parse one document; raises `KnowledgeBaseError` naming the file and the problem."""
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
    digest = hashlib.sha256(INDEX_VERSION.encode() + b"\0" + raw).hexdigest()
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
            doc = parse_document(path)
        except KnowledgeBaseError as exc:
            problems.append(str(exc))
            continue
        if doc.doc_id in seen:
            problems.append(f"{path}: document id '{doc.doc_id}' already used by {seen[doc.doc_id]}")
            continue
        seen[doc.doc_id] = path
        documents.append(doc)
    return LoadedKnowledgeBase(documents, problems)
