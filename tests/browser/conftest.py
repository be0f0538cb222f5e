"""Browser tests: a real ``newswire web`` server over ingested seeds, driven in Debian's
headless Chromium by Playwright (its own browser download does not work here).

Chromium comes from ``make test`` (apt-get install chromium when /usr/bin/chromium is
missing). Under CI a missing Chromium fails these tests; locally it skips them loudly.
Screenshots go to test-artifacts/browser/ (gitignored).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import IN_CI, REPO, newswire, stop_process

CHROMIUM = Path(os.environ.get("NEWSWIRE_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = REPO / "test-artifacts" / "browser"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
KEYS = ["000", "001", "002", "003", "004"]
EVIL_TITLE = 'Harbour festival <script>window.__pwned="title"</script> opens'
EVIL_TEXT = (
    "The harbour festival opened on Saturday with boats, music and food stalls along the "
    'quay. <script>window.__pwned="script";alert("script")</script> Organisers expect '
    'forty thousand visitors. <img src=x onerror="window.__pwned=\'onerror\';alert(1)"> '
    "The mayor said the festival would run all week. <svg onload=\"window.__pwned='svg'\">"
    " Tickets are free for children.")


def _require_chromium() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    message = (f"Chromium not found at {CHROMIUM}: `make test` installs it (apt-get install "
               "-y --no-install-recommends chromium); browser tests need it")
    if IN_CI:
        pytest.fail(message)
    print(f"\n*** SKIPPING BROWSER TESTS: {message} ***", file=sys.stderr)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def site_config(tmp: Path) -> Path:
    """``tmp/config``: the shipped topics and alert rules, no feeds."""
    config = tmp / "config"
    config.mkdir()
    for name in ("topics.yaml", "alerts.yaml"):
        shutil.copy(REPO / "config" / name, config / name)
    (config / "feeds.yaml").write_text(yaml.safe_dump({"feeds": []}))
    return config


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory, seeds: dict[str, str]) -> Iterator[str]:
    """A real `newswire web` on a free port over a data dir where the seeds (and one
    article carrying script payloads) were ingested; its base URL."""
    tmp = tmp_path_factory.mktemp("web")
    config, data = site_config(tmp), tmp / "data"
    archive = tmp / "seeds.jsonl"
    with archive.open("w") as fh:
        for i, key in enumerate(KEYS):
            record: dict[str, Any] = {"url": f"https://{key}.outlet.example/pact-{key}",
                                      "text": seeds[key], "source": f"Outlet {key}",
                                      "published": f"2024-06-13T0{i}:00:00Z"}
            fh.write(json.dumps(record) + "\n")
        fh.write(json.dumps({"url": "https://evil.example/festival", "title": EVIL_TITLE,
                             "text": EVIL_TEXT, "source": "Evil Outlet",
                             "published": "2024-06-15T10:00:00Z"}) + "\n")
    newswire(config, data, "ingest", str(archive))
    with serve(config, data, tmp) as base:
        yield base


@contextmanager
def serve(config: Path, data: Path, tmp: Path) -> Iterator[str]:
    """A real `newswire web` on a free port over ``config`` and ``data``; its base URL."""
    port = _free_port()
    env = {**os.environ}
    env.pop("NEWSWIRE_BACKEND", None)
    log = (tmp / "web.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "--config", str(config),
                             "--data-dir", str(data), "web", "--port", str(port)],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                output = (tmp / "web.log").read_text()
                raise AssertionError(f"newswire web did not start:\n{output}")
            time.sleep(0.2)
        yield base
    finally:
        stop_process(proc)
        log.close()


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `newswire web` after `newswire run --once` over the bundled sample feeds
    (config/samples, offline): stories, and feed health with the time of each success."""
    tmp = tmp_path_factory.mktemp("samples")
    config, data = tmp / "config", tmp / "data"
    config.mkdir()
    for name in ("topics.yaml", "alerts.yaml"):
        shutil.copy(REPO / "config" / name, config / name)
    shutil.copytree(REPO / "config" / "samples", config / "samples")
    (config / "feeds.yaml").write_text(yaml.safe_dump({"feeds": [
        {"url": "samples/sample-feed.xml", "name": "Newswire Sample Wire"},
        {"url": "samples/sample-feed-2.xml", "name": "Harbourtown Courier"}]}))
    newswire(config, data, "run", "--once")
    with serve(config, data, tmp) as base:
        yield base


@pytest.fixture(scope="module")  # sync Playwright runs an event loop: end it with the module
def browser() -> Iterator[Any]:
    path = _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=str(path), headless=True, args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    found = context.new_page()
    found.set_default_timeout(15_000)
    try:
        yield found
    finally:
        context.close()


def record_dialogs(page: Any) -> list[str]:
    """Dismiss every alert/confirm the page opens and keep its message (none expected)."""
    dialogs: list[str] = []

    def dismiss(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    return dialogs


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
