"""Archive input for ``newswire ingest``: one JSON object a line → RawArticle.

A bad line is reported with its line number and why, and skipped; the rest goes through.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from pipeline.models import RawArticle

FIELDS = {"id", "url", "title", "html", "text", "summary", "author", "published", "source",
          "guid"}


@dataclass
class BadLine:
    lineno: int
    reason: str
    payload: str


def describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "record"
        parts.append(f"field {where!r}: {err['msg']}")
    return "; ".join(parts)


def read_archive(path: Path) -> Iterator[tuple[int, RawArticle | BadLine]]:
    with path.open(encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            yield lineno, parse_line(lineno, line)


def parse_line(lineno: int, line: str) -> RawArticle | BadLine:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        return BadLine(lineno, f"line {lineno}: not valid JSON ({exc.msg} at column "
                               f"{exc.colno}); write one JSON object per line", line[:2000])
    if not isinstance(data, dict):
        return BadLine(lineno, f"line {lineno}: expected a JSON object with a 'url'", line[:2000])
    record = {k: v for k, v in data.items() if k in FIELDS and v is not None}
    if "url" not in record:
        return BadLine(lineno, f"line {lineno}: missing required field 'url'", line[:2000])
    if "id" in record:
        record["id"] = str(record["id"])
    try:
        return RawArticle.model_validate(record)
    except ValidationError as exc:
        return BadLine(lineno, f"line {lineno}: {describe(exc)}", line[:2000])
