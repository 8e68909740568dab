"""Heavy objects, loaded once per server process with `st.cache_resource`, and cached analyses
so that moving a slider does not re-run the model."""
from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from core.classifier import Classifier, Prediction
from core.config import Settings
from core.explain import explain_prepared
from core.imaging import DecodedImage, decode_image
from core.model import CheckpointError


@st.cache_resource
def settings() -> Settings:
    return Settings.from_env()


@st.cache_resource(show_spinner="Loading the classifier…")
def classifier() -> Classifier | None:
    """The trained model, or None (pages then explain how to get one) when no checkpoint exists."""
    try:
        return Classifier.load(settings=settings())
    except CheckpointError:
        return None


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# Leading underscores tell Streamlit not to hash an argument: the upload's digest is the key.
@st.cache_data(max_entries=32, show_spinner=False)
def decode(key: str, _data: bytes) -> DecodedImage:
    s = settings()
    return decode_image(_data, max_pixels=s.max_image_pixels, min_side=s.min_image_side)


@st.cache_data(max_entries=32, show_spinner=False)
def predict(key: str, _decoded: DecodedImage) -> Prediction:
    return classifier().predict(_decoded.image)


@st.cache_data(max_entries=64, show_spinner=False)
def heatmap(key: str, _decoded: DecodedImage, method: str, target: str) -> np.ndarray:
    model = classifier()
    return explain_prepared(model, model.prepare(_decoded.image), method, target).heatmap
