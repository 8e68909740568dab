"""Load and fault run against a real DermaDesk server on 127.0.0.1 (used by benchmarks/bench_load.py and
tests/test_load.py).

N headless-Chromium sessions each repeat the clinician's path (upload an image, wait for the result, save it
as a case, open the case, record a verdict) while writer processes create cases directly in the same store;
just after the first case saved from a browser (the other sessions are then saving theirs), the server is
killed with SIGKILL and started again. A case or verdict counts as
acknowledged only when the page (or the writer's call) said it was saved. Afterwards `python -m core cases
check` must report the store intact, and every acknowledged case and verdict must be present and complete.
"""
from __future__ import annotations

import multiprocessing
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from scripts.browser import (ROOT, choose, chromium, click_button, click_text, free_port, start_app, stop_app, upload,
                             wait_for_text)

SAVED = re.compile(r"Saved as case #(\d+)")
STEPS = ("analysis shown", "case saved", "case page shown", "verdict saved")


@dataclass
class LoadReport:
    sessions: int
    writers: int
    started: float = field(default_factory=time.time)
    seconds: float = 0.0
    step_seconds: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STEPS})
    browser_cases: list[int] = field(default_factory=list)  # acknowledged on the page
    browser_verdicts: dict[int, str] = field(default_factory=dict)  # case -> the session's name
    writer_cases: list[int] = field(default_factory=list)
    interrupted_rounds: int = 0  # rounds cut short by the server's kill
    interruptions: list[str] = field(default_factory=list)  # where each was cut short, and how
    server_kills: int = 0
    check_output: str = ""
    check_ok: bool = False
    lost_cases: list[int] = field(default_factory=list)
    lost_verdicts: list[int] = field(default_factory=list)
    incomplete_cases: list[int] = field(default_factory=list)  # present, but without image or prediction

    def p95(self, step: str) -> float | None:
        values = sorted(self.step_seconds[step])
        return values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))] if values else None

    def lines(self) -> list[str]:
        out = [f"sessions {self.sessions} (headless Chromium) + writer processes {self.writers}; "
               f"{self.seconds:.0f} s; server killed with SIGKILL {self.server_kills} time(s) and restarted",
               f"acknowledged: {len(self.browser_cases)} cases and {len(self.browser_verdicts)} verdicts from the "
               f"browsers, {len(self.writer_cases)} cases from the writers; rounds cut short by the kill: "
               f"{self.interrupted_rounds}", *(f"  {line}" for line in self.interruptions)]
        for step in STEPS:
            values = self.step_seconds[step]
            if values:
                out.append(f"  {step:<16} n={len(values):<3} median {sorted(values)[len(values) // 2]:.1f} s, "
                           f"p95 {self.p95(step):.1f} s")
        out.append(f"cases check: {'ok' if self.check_ok else 'PROBLEM'} ({self.check_output.strip().replace(chr(10), '; ')})")
        out.append(f"lost: {len(self.lost_cases)} cases, {len(self.lost_verdicts)} verdicts; "
                   f"half-written cases: {len(self.incomplete_cases)}")
        return out


def _writer(data_dir: str, count: int, seed: int, acks, pause_s: float) -> None:
    """A process that creates `count` cases through the store, `pause_s` apart, reporting each id once
    create_case returned."""
    import numpy as np
    from PIL import Image

    from core.cases import CaseStore, NewCase
    from core.config import CLASSES, Settings
    from core.vision.classifier import Prediction

    store = CaseStore.open(Settings(data_dir=Path(data_dir)))
    rng = np.random.default_rng(seed)
    for i in range(count):
        pixels = (rng.random((96, 128, 3)) * 255).astype("uint8")
        probabilities = dict(zip(CLASSES, rng.dirichlet(np.ones(len(CLASSES))).round(6).tolist()))
        top = max(probabilities, key=probabilities.get)
        prediction = Prediction(probabilities=probabilities, predicted=top, confidence=probabilities[top],
                                low_confidence=probabilities[top] < 0.5, model_version="load-writer")
        for attempt in range(20):  # the store retries locks itself; this covers a burst beyond its retries
            try:
                summary = store.create_case(NewCase(image=Image.fromarray(pixels), prediction=prediction,
                                                    source_name=f"writer{seed}-{i}.png", source_format="PNG"),
                                            actor=f"writer {seed}")
                acks.put(summary.id)
                time.sleep(pause_s)
                break
            except Exception:  # noqa: BLE001  (busy database: try again a moment later)
                time.sleep(0.2 * (attempt + 1))
    store.close()


def _session(index: int, url: str, image: Path, rounds: int, report: LoadReport, lock: threading.Lock,
             deadline: float) -> None:
    from selenium.common.exceptions import WebDriverException

    name = f"Load {index}"
    completed = 0
    with chromium() as driver:
        while completed < rounds:  # a round cut short by the kill is done again
            if time.time() > deadline:
                return
            case_id, step = None, "open the analysis page"
            try:
                driver.get(f"{url}/?user=Load%20{index}")
                wait_for_text(driver, "Decision support, not a diagnosis", timeout=120)
                t0, step = time.time(), "upload and wait for the result"
                upload(driver, image)
                wait_for_text(driver, "Suggested class", timeout=180)
                t1, step = time.time(), "save the case"
                click_button(driver, "Save as case", timeout=60)
                wait_for_text(driver, "Saved as case #", timeout=120)
                t2 = time.time()
                case_id = int(SAVED.search(driver.find_element("tag name", "body").text).group(1))
                with lock:
                    report.browser_cases.append(case_id)
                step = "open the case"
                driver.get(f"{url}/case?case={case_id}&user=Load%20{index}")
                wait_for_text(driver, "Clinician verdict", timeout=120)
                t3, step = time.time(), "record the verdict"
                choose(driver, "Diagnosis", "nv")
                click_text(driver, "Agrees with the model")
                choose(driver, "Management", "Reassure")
                click_button(driver, "Save verdict", timeout=60)
                wait_for_text(driver, "Verdict saved (version 2)", timeout=120)
                t4 = time.time()
                with lock:
                    report.browser_verdicts[case_id] = name
                    for step, seconds in zip(STEPS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                        report.step_seconds[step].append(seconds)
                completed += 1
            except (WebDriverException, AttributeError) as exc:  # the server was killed under this round
                with lock:
                    report.interrupted_rounds += 1
                    report.interruptions.append(f"session {index}, {step} at {time.time() - report.started:.0f} s: "
                                                f"{type(exc).__name__} {str(exc).splitlines()[0][:80] if str(exc) else ''}")
                time.sleep(2)


def run_load(image: Path, data_dir: Path, sessions: int = 4, rounds: int = 2, writers: int = 2,
             writer_cases: int = 20, writer_pause_s: float = 5.0, kill_after_s: float = 60.0,
             limit_s: float = 900.0) -> LoadReport:
    """`rounds` completed rounds per session (a round cut short is done again); the server is killed once, just
    after the first case a browser saved, or `kill_after_s` after the start if none was saved by then."""
    report = LoadReport(sessions=sessions, writers=writers)
    env = {"DERMADESK_DATA_DIR": str(data_dir), "DERMADESK_AUTH": "single"}
    port = free_port()
    server = {"proc": start_app(port, env, timeout=180)}
    base = f"http://127.0.0.1:{port}"
    started = report.started = time.time()
    lock = threading.Lock()
    context = multiprocessing.get_context("spawn")
    acks = context.Queue()
    writer_procs = [context.Process(target=_writer, args=(str(data_dir), writer_cases, seed, acks,
                                                                        writer_pause_s))
                    for seed in range(writers)]
    threads = [threading.Thread(target=_session, args=(i, base, image, rounds, report, lock,
                                                       started + limit_s), daemon=True)
               for i in range(sessions)]
    for worker in (*threads, *writer_procs):
        worker.start()

    def kill_and_restart() -> None:
        # Right after the first case saved from a browser: the other sessions are then saving theirs.
        while not report.browser_cases and time.time() < started + kill_after_s:
            time.sleep(0.2)
        server["proc"].kill()  # SIGKILL: no clean-up, whatever was being written is cut off
        server["proc"].wait(10)
        report.server_kills += 1
        report.interruptions.append(f"server killed at {time.time() - started:.0f} s")
        server["proc"] = start_app(port, env, timeout=180)

    killer = threading.Thread(target=kill_and_restart, daemon=True)
    killer.start()
    for thread in threads:
        thread.join(max(1.0, started + limit_s + 300 - time.time()))
    for proc in writer_procs:
        proc.join(max(1.0, started + limit_s + 300 - time.time()))
    killer.join(300)
    while not acks.empty():
        report.writer_cases.append(acks.get())
    stop_app(server["proc"])
    report.seconds = time.time() - started

    check = subprocess.run([sys.executable, "-m", "core", "cases", "check"], cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, **env}, timeout=300)
    report.check_output, report.check_ok = check.stdout + check.stderr, check.returncode == 0

    from core.cases import CaseNotFoundError, CaseStore
    from core.config import Settings

    store = CaseStore.open(Settings(data_dir=data_dir))
    try:
        for case_id in [*report.browser_cases, *report.writer_cases]:
            try:
                case = store.get_case(case_id)
            except CaseNotFoundError:
                report.lost_cases.append(case_id)
                continue
            if not case.images or not case.predictions or not all(i.path.is_file() for i in case.images):
                report.incomplete_cases.append(case_id)
        for case_id, name in report.browser_verdicts.items():
            if case_id in report.lost_cases:
                continue
            case = store.get_case(case_id)
            if case.verdict is None or case.verdict_by != name:
                report.lost_verdicts.append(case_id)
        for summary in store.list_cases():  # every case in the store, acknowledged or not, is whole
            if summary.id not in report.incomplete_cases:
                case = store.get_case(summary.id)
                if not case.images or not case.predictions:
                    report.incomplete_cases.append(summary.id)
    finally:
        store.close()
    return report
