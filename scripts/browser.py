"""Drive the real app in a real browser (headless Chromium through Selenium).

Used by `scripts/screenshots.py` for the README's screenshots, by the browser tests and by the load test
(`scripts/load.py`).
Needs Debian's `chromium` and `chromium-driver` packages (not installed by `make`).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def browser_available() -> bool:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return False
    return bool(shutil.which("chromium") and shutil.which("chromedriver"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int, env_extra: dict | None = None, timeout: float = 120) -> subprocess.Popen:
    """Start `streamlit run dashboard/app.py` on 127.0.0.1:`port` and wait until it accepts connections."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env_extra or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"),
         "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.5)
    stop_app(proc)
    raise RuntimeError("the Streamlit server did not start")


def stop_app(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


@contextmanager
def running_app(env_extra: dict | None = None, timeout: float = 120):
    """Start the app on a free loopback port; yield its URL; stop it after."""
    port = free_port()
    proc = start_app(port, env_extra, timeout)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_app(proc)


@contextmanager
def chromium(width: int = 1400, height: int = 1000, downloads: Path | None = None):
    """A headless Chromium; with `downloads`, files the page downloads are saved there without asking."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}"):
        options.add_argument(arg)
    if downloads is not None:
        options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                                  "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for_text(driver, text: str, timeout: float = 120) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout).until(lambda d: text in d.find_element("tag name", "body").text)


def wait_for_element(driver, css: str, timeout: float = 120):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: d.find_elements("css selector", css))[0]


def click_text(driver, text: str, timeout: float = 120) -> None:
    """Click the element whose own text is exactly `text` (a radio label, a button), once it is drawn."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout).until(lambda d: d.find_elements("xpath", f"//*[text()='{text}']"))[0].click()


def wait_for_download(folder: Path, suffix: str, timeout: float = 60) -> Path:
    """The first file ending in `suffix` that Chromium has finished writing into `folder`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        done = [p for p in folder.glob(f"*{suffix}") if p.stat().st_size > 0]
        if done and not list(folder.glob("*.crdownload")):
            return done[0]
        time.sleep(0.5)
    raise TimeoutError(f"no {suffix} file downloaded into {folder} within {timeout:.0f} s")


def upload(driver, path: Path) -> None:
    wait_for_element(driver, "input[type=file]").send_keys(str(path))


def full_page_screenshot(driver, path: Path, min_height: int = 900) -> None:
    """Resize the window to the app's scrollable height, then capture it."""
    height = driver.execute_script(
        "const m = document.querySelector('section.stMain') || document.querySelector('[data-testid=stMain]');"
        "return Math.max(m ? m.scrollHeight : 0, document.body.scrollHeight);")
    driver.set_window_size(driver.get_window_size()["width"], max(min_height, min(int(height) + 80, 4000)))
    time.sleep(1.5)
    driver.save_screenshot(str(path))


def choose(driver, label: str, option: str) -> None:
    """Pick `option` in the Streamlit selectbox labelled `label` (type to filter, then Enter)."""
    from selenium.webdriver.common.keys import Keys

    box = wait_for_element(driver, f"[data-testid=stSelectbox]:has(label[aria-label='{label}']) input, "
                                   f"[data-testid=stSelectbox] input[aria-label*='{label}']")
    box.click()
    box.send_keys(option)
    box.send_keys(Keys.ENTER)


def click_button(driver, label: str, timeout: float = 120, *, exact: bool = True) -> None:
    """Click the enabled button whose text is `label` (or, with exact=False, contains it: a button with an icon
    also holds the icon's name), once it is drawn."""
    from selenium.webdriver.support.ui import WebDriverWait

    text = f"normalize-space()='{label}'" if exact else f"contains(normalize-space(), '{label}')"
    path = f"//button[{text} and not(@disabled)]"
    WebDriverWait(driver, timeout).until(lambda d: d.find_elements("xpath", path))[0].click()
