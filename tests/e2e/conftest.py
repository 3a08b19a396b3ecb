"""`make run`'s server, started as a process on a free port for each e2e test module, and
headless Chromium for the browser tests (one browser per test session, a fresh context per
test)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.browser_support import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def stack() -> Iterator[dict[str, Any]]:
    """The server's base URL and the JSON banner it printed (demo integrations, secrets)."""
    yield from run_stack()


def run_stack(**settings: str) -> Iterator[dict[str, Any]]:
    """`make run`'s server on a free port, with these environment settings on top (e.g.
    SESSION_TTL_SECONDS), until the generator is closed."""
    port = _free_port()
    env = dict(os.environ, PORT=str(port), ADMIN_TOKEN="e2e-admin", ARIBA_SHARED_SECRET="e2e-ariba")
    env.update(settings)
    env.pop("PUBLIC_BASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "local.server"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    lines: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Procurement Gateway (local) listening"):
                break
        start = lines.index("{\n")  # JSON log lines come first; the banner is indented JSON
        banner = json.loads("".join(lines[start:-1]))
        # Keep draining the server's log lines so a full pipe never blocks it.
        threading.Thread(target=process.stdout.read, daemon=True).start()
        assert requests.get(f"{base}/health", timeout=5).status_code == 200
        yield {"base": base, "banner": banner}
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _page(browser: Browser, **options: Any) -> Iterator[Page]:
    context = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    yield from _page(browser)


@pytest.fixture
def page_without_js(browser: Browser) -> Iterator[Page]:
    yield from _page(browser, java_script_enabled=False)
