"""The docs page in a real browser (Debian's chromium and chromedriver): it loads with nothing fetched
from anywhere but this server, and Authorize → Try it out on `GET /api/v1/auth/me` answers 200.

Skipped (with the reason) when chromium/chromedriver are missing outside CI; in CI that is a failure.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading

import pytest
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
WAIT_SECONDS = 30


def _browser_missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            return f"{path} is missing (apt-get install -y chromium chromium-driver)"
    return None


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def browser():
    missing = _browser_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"the docs page browser test must run in CI: {missing}")
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="studysync-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                 # no name resolves but the server's own address: nothing else could be fetched
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _requested_urls(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def test_docs_page_works_offline_and_try_it_out_sends_the_token(live_server, browser, factory):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    admin = factory.college().admin
    wait = WebDriverWait(browser, WAIT_SECONDS)
    browser.get(f"{live_server}/api/v1/docs")

    wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, ".swagger-ui .btn.authorize"))).click()
    token_input = wait.until(ready.visibility_of_element_located((By.CSS_SELECTOR, ".auth-container input")))
    token_input.send_keys(admin.token)
    browser.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper .btn.modal-btn.authorize").click()
    browser.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper .btn-done").click()

    wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, "#operations-tag-auth"))).click()
    operation = "#operations-auth-auth_me"
    wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, f"{operation} .opblock-summary"))).click()
    wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, f"{operation} .try-out__btn"))).click()
    wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, f"{operation} .execute"))).click()
    status = wait.until(ready.visibility_of_element_located(
        (By.CSS_SELECTOR, f"{operation} .live-responses-table .response .response-col_status")))
    body = browser.find_element(By.CSS_SELECTOR, f"{operation} .live-responses-table tbody .response-col_description")
    assert status.text.strip() == "200", body.text
    assert admin.email in body.text

    urls = _requested_urls(browser)
    assert any(url.endswith("/api/v1/auth/me") for url in urls)
    network = [url for url in urls if url.startswith(("http:", "https:", "ws:", "wss:"))]
    assert network and [url for url in network if not url.startswith(live_server + "/")] == []
