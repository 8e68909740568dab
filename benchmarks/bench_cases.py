"""Reliability of case storage under load: writes per second with N concurrent writers, save latency
percentiles, conflicts, and a lost-update check.

Each writer (a separate process by default) alternates between saving a new case (image + heatmap
files, then one transaction) and a read-modify-write of one shared case's verdict that appends its
own token to the comment, retrying when optimistic locking reports a conflict. At the end every
token must be in the comment exactly once (no lost update) and no writer may have seen an error.

    .venv/bin/python benchmarks/bench_cases.py [--writers 20] [--seconds 10] [--threads]
        [--database-url postgresql+psycopg://user@host/db]   # default: a fresh SQLite file in a temp dir
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

IMAGE_SIZE = (341, 256)  # the size of the project's HAM10000 copies


@dataclass
class WriterResult:
    saves_ms: list[float] = field(default_factory=list)
    verdicts_ms: list[float] = field(default_factory=list)  # including conflict retries
    conflicts: int = 0
    tokens: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BenchOutput:
    """The fields of core.vision.classifier.Prediction that a case stores (so writers need not import torch)."""

    probabilities: dict[str, float]
    predicted: str
    confidence: float
    low_confidence: bool
    model_version: str = "bench-model"
    out_of_distribution: bool = False
    ood_score: float | None = None


def _analysis(rng):
    """A synthetic analysis: a smooth random image, a heatmap and a classifier output."""
    import numpy as np
    from PIL import Image

    from core.config import CLASSES

    w, h = IMAGE_SIZE
    coarse = rng.integers(60, 230, (h // 16 + 1, w // 16 + 1, 3), dtype=np.uint8)
    image = Image.fromarray(coarse).resize((w, h), Image.BILINEAR)
    probs = rng.dirichlet(np.ones(len(CLASSES)))
    top = int(np.argmax(probs))
    output = BenchOutput({c: float(p) for c, p in zip(CLASSES, probs)}, CLASSES[top], float(probs[top]),
                         bool(probs[top] < 0.5))
    return image, output, rng.random((h, w)).astype(np.float32)


def _writer(index: int, shared_id: int, seconds: float, barrier) -> WriterResult:
    import numpy as np

    from core.cases import CaseStore, CaseStoreError, NewCase, StaleCaseError, Verdict

    result = WriterResult()
    store = CaseStore.open()
    rng = np.random.default_rng(index)
    pending = [_analysis(rng) for _ in range(3)]
    barrier.wait()  # every writer starts together
    stop_at = time.perf_counter() + seconds
    n = 0
    try:
        while time.perf_counter() < stop_at:
            image, prediction, heatmap = pending[n % len(pending)]
            # A new image every save (no deduplication), built outside the timed part.
            image = image.rotate(0.5 * (n + 1) + index, fillcolor=(200, 150, 140))
            t0 = time.perf_counter()
            store.create_case(NewCase(image=image, prediction=prediction, heatmap=heatmap,
                                      source_name=f"w{index}_{n}.png"), actor=f"writer {index}")
            result.saves_ms.append((time.perf_counter() - t0) * 1000)

            token = f"[{index}:{n}]"
            t0 = time.perf_counter()
            while True:
                case = store.get_case(shared_id)
                comment = (case.verdict.comment if case.verdict else "") + token
                try:
                    store.update_verdict(shared_id, Verdict("nv", "agree", "monitor", comment),
                                         case.summary.version, f"writer {index}")
                    break
                except StaleCaseError:
                    result.conflicts += 1
            result.verdicts_ms.append((time.perf_counter() - t0) * 1000)
            result.tokens.append(token)
            n += 1
    except CaseStoreError as exc:  # what a user would see; must never happen under load
        result.errors.append(f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # noqa: BLE001 - any other failure is reported, not hidden
        result.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        store.close()
    return result


def _writer_process(index: int, shared_id: int, seconds: float, barrier, results) -> None:
    results.put((index, _writer(index, shared_id, seconds, barrier)))


def _percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the writers run (default 10)")
    parser.add_argument("--threads", action="store_true", help="threads in one process instead of processes")
    parser.add_argument("--database-url", default="", help="default: a new SQLite file in a temp folder")
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="dermadesk-bench-")
    os.environ["DERMADESK_DATA_DIR"] = data_dir
    os.environ["DERMADESK_DATABASE_URL"] = args.database_url
    import numpy as np
    from sqlalchemy import func, select

    from core.cases import CaseRow, CaseStore, NewCase

    store = CaseStore.open()
    if args.database_url:
        with store.engine.begin() as connection:  # a clean slate on a reused server database
            existing = connection.scalar(select(func.count()).select_from(CaseRow))
        if existing:
            print(f"refusing to run: the database at --database-url already holds {existing} case(s); "
                  "use an empty database", file=sys.stderr)
            return 2
    image, prediction, heatmap = _analysis(np.random.default_rng(10_000))
    shared = store.create_case(NewCase(image=image, prediction=prediction, heatmap=heatmap), actor="bench setup")

    kind = "threads" if args.threads else "processes"
    backend = store.engine.dialect.name
    print(f"{args.writers} writer {kind} for {args.seconds:.0f} s on {backend} "
          f"({store.engine.url.render_as_string(hide_password=True)})")
    started = time.perf_counter()
    if args.threads:
        import threading
        from concurrent.futures import ThreadPoolExecutor

        barrier = threading.Barrier(args.writers)
        with ThreadPoolExecutor(args.writers) as pool:
            results = list(pool.map(lambda i: _writer(i, shared.id, args.seconds, barrier), range(args.writers)))
    else:
        context = multiprocessing.get_context("spawn")
        barrier, queue = context.Barrier(args.writers), context.Queue()
        workers = [context.Process(target=_writer_process, args=(i, shared.id, args.seconds, barrier, queue))
                   for i in range(args.writers)]
        for w in workers:
            w.start()
        results = [queue.get(timeout=args.seconds + 300)[1] for _ in workers]
        for w in workers:
            w.join()
    print(f"(writers started and finished in {time.perf_counter() - started:.0f} s)")

    saves = [ms for r in results for ms in r.saves_ms]
    verdicts = [ms for r in results for ms in r.verdicts_ms]
    tokens = [t for r in results for t in r.tokens]
    errors = [e for r in results for e in r.errors]
    conflicts = sum(r.conflicts for r in results)
    final = store.get_case(shared.id)
    comment = final.verdict.comment if final.verdict else ""
    lost = [t for t in tokens if comment.count(t) != 1]
    check = store.check()

    elapsed = args.seconds
    print(f"case saves:      {len(saves)} ({len(saves) / elapsed:.1f}/s) - latency p50 {statistics.median(saves):.0f} ms, "
          f"p95 {_percentile(saves, 95):.0f} ms, p99 {_percentile(saves, 99):.0f} ms, max {max(saves):.0f} ms")
    print(f"verdict updates: {len(verdicts)} ({len(verdicts) / elapsed:.1f}/s) - latency incl. conflict retries "
          f"p50 {statistics.median(verdicts):.0f} ms, p95 {_percentile(verdicts, 95):.0f} ms; {conflicts} conflicts "
          "detected and retried")
    print(f"all writes:      {(len(saves) + len(verdicts)) / elapsed:.1f}/s")
    print(f"lost updates:    {len(lost)} of {len(tokens)}; shared case version {final.summary.version} "
          f"(expected {1 + len(tokens)})")
    print(f"errors seen by writers: {len(errors)}" + "".join(f"\n  {e}" for e in errors[:5]))
    print(f"consistency check: integrity {check.integrity}, {check.cases} cases, {len(check.missing_files)} missing "
          f"files, {len(check.orphan_files)} unreferenced files")
    store.close()
    ok = not errors and not lost and final.summary.version == 1 + len(tokens) and check.ok
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
