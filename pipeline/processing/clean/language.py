"""Language identification: py3langid's model, loaded once per process and cheaply.

py3langid ships its model LZMA-compressed (4.5 MB → 68 MB); decompressing it costs each
process ~0.5 s of CPU, which every worker of the process pool paid again. The first
process to need it unpacks it once into ``~/.cache/newswire/langid-<version>`` as plain
arrays; every later process maps those files instead (milliseconds, and the pages are
shared between processes). The arrays are the model's own, used by py3langid's own
classifier: the same language for every text. Where the cache cannot be written, the
model loads the usual way.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from py3langid import langid as py3langid_model
from py3langid.modelio import load_model

logger = logging.getLogger(__name__)

PREFIX_CHARS = 200  # the language is read from the text's start
_MODEL = Path(py3langid_model.MODEL_DIR) / py3langid_model.MODEL_FILE
_ARRAYS = ("ptc", "pc", "classes", "nextmove", "row", "output")


def cache_root() -> Path:
    """Where newswire keeps what it can rebuild (as ``scripts/services`` does)."""
    return Path.home() / ".cache" / "newswire"


def _cache_dir() -> Path:
    stat = _MODEL.stat()
    return cache_root() / f"langid-{stat.st_size}-{stat.st_mtime_ns}"


def _unpack(target: Path) -> None:
    """The model's arrays as .npy files under ``target`` (written whole, then renamed)."""
    ptc, pc, classes, nextmove, row, output = load_model(_MODEL)
    arrays = {"ptc": np.asarray(ptc), "pc": np.asarray(pc), "classes": np.array(classes),
              "nextmove": np.frombuffer(nextmove, dtype=np.dtype(nextmove.typecode)),
              "row": np.frombuffer(row, dtype=np.dtype(row.typecode)),
              "output": np.asarray(output, dtype=np.int32)}
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".unpacking-"))
    try:
        for name, array in arrays.items():
            np.save(tmp / f"{name}.npy", array, allow_pickle=False)
        os.rename(tmp, target)
    except OSError:
        if not target.is_dir():  # else another process unpacked it first
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _mapped(directory: Path) -> Any:
    """A py3langid classifier over the unpacked arrays, memory-mapped."""
    data = {name: np.load(directory / f"{name}.npy", mmap_mode="r", allow_pickle=False)
            for name in _ARRAYS}
    nextmove = memoryview(data["nextmove"]).cast("B").cast(data["nextmove"].dtype.char)
    row = memoryview(data["row"]).cast("B").cast(data["row"].dtype.char)
    return py3langid_model.LanguageIdentifier(  # a plain view of the map: no memmap indexing
        np.asarray(data["ptc"]), np.array(data["pc"]), data["classes"].tolist(), nextmove,
        data["output"].tolist(), tk_row=row)


@lru_cache(maxsize=1)
def _identifier() -> Any:
    try:
        directory = _cache_dir()
        if not directory.is_dir():
            _unpack(directory)
        return _mapped(directory)
    except (OSError, RuntimeError, ValueError, KeyError) as exc:  # no home, unwritable, damaged
        logger.debug("language model cache unusable (%s); loading it compressed", exc)
        return py3langid_model  # its classify() loads the packed model


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of ``text`` from a sample of its start (py3langid), if any text."""
    sample = text[:PREFIX_CHARS]
    if not sample.strip():
        return None
    lang, _score = _identifier().classify(sample)
    return str(lang)
