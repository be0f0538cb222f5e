"""Stage state whose writes for one input can be undone, so a dead-lettered article leaves
no half of its story assignment behind (the embedded runtime's per-article savepoint)."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

_ABSENT = object()


class UndoLog(MutableMapping[str, Any]):
    """``inner`` seen as it is; what was written since ``savepoint`` can be ``rollback``-ed."""

    def __init__(self, inner: MutableMapping[str, Any]) -> None:
        self.inner = inner
        self._before: dict[str, Any] = {}  # key -> value at the savepoint (or _ABSENT)

    def savepoint(self) -> None:
        self._before.clear()

    def rollback(self) -> None:
        """Put back every key written since ``savepoint``."""
        for key, value in self._before.items():
            if value is _ABSENT:
                self.inner.pop(key, None)
            else:
                self.inner[key] = value
        self._before.clear()

    def _remember(self, key: str) -> None:
        if key not in self._before:
            self._before[key] = self.inner.get(key, _ABSENT)

    def __getitem__(self, key: str) -> Any:
        return self.inner[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.inner.get(key, default)

    def __setitem__(self, key: str, value: Any) -> None:
        before = self._before
        if key not in before:  # _remember, inline: every state write comes through here
            before[key] = self.inner.get(key, _ABSENT)
        self.inner[key] = value

    def update(self, other: Any = (), /, **kwds: Any) -> None:
        """Many writes at once (the clusterer's document frequencies), remembered together."""
        values = dict(other, **kwds)
        before, get = self._before, self.inner.get
        for key in values.keys() - before.keys():
            before[key] = get(key, _ABSENT)
        self.inner.update(values)

    def __delitem__(self, key: str) -> None:
        self._remember(key)
        del self.inner[key]

    def __contains__(self, key: object) -> bool:
        return key in self.inner

    def __iter__(self) -> Iterator[str]:
        return iter(self.inner)

    def __len__(self) -> int:
        return len(self.inner)
