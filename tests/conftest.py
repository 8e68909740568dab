"""Shared pytest fixtures: the embedder (loaded once per session), an isolated data dir, a mini knowledge base."""
from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

# Tests never reach the network: the embedder and everything else load from local files.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REAL_KB = PROJECT_ROOT / "knowledge_base"

# Small documents in the knowledge-base format, written for the tests (facts as in the real KB's sources).
MINI_KB = {
    "lesions/basal-cell-carcinoma-dermoscopy.md": """\
        ---
        title: Basal cell carcinoma dermoscopy
        audience: [dermatologists, trainees]
        tags: [bcc, dermoscopy]
        last_reviewed: 2026-01-10
        sources:
          - "Menzies SW, Westerhoff K, Rabinovitz H, et al. Surface microscopy of pigmented basal cell carcinoma. Arch Dermatol. 2000;136(8):1012-6."
        ---

        # Basal cell carcinoma dermoscopy

        ## Vessels
        Basal cell carcinoma typically shows arborising vessels, which are bright red, sharply focused and branch like a tree.
        Short fine telangiectasias are seen in superficial basal cell carcinoma.

        ## Pigmented structures
        Spoke-wheel areas are radial projections joined to a darker central hub and are highly specific for basal cell carcinoma.
        Leaf-like areas are brown to grey-blue bulbous extensions at the edge of a pigmented basal cell carcinoma.
        Large blue-grey ovoid nests are another clue to pigmented basal cell carcinoma.
        """,
    "staging/melanoma-staging.md": """\
        ---
        title: Melanoma staging basics
        audience: [dermatologists, trainees]
        tags: [mel, staging]
        last_reviewed: 2026-01-10
        sources:
          - "Gershenwald JE, Scolyer RA, Hess KR, et al. Melanoma staging: AJCC 8th edition. CA Cancer J Clin. 2017;67(6):472-92."
        ---

        # Melanoma staging basics

        ## Breslow thickness
        Breslow thickness is the depth of a melanoma measured in millimetres from the top of the granular layer to the deepest invasive cell.
        Breslow thickness is the strongest single predictor of outcome in primary cutaneous melanoma.

        ## Ulceration
        Ulceration of a primary melanoma is assessed under the microscope and moves the tumour to a higher T substage.
        """,
    "prevention/sun-protection.md": """\
        ---
        title: Sun protection
        audience: [patients, trainees]
        tags: [prevention, sunscreen]
        last_reviewed: 2026-01-10
        sources:
          - "British Association of Dermatologists. Sunscreen fact sheet. 2023."
        ---

        # Sun protection

        ## Sunscreen
        A broad-spectrum sunscreen with a sun protection factor (SPF) of at least 30 and high UVA protection is recommended.
        Sunscreen should be reapplied every two hours and straight after swimming or towel drying.
        """,
    "lesions/dermatofibroma.md": """\
        ---
        title: Dermatofibroma
        audience: [dermatologists, trainees]
        tags: [df, benign]
        last_reviewed: 2026-01-10
        sources:
          - "Zaballos P, Puig S, Llambrich A, Malvehy J. Dermoscopy of dermatofibromas: a prospective morphological study of 412 cases. Arch Dermatol. 2008;144(1):75-83."
        ---

        # Dermatofibroma

        ## Dermoscopy
        Dermatofibroma classically shows a central white scar-like patch surrounded by a fine peripheral pigment network.

        ## Management
        Dermatofibroma is benign and needs no treatment; excision is reserved for symptomatic or doubtful lesions.
        """,
}


def write_kb(root: Path, documents: dict[str, str] = MINI_KB) -> Path:
    """Write documents (relative path -> dedented markdown) under `root` and return it."""
    for relative, text in documents.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def make_mini_kb():
    """A function that writes the mini knowledge base under a directory (for tests that edit it)."""
    return write_kb


@pytest.fixture(scope="session")
def embeddings():
    """The packaged sentence-transformers embedder, loaded once for the whole test session."""
    import torch

    from core.knowledge.index import load_embeddings

    # One intra-op thread: on a busy 2-core machine two threads made each short embedding ~30x slower.
    torch.set_num_threads(1)
    return load_embeddings()


@pytest.fixture
def tmp_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty DermaDesk data directory, set as DERMADESK_DATA_DIR for the test."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    monkeypatch.setenv("DERMADESK_DATA_DIR", str(data_dir))
    return data_dir


@pytest.fixture
def case_store(tmp_data_dir: Path):
    """An empty SQLite case store in the test's data directory, closed afterwards."""
    from core.cases import CaseStore
    from core.config import Settings

    opened = CaseStore.open(Settings.from_env())
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def mini_kb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The four-document test knowledge base (read-only: copy it before editing)."""
    return write_kb(tmp_path_factory.mktemp("mini_kb"))


@pytest.fixture(scope="session")
def mini_data_dir(tmp_path_factory: pytest.TempPathFactory, mini_kb_dir: Path, embeddings) -> Path:
    """A data directory whose chroma/ index holds the mini knowledge base (built once per session)."""
    from core.knowledge.index import ingest

    data_dir = tmp_path_factory.mktemp("mini_data")
    ingest(mini_kb_dir, data_dir / "chroma", embeddings=embeddings, show_progress=False)
    return data_dir


@pytest.fixture(scope="session")
def mini_index(mini_data_dir: Path, embeddings):
    """An open `KnowledgeIndex` over the mini knowledge base."""
    from core.knowledge.index import KnowledgeIndex

    return KnowledgeIndex.open(mini_data_dir / "chroma", embeddings=embeddings)


@pytest.fixture(scope="session")
def real_chroma_dir(tmp_path_factory: pytest.TempPathFactory, embeddings) -> Path:
    """The real knowledge_base/ ingested once per session into a temporary Chroma folder (read-only: copy it
    into a test's data folder to start an app on it); skips while the base has fewer than 5 documents."""
    from core.knowledge.documents import load_documents
    from core.knowledge.index import ingest

    if len(load_documents(REAL_KB).documents) < 5:
        pytest.skip("knowledge_base/ has fewer than 5 documents")
    chroma = tmp_path_factory.mktemp("real_kb") / "chroma"
    ingest(REAL_KB, chroma, embeddings=embeddings, show_progress=False)
    return chroma


@pytest.fixture(scope="session")
def real_index(real_chroma_dir: Path, embeddings):
    """An open `KnowledgeIndex` over the real knowledge base."""
    from core.knowledge.index import KnowledgeIndex

    return KnowledgeIndex.open(real_chroma_dir, embeddings=embeddings)
