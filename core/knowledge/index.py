"""The knowledge index: documents embedded into three persistent Chroma collections (passages, their sentences,
and the questions the documents answer), and `KnowledgeIndex`, the read side that the chat uses.

* `ingest` embeds chunks, sentences and the documents' questions with the packaged all-MiniLM-L6-v2 model; only
  new or changed documents (by content hash) are re-embedded.
* `KnowledgeIndex.search` fuses dense similarity (Chroma), similarity to the documents' questions (users' wording
  is nearer another user's question than a textbook sentence) and BM25 over the same chunks, whose terms
  include the knowledge base's own synonyms of the names in them (`core.knowledge.synonyms`, read from
  the sentences at open time), and returns a `Retrieval` whose `confident` flag tells the chat to
  answer or refuse. The chat reads sentences, their vectors and terms through the methods below only.

Typical use (the dashboard keeps one `KnowledgeIndex` per process, e.g. in `st.cache_resource`)::

    ensure_index(settings.kb_dir, settings.chroma_dir)   # builds the index on first start; no-op afterwards
    index = KnowledgeIndex.open(settings.chroma_dir)
    retrieval = index.search("What does a blue-white veil suggest?")
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.embedding import EmbeddingModelError, embedding_model_path
from core.knowledge.documents import KnowledgeBaseError, load_documents
from core.knowledge.lexical import BM25, tokenize
from core.knowledge.retrieval import (ASKED_RANK_WEIGHT, DENSE_CANDIDATES, SENTENCE_CANDIDATES, Passage, Retrieval,
                                      EXACT_MATCH_MIN_IDF, confident, fuse)
from core.knowledge.splitting import Chunk, answer_locations, split_document
from core.knowledge.synonyms import Synonyms

if TYPE_CHECKING:
    from langchain_chroma import Chroma
    from langchain_core.embeddings import Embeddings

CHUNKS_COLLECTION = "dermadesk_kb_chunks"
SENTENCES_COLLECTION = "dermadesk_kb_sentences"
QUESTIONS_COLLECTION = "dermadesk_kb_questions"


def _model_path() -> Path:
    try:
        return embedding_model_path()
    except EmbeddingModelError as exc:
        raise KnowledgeBaseError(str(exc)) from None


@lru_cache(maxsize=1)
def load_embeddings() -> "Embeddings":
    """The shared embedder. Loading takes seconds, so it happens once per process (hence the cache)."""
    from langchain_huggingface import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(
        model_name=str(_model_path()),
        model_kwargs={"device": "cpu", "local_files_only": True},
        encode_kwargs={"normalize_embeddings": True},
    )


@dataclass(frozen=True)
class _Stores:
    """The three collections, as LangChain vector stores (reads) and raw Chroma collections (writes)."""

    chunks: "Chroma"
    sentences: "Chroma"
    questions: "Chroma"
    chunk_collection: Any
    sentence_collection: Any
    question_collection: Any


ChromaLocation = Path | str  # a folder (embedded Chroma) or an http(s):// URL of a Chroma server (`chroma run`)


def is_server(location: ChromaLocation) -> bool:
    return isinstance(location, str) and location.startswith(("http://", "https://"))


def chroma_client(location: ChromaLocation):
    """An embedded client on a folder, or an HTTP client of a Chroma server, with telemetry off (the app is
    offline-first and must not try to phone home)."""
    import chromadb
    from urllib.parse import urlsplit

    settings = chromadb.config.Settings(anonymized_telemetry=False)
    if is_server(location):
        url = urlsplit(location)
        if not url.hostname:
            raise KnowledgeBaseError(f"{location!r} is not a Chroma server URL (expected e.g. http://127.0.0.1:8000)")
        return chromadb.HttpClient(host=url.hostname, port=url.port or (443 if url.scheme == "https" else 8000),
                                   ssl=url.scheme == "https", settings=settings)
    folder = Path(location)
    folder.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(folder), settings=settings)


def _open_stores(location: ChromaLocation, embeddings: "Embeddings") -> _Stores:
    from langchain_chroma import Chroma

    client = chroma_client(location)
    stores = [
        Chroma(
            collection_name=name,
            embedding_function=embeddings,  # always ours: chromadb's default function would download a model
            client=client,
            collection_configuration={"hnsw": {"space": "cosine"}},
        )
        for name in (CHUNKS_COLLECTION, SENTENCES_COLLECTION, QUESTIONS_COLLECTION)
    ]
    return _Stores(*stores, *(client.get_collection(name) for name in
                              (CHUNKS_COLLECTION, SENTENCES_COLLECTION, QUESTIONS_COLLECTION)))


def _chunk_metadata(chunk: Chunk, content_hash: str) -> dict[str, Any]:
    return {
        "doc": chunk.doc_id,
        "chunk_id": chunk.chunk_id,
        "title": chunk.title,
        "section": chunk.section,
        "sources": "\n".join(chunk.sources),
        "tags": ",".join(chunk.tags),
        "last_reviewed": chunk.last_reviewed,
        "content_hash": content_hash,
    }


def _embed_document(chunks: Sequence[Chunk], embeddings: "Embeddings") -> tuple["np.ndarray", "np.ndarray"]:
    """Vectors for every sentence (in chunk order) and for every chunk.

    A sentence is embedded on its own (the composer compares sentences with the question); a chunk's
    vector is the normalised sum of its heading's vector and the mean of its sentence vectors. That
    costs one pass over the text instead of two, and a heading that names the topic keeps weight.
    """
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
    questions: int = 0
    problems: list[str] = field(default_factory=list)


ProgressCallback = Callable[[int, int, str], None]


def ingest(
    kb_dir: Path,
    chroma_dir: ChromaLocation,
    *,
    embeddings: "Embeddings | None" = None,
    show_progress: bool = True,
    on_progress: ProgressCallback | None = None,
) -> IngestReport:
    """Bring the Chroma index in line with `kb_dir`, re-embedding only new or changed documents.

    Progress goes to a tqdm bar on stderr and, when given, to `on_progress(done, total, doc_id)` (for a
    UI progress bar).
    """
    from tqdm import tqdm

    started = time.perf_counter()
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

    n_chunks = n_sentences = n_questions = 0
    problems = list(loaded.problems)
    bar = tqdm(total=len(to_embed), desc="embedding documents", unit="doc", file=sys.stderr,
               disable=not show_progress or not to_embed)
    for done, doc in enumerate(to_embed, start=1):
        chunks = split_document(doc)
        sentence_vectors, chunk_vectors = _embed_document(chunks, embeddings)
        sentence_rows = [(c, position, text) for c in chunks for position, text in enumerate(c.sentences)]
        question_rows = []
        for n, question in enumerate(doc.questions, start=1):
            locations = answer_locations(chunks, question.answer)
            if not locations:
                problems.append(f"{doc.path}: the answer to question {n} ({question.ask!r}) is not a sentence of the "
                                "document; the question is left out")
            question_rows += [(n, question, chunk_id, position) for chunk_id, position in locations]
        if question_rows:
            by_chunk = {c.chunk_id: c for c in chunks}
            stores.question_collection.upsert(
                ids=[f"{chunk_id}.{position:03d}?{n:03d}" for n, _, chunk_id, position in question_rows],
                embeddings=np.asarray(embeddings.embed_documents([q.ask for _, q, _, _ in question_rows]),
                                      dtype=np.float32),
                documents=[q.ask for _, q, _, _ in question_rows],
                metadatas=[{**_chunk_metadata(by_chunk[chunk_id], doc.content_hash), "position": position}
                           for _, _, chunk_id, position in question_rows],
            )
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
        n_questions += len(question_rows)
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
        questions=n_questions,
        problems=problems,
    )


def _delete_document(stores: _Stores, doc_id: str) -> None:
    for store in (stores.chunks, stores.sentences, stores.questions):
        ids = store.get(where={"doc": doc_id}, include=[])["ids"]
        if ids:
            store.delete(ids=ids)


def index_is_built(chroma_dir: ChromaLocation) -> bool:
    """True when the chunk collection exists and holds at least one passage (no model is loaded)."""
    if not is_server(chroma_dir) and not Path(chroma_dir).is_dir():
        return False
    client = chroma_client(chroma_dir)
    try:
        return client.get_collection(CHUNKS_COLLECTION).count() > 0
    except Exception:  # chromadb raises its own NotFound type, which differs between versions
        return False


def ensure_index(
    kb_dir: Path,
    chroma_dir: ChromaLocation,
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


@dataclass(frozen=True)
class IndexedSentence:
    """One sentence of a passage, as the chat composer reads it."""

    chunk_id: str
    position: int  # within its passage
    text: str
    terms: tuple[str, ...]  # `tokenize(text)`
    matched_terms: frozenset[str]  # `terms` and those of the knowledge base's synonyms of names in it
    vector: np.ndarray  # normalised embedding


class KnowledgeIndex:
    """Read side of the knowledge base: Chroma for dense search, BM25 and sentence vectors in memory.

    Open once and reuse; it snapshots the collections at open time (re-open after `ingest`).
    """

    def __init__(self, chunk_store: "Chroma", sentence_store: "Chroma", embeddings: "Embeddings",
                 question_store: "Chroma | None" = None) -> None:
        self._chunk_store = chunk_store
        self._embeddings = embeddings
        chunk_rows = chunk_store.get(include=["documents", "metadatas"])
        self._chunks: dict[str, dict[str, Any]] = {
            chunk_id: {"text": text, **meta}
            for chunk_id, text, meta in zip(chunk_rows["ids"], chunk_rows["documents"], chunk_rows["metadatas"])
        }
        if not self._chunks:
            raise KnowledgeBaseError("the knowledge index is empty: run `python -m core ingest` first")
        self._chunk_ids = sorted(self._chunks)
        rows = sentence_store.get(include=["documents", "metadatas", "embeddings"])
        order = sorted(range(len(rows["ids"])), key=lambda i: rows["ids"][i])
        self._synonyms = Synonyms(rows["documents"][i] for i in order)
        headings = {cid: tokenize(f"{self._chunks[cid]['title']} {self._chunks[cid]['section']}")
                    for cid in self._chunk_ids}
        self._heading_terms = {cid: tuple(self._synonyms.expand(headings[cid])) for cid in self._chunk_ids}
        self._chunk_terms = {cid: self._synonyms.expand(headings[cid] + tokenize(self._chunks[cid]["text"]))
                             for cid in self._chunk_ids}
        self._bm25 = BM25([self._chunk_terms[cid] for cid in self._chunk_ids])
        self._chunk_term_sets = {cid: frozenset(terms) for cid, terms in self._chunk_terms.items()}

        self._sentence_vectors = np.asarray([rows["embeddings"][i] for i in order], dtype=np.float32)
        self._sentences = []
        for row, i in enumerate(order):
            text = rows["documents"][i]
            terms = tuple(tokenize(text))
            self._sentences.append(IndexedSentence(
                rows["metadatas"][i]["chunk_id"], int(rows["metadatas"][i]["position"]), text, terms,
                frozenset(self._synonyms.expand(terms)), self._sentence_vectors[row]))
        self._sentences_by_chunk: dict[str, list[int]] = {}
        for row, sentence in enumerate(self._sentences):
            self._sentences_by_chunk.setdefault(sentence.chunk_id, []).append(row)

        # The documents' questions, each pointing at the sentence that answers it.
        self._question_texts: list[str] = []
        self._question_answers: list[tuple[str, int]] = []  # (chunk id, sentence position)
        vectors = []
        if question_store is not None:
            rows = question_store.get(include=["documents", "metadatas", "embeddings"])
            for i in sorted(range(len(rows["ids"])), key=lambda i: rows["ids"][i]):
                self._question_texts.append(rows["documents"][i])
                self._question_answers.append((rows["metadatas"][i]["chunk_id"], int(rows["metadatas"][i]["position"])))
                vectors.append(rows["embeddings"][i])
        self._question_vectors = (np.asarray(vectors, dtype=np.float32) if vectors
                                  else np.zeros((0, self._sentence_vectors.shape[1]), dtype=np.float32))

    @classmethod
    def open(cls, chroma_dir: ChromaLocation, *, embeddings: "Embeddings | None" = None) -> "KnowledgeIndex":
        """Open the persisted index in `chroma_dir` (a folder, or the URL of a Chroma server)."""
        if not index_is_built(chroma_dir):
            raise KnowledgeBaseError(
                f"no knowledge index in {chroma_dir}: run `python -m core ingest` (or call ensure_index())"
            )
        embeddings = embeddings or load_embeddings()
        stores = _open_stores(chroma_dir, embeddings)
        return cls(stores.chunks, stores.sentences, embeddings, stores.questions)

    @property
    def document_ids(self) -> set[str]:
        return {meta["doc"] for meta in self._chunks.values()}

    def sections(self, doc_id: str) -> list[str]:
        """The section headings of a document's passages, in document order."""
        return list(dict.fromkeys(self._chunks[cid]["section"] for cid in self._chunk_ids
                                  if self._chunks[cid]["doc"] == doc_id))

    def documents_tagged(self, tags: Iterable[str]) -> list[str]:
        """Ids of the documents carrying any of `tags` in their front matter, sorted."""
        wanted = set(tags)
        return sorted({meta["doc"] for meta in self._chunks.values()
                       if wanted & {t.strip() for t in meta.get("tags", "").split(",")}})

    def embed(self, text: str) -> np.ndarray:
        return np.asarray(self._embeddings.embed_query(text), dtype=np.float32)

    def embed_many(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised embeddings, one row per text (the embedder's batch path)."""
        return np.asarray(self._embeddings.embed_documents(list(texts)), dtype=np.float32)

    def sentences_of(self, chunk_id: str) -> list[IndexedSentence]:
        """The sentences of one passage, in reading order."""
        return [self._sentences[row] for row in self._sentences_by_chunk.get(chunk_id, [])]

    def heading_terms(self, chunk_id: str) -> tuple[str, ...]:
        """Terms of a passage's document title and section heading, with their synonyms."""
        return self._heading_terms[chunk_id]

    def coverage(self, query_terms: Sequence[str], terms: Iterable[str]) -> float:
        """IDF-weighted share of the distinct query terms found in `terms` (0..1)."""
        return self._bm25.coverage(query_terms, terms)

    def _holding_every_term(self, query_terms: Sequence[str]) -> set[str]:
        """Passages that hold every term of the query, one of them rare in the knowledge base: a name the embedder
        does not know ("Marjolin ulcer") is answered by the passage that names it, however low its similarity."""
        rarest = self.rarest_term(query_terms)
        if rarest is None or rarest not in self._bm25.idf or self._bm25.term_idf(rarest) < EXACT_MATCH_MIN_IDF:
            return set()
        return {cid for cid in self._chunk_ids if rarest in self._chunk_term_sets[cid]
                and self._bm25.coverage(query_terms, self._chunk_terms[cid]) >= 1.0 - 1e-9}

    def rarest_term(self, terms: Iterable[str]) -> str | None:
        """The term of `terms` that the fewest passages hold (highest IDF): what a question is most specifically about."""
        return max(terms, key=self._bm25.term_idf, default=None)

    def passage_has_term(self, chunk_id: str, term: str) -> bool:
        return term in self._chunk_term_sets[chunk_id]

    def query_terms(self, text: str) -> list[str]:
        """`tokenize(text)` with misspelt terms read as the known term one edit away (see `SpellingCorrector`);
        a hyphenated compound the corpus does not know ("30-year-old") counts by its parts only."""
        speller = self._bm25.speller
        known = speller.document_freq
        return [speller.correct(term) for term in tokenize(text, lambda joined: speller.correct(joined) in known)]

    def answer_similarities(self, vector: np.ndarray) -> dict[tuple[str, int], float]:
        """For each answer sentence of the documents' questions, (chunk id, position) -> cosine similarity of
        `vector` to the nearest question it answers."""
        answered: dict[tuple[str, int], float] = {}
        if self._question_texts:
            for row, similarity in enumerate(self._question_vectors @ vector):
                key = self._question_answers[row]
                answered[key] = max(answered.get(key, -1.0), float(similarity))
        return answered

    def nearest_question(self, vector: np.ndarray, chunk_id: str) -> tuple[str, float] | None:
        """The question of passage `chunk_id` nearest to `vector`, with its similarity (None if it has none)."""
        rows = [r for r, (cid, _) in enumerate(self._question_answers) if cid == chunk_id]
        if not rows:
            return None
        sims = self._question_vectors[rows] @ vector
        best = int(np.argmax(sims))
        return self._question_texts[rows[best]], float(sims[best])

    def search(self, query: str, k: int = 6, *, boost_docs: Sequence[str] = ()) -> Retrieval:
        """Fused dense + BM25 search. `boost_docs` (doc ids) gently favour documents, e.g. the case's class."""
        query_terms = self.query_terms(query)
        # Abbreviations ("can bcc spread?") mean little to the embedder: it reads their long forms too.
        spelled_out = self._synonyms.spelled_out(query_terms)
        query_vector = self.embed(f"{query} ({'; '.join(spelled_out)})" if spelled_out else query)

        dense_hits = self._chunk_store.similarity_search_by_vector_with_relevance_scores(
            query_vector.tolist(), k=min(DENSE_CANDIDATES, len(self._chunk_ids))
        )
        # The collection uses cosine distance, so similarity = 1 - distance.
        dense = {doc.id or doc.metadata["chunk_id"]: 1.0 - distance for doc, distance in dense_hits}

        sentence_sims = self._sentence_vectors @ query_vector if len(self._sentences) else np.zeros(0)
        best_sentence: dict[str, float] = {}
        for row in np.argsort(-sentence_sims)[:SENTENCE_CANDIDATES]:
            cid = self._sentences[row].chunk_id
            best_sentence[cid] = max(best_sentence.get(cid, -1.0), float(sentence_sims[row]))

        answered = self.answer_similarities(query_vector)
        asked: dict[str, float] = {}
        for (cid, _), similarity in answered.items():
            asked[cid] = max(asked.get(cid, -1.0), similarity)

        lexical = dict(zip(self._chunk_ids, self._bm25.scores(query_terms)))
        rankings = [
            sorted(dense, key=dense.get, reverse=True),
            sorted(best_sentence, key=best_sentence.get, reverse=True),
            sorted(asked, key=asked.get, reverse=True)[:DENSE_CANDIDATES],
            [cid for cid in sorted(lexical, key=lexical.get, reverse=True) if lexical[cid] > 0][:DENSE_CANDIDATES],
        ]
        boost = set(boost_docs)
        fused = fuse(rankings, [cid for cid in self._chunk_ids if self._chunks[cid]["doc"] in boost],
                     weights=(1.0, 1.0, ASKED_RANK_WEIGHT, 1.0))

        exact = self._holding_every_term(query_terms)
        ranked = sorted(exact, key=lexical.get, reverse=True) + [cid for cid, _ in fused.most_common() if cid not in exact]

        passages = []
        for cid in ranked[:k]:
            score = fused.get(cid, 0.0)
            meta = self._chunks[cid]
            rows = self._sentences_by_chunk.get(cid, [])
            sentence_best = max((float(sentence_sims[r]) for r in rows), default=0.0)
            passages.append(Passage(
                chunk_id=cid, doc=meta["doc"], title=meta["title"], section=meta["section"], text=meta["text"],
                sources=tuple(s for s in meta["sources"].split("\n") if s),
                tags=tuple(t for t in meta["tags"].split(",") if t),
                score=score, dense=dense.get(cid, 0.0), best_sentence=sentence_best,
                lexical=lexical.get(cid, 0.0),
                coverage=self._bm25.coverage(query_terms, self._chunk_terms[cid]),
                last_reviewed=str(meta.get("last_reviewed", "")),
                asked=asked.get(cid, 0.0),
                exact=cid in exact,
            ))
        kept = {p.chunk_id for p in passages}
        return Retrieval(query, passages, confident(passages), tuple(query_vector.tolist()),
                         {key: sim for key, sim in answered.items() if key[0] in kept})
