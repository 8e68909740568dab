"""Load and fault run against a real server on 127.0.0.1: concurrent browser sessions (upload, save a case,
record a verdict), writer processes on the same store, and a SIGKILL of the server part-way through.
Prints the page times and what was lost (it must be nothing). Needs Chromium and chromedriver.

    python benchmarks/bench_load.py [--sessions 4] [--rounds 3] [--writers 2] [--writer-cases 30] [--kill-after 300]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.config import Settings  # noqa: E402
from scripts.browser import browser_available  # noqa: E402
from scripts.load import run_load  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--writer-cases", type=int, default=30)
    parser.add_argument("--kill-after", type=float, default=300.0,
                        help="kill the server this long after the start if no browser has saved a case by then")
    args = parser.parse_args()
    if not browser_available():
        print("needs chromium, chromedriver and selenium (Debian: chromium chromium-driver)", file=sys.stderr)
        return 2
    image = Settings.from_env().ham10000_dir / "images" / "ISIC_0024306.jpg"
    if not image.is_file():
        print(f"needs a HAM10000 image at {image}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as data_dir:
        report = run_load(image, Path(data_dir), sessions=args.sessions, rounds=args.rounds, writers=args.writers,
                          writer_cases=args.writer_cases, kill_after_s=args.kill_after)
    print("\n".join(report.lines()))
    lost = report.lost_cases or report.lost_verdicts or report.incomplete_cases or not report.check_ok
    return 1 if lost else 0


if __name__ == "__main__":
    raise SystemExit(main())
