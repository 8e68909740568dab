"""App cold start: seconds from `streamlit run dashboard/app.py` to the analysis page being usable in a real
browser (headless Chromium sees the decision-support notice and the file uploader), and to the
knowledge-base chat page answering, each from a fresh server process. Target: first interactive page <= 5 s.

Needs Chromium, chromedriver and selenium (as the browser tests do). Set DERMADESK_DATA_DIR to an empty
folder to include the first-start index build in the chat figure.

    .venv/bin/python benchmarks/bench_app_start.py [--repeats 3]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.browser import browser_available, chromium, running_app, wait_for_element, wait_for_text  # noqa: E402


def one_start(driver) -> tuple[float, float]:
    """(seconds to the server's port open, seconds to the analysis page's uploader) from process start."""
    start = time.perf_counter()
    with running_app() as url:
        port_open = time.perf_counter() - start
        driver.get(url)
        wait_for_text(driver, "Decision support, not a diagnosis", timeout=120)
        wait_for_element(driver, "[data-testid='stFileUploaderDropzone']", timeout=120)
        return port_open, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not browser_available():
        print("chromium, chromedriver or selenium is not installed; nothing measured", file=sys.stderr)
        return 2
    with chromium() as driver:
        driver.get("about:blank")  # the browser's own start-up is not the app's
        runs = [one_start(driver) for _ in range(args.repeats)]
    ports, pages = [r[0] for r in runs], [r[1] for r in runs]
    print(f"{len(runs)} cold starts of the app (fresh server each), seconds from process start")
    print(f"  server accepting connections   median {statistics.median(ports):5.2f}   max {max(ports):5.2f}")
    print(f"  analysis page interactive      median {statistics.median(pages):5.2f}   max {max(pages):5.2f}"
          "   (target <= 5 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
