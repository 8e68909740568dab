"""DermaDesk settings: one place, every value overridable by an environment variable.

Nothing here reads Streamlit configuration; `.streamlit/config.toml` owns that.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Images per forward pass for batch work. Each image already travels with its three flipped views, and on
# the 2-core CPU larger batches were slower per image (Classifier.run on 16 validation images, ms per image:
# batch 1: 18-20, 2: 17-29, 4: 29-30, 8: 45-46, 16: 63-67): the activations outgrow the caches.
INFERENCE_BATCH = 1

CLASSES: tuple[str, ...] = ("akiec", "bcc", "bkl", "df", "mel", "nv", "vasc")
MALIGNANT: frozenset[str] = frozenset({"akiec", "bcc", "mel"})
CLASS_NAMES: dict[str, str] = {
    "akiec": "Actinic keratosis / intraepithelial carcinoma (Bowen's)",
    "bcc": "Basal cell carcinoma",
    "bkl": "Benign keratosis-like lesion",
    "df": "Dermatofibroma",
    "mel": "Melanoma",
    "nv": "Melanocytic naevus",
    "vasc": "Vascular lesion",
}


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


AUTH_MODES = ("single", "accounts")


def _env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, "").strip().lower() or default
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


@dataclass(frozen=True)
class Settings:
    """Runtime configuration. Built once by each entry point (app, command line, benchmarks) with
    `Settings.from_env()` and passed down explicitly; nothing below the entry points reads the environment."""

    data_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "var")
    model_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "models" / "dermadesk-classifier")
    segmenter_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "models" / "dermadesk-segmenter")
    ham10000_dir: Path = field(default_factory=lambda: PROJECT_ROOT.parent / "shared" / "data" / "ham10000")
    # Images above this many pixels are refused before decoding (decompression-bomb guard).
    max_image_pixels: int = 40_000_000
    # Shortest side below this is too small to hold a dermoscopic pattern.
    min_image_side: int = 32
    # Top-class probability under this is flagged "low confidence" in every view.
    low_confidence: float = 0.5
    torch_threads: int = 0  # 0 = leave torch's default
    # Inference arithmetic: "auto" = bf16 autocast where the CPU has native bf16 instructions (outputs
    # checked against fp32 by the tests: probabilities within 0.03), else fp32; or "fp32" / "bf16".
    inference_precision: str = "auto"
    kb_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "knowledge_base")
    # Case database: empty = the SQLite file `cases_db`; otherwise an SQLAlchemy URL such as
    # postgresql+psycopg://user:password@host/dbname (same code, same migrations).
    database_url: str = ""
    # Name recorded in the case audit trail by command-line tools (the UI asks for it instead).
    user_name: str = ""
    # Knowledge index: empty = embedded Chroma in `chroma_dir`; otherwise the URL of a Chroma server started with
    # `chroma run` (e.g. http://127.0.0.1:8000), shared by several app instances.
    chroma_url: str = ""
    # "single": one person on their own computer, no sign-in (the default; the server listens on 127.0.0.1 only).
    # "accounts": everyone signs in with a local account whose role decides what they see (`python -m core users`).
    auth: str = "single"
    # Signed-in sessions end after this long unused, and after session_max_hours whatever happens.
    session_idle_minutes: int = 30
    session_max_hours: int = 12

    @classmethod
    def from_env(cls) -> "Settings":
        base = cls()
        return cls(
            data_dir=_env_path("DERMADESK_DATA_DIR", base.data_dir),
            model_dir=_env_path("DERMADESK_MODEL_DIR", base.model_dir),
            segmenter_dir=_env_path("DERMADESK_SEGMENTER_DIR", base.segmenter_dir),
            ham10000_dir=_env_path("DERMADESK_HAM10000_DIR", base.ham10000_dir),
            max_image_pixels=_env_int("DERMADESK_MAX_IMAGE_PIXELS", base.max_image_pixels),
            min_image_side=_env_int("DERMADESK_MIN_IMAGE_SIDE", base.min_image_side),
            low_confidence=_env_float("DERMADESK_LOW_CONFIDENCE", base.low_confidence),
            torch_threads=_env_int("DERMADESK_TORCH_THREADS", base.torch_threads),
            inference_precision=os.environ.get("DERMADESK_INFERENCE_PRECISION", base.inference_precision),
            kb_dir=_env_path("DERMADESK_KB_DIR", base.kb_dir),
            database_url=os.environ.get("DERMADESK_DATABASE_URL", base.database_url),
            user_name=os.environ.get("DERMADESK_USER", base.user_name),
            chroma_url=os.environ.get("DERMADESK_CHROMA_URL", base.chroma_url).strip(),
            auth=_env_choice("DERMADESK_AUTH", base.auth, AUTH_MODES),
            session_idle_minutes=_env_int("DERMADESK_SESSION_IDLE_MINUTES", base.session_idle_minutes),
            session_max_hours=_env_int("DERMADESK_SESSION_MAX_HOURS", base.session_max_hours),
        )

    # Every piece of runtime state lives below data_dir so it can be backed up or moved as one.
    @property
    def cases_db(self) -> Path:
        return self.data_dir / "cases.sqlite3"

    @property
    def image_store(self) -> Path:
        return self.data_dir / "images"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def chroma_location(self) -> Path | str:
        """Where the knowledge index lives: the Chroma server's URL when one is configured, else the folder."""
        return self.chroma_url or self.chroma_dir

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"
