"""Take the README's screenshots from the real app in headless Chromium.

    .venv/bin/python scripts/screenshots.py   (needs chromium + chromium-driver, selenium, ../shared/data/ham10000)
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.browser import ROOT, chromium, click_text, full_page_screenshot, running_app, upload, wait_for_element, wait_for_text  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
IMAGE = ROOT.parent / "shared" / "data" / "ham10000" / "images" / "ISIC_0024315.jpg"  # a melanoma in the data set


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with running_app() as url, chromium() as driver:
        driver.get(url)
        wait_for_text(driver, "Analyze a lesion image")
        from selenium.webdriver.common.keys import Keys

        note = wait_for_element(driver, "textarea")
        note.send_keys("Mole on the back, partner says it has got darker and bigger over 3 months.")
        note.send_keys(Keys.CONTROL, Keys.ENTER)
        wait_for_text(driver, "URGENT")
        upload(driver, IMAGE)
        wait_for_text(driver, "Suggested class")
        wait_for_text(driver, "Grad-CAM for")
        time.sleep(3)
        full_page_screenshot(driver, OUT / "analyze.png")

        driver.get(f"{url}/chat")
        wait_for_text(driver, "Ask the knowledge base", timeout=300)
        wait_for_element(driver, "textarea", timeout=300).send_keys("What are spoke-wheel areas?\n")
        wait_for_text(driver, "[1]", timeout=120)
        time.sleep(2)
        full_page_screenshot(driver, OUT / "chat.png")

        driver.get(f"{url}/explanation_lab")
        wait_for_text(driver, "What a CAM does and does not tell you")
        click_text(driver, "HAM10000 folder")  # shows the first validation image
        wait_for_text(driver, "ground truth")
        wait_for_text(driver, "Download figure (PNG)", timeout=300)
        wait_for_text(driver, "On the lesion")
        time.sleep(3)
        full_page_screenshot(driver, OUT / "explanation_lab.png")
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
