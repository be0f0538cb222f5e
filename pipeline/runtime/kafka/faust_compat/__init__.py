"""Every place newswire relies on faust's or aiokafka's internals, and the guard around them.

    offsets.py   three methods replaced so no message is skipped (``install`` applies them)
    streams.py   an event held past ``take_events``' acknowledgement (``hold``)
    tables.py    a table's local store, its changelog encoding, recovery state, producer buffer

Written against faust-streaming 0.15 (``SUPPORTED``). ``install`` runs once, at app
creation (``pipeline.runtime.kafka.topics.create_app``): it refuses to start on another
faust-streaming version, whose internals these functions were not checked against.
"""

from __future__ import annotations

import importlib.metadata
import re

from pipeline.errors import ConfigError
from pipeline.runtime.kafka.faust_compat import offsets

SUPPORTED = ">=0.15,<0.16"  # the faust-streaming pin in pyproject.toml says the same
_LOWEST, _BELOW = (0, 15), (0, 16)
_installed = False


def faust_version() -> str:
    return importlib.metadata.version("faust-streaming")


def check_version(version: str | None = None) -> str:
    """The installed faust-streaming version; ``ConfigError`` if it is not ``SUPPORTED``."""
    version = version or faust_version()
    release = tuple(int(part) for part in re.findall(r"\d+", version)[:2])
    if not _LOWEST <= release < _BELOW:
        raise ConfigError(
            f"faust-streaming {version} is installed, but newswire's Kafka runtime supports "
            f"faust-streaming{SUPPORTED} only (pipeline/runtime/kafka/faust_compat relies on "
            f"its internals): install a supported version, e.g. pip install "
            f"'faust-streaming{SUPPORTED}'")
    return version


def install() -> None:
    """Check the faust-streaming version, then apply the fixes to faust (once per process:
    the patched classes are shared by every app). Idempotent."""
    global _installed
    if _installed:
        return
    check_version()
    offsets.apply()
    _installed = True
