"""The live page in headless Chromium: it loads, updates every second and shows a known workload's numbers.

Debian's ``chromium`` (``scripts/install_system_deps.sh``) driven by Playwright from PyPI through
``executable_path``: no browser is downloaded. The app is the example chatbot under
``opentelemetry-instrument``; the numbers come from its own ``/stats`` endpoint.
"""

from __future__ import annotations

import json
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from otel_chatbot.testing.bedrock import BedrockServer
from tests.e2e.stats.live_app import MORE, WORKLOAD, LiveApp

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-extensions",
    "--no-first-run",
]
WAIT_MS = 15_000


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("chromium is not installed (scripts/install_system_deps.sh installs Debian's chromium)")
    return found


@pytest.fixture(scope="module")
def page(live_app: LiveApp) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 2000})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.goto(live_app.stats_url)
            yield page
            assert errors == [], errors
        finally:
            browser.close()


def stats(url: str) -> Any:
    with urllib.request.urlopen(f"{url}stats?window=60", timeout=5) as response:
        return json.loads(response.read())


def text_of(page: Any, selector: str) -> str:
    return str(page.locator(selector).inner_text()).strip()


def wait_for_text(page: Any, selector: str, expected: str) -> None:
    page.wait_for_function(
        "([selector, expected]) => document.querySelector(selector)?.textContent.trim() === expected",
        arg=[selector, expected],
        timeout=WAIT_MS,
    )


def row_cells(page: Any, table: str, key: str) -> list[str]:
    row = page.locator(f"#{table} tbody tr[data-key='{key}']")
    return [cell.strip() for cell in row.locator("td").all_inner_texts()]


def test_the_page_shows_a_known_workload_and_updates(
    page: Any, live_app: LiveApp, bedrock_server: BedrockServer, tmp_path: Path
) -> None:
    page.wait_for_function("Number(document.body.dataset.updates || 0) >= 1", timeout=WAIT_MS)
    live_app.send(WORKLOAD, "page")
    wait_for_text(page, "#total-requests", str(WORKLOAD.requests))
    assert text_of(page, "#total-errors") == str(WORKLOAD.failures)
    assert text_of(page, "#status").startswith("live")

    chat = row_cells(page, "routes", "POST /chat/{session_id}")
    assert chat[:3] == ["POST", "/chat/{session_id}", str(WORKLOAD.chats)]
    fail = row_cells(page, "routes", "POST /chat/{session_id}/fail")
    assert (fail[2], fail[4], fail[5]) == (str(WORKLOAD.failures), str(WORKLOAD.failures), "100.00 %")

    # The GenAI numbers are the Bedrock stand-in's own count of the calls it answered.
    calls = bedrock_server.ledger.snapshot()["totals"]["calls"]
    wait_for_text(page, "#genai-calls", str(calls))
    view = stats(live_app.stats_url)["since_start"]
    (model,) = [m for m in view["genai"]["models"] if m["calls"] and m["model"] != "unknown"]
    cells = row_cells(page, "models", f"{model['provider']} {model['model']}")
    assert cells[2] == str(model["calls"])
    assert cells[5:7] == [f"{model['tokens']['input']:,}", f"{model['tokens']['output']:,}"]
    assert text_of(page, "#streams") == str(WORKLOAD.streams)
    assert page.locator("#chart-rate polyline[data-series='rate']").count() == 1  # the requests/s line is drawn

    updates = int(page.evaluate("Number(document.body.dataset.updates)"))
    live_app.send(MORE, "page-more")
    wait_for_text(page, "#total-requests", str(WORKLOAD.requests + MORE.requests))
    assert row_cells(page, "routes", "POST /chat/{session_id}")[2] == str(WORKLOAD.chats + MORE.chats)
    assert int(page.evaluate("Number(document.body.dataset.updates)")) > updates
    page.screenshot(path=str(tmp_path / "live-page.png"), full_page=True)
