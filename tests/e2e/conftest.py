"""`make run`'s server, started as a process on a free port for each e2e test module."""

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

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def stack() -> Iterator[dict[str, Any]]:
    """The server's base URL and the JSON banner it printed (demo integrations, secrets)."""
    port = _free_port()
    env = dict(os.environ, PORT=str(port), ADMIN_TOKEN="e2e-admin", ARIBA_SHARED_SECRET="e2e-ariba")
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
