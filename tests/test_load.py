"""Load and fault test against a real running server (loopback, bounded): 2 browser sessions and 2 writer
processes while the server is SIGKILLed and restarted; nothing acknowledged may be lost or half-written, and
`python -m core cases check` must pass. Figures at full size: benchmarks/bench_load.py."""
from __future__ import annotations

import pytest

from scripts.browser import browser_available
from scripts.load import run_load
from tests.support import HAM_DIR, requires_ham, requires_model

pytestmark = [requires_model, requires_ham,
              pytest.mark.skipif(not browser_available(), reason="chromium, chromedriver or selenium not installed")]


def test_concurrent_sessions_and_writers_survive_a_server_kill(tmp_path):
    # Two sessions are enough for a kill to land among concurrent saves; the benchmark runs four, for longer.
    report = run_load(HAM_DIR / "images" / "ISIC_0024306.jpg", tmp_path, sessions=2, rounds=1, writers=2,
                      writer_cases=10, writer_pause_s=3.0, kill_after_s=240, limit_s=420)
    summary = "\n".join(report.lines())
    assert report.server_kills == 1, summary
    assert report.browser_cases and report.browser_verdicts, summary  # the sessions did get work done
    assert len(report.writer_cases) == 2 * 10, summary
    assert report.check_ok, summary
    assert not report.lost_cases and not report.lost_verdicts and not report.incomplete_cases, summary
