"""Heavy objects, loaded once per server process with `st.cache_resource`, and cached analyses
so that moving a slider does not re-run the model."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import streamlit as st

from core.classifier import Classifier, Prediction
from core.config import Settings
from core.explain import explain_prepared
from core.imaging import DecodedImage, decode_image
from core.model import CheckpointError


def settings() -> Settings:
    """Read on every run (cheap), so that heavy objects below are keyed by the folders they come from."""
    return Settings.from_env()


@st.cache_resource(show_spinner="Loading the classifier…")
def _load_classifier(model_dir: str) -> Classifier | None:
    try:
        return Classifier.load(model_dir, settings())
    except CheckpointError:
        return None


def classifier() -> Classifier | None:
    """The trained model, or None (pages then explain how to get one) when no checkpoint exists."""
    return _load_classifier(str(settings().model_dir))


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# Leading underscores tell Streamlit not to hash an argument: the upload's digest is the key.
@st.cache_data(max_entries=32, show_spinner=False)
def decode(key: str, _data: bytes) -> DecodedImage:
    s = settings()
    return decode_image(_data, max_pixels=s.max_image_pixels, min_side=s.min_image_side)


@st.cache_data(max_entries=32, show_spinner=False)
def predict(key: str, _decoded: DecodedImage, model_version: str) -> Prediction:
    return classifier().predict(_decoded.image)


@st.cache_data(max_entries=64, show_spinner=False)
def heatmap(key: str, _decoded: DecodedImage, method: str, target: str, model_version: str) -> np.ndarray:
    model = classifier()
    return explain_prepared(model, model.prepare(_decoded.image), method, target).heatmap


@st.cache_resource(show_spinner=False)
def _embeddings():
    from core.knowledge import load_embeddings

    return load_embeddings()


@st.cache_resource(show_spinner=False)
def _open_knowledge_index(chroma_dir: str):
    from core.knowledge import KnowledgeIndex

    return KnowledgeIndex.open(Path(chroma_dir), embeddings=_embeddings())


def knowledge_index():
    """The knowledge index, built on first start if it is missing (with a progress bar), then opened once."""
    from core.knowledge import ensure_index, index_is_built

    s = settings()
    if not index_is_built(s.chroma_dir):
        bar = st.progress(0.0, text="Building the knowledge index (first start only)…")

        def on_progress(done: int, total: int, doc_id: str) -> None:
            bar.progress(done / max(total, 1), text=f"Indexing the knowledge base: {done}/{total} ({doc_id})")

        ensure_index(s.kb_dir, s.chroma_dir, embeddings=_embeddings(), show_progress=False, on_progress=on_progress)
        bar.empty()
    return _open_knowledge_index(str(s.chroma_dir))
