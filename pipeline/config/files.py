"""Reading and writing the YAML files of the config directory; nothing else touches them.

Reads use PyYAML's safe loader (YAML 1.1, as the files have always been read). Edits
(``alerts add/remove``, ``feeds import``, ``newswire init``) go through ruamel.yaml's
round-trip mode: comments, key order, quoting and flow lists of the rest of the file stay
as the user wrote them; only the entry added or removed changes. Writes are atomic (a
temporary file renamed over the old one), so a crash never leaves a half-written file that
every command would then refuse.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError as RoundTripError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from ruamel.yaml.util import load_yaml_guess_indent

from pipeline.errors import ConfigError

DEFAULTS_DIR = Path(__file__).resolve().parents[1] / "defaults"  # shipped in the package
STARTER = ("newswire.yaml", "feeds.yaml", "topics.yaml", "alerts.yaml",
           "samples/sample-feed.xml", "samples/sample-feed-2.xml")
ALERTS_HEADER = ("# Alert rules: see README (Alerts). Edited by `newswire alerts add/remove`; "
                 "comments are kept.\n")
FEEDS_HEADER = ("# Feeds polled by `newswire run`: see README (Feeds). `newswire feeds import` "
                "adds to this list; comments are kept.\n")


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


def write_new(path: Path, text: str) -> bool:
    """Create ``path`` with ``text``; False (and nothing written) when it exists already."""
    try:
        with path.open("x", encoding="utf-8") as out:
            out.write(text)
    except FileExistsError:
        return False
    return True


def write_starter_config(target: Path) -> list[Path]:
    """Copy the shipped default config (commented; two offline sample feeds) to ``target``;
    ConfigError naming the files when any exists already (nothing is then written)."""
    if target.exists() and not target.is_dir():
        raise ConfigError(f"{target} is a file: name a directory for the config")
    existing = [target / name for name in STARTER if (target / name).exists()]
    if existing:
        raise ConfigError("will not overwrite " + ", ".join(str(p) for p in existing)
                          + ": edit them, move them away, or init another directory")
    written = []
    for name in STARTER:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        if write_new(target / name, (DEFAULTS_DIR / name).read_text(encoding="utf-8")):
            written.append(target / name)
    return written


# -- round-trip edits ---------------------------------------------------------------------
def _load(path: Path, key: str, header: str) -> tuple[YAML, CommentedMap]:
    """The file as an editable document whose ``key`` is a block list (created if absent)."""
    text = path.read_text(encoding="utf-8") if path.exists() else header
    rt = YAML()
    rt.preserve_quotes = True  # quoted scalars of the file stay quoted
    rt.width = 100
    try:
        _, indent, offset = load_yaml_guess_indent(text)
        rt.indent(mapping=2, sequence=indent or 4, offset=offset if indent else 2)
        data = rt.load(text)
    except RoundTripError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if data is None:
        data = CommentedMap()
        data.yaml_set_start_comment(header.strip().removeprefix("# "))
    if not isinstance(data, CommentedMap):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    entries = data.get(key)
    if entries is None:
        data[key] = entries = CommentedSeq()
    if not isinstance(entries, CommentedSeq):
        raise ConfigError(f"{path}: `{key}` must be a list (`{key}:` then `- ...` entries)")
    entries.fa.set_block_style()
    return rt, data


def _dump(path: Path, rt: YAML, data: CommentedMap) -> None:
    out = io.StringIO()
    rt.dump(data, out)
    write_atomic(path, out.getvalue())


def _entry(record: dict[str, Any]) -> CommentedMap:
    """A new entry; its lists in flow style (``channels: [console]``), as the files have."""
    entry = CommentedMap()
    for key, value in record.items():
        if isinstance(value, list):
            value = CommentedSeq([_scalar(v) for v in value])
            value.fa.set_flow_style()
        entry[key] = _scalar(value)
    return entry


def _scalar(value: Any) -> Any:
    """A string quoted when the files' reader (PyYAML, YAML 1.1) would not read it back as
    the same string (``7:30`` is 450 there, ``yes`` is True), else as it is."""
    if not isinstance(value, str):
        return value
    try:
        same = yaml.safe_load(value) == value
    except yaml.YAMLError:
        same = False
    return value if same else DoubleQuotedScalarString(value)


def alert_rules(path: Path) -> list[dict[str, Any]]:
    """The rule entries of alerts.yaml as written (validation is config/settings.py's)."""
    rules = read_yaml(path).get("rules") or []
    if not isinstance(rules, list):
        raise ConfigError(f"{path}: `rules` must be a list of rules")
    return [r for r in rules if isinstance(r, dict)]


def save_alert_rule(path: Path, record: dict[str, Any]) -> None:
    """Put the rule in alerts.yaml: in place of the rule of that name, else at the end."""
    rt, data = _load(path, "rules", ALERTS_HEADER)
    rules = data["rules"]
    same = [i for i, r in enumerate(rules) if isinstance(r, dict) and
            r.get("name") == record["name"]]
    if same:
        rules[same[0]] = _entry(record)
    else:
        rules.append(_entry(record))
    _dump(path, rt, data)


def delete_alert_rule(path: Path, name: str) -> bool:
    """Remove the rule ``name`` from alerts.yaml; False when there is none."""
    rt, data = _load(path, "rules", ALERTS_HEADER)
    rules = data["rules"]
    same = [i for i, r in enumerate(rules) if isinstance(r, dict) and r.get("name") == name]
    for i in reversed(same):
        del rules[i]
    if same:
        _dump(path, rt, data)
    return bool(same)


def listed_feeds(path: Path) -> list[dict[str, Any]]:
    """The feed entries of feeds.yaml as written (urls not resolved)."""
    feeds = read_yaml(path).get("feeds") or []
    return [f for f in feeds if isinstance(f, dict)] if isinstance(feeds, list) else []


def append_feeds(path: Path, new: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add to feeds.yaml the feeds whose URL is not listed yet (the caller dedupes by
    canonical URL first); returns the ones added. Comments and the rest are kept."""
    rt, data = _load(path, "feeds", FEEDS_HEADER)
    feeds = data["feeds"]
    known = {str(f.get("url")) for f in feeds if isinstance(f, dict)}
    added = []
    for feed in new:
        if feed["url"] not in known:
            known.add(feed["url"])
            feeds.append(_entry(feed))
            added.append(feed)
    if added:
        _dump(path, rt, data)
    return added
