"""Is the data directory usable? A file where the directory should be, no permission or a
database that is not one are found before anything opens the store, and said in words:
the path, what is wrong and what to do (``pipeline.cli.common`` exits 2 with it)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

_FIX = "or pass --data-dir DIR (env NEWSWIRE_DATA_DIR) naming a writable directory"


def data_dir_problem(data_dir: Path, db: Path | None = None) -> str | None:
    """Why newswire cannot keep its data in ``data_dir`` (and ``db`` in it), else None."""
    existing = data_dir.absolute()
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        where = "is a file" if existing == data_dir.absolute() else f"is under {existing}, a file"
        return (f"data directory {data_dir} {where}, not a directory: move the file away "
                f"{_FIX}")
    if not os.access(existing, os.W_OK | os.X_OK):
        return (f"data directory {data_dir}: no permission to write in {existing}: give the "
                f"user write access (chmod/chown) {_FIX}")
    return _db_problem(db) if db is not None and db.exists() else None


def _db_problem(db: Path) -> str | None:
    if not db.is_file():
        return f"database {db} is not a file: move it away {_FIX}"
    if not os.access(db, os.R_OK | os.W_OK):
        return (f"database {db}: no permission to read and write it: give the user access "
                f"(chmod/chown) {_FIX}")
    try:
        conn = sqlite3.connect(str(db))
    except sqlite3.Error as exc:
        return f"database {db} cannot be opened ({exc}) {_FIX}"
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        return (f"database {db} is damaged or not a newswire database ({exc}): move it "
                "aside (the next `newswire run` or `ingest` starts an empty one; re-ingest "
                f"your archives to refill it) {_FIX}")
    finally:
        conn.close()
    return None


def unusable(path: Path, exc: BaseException) -> str:
    """The message for a store that failed to open although the checks passed."""
    return data_dir_problem(path.parent, path) or (
        f"database {path} cannot be used ({exc}): check the file and its directory {_FIX}")


def disk_full(exc: BaseException) -> bool:
    """SQLite could not write: the disk (or the database's size limit) is full."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    return code == sqlite3.SQLITE_FULL or "database or disk is full" in str(exc)


def disk_full_message(db: Path) -> str:
    """What a full disk under ``db`` means and what to do (the batch is rolled back whole)."""
    return (f"disk full: database {db} could not be written (SQLITE_FULL); the batch was "
            f"rolled back, nothing is lost: free space on the disk holding {db.parent} "
            "(or move --data-dir); newswire retries the batch until it fits")
