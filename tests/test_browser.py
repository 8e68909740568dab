"""The analysis page seen in a real browser: headless Chromium uploads a real image to the real server.
Skips when Chromium, its driver or Selenium is not installed (Debian: chromium, chromium-driver)."""
import pytest

from scripts.browser import (browser_available, choose, chromium, click_button, running_app, upload,
                             wait_for_download, wait_for_element, wait_for_text)
from tests.support import HAM_DIR, requires_ham, requires_model

pytestmark = [requires_model, requires_ham,
              pytest.mark.skipif(not browser_available(), reason="chromium, chromedriver or selenium not installed")]


def test_upload_shows_probabilities_heatmap_and_notice():
    with running_app() as url, chromium() as driver:
        driver.get(url)
        wait_for_text(driver, "Decision support, not a diagnosis")
        upload(driver, HAM_DIR / "images" / "ISIC_0024306.jpg")
        wait_for_text(driver, "Suggested class")
        wait_for_text(driver, "Grad-CAM for")
        wait_for_element(driver, ".js-plotly-plot", timeout=60)  # plotly draws a moment after the text
        images = [img for img in driver.find_elements("css selector", "img") if img.size["width"] > 200]
        assert images, "the Grad-CAM overlay is not shown"
        # The result is on the first screen at 1400x1000: plain image, overlay and the suggested class, with
        # the inputs folded away below them.
        wait_for_text(driver, "The image as uploaded")
        viewport = driver.execute_script("return window.innerHeight")
        pictures = [img for img in driver.find_elements("css selector", "[data-testid=stImage] img")
                    if img.size["width"] > 150]
        assert len(pictures) >= 2, "plain image and overlay are not both shown"
        for img in pictures[:2]:
            top = driver.execute_script("return arguments[0].getBoundingClientRect().top", img)
            assert top + img.size["height"] / 2 < viewport, f"an image starts at {top:.0f} px, below the fold"
        suggested = driver.find_element("xpath", "//*[contains(text(), 'Suggested class')]")
        assert driver.execute_script("return arguments[0].getBoundingClientRect().top", suggested) < viewport


RED_FLAG_NOTE = "fever 39.5, non-blanching purple rash spreading, new confusion, mole bleeding and growing"


def test_with_a_red_flag_note_the_banner_and_the_result_are_on_the_first_screen():
    """Issue #15: a note with several red flags (8 findings here) listed them all in the banner, with advice and
    sources, and pushed the image, overlay and chart below the first screen (images at y = 1110 px in an 857 px
    viewport). The banner now holds the level, the most severe finding and its first action, above the result."""
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    with running_app() as url, chromium() as driver:
        driver.get(url)
        note = wait_for_element(driver, "textarea")
        note.send_keys(RED_FLAG_NOTE)
        note.send_keys(Keys.CONTROL, Keys.ENTER)
        wait_for_text(driver, "EMERGENCY")
        upload(driver, HAM_DIR / "images" / "ISIC_0024315.jpg")
        wait_for_text(driver, "Suggested class")
        chart = wait_for_element(driver, ".js-plotly-plot", timeout=60)
        pictures = WebDriverWait(driver, 60).until(lambda d: [
            img for img in d.find_elements("css selector", "[data-testid=stImage] img")
            if img.size["width"] > 150 and d.execute_script("return arguments[0].naturalWidth", img) > 0][:2] or None)
        viewport = driver.execute_script("return window.innerHeight")

        def top(element) -> float:
            return driver.execute_script("return arguments[0].getBoundingClientRect().top", element)

        banners = [a for a in driver.find_elements("css selector", "[data-testid=stAlert]")
                   if a.text.startswith("EMERGENCY —") or "\nEMERGENCY —" in a.text]
        assert banners, "no EMERGENCY banner"
        level = banners[0].find_element("xpath", ".//*[contains(text(), 'EMERGENCY —')]")
        tier = driver.find_element("xpath", "//*[contains(text(), 'Risk tier')]")
        tops = {"level": top(level), "plain image": top(pictures[0]), "overlay": top(pictures[1]),
                "chart": top(chart), "risk tier": top(tier)}
        assert all(0 <= y < viewport for y in tops.values()), f"viewport {viewport} px, tops {tops}"
        assert tops["level"] < min(tops["plain image"], tops["chart"]), tops  # the red flag comes first
        assert "First action:" in banners[0].text


def test_explanation_lab_draws_one_overlay_per_default_method_and_downloads_the_figure(tmp_path):
    with running_app() as url, chromium(downloads=tmp_path) as driver:
        driver.get(f"{url}/explanation_lab")
        wait_for_text(driver, "What a CAM does and does not tell you")
        upload(driver, HAM_DIR / "images" / "ISIC_0024306.jpg")
        wait_for_text(driver, "Download figure (PNG)")
        wait_for_text(driver, "ROAD")
        body = driver.find_element("tag name", "body").text
        for method in ("Grad-CAM ·", "Grad-CAM++ ·", "EigenCAM ·"):
            assert method in body, f"no overlay captioned {method!r}"
        drawn = [img for img in driver.find_elements("css selector", "img")
                 if img.size["width"] > 150 and driver.execute_script("return arguments[0].naturalWidth", img) > 0]
        assert len(drawn) >= 3, f"{len(drawn)} overlays drawn, expected one per default method"
        click_button(driver, "Download figure (PNG)")
        figure = wait_for_download(tmp_path, ".png")
        assert figure.name.startswith("dermadesk-cams-") and figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_chat_answers_with_a_citation_and_refuses_what_it_does_not_cover(tmp_path, real_chroma_dir):
    import shutil

    from selenium.webdriver.common.keys import Keys

    # A data folder of its own holding a copy of the session's index of the real knowledge base: the app finds
    # every document indexed and does not spend minutes embedding them again (the first-start build and its
    # progress notice are tested in AppTest on the small test base).
    shutil.copytree(real_chroma_dir, tmp_path / "chroma")
    with running_app({"DERMADESK_DATA_DIR": str(tmp_path)}, timeout=180) as url, chromium() as driver:
        driver.get(f"{url}/chat")
        box = wait_for_element(driver, "textarea", timeout=300)

        def ask(question: str) -> None:
            box = wait_for_element(driver, "[data-testid=stChatInput] textarea", timeout=300)
            box.send_keys(question)
            box.send_keys(Keys.ENTER)

        ask("What are spoke-wheel areas?")
        wait_for_text(driver, "[1]", timeout=300)
        body = driver.find_element("tag name", "body").text
        # the answer, and its numbered citation card (folded: its title shows, the review date inside)
        assert "spoke" in body.lower() and "\n[1] " in body, body[-1500:]
        ask("Who won the football world cup in 2018?")
        wait_for_text(driver, "I don't have that in the knowledge base", timeout=120)
        assert "I can answer questions about skin lesions" in driver.find_element("tag name", "body").text


def test_clinician_path_upload_save_open_case_record_verdict_and_report(tmp_path):
    """The clinician's main path in a real browser: upload, save as a case, open it, record a verdict, and the
    clinician report is offered."""
    from scripts.browser import click_text

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with running_app({"DERMADESK_DATA_DIR": str(tmp_path / "data")}) as url, chromium(downloads=downloads) as driver:
        driver.get(f"{url}/?user=Dr%20Browser")
        wait_for_text(driver, "Decision support, not a diagnosis")
        upload(driver, HAM_DIR / "images" / "ISIC_0024306.jpg")
        wait_for_text(driver, "Suggested class")
        click_button(driver, "Save as case")
        wait_for_text(driver, "Saved as case #1")
        click_text(driver, "Open case #1")
        wait_for_text(driver, "Case #1 · lesion")
        wait_for_text(driver, "Clinician verdict")
        choose(driver, "Diagnosis", "nv")
        click_text(driver, "Agrees with the model")
        choose(driver, "Management", "Reassure")
        click_button(driver, "Save verdict")
        wait_for_text(driver, "Verdict saved (version 2)")
        click_button(driver, "Clinician report (PDF)", exact=False)
        report = wait_for_download(downloads, ".pdf")
        assert report.read_bytes()[:5] == b"%PDF-"
        # A reload of the analysis page with the name in the address, then the queue from the menu: the name is
        # still filled in (it was empty: that page did not read the address, and the menu drops it).
        driver.get(f"{url}/?user=Dr%20Browser")
        wait_for_text(driver, "Decision support, not a diagnosis")
        click_text(driver, "Case queue")
        wait_for_text(driver, "Showing 1 of 1 case(s)")
        name = wait_for_element(driver, "input[aria-label^='Your name']")
        assert name.get_attribute("value") == "Dr Browser"
