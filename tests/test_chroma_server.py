"""The knowledge index on a real Chroma server (`chroma run` on 127.0.0.1), as a clinic's several app instances
share it: the same ingest, retrieval and cited answers as the embedded index, selected by DERMADESK_CHROMA_URL."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from core.config import Settings
from core.knowledge.chat import ask
from core.knowledge.index import KnowledgeIndex, index_is_built, ingest
from scripts.browser import free_port

CHROMA = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
pytestmark = pytest.mark.skipif(not Path(CHROMA).exists(), reason="the chroma command (chromadb's server) is not installed")


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen([CHROMA, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                    break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("the Chroma server did not start")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_the_index_on_a_chroma_server_answers_like_the_embedded_one(chroma_server, mini_kb_dir, embeddings,
                                                                    mini_index, monkeypatch):
    assert not index_is_built(chroma_server)
    report = ingest(mini_kb_dir, chroma_server, embeddings=embeddings, show_progress=False)
    assert report.added == len(mini_index.document_ids) and index_is_built(chroma_server)
    again = ingest(mini_kb_dir, chroma_server, embeddings=embeddings, show_progress=False)
    assert again.added == 0 and again.unchanged == report.added  # a second instance re-embeds nothing

    served = KnowledgeIndex.open(chroma_server, embeddings=embeddings)
    assert served.document_ids == mini_index.document_ids
    question = "What vessels are typical of basal cell carcinoma?"
    remote, local = ask(question, index=served), ask(question, index=mini_index)
    assert not remote.refused and remote.citations and remote.answer == local.answer

    monkeypatch.setenv("DERMADESK_CHROMA_URL", chroma_server)
    assert Settings.from_env().chroma_location == chroma_server


def test_a_bad_server_url_is_a_clear_error():
    from core.knowledge.documents import KnowledgeBaseError
    from core.knowledge.index import chroma_client

    with pytest.raises(KnowledgeBaseError, match="not a Chroma server URL"):
        chroma_client("http://")
