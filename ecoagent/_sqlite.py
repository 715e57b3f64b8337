"""A SQLite file shared by threads and processes: WAL mode, one writer transaction at a time.

The run log and the answer cache both need the same thing: readers that never block
a batch's writes (WAL), a connection shared by the worker threads of ``batch -j N``
(one lock), and writes that are all-or-nothing (``BEGIN IMMEDIATE`` ... ``COMMIT``).

Opening is the one step SQLite's busy timeout does not cover: switching a new file to
WAL takes an exclusive lock and fails at once with SQLITE_BUSY ("database is locked")
when another connection is opening the same file. So the WAL switch and the schema run
under an advisory lock on a side file (``<name>.lock``, threads and processes alike),
and a busy error there is retried until ``timeout`` runs out.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import EcoagentError

__all__ = ["SqliteFile"]


_TIMEOUT_S = 30.0
_OPEN_LOCK = threading.Lock()  # flock is per open file description: threads of one process need their own lock


@contextmanager
def _opening(path: Path) -> Iterator[None]:
    """Hold the advisory open lock of ``path`` (one opener at a time, across threads and processes)."""
    with _OPEN_LOCK:
        fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the flock


def _retry_busy(step: Callable[[], object]) -> None:
    """Run ``step()``, retrying while SQLite says the database is busy or locked (a
    connection that was not opened under the lock, e.g. an older ecoagent, holds it)."""
    deadline = time.monotonic() + _TIMEOUT_S
    delay = 0.01
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            if not ("locked" in str(exc) or "busy" in str(exc)) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


class SqliteFile:
    """A WAL-mode SQLite database with ``schema`` applied (file and folder created)."""

    def __init__(self, path: Path, schema: str, *, what: str = "database", if_broken: str = "") -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=_TIMEOUT_S, isolation_level=None)
        try:
            with _opening(path):
                _retry_busy(lambda: self._db.execute("PRAGMA journal_mode=WAL"))
                self._db.execute("PRAGMA synchronous=NORMAL")
                _retry_busy(lambda: self._db.executescript(schema))
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
