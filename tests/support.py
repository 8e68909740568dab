"""Shared helpers for the tests: where the real data is, and hand-made image bytes."""
from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
HAM_DIR = ROOT.parent / "shared" / "data" / "ham10000"
MODEL_DIR = ROOT / "models" / "dermadesk-classifier"

requires_ham = pytest.mark.skipif(not (HAM_DIR / "metadata.csv").is_file(), reason="../shared/data/ham10000 not present")
requires_model = pytest.mark.skipif(not (MODEL_DIR / "weights.safetensors").is_file(), reason="no trained checkpoint in models/")
SEGMENTER_DIR = ROOT / "models" / "dermadesk-segmenter"
requires_segmenter = pytest.mark.skipif(not (SEGMENTER_DIR / "weights.safetensors").is_file(),
                                        reason="no segmentation checkpoint in models/")


def image_bytes(img: Image.Image, fmt: str, **save_args) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **save_args)
    return buf.getvalue()


def skin_like(width: int = 341, height: int = 256, seed: int = 0) -> Image.Image:
    """A brownish blob on a pink background: enough texture for every code path."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    blob = ((xx - width / 2) ** 2 / (width / 4) ** 2 + (yy - height / 2) ** 2 / (height / 4) ** 2) < 1
    arr = np.empty((height, width, 3), np.float32)
    arr[:] = (225, 170, 160)
    arr[blob] = (120, 70, 50)
    arr += rng.normal(0, 8, arr.shape)
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width x height but carries almost no pixel data (a decompression bomb's header)."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def minimal_pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
