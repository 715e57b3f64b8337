"""A SQLite file shared by threads and processes: WAL mode, one writer transaction at a time.

The run log and the answer cache both need the same thing: readers that never block
a batch's writes (WAL), a connection shared by the worker threads of ``batch -j N``
(one lock), and writes that are all-or-nothing (``BEGIN IMMEDIATE`` ... ``COMMIT``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import EcoagentError

__all__ = ["SqliteFile"]


class SqliteFile:
    """A WAL-mode SQLite database with ``schema`` applied (file and folder created)."""

    def __init__(self, path: Path, schema: str, *, what: str = "database", if_broken: str = "") -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(schema)
        except sqlite3.DatabaseError as exc:  # not SQLite, or damaged: say which file, touch nothing
            self._db.close()
            raise EcoagentError(
                f"the {what} at {path} cannot be opened ({exc})",
                if_broken or f"move {path} aside (ecoagent then starts a new one) and keep it if its data matters",
            ) from exc

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed whole, or rolled back on any error."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
