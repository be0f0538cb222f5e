"""Outside the checkout (issue #16 item 8): with no config every command says to run
`newswire init` or pass --config; `newswire init [DIR]` writes a commented starter config
from the defaults shipped in the package and never overwrites. Runs the real CLI from a
temporary directory, not from the repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.config.files import DEFAULTS_DIR, STARTER
from pipeline.storage.elasticsearch.kibana import KIBANA_FILE
from pipeline.storage.elasticsearch.store import TEMPLATE_DIR
from tests.conftest import REPO

PACKAGE = REPO / "pipeline"


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWIRE_")}
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args", [["search", "quake"], ["stories"], ["run", "--once"],
                                  ["alerts", "list"], ["feeds"], ["feeds", "export"],
                                  ["ingest", "x.jsonl"], ["export"]],
                         ids=lambda a: " ".join(a))
def test_without_a_config_every_command_says_what_to_do(tmp_path: Path, args: list[str]
                                                        ) -> None:
    proc = cli(tmp_path, *args)
    out = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode == 2, out
    assert "Traceback" not in out
    assert "no config found" in out and "`newswire init`" in out and "--config" in out


def test_a_missing_config_given_names_it(tmp_path: Path) -> None:
    proc = cli(tmp_path, "--config", "elsewhere", "stories")
    out = " ".join(proc.stderr.split())
    assert proc.returncode == 2 and f"newswire init {tmp_path / 'elsewhere'}" in out


def test_init_writes_a_working_starter_config_and_never_overwrites(tmp_path: Path) -> None:
    proc = cli(tmp_path, "init")
    assert proc.returncode == 0, proc.stderr
    config = tmp_path / "config"
    assert sorted(str(p.relative_to(config)) for p in config.rglob("*") if p.is_file()) == \
        sorted(STARTER)
    assert (config / "newswire.yaml").read_text().startswith("#")  # commented
    assert (config / "feeds.yaml").read_text() == (REPO / "config" / "feeds.yaml").read_text()

    (config / "topics.yaml").write_text("# mine\ntopics: []\n")
    again = cli(tmp_path, "init")
    assert again.returncode == 1 and "will not overwrite" in again.stderr
    assert (config / "topics.yaml").read_text() == "# mine\ntopics: []\n"
    (config / "topics.yaml").write_text((DEFAULTS_DIR / "topics.yaml").read_text())

    archive = tmp_path / "a.jsonl"
    archive.write_text(json.dumps({
        "url": "https://x.example/quake", "title": "Strong earthquake hits Valdora",
        "text": "A magnitude 6.1 earthquake struck the coast of Valdora on Monday. Rescue "
                "teams searched collapsed buildings through the night, officials said.",
        "source": "Valley Gazette", "published": "2026-03-02T10:00:00Z"}) + "\n")
    assert cli(tmp_path, "ingest", str(archive)).returncode == 0
    found = json.loads(cli(tmp_path, "search", "earthquake", "--json").stdout)
    assert [h["title"] for h in found["hits"]] == ["Strong earthquake hits Valdora"]
    rules = json.loads(cli(tmp_path, "alerts", "list", "--json").stdout)["rules"]
    assert "ukraine-security-pact" in [r["name"] for r in rules]
    exported = cli(tmp_path, "feeds", "export").stdout
    assert (config / "samples" / "sample-feed.xml").resolve().as_uri() in exported


def test_init_into_a_named_directory(tmp_path: Path) -> None:
    proc = cli(tmp_path, "init", "my/conf")
    assert proc.returncode == 0, proc.stderr
    assert "--config my/conf" in proc.stderr
    assert cli(tmp_path, "--config", "my/conf", "stories", "--json").returncode == 0


def test_the_defaults_ship_inside_the_package() -> None:
    """pipeline/defaults (package data) is the repo's config/: one set of files, so the
    Elasticsearch templates, the Kibana objects and `init` work from an installed package."""
    for path in (DEFAULTS_DIR, TEMPLATE_DIR, KIBANA_FILE):
        assert path.exists() and PACKAGE in path.parents, path
    shipped = {str(p.relative_to(DEFAULTS_DIR)): p.read_bytes()
               for p in DEFAULTS_DIR.rglob("*") if p.is_file()}
    repo = {str(p.relative_to(REPO / "config")): p.read_bytes()
            for p in (REPO / "config").rglob("*") if p.is_file()}
    assert shipped == repo
    pyproject = (REPO / "pyproject.toml").read_text()
    for pattern in ("defaults/*.yaml", "defaults/elasticsearch/*.json",
                    "defaults/kibana/*.ndjson", "defaults/samples/*.xml"):
        assert f'"{pattern}"' in pyproject
