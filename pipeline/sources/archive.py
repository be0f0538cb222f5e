"""Archive input for ``newswire ingest``: one JSON object a line → RawArticle.

    read_archive(path | binary stream, on_recoded)  → (line number, RawArticle | BadLine)

The archive may be gzip-compressed (recognised by its magic bytes, so ``.jsonl.gz`` and a
compressed stdin both work) and may start with a UTF-8 byte order mark. Lines are UTF-8;
a line that is not valid UTF-8 is read as Windows-1252 (the superset of Latin-1 that
spreadsheet and CMS exports write) and ``on_recoded`` is told its number, so the user
sees which lines were guessed, never a silent U+FFFD. A bad line is reported with its
line number and why, and skipped; the rest goes through.

An archive is a replay of history: each line arrives in the stream at its published time
(``ReplayClock``), not at the moment ``ingest`` read it, so story windows open and close as
they did when the reports came out; an undated line arrives with the newest date before it.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

from pydantic import ValidationError

from pipeline.models import RawArticle

FIELDS = {"id", "url", "title", "html", "text", "summary", "author", "published", "source",
          "guid"}
GZIP_MAGIC = b"\x1f\x8b"
BOM = b"\xef\xbb\xbf"
FALLBACK = "cp1252"


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


def decode_line(data: bytes) -> tuple[str, str | None]:
    """The line as text and, when it was not UTF-8, the encoding it was read with."""
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    try:
        return data.decode(FALLBACK), FALLBACK
    except UnicodeDecodeError:  # the five bytes Windows-1252 leaves undefined
        return data.decode("latin-1"), "latin-1"


def _binary(stream: BinaryIO) -> IO[bytes]:
    """``stream`` itself, or its decompressed content when it starts like gzip."""
    buffered: Any = stream if isinstance(stream, io.BufferedReader) \
        else io.BufferedReader(stream)  # type: ignore[type-var]
    if buffered.peek(2)[:2] == GZIP_MAGIC:
        return cast(IO[bytes], gzip.GzipFile(fileobj=buffered))
    return cast(IO[bytes], buffered)


class ReplayClock:
    """Stream times of an archive replay (see the module docstring)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.clock = start  # newest published time so far

    def time_of(self, published: datetime | None, now: datetime) -> datetime:
        """When a line published at ``published`` arrives: then (if before ``now``), or,
        undated, at the newest published time so far (``now`` if none yet)."""
        if published is None:
            return self.clock or now
        if published < now:
            self.clock = max(self.clock or published, published)
            return published
        return now  # dated in the future (a bad date)

    def stamp(self, raw: RawArticle) -> RawArticle:
        """``raw`` fetched when it arrives in the replay (``time_of``)."""
        when = self.time_of(raw.published, raw.fetched)
        return raw if when == raw.fetched else raw.model_copy(update={"fetched": when})


def read_archive(source: Path | BinaryIO,
                 on_recoded: Callable[[int, str], None] | None = None,
                 ) -> Iterator[tuple[int, RawArticle | BadLine]]:
    """Each non-blank line of the archive (a path or an open binary stream, e.g. stdin)."""
    replay = ReplayClock()
    with ExitStack() as stack:
        raw = stack.enter_context(source.open("rb")) if isinstance(source, Path) else source
        fh = _binary(raw)
        for lineno, data in enumerate(fh, start=1):
            if lineno == 1 and data.startswith(BOM):
                data = data[len(BOM):]
            line, encoding = decode_line(data)
            if not line.strip():
                continue
            if encoding is not None and on_recoded is not None:
                on_recoded(lineno, encoding)
            parsed = parse_line(lineno, line)
            yield lineno, parsed if isinstance(parsed, BadLine) else replay.stamp(parsed)


def parse_line(lineno: int, line: str) -> RawArticle | BadLine:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        what = exc.msg.removesuffix(" at")  # "Invalid control character at"
        return BadLine(lineno, f"line {lineno}: not valid JSON ({what} at column "
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
