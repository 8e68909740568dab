"""Accounts mode seen in a real browser (headless Chromium, real server on 127.0.0.1, real SQLite database):
each role signs in, sees only its pages in the menu, and a trainee or educator who types a patient-case
address gets no patient case. Skips when Chromium, its driver or Selenium is not installed."""
from __future__ import annotations

import pytest

from scripts.browser import browser_available, chromium, running_app, wait_for_element, wait_for_text
from tests.support import requires_model

pytestmark = [requires_model,
              pytest.mark.skipif(not browser_available(), reason="chromium, chromedriver or selenium not installed")]

PASSWORD = "correct horse battery"
MENU = {  # role -> (menu entries it must show, menu entries it must not show)
    "clinician": ({"Analyze an image", "Case queue", "Ask the knowledge base", "Explanation lab"},
                  {"Teaching cases", "Users"}),
    "educator": ({"Teaching cases", "Explanation lab", "Trainee quiz"}, {"Case queue", "Analyze an image", "Users"}),
    "trainee": ({"Ask the knowledge base", "Explanation lab", "Trainee quiz", "Model card"},
                {"Case queue", "Case", "Analyze an image", "Teaching cases", "Users"}),
    "admin": ({"Users", "Model card"}, {"Case queue", "Analyze an image", "Ask the knowledge base"}),
}


def _sign_in(driver, url: str, path: str, name: str) -> None:
    driver.get(f"{url}{path}")
    wait_for_text(driver, "Sign in to DermaDesk")
    wait_for_element(driver, "input[aria-label='User name']").send_keys(name)
    wait_for_element(driver, "input[aria-label='Password']").send_keys(PASSWORD)
    driver.find_element("xpath", "//button[normalize-space()='Sign in']").click()
    wait_for_text(driver, f"Signed in as {name}", timeout=120)


def _menu(driver) -> set[str]:
    links = driver.find_elements("css selector", "[data-testid=stSidebarNav] a, [data-testid=stSidebarNavLink]")
    # A link's text is its icon's name, a line break, then its title.
    return {link.text.strip().splitlines()[-1] for link in links if link.text.strip()}


def test_each_role_sees_its_pages_and_a_trainee_cannot_open_a_patient_case(tmp_path):
    from core.accounts.accounts import Accounts
    from core.cases import CaseStore
    from core.config import Settings
    from tests.test_cases import make_prediction, sample_case

    settings = Settings(data_dir=tmp_path)
    store = CaseStore.open(settings)
    accounts = Accounts(store)
    accounts.add("boss", "admin", PASSWORD, "setup")
    for role in ("clinician", "educator", "trainee"):
        accounts.add(f"{role}1", role, PASSWORD, "boss")
    secret_note = "Patient Jane Roe, 4 Quay Street"
    case = store.create_case(sample_case(1, prediction=make_prediction("mel"), note=secret_note), actor="Dr Seed")
    store.close()

    env = {"DERMADESK_DATA_DIR": str(tmp_path), "DERMADESK_AUTH": "accounts"}
    with running_app(env) as url, chromium() as driver:
        for role, (shown, hidden) in MENU.items():
            name = "boss" if role == "admin" else f"{role}1"
            driver.delete_all_cookies()
            _sign_in(driver, url, "/", name)
            menu = _menu(driver)
            assert shown <= menu and not (hidden & menu), (role, menu)
            # A patient case typed into the address bar (a new page load: sign in again).
            _sign_in(driver, url, f"/case?case={case.id}", name)
            body = driver.find_element("tag name", "body").text
            assert secret_note not in body
            if role == "clinician":
                wait_for_text(driver, f"Case #{case.id} · lesion")
                assert secret_note in driver.find_element("tag name", "body").text
            else:
                assert f"Case #{case.id}" not in body, role
            _sign_in(driver, url, "/case_queue", name)
            body = driver.find_element("tag name", "body").text
            assert ("Showing 1 of 1 case(s)" in body) == (role == "clinician"), role
