"""``jsonl:PATH``: append each alert as one JSON line (PATH relative to the data dir).

The file holds one line per (rule, story, event): a delivery repeated after a crash (sent,
then killed before it was recorded) finds its line and writes nothing. The lines already in
the file are read once and then only what was appended since, so the check stays cheap as
the file grows; a file replaced or truncated is read again. A line cut short by a crash is
left as it is and the next one starts on a line of its own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.models import AlertEvent
from pipeline.notify.channel import DeliveryContext, local_path
from pipeline.notify.spec import check_jsonl


def _identity(event: AlertEvent) -> str:
    return f"{event.rule}\x1f{event.story_id}\x1f{event.event}"


@dataclass
class _Seen:
    """The identities of the lines in one file, read up to ``offset`` of inode ``inode``."""

    inode: int = -1
    offset: int = 0
    keys: set[str] = field(default_factory=set)
    ends_line: bool = True  # the last byte read is a newline (or the file is empty)

    def catch_up(self, path: Path) -> None:
        try:
            stat = path.stat()
        except FileNotFoundError:
            stat = None
        if stat is None or stat.st_ino != self.inode or stat.st_size < self.offset:
            self.inode, self.offset, self.ends_line = (stat.st_ino if stat else -1), 0, True
            self.keys.clear()
        if stat is None or stat.st_size == self.offset:
            return
        with path.open("rb") as fh:
            fh.seek(self.offset)
            data = fh.read()
        complete = data.rfind(b"\n") + 1  # an unfinished last line is read once it ends
        for line in data[:complete].splitlines():
            try:
                self.keys.add(_identity(AlertEvent.model_validate_json(line)))
            except ValueError:  # not an alert, or cut short by a crash
                continue
        self.offset += complete
        self.ends_line = complete == len(data)


class JsonlChannel:
    scheme = "jsonl"

    def __init__(self) -> None:
        self._seen: dict[Path, _Seen] = {}

    def validate(self, target: str) -> None:
        check_jsonl(target)

    async def deliver(self, event: AlertEvent, target: str, context: DeliveryContext) -> None:
        path = local_path(context, target).absolute()
        path.parent.mkdir(parents=True, exist_ok=True)
        seen = self._seen.setdefault(path, _Seen())
        seen.catch_up(path)
        key = _identity(event)
        if key in seen.keys:  # delivered before (a crash came between sending and recording)
            return
        line = event.model_dump_json(exclude={"state", "error", "attempts"}) + "\n"
        data = (line if seen.ends_line else "\n" + line).encode("utf-8")
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            os.write(fd, data)  # one write: a reader never sees half of this line
        finally:
            os.close(fd)
        seen.keys.add(key)
