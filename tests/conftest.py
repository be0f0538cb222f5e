"""Shared fixtures: the seeds and eval data from ../shared, a real local HTTP server, the CLI."""

from __future__ import annotations

import functools
import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evaluation.paths import REPO, shared_root
from tests.fixtures.servers import SmtpServer, WebhookServer

SHARED = shared_root()
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_path(path: Path, what: str) -> Path:
    """Shared data must exist under CI; locally its absence skips with the reason."""
    if not path.exists():
        message = f"{what} not found at {path} (expected beside the repository in ../shared)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def seeds() -> dict[str, str]:
    folder = require_path(SHARED / "seeds", "the seed articles")
    found = {p.name[:3]: p.read_text(encoding="utf-8") for p in sorted(folder.glob("0*.txt"))}
    if len(found) != 5:
        pytest.fail(f"expected 5 seed articles in {folder}, found {len(found)}")
    return found


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def http_dir(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A real HTTP server on 127.0.0.1 serving a temporary folder: (folder, base URL)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def stop_process(proc: subprocess.Popen[Any], grace: float = 10) -> None:
    """SIGTERM a server or worker started by a test; SIGKILL it if it will not go."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def newswire(config: Path, data: Path, *args: str, check: bool = True,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real CLI as a user would."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("NEWSWIRE_BACKEND", None)
    cmd = [sys.executable, "-m", "pipeline", "--config", str(config), "--data-dir",
           str(data), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=300,
                          cwd=REPO)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def newswire_json(config: Path, data: Path, *args: str) -> Any:
    return json.loads(newswire(config, data, *args, "--json").stdout)


@pytest.fixture
def webhook() -> Iterator[WebhookServer]:
    """A real local HTTP server for webhook channels (see tests/fixtures/servers.py)."""
    with WebhookServer() as server:
        yield server


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    """A real local SMTP server with STARTTLS and AUTH."""
    with SmtpServer(tmp_path) as server:
        yield server
