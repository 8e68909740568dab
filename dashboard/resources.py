"""Heavy objects, loaded once per server process with `st.cache_resource`, and cached analyses
so that moving a slider does not re-run the model."""
from __future__ import annotations

import atexit
import hashlib
import threading
from pathlib import Path

import numpy as np
import streamlit as st

from core.analysis import Analysis, HeatmapRequest, analyse
from core.config import Settings
from core.runtime import configure_torch
from core.triage.checklist import ChecklistResult
from core.vision.fusion import PatientDetails
from core.vision.classifier import Classifier
from core.vision.imaging import DecodedImage, ImageError, decode_image
from core.vision.model import CheckpointError


def settings() -> Settings:
    """The app's settings: the entry point's one read of the environment, done on every run (it is cheap)
    so that the heavy objects below are keyed by the folders they come from."""
    return Settings.from_env()


@st.cache_resource(show_spinner=False)
def _configure_runtime(torch_threads: int) -> None:
    configure_torch(settings())


# Set once the classifier has loaded: the background warm-up waits for it, because on two cores the two
# loads side by side delayed the first usable page by seconds.
_CLASSIFIER_LOADED = threading.Event()
# Set when the process exits: the background indexing stops between two documents (each is complete or
# absent in the index), and exit waits for that rather than killing the thread inside native code, which
# aborted the process ("terminate called without an active exception").
_STOPPING = threading.Event()
_WARM_UP_THREADS: list[threading.Thread] = []
STOP_WAIT_S = 60.0


class _Stopped(Exception):
    """Raised from the indexing progress callback when the process is exiting."""


@atexit.register
def _stop_background_work() -> None:
    _STOPPING.set()
    _CLASSIFIER_LOADED.set()  # a warm-up still waiting for the classifier goes straight to its end
    for thread in _WARM_UP_THREADS:
        thread.join(STOP_WAIT_S)


WARM_UP_DELAY_LIMIT_S = 20.0  # pages without the classifier (chat) do not hold the warm-up back longer


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Thread:
    """Load the red-flag filter's embedding model in the background once per server process, so that the
    first note or chat message is not kept waiting for it (a few seconds)."""
    import pandas  # noqa: F401  (see below)

    from core.triage.learned import default_learned_layer
    from core.triage.semantic import default_matcher

    # pandas is imported here, before the thread starts: the thread's transformers import and the page's
    # plotly chart both import it, and two threads importing it at once left one with a partially
    # initialised module ("module 'pandas' has no attribute 'Series'", seen in the quiz page's test).
    def load() -> None:
        _CLASSIFIER_LOADED.wait(WARM_UP_DELAY_LIMIT_S)
        if _STOPPING.is_set():
            return
        try:
            default_matcher()
            default_learned_layer()
            if not _STOPPING.is_set():
                _refresh_knowledge_index()
        except RuntimeError:
            # The process began to exit while a library was still being imported here ("can't register atexit
            # after shutdown"): nothing was half-written, and there is no one left to warm up for.
            if not _STOPPING.is_set():
                raise

    thread = threading.Thread(target=load, name="dermadesk-warm-up", daemon=True)
    _WARM_UP_THREADS.append(thread)
    thread.start()
    return thread


@st.cache_resource(show_spinner="Loading the classifier…")
def _load_classifier(model_dir: str, low_confidence: float, precision: str) -> Classifier | None:
    try:
        return Classifier.load(model_dir, low_confidence=low_confidence, precision=precision)
    except CheckpointError:
        return None
    finally:
        _CLASSIFIER_LOADED.set()


def classifier() -> Classifier | None:
    """The trained model, or None (pages then explain how to get one) when no checkpoint exists."""
    s = settings()
    _configure_runtime(s.torch_threads)
    return _load_classifier(str(s.model_dir), s.low_confidence, s.inference_precision)


@st.cache_resource(show_spinner="Loading the lesion segmenter…")
def _load_segmenter(segmenter_dir: str):
    from core.segmentation.segmenter import Segmenter

    try:
        return Segmenter.load(segmenter_dir)
    except CheckpointError:
        return None


def segmenter():
    """The lesion segmenter, or None when its checkpoint is missing (pages then skip outlines and measurements)."""
    return _load_segmenter(str(settings().segmenter_dir))


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# Leading underscores tell Streamlit not to hash an argument: the upload's digest is the key.
@st.cache_data(max_entries=32, show_spinner=False)
def decode(key: str, _data: bytes) -> DecodedImage:
    s = settings()
    return decode_image(_data, max_pixels=s.max_image_pixels, min_side=s.min_image_side)


def decode_or_stop(name: str, data: bytes) -> tuple[str, DecodedImage]:
    """(digest, decoded image) of an uploaded or chosen file; a clear message and a stop if it cannot
    be used (corrupt, not an image, too large, too small). Decoding notes are shown as captions."""
    key = digest(data)
    try:
        decoded = decode(key, data)
    except ImageError as exc:
        st.error(f"**{name}** cannot be analysed: {exc}")
        st.stop()
    for message in decoded.notes:
        st.caption(message)
    return key, decoded


# Streamlit hashes the small frozen inputs (note, checklist, details, request) by value.
@st.cache_data(max_entries=32, show_spinner=False)
def _analysis(key: str, model_dir: str, segmenter_dir: str, _decoded: DecodedImage, note: str,
              checklist: ChecklistResult | None, details: PatientDetails | None,
              request: HeatmapRequest | None) -> Analysis:
    return analyse(_decoded, classifier(), settings(), note=note, checklist=checklist, details=details,
                   heatmaps=request, segmenter=segmenter())


def analysis(key: str, decoded: DecodedImage, note: str = "", checklist: ChecklistResult | None = None,
             details: PatientDetails | None = None, request: HeatmapRequest | None = None) -> Analysis:
    """The analysis of a decoded upload (`key` is its digest), recomputed only when an input or the
    model changes. Without `request` no heatmap is computed."""
    s = settings()
    return _analysis(key, str(s.model_dir), str(s.segmenter_dir), decoded, note, checklist, details, request)


@st.cache_data(max_entries=32, show_spinner=False)
def measurements(key: str, _analysis: Analysis, field_of_view_mm: float | None):
    """ABCD measurements of an analysis's outline (`key`: the upload's digest), computed once per field of view."""
    return _analysis.measurements(field_of_view_mm)


@st.cache_resource(show_spinner=False)
def _embeddings():
    from core.knowledge.index import load_embeddings

    return load_embeddings()


@st.cache_resource(show_spinner=False)
def _open_knowledge_index(location: str):
    from core.knowledge.index import KnowledgeIndex, is_server

    return KnowledgeIndex.open(location if is_server(location) else Path(location), embeddings=_embeddings())


# The knowledge index is brought up to date once per server process, in the background after start-up
# (new or edited documents are embedded; on a first start the whole base, about 95 s on 2 cores), so that
# neither the analysis page nor the chat's first visit waits for it unannounced.
_INDEX_LOCK = threading.Lock()
_INDEX_STATES: dict[tuple[str, str], dict] = {}  # per (knowledge-base folder, index folder)


def _index_state(s: Settings) -> dict:
    return _INDEX_STATES.setdefault((str(s.kb_dir), str(s.chroma_location)),
                                    {"done": 0, "total": 0, "finished": False, "error": ""})


def _refresh_knowledge_index() -> None:
    from core.knowledge.documents import KnowledgeBaseError
    from core.knowledge.index import ingest

    s = settings()
    state = _index_state(s)
    if state["finished"]:
        return
    with _INDEX_LOCK:
        if state["finished"]:
            return

        def on_progress(done: int, total: int, doc_id: str) -> None:
            state.update(done=done, total=total)
            if _STOPPING.is_set():
                raise _Stopped

        try:
            ingest(s.kb_dir, s.chroma_location, embeddings=_embeddings(), show_progress=False, on_progress=on_progress)
        except _Stopped:
            return  # the next start carries on where this one stopped
        except (KnowledgeBaseError, OSError, RuntimeError) as exc:  # shown on the chat page, not lost in a thread
            state["error"] = str(exc)
        state["finished"] = True


def knowledge_index():
    """The knowledge index, brought up to date (once per process) and then opened once. While the
    background refresh runs, the page says so and shows its progress instead of hanging."""
    import time

    s = settings()
    state = _index_state(s)
    if not state["finished"] and _INDEX_LOCK.locked():
        st.info("The knowledge base is being indexed in the background (new or changed documents; on a first "
                "start the whole base, about a minute and a half on two cores). The rest of DermaDesk works "
                "meanwhile; this page continues by itself.", icon=":material/hourglass_top:")
        bar = st.progress(0.0)
        while _INDEX_LOCK.locked() and not state["finished"]:
            done, total = state["done"], max(state["total"], 1)
            bar.progress(min(done / total, 1.0), text=f"Indexing: {done}/{state['total'] or '?'} documents")
            time.sleep(0.5)
        bar.empty()
    _refresh_knowledge_index()  # no-op once done; runs here when the background warm-up has not started it
    if state["error"]:
        st.error(f"The knowledge base could not be indexed: {state['error']}")
        st.stop()
    return _open_knowledge_index(str(s.chroma_location))


# --- Explanation lab ------------------------------------------------------------------------------


@st.cache_data(max_entries=32, show_spinner=False)
def explanations(key: str, _decoded: DecodedImage, methods: tuple[str, ...], targets: tuple[str, ...],
                 model_version: str, aug_smooth: bool = False, eigen_smooth: bool = False) -> list:
    """One `Explanation` per (method, target), methods sharing one forward pass where they can."""
    from core.explain.cams import explain_many

    model = classifier()
    return explain_many(model, model.prepare(_decoded.image), list(methods), list(targets),
                        aug_smooth=aug_smooth, eigen_smooth=eigen_smooth)


# Each entry holds three perturbed model inputs (about 2.4 MB): keep the cache modest.
@st.cache_data(max_entries=48, show_spinner=False)
def faithfulness(key: str, _decoded: DecodedImage, _explanation, method: str, target: str, model_version: str,
                 smoothing: str = ""):
    """Faithfulness of one cached explanation; `smoothing` only keys the cache (the map differs with it).
    Raises `FaithfulnessError` for maps that cannot be tested (not cached, so cheap to raise again)."""
    from core.explain.faithfulness import faithfulness as measure

    model = classifier()
    return measure(model, model.prepare(_decoded.image), _explanation, keep_views=True)


@st.cache_data(show_spinner=False)
def ham_records(folder: str, val_fraction: float, seed: int) -> tuple[list, frozenset[str]]:
    """(records of a HAM10000-format folder, image ids in the lesion-level validation split made with
    `val_fraction` and `seed`). Raises `DataError` for a folder that is not in HAM10000 format."""
    from core.vision.data import lesion_split, read_metadata

    records = read_metadata(folder)
    _, validation = lesion_split(records, val_fraction, seed)
    return records, frozenset(r.image_id for r in validation)


@st.cache_data(max_entries=64, show_spinner=False)
def ham_mask(folder: str, image_id: str, size: tuple[int, int]) -> tuple[np.ndarray | None, str | None]:
    """(the lesion mask of a HAM10000 image as booleans, None), or (None, why it cannot be used)."""
    from core.vision.data import read_lesion_mask

    return read_lesion_mask(folder, image_id, size)


@st.cache_data(show_spinner=False)
def knowledge_document(path: str) -> tuple[str, str] | None:
    """(title, markdown body) of one knowledge-base document, or None if it is missing or malformed."""
    from core.knowledge.documents import KnowledgeBaseError, parse_document

    try:
        doc = parse_document(Path(path))
    except KnowledgeBaseError:
        return None
    return doc.title, doc.body


@st.cache_resource(show_spinner=False)
def quiz_bank(kb_dir: str, seed: int) -> list:
    """Every knowledge question the knowledge base supports (`core.quiz.build_bank`), built once."""
    from core.knowledge.documents import load_documents
    from core.quiz import build_bank

    return build_bank(load_documents(Path(kb_dir)).documents, seed=seed)
