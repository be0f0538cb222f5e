"""Where the shared data lives: ``../shared`` beside the repository.

A clone elsewhere (a CI scratch directory, say) finds it through ``NEWSWIRE_SHARED`` or the
workplace's fixed location; a missing folder is reported by the caller (a failure under CI).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_FALLBACK = Path("/work/shared")


def shared_root() -> Path:
    override = os.environ.get("NEWSWIRE_SHARED")
    if override:
        return Path(override)
    beside = REPO.parent / "shared"
    if beside.exists() or not _FALLBACK.exists():
        return beside
    return _FALLBACK


def eval_dir() -> Path:
    return shared_root() / "eval"


def seeds_dir() -> Path:
    return shared_root() / "seeds"
