"""Issue #16 item 9, as a new user meets it on the embedded backend (the real CLI):
totals, whole ids and id prefixes, ingest input as people produce it, plurals, one time
format in JSON, readable query errors."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, newswire, newswire_json
from tests.e2e.test_alerts_cli import KEYS, config_dir


def seed_lines(seeds: dict[str, str]) -> list[str]:
    return [json.dumps({"url": f"https://{k}.outlet.example/world/pact-{k}", "text": seeds[k],
                        "source": f"Outlet {k}", "published": f"2024-06-13T0{i}:00:00Z"})
            for i, k in enumerate(KEYS)]


@pytest.fixture
def seeded(seeds: dict[str, str], tmp_path: Path) -> tuple[Path, Path]:
    config, data = config_dir(tmp_path), tmp_path / "data"
    archive = tmp_path / "seeds.jsonl"
    archive.write_text("\n".join(seed_lines(seeds)) + "\n")
    newswire(config, data, "ingest", str(archive))
    return config, data


def narrow(config: Path, data: Path, *args: str, check: bool = True,
           ) -> subprocess.CompletedProcess[str]:
    """The CLI in an 80-column terminal."""
    return newswire(config, data, *args, check=check, env={"COLUMNS": "80"})


# -- search --json total ---------------------------------------------------------------------
def test_search_json_total_is_every_match_not_the_page(seeded: tuple[Path, Path]) -> None:
    config, data = seeded
    everything = newswire_json(config, data, "search", "agreement", "--limit", "100")
    assert len(everything["hits"]) == 5
    first = newswire_json(config, data, "search", "agreement", "--limit", "2")
    assert (first["total"], first["total_capped"], len(first["hits"])) == (5, False, 2)
    last = newswire_json(config, data, "search", "agreement", "--limit", "2", "--page", "3")
    assert (last["total"], len(last["hits"]), last["has_next"]) == (5, 1, False)
    assert newswire_json(config, data, "search", "--source", "Outlet 001")["total"] == 1


# -- ids: whole, and a unique prefix is enough -------------------------------------------------
def test_tables_show_ids_whole_at_80_columns(seeded: tuple[Path, Path]) -> None:
    config, data = seeded
    [story] = newswire_json(config, data, "stories")["stories"]
    hits = newswire_json(config, data, "search", "agreement")["hits"]
    assert story["id"] in narrow(config, data, "stories").stdout
    assert story["id"] in narrow(config, data, "search", "agreement", "--by-story").stdout
    table = narrow(config, data, "search", "agreement").stdout
    for hit in hits:  # the article id to pass to `explain`, and its story
        assert hit["id"] in table
    assert story["id"] in table
    timeline = narrow(config, data, "story", story["id"]).stdout
    assert all(a in timeline for a in story["article_ids"])
    assert "…" not in "".join(line.split("│")[1] for line in table.splitlines()
                              if line.startswith("│"))


def test_story_and_explain_take_a_unique_prefix(seeded: tuple[Path, Path],
                                                tmp_path: Path) -> None:
    config, data = seeded
    [story] = newswire_json(config, data, "stories")["stories"]
    article = story["article_ids"][0]
    assert newswire_json(config, data, "story", story["id"][:7])["id"] == story["id"]
    assert newswire_json(config, data, "explain", article[:6])["id"] == article

    # two more articles whose ids share a prefix, in stories of their own
    archive = tmp_path / "more.jsonl"
    archive.write_text("".join(json.dumps(r) + "\n" for r in [
        {"id": "quake-1", "url": "https://a.example/q1", "source": "A",
         "title": "Earthquake shakes the coast", "text": "A strong earthquake struck the "
         "coast at dawn, damaging harbour walls and roads in three towns."},
        {"id": "quake-2", "url": "https://b.example/q2", "source": "B",
         "title": "Festival opens in the old town", "text": "The summer festival opened "
         "with music and food stalls along the river promenade."}]))
    newswire(config, data, "ingest", str(archive))
    ambiguous = newswire(config, data, "explain", "quake", check=False)
    assert ambiguous.returncode == 1
    assert "quake-1" in ambiguous.stderr and "quake-2" in ambiguous.stderr
    assert newswire_json(config, data, "explain", "quake-2")["id"] == "quake-2"
    several = newswire(config, data, "story", "s-", check=False)
    assert several.returncode == 1 and story["id"] in several.stderr
    for command in ("story", "explain"):
        none = newswire(config, data, command, "zz-none", check=False)
        assert none.returncode == 1 and "no " in none.stderr and "zz-none" in none.stderr


# -- ingest --------------------------------------------------------------------------------
def test_ingest_reads_gzip_and_stdin(seeds: dict[str, str], tmp_path: Path) -> None:
    config, data = config_dir(tmp_path), tmp_path / "data"
    packed = tmp_path / "seeds.jsonl.gz"
    with gzip.open(packed, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(seed_lines(seeds)[:3]) + "\n")
    result = newswire(config, data, "ingest", str(packed))
    assert "bad line" not in result.stderr.replace("bad lines 0", "")
    assert len(newswire_json(config, data, "search", "*", "--limit", "50")["hits"]) == 3

    cmd = [sys.executable, "-m", "pipeline", "--config", str(config), "--data-dir", str(data),
           "ingest", "-"]
    env = {k: v for k, v in os.environ.items() if k != "NEWSWIRE_BACKEND"}
    piped = subprocess.run(cmd, input="\n".join(seed_lines(seeds)[3:]) + "\n", text=True,
                           capture_output=True, cwd=REPO, env=env, timeout=300)
    assert piped.returncode == 0, piped.stderr
    assert len(newswire_json(config, data, "search", "*", "--limit", "50")["hits"]) == 5


def test_ingest_fails_when_every_line_fails(tmp_path: Path) -> None:
    config, data = config_dir(tmp_path), tmp_path / "data"
    archive = tmp_path / "bad.jsonl"
    archive.write_text('{"title": "no url"}\nnot json\n{"text": "a\x01b", "url": "x"\n')
    result = newswire(config, data, "ingest", str(archive), check=False)
    assert result.returncode == 1, result.stderr
    assert "none of the 3 lines" in result.stderr
    assert "at at" not in result.stderr
    missing = newswire(config, data, "ingest", str(tmp_path / "nope.jsonl"), check=False)
    assert missing.returncode == 2 and "nope.jsonl" in missing.stderr


def test_ingest_control_character_message_names_the_column(tmp_path: Path) -> None:
    config, data = config_dir(tmp_path), tmp_path / "data"
    archive = tmp_path / "ctl.jsonl"
    archive.write_text('{"url": "https://a.example/1", "title": "tab\there"}\n'
                       '{"url": "https://a.example/2", "title": "Ok", "text": "Fine text."}\n')
    result = newswire(config, data, "ingest", str(archive))
    assert "line 1: not valid JSON (Invalid control character at column" in result.stderr
    assert "at at" not in result.stderr


def test_ingest_accepts_a_bom_and_reads_latin1_with_a_warning(tmp_path: Path) -> None:
    config, data = config_dir(tmp_path), tmp_path / "data"
    archive = tmp_path / "export.jsonl"
    first = json.dumps({"url": "https://a.example/1", "source": "A", "title": "Zürich talks",
                        "text": "Talks in Zürich ended without a deal on the harbour."},
                       ensure_ascii=False)
    second = json.dumps({"url": "https://b.example/2", "source": "B", "title": "Café owners",
                         "text": "Café owners in Besançon protest the new rent rules."},
                        ensure_ascii=False)
    archive.write_bytes(b"\xef\xbb\xbf" + first.encode("utf-8") + b"\n"
                        + second.encode("latin-1") + b"\n")
    result = newswire(config, data, "ingest", str(archive))
    assert "line 2: not UTF-8, read as Windows-1252" in result.stderr
    assert "line 1" not in result.stderr  # the BOM is not an error
    titles = {a["title"] for a in map(json.loads, newswire(config, data, "export")
                                      .stdout.splitlines())}
    assert titles == {"Zürich talks", "Café owners"}


# -- words and times -------------------------------------------------------------------------
def test_one_article_one_source_in_words(tmp_path: Path) -> None:
    config, data = config_dir(tmp_path), tmp_path / "data"
    archive = tmp_path / "one.jsonl"
    archive.write_text(json.dumps({"url": "https://a.example/1", "source": "A",
                                   "title": "Harbour festival opens",
                                   "text": "The harbour festival opened with boats and music "
                                   "along the quay on Saturday."}) + "\n")
    newswire(config, data, "ingest", str(archive))
    [story] = newswire_json(config, data, "stories")["stories"]
    shown = newswire(config, data, "story", story["id"]).stdout
    assert "1 article, 1 source" in shown and "1 articles" not in shown


def test_json_times_are_iso_with_z_everywhere(seeded: tuple[Path, Path]) -> None:
    config, data = seeded
    exported = [json.loads(line) for line in newswire(config, data, "export").stdout
                .splitlines()]
    stories = newswire_json(config, data, "stories")["stories"]
    hits = newswire_json(config, data, "search", "agreement")["hits"]
    times: list[Any] = [a["published"] for a in exported] + [h["published"] for h in hits]
    times += [s[k] for s in stories for k in ("first_seen", "last_seen")]
    would = newswire_json(config, data, "alerts", "test", "agreement")["stories"]
    times += [s["last_seen"] for s in would]
    assert would and times and all(t.endswith("Z") and "+00:00" not in t for t in times), times
    assert exported[0]["published"] == "2024-06-13T00:00:00Z"


# -- query errors ----------------------------------------------------------------------------
def test_unclosed_quote_is_named_with_its_position(seeded: tuple[Path, Path]) -> None:
    config, data = seeded
    result = newswire(config, data, "search", 'pact AND "security agreement', check=False)
    assert result.returncode == 2
    assert "unclosed quote" in result.stderr and "position 9" in result.stderr
    assert "Illegal character" not in result.stderr


# -- alert attempts --------------------------------------------------------------------------
def test_delivered_alerts_count_their_attempt(seeds: dict[str, str], tmp_path: Path) -> None:
    config, data = config_dir(tmp_path), tmp_path / "data"
    (config / "alerts.yaml").write_text(
        "rules:\n  - name: pact\n    query: ukraine AND topic:security-pacts\n"
        "    channels: [console, 'jsonl:alerts.jsonl']\n")
    archive = tmp_path / "seeds.jsonl"
    archive.write_text("\n".join(seed_lines(seeds)) + "\n")
    newswire(config, data, "ingest", str(archive))
    log = newswire_json(config, data, "alerts", "log")["alerts"]
    assert {(a["channel"], a["state"]) for a in log} == {("console", "delivered"),
                                                         ("jsonl:alerts.jsonl", "delivered")}
    assert [a["attempts"] for a in log] == [1, 1]
