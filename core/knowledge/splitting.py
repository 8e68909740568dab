"""Splitting a document into cited passages (chunks) and each passage into sentences.

A document is cut at its `#`/`##`/`###` headings (LangChain `MarkdownHeaderTextSplitter`); long
sections are capped by size (`RecursiveCharacterTextSplitter`). Sentences are what the chat quotes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from core.knowledge.documents import KnowledgeDocument

MAX_CHUNK_CHARS = 1400
CHUNK_OVERLAP_CHARS = 150


@dataclass(frozen=True)
class Chunk:
    """A passage of one document section: the unit that is embedded, retrieved and cited."""

    chunk_id: str
    doc_id: str
    title: str
    section: str
    text: str
    sentences: tuple[str, ...]
    sources: tuple[str, ...]
    tags: tuple[str, ...]
    last_reviewed: str = ""  # the document's review date

    @property
    def header(self) -> str:
        return f"{self.title} — {self.section}" if self.section else self.title


# Abbreviations whose full stop does not end a sentence.
_ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "vs.", "approx.", "cf.", "fig.", "no.", "dr.", "st.", "ca.", "etc.")
# Whole words only: "checklist." and "most." end sentences, "St." and "et al." do not.
_ENDS_WITH_ABBREVIATION = re.compile(r"(?:^|[\s(])(?:" + "|".join(re.escape(a) for a in _ABBREVIATIONS) + r")$",
                                     re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[A-Z0-9\"'(\[])")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_TABLE_RULE = re.compile(r"^\|?\s*:?-{2,}")


def split_sentences(text: str) -> list[str]:
    """Split a markdown passage into sentences; list items and table rows count as one sentence each."""
    sentences: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            sentences.extend(_split_prose(" ".join(paragraph)))
            paragraph.clear()

    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            flush()
        elif stripped.startswith("|"):
            flush()
            if not _TABLE_RULE.match(stripped):
                cells = [c.strip() for c in stripped.strip("|").split("|")]
                sentences.append(" | ".join(c for c in cells if c))
        elif _LIST_MARKER.match(stripped):
            flush()
            paragraph.append(_LIST_MARKER.sub("", stripped))
        else:
            paragraph.append(stripped)
    flush()
    return [s for s in sentences if len(s.split()) >= 3]


def _split_prose(paragraph: str) -> list[str]:
    pieces = _SENTENCE_END.split(paragraph)
    merged: list[str] = []
    for piece in pieces:
        if merged and _ENDS_WITH_ABBREVIATION.search(merged[-1]):
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    return [m.strip() for m in merged if m.strip()]


def split_document(doc: KnowledgeDocument) -> list[Chunk]:
    """Cut a document at its `#`/`##`/`###` headings, then cap long sections by size."""
    from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

    by_heading = MarkdownHeaderTextSplitter(
        headers_to_split_on=[("#", "h1"), ("##", "h2"), ("###", "h3")], strip_headers=True
    )
    by_size = RecursiveCharacterTextSplitter(
        chunk_size=MAX_CHUNK_CHARS, chunk_overlap=CHUNK_OVERLAP_CHARS, separators=["\n\n", "\n", ". ", " "]
    )
    chunks: list[Chunk] = []
    for part in by_size.split_documents(by_heading.split_text(doc.body)):
        text = part.page_content.strip()
        if not text:
            continue
        section = " › ".join(part.metadata[h] for h in ("h2", "h3") if part.metadata.get(h))
        if not section:
            section = "Overview"
        chunks.append(Chunk(
            chunk_id=f"{doc.doc_id}#{len(chunks):03d}",
            doc_id=doc.doc_id,
            title=doc.title,
            section=section,
            text=text,
            sentences=tuple(split_sentences(text)),
            sources=doc.sources,
            tags=doc.tags,
            last_reviewed=doc.last_reviewed,
        ))
    return chunks


def answer_locations(chunks: list[Chunk], answer: str) -> list[tuple[str, int]]:
    """Where a sentence occurs among the chunks' sentences, as (chunk id, position); chunks overlap, so it may be
    in two. Whitespace is ignored."""
    wanted = " ".join(answer.split())
    return [(c.chunk_id, position) for c in chunks for position, sentence in enumerate(c.sentences)
            if " ".join(sentence.split()) == wanted]
