"""Reading and writing the YAML files of the config directory; nothing else touches them.

Writes are atomic (a temporary file renamed over the old one), so a crash never leaves a
half-written file that every command would then refuse.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import ConfigError

ALERTS_HEADER = ("# Alert rules: see README (Alerts). Edited by `newswire alerts add/remove`; "
                 "comments above `rules:` are kept.\n")


def read_yaml(path: Path) -> dict[str, Any]:
    """The mapping in ``path`` ({} when the file is missing); ConfigError naming the file."""
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def read_alerts_file(path: Path) -> tuple[str, dict[str, Any]]:
    """(leading comment block, the YAML mapping with a ``rules`` list) of alerts.yaml."""
    if not path.exists():
        return ALERTS_HEADER, {"rules": []}
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    first = next((i for i, ln in enumerate(lines) if not ln.startswith("#")), len(lines))
    header = "".join(ln + "\n" for ln in lines[:first])
    data = read_yaml(path)
    if not isinstance(data.get("rules") or [], list):
        raise ConfigError(f"{path}: `rules` must be a list of rules")
    data["rules"] = [r for r in data.get("rules") or [] if isinstance(r, dict)]
    return header or ALERTS_HEADER, data


def write_alerts_file(path: Path, header: str, data: dict[str, Any]) -> None:
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    write_atomic(path, header + body)


def append_feeds(path: Path, new: list[dict[str, str]]) -> list[dict[str, str]]:
    """Add to feeds.yaml the feeds whose URL is not listed yet; returns the ones added.
    A plain trailing ``feeds:`` list is appended to (comments kept); else rewritten."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    data = read_yaml(path) if text else {}
    listed = list(data.get("feeds") or [])
    known = {str(f.get("url")) for f in listed if isinstance(f, dict)}
    added = [f for f in new if f["url"] not in known]
    if not added:
        return []
    block = yaml.safe_dump(added, allow_unicode=True, sort_keys=False, indent=2)
    block = "".join(f"  {line}\n" for line in block.splitlines())
    candidate = text.rstrip("\n") + "\n" + block if listed and set(data) == {"feeds"} else ""
    try:
        ok = bool(candidate) and yaml.safe_load(candidate).get("feeds") == listed + added
    except yaml.YAMLError:
        ok = False
    if not ok:  # not a plain trailing list: rewrite (comments are lost)
        data["feeds"] = listed + added
        candidate = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    write_atomic(path, candidate)
    return added
