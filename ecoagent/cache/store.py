"""The exact first-turn cache: accepted answers keyed on the normalized query, in SQLite.

A key is the query's :func:`~ecoagent.cache.guard.normalize`-d text within a *scope*:
the ladder's rungs and models, so changing a model never serves the old model's
answers. Only runs a judge accepted are stored, each with the run that produced it;
a thumbs-down on that run, or on a run the entry served, deletes it. Entries older
than ``ttl_s`` are not served (an answer computed from the clock or from data that
changes goes stale).

The same file remembers which banked solution a person rejected for which query
(verified replay never offers that pair again) and counts what the first-turn stage
did, for ``ecoagent cache stats``.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .._sqlite import SqliteFile
from .guard import normalize

__all__ = ["AnswerCache", "CachedAnswer", "COUNTERS"]

COUNTERS = (
    "exact_hits",
    "exact_misses",
    "replays_served",
    "replays_rejected",
    "guard_refusals",
    "evictions",
    "stores",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY,
    scope TEXT NOT NULL,
    query TEXT NOT NULL,
    answer TEXT NOT NULL,
    code TEXT,
    language TEXT,
    rung TEXT,
    run_id TEXT NOT NULL,
    judge TEXT,
    created_at TEXT NOT NULL,
    hits INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS answers_run ON answers(run_id);
CREATE TABLE IF NOT EXISTS refused (
    normalized TEXT NOT NULL,
    solution_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (normalized, solution_id)
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class CachedAnswer:
    """One stored answer."""

    key: str
    query: str
    answer: str
    code: str | None
    language: str | None
    rung: str | None
    run_id: str
    judge: str | None
    created_at: datetime
    hits: int


def _now() -> datetime:
    return datetime.now(UTC)


class AnswerCache(SqliteFile):
    """SQLite-backed exact cache (safe across threads and processes, WAL mode).

    Args:
        path: The database file (created with its folder).
        ttl_s: Age after which an entry is no longer served (0: never expires).
    """

    def __init__(self, path: Path, ttl_s: float = 0.0) -> None:
        super().__init__(
            path,
            _SCHEMA,
            what="answer cache",
            if_broken=f"it holds only cached answers: delete {path} and ecoagent starts a new one",
        )
        self.ttl_s = ttl_s

    @staticmethod
    def key(scope: str, query: str) -> str:
        """The entry key of ``query`` within ``scope``."""
        return hashlib.sha256(f"{scope}\n{normalize(query)}".encode()).hexdigest()

    def _bump(self, db: sqlite3.Connection, counter: str, by: int = 1) -> None:
        db.execute(
            "INSERT INTO counters VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
            (counter, by),
        )

    def count(self, counter: str, by: int = 1) -> None:
        """Add to one of :data:`COUNTERS`."""
        with self._tx() as db:
            self._bump(db, counter, by)

    # ---- the exact cache -------------------------------------------------------
    def get(self, scope: str, query: str) -> CachedAnswer | None:
        """The fresh entry for ``query`` in ``scope``, counted as a hit (or a miss)."""
        key = self.key(scope, query)
        with self._tx() as db:
            row = db.execute(
                "SELECT key, query, answer, code, language, rung, run_id, judge, created_at, hits FROM answers WHERE key = ?",
                (key,),
            ).fetchone()
            entry = _entry(row) if row else None
            if entry is not None and self.ttl_s and _now() - entry.created_at > timedelta(seconds=self.ttl_s):
                entry = None
            if entry is None:
                self._bump(db, "exact_misses")
                return None
            db.execute("UPDATE answers SET hits = hits + 1 WHERE key = ?", (key,))
            self._bump(db, "exact_hits")
        return entry

    def put(
        self,
        scope: str,
        query: str,
        *,
        answer: str,
        run_id: str,
        code: str | None = None,
        language: str | None = None,
        rung: str | None = None,
        judge: str | None = None,
    ) -> str:
        """Store (or replace) the answer to ``query`` in ``scope``; returns its key."""
        key = self.key(scope, query)
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                (key, scope, query, answer, code, language, rung, run_id, judge, _now().isoformat()),
            )
            self._bump(db, "stores")
        return key

    def evict(self, *, key: str | None = None, run_id: str | None = None) -> int:
        """Delete the entry with ``key`` and any entry made by run ``run_id``; how many went."""
        with self._tx() as db:
            gone = 0
            if key is not None:
                gone += db.execute("DELETE FROM answers WHERE key = ?", (key,)).rowcount
            if run_id is not None:
                gone += db.execute("DELETE FROM answers WHERE run_id = ?", (run_id,)).rowcount
            if gone:
                self._bump(db, "evictions", gone)
        return gone

    def entries(self, limit: int = 50) -> list[CachedAnswer]:
        """The newest entries, newest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key, query, answer, code, language, rung, run_id, judge, created_at, hits FROM answers "
                "ORDER BY created_at DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [_entry(r) for r in rows]

    def clear(self) -> int:
        """Delete every entry and refusal (counters stay); how many entries went."""
        with self._tx() as db:
            gone = db.execute("DELETE FROM answers").rowcount
            db.execute("DELETE FROM refused")
        return int(gone)

    # ---- replay refusals -----------------------------------------------------------
    def refuse(self, query: str, solution_id: str) -> None:
        """Never replay ``solution_id`` for ``query`` again (a person said it was wrong)."""
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO refused VALUES (?, ?, ?)", (normalize(query), solution_id, _now().isoformat())
            )
            self._bump(db, "evictions")

    def refused(self, query: str, solution_id: str) -> bool:
        """Whether a person rejected replaying ``solution_id`` for ``query``."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM refused WHERE normalized = ? AND solution_id = ?", (normalize(query), solution_id)
            ).fetchone()
        return row is not None

    # ---- stats -------------------------------------------------------------------
    def stats(self) -> dict[str, int]:
        """Entries, refusals and every counter (zero when it never moved)."""
        with self._lock:
            entries = self._db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
            refused = self._db.execute("SELECT COUNT(*) FROM refused").fetchone()[0]
            counters = dict(self._db.execute("SELECT name, value FROM counters").fetchall())
        return {
            "entries": int(entries),
            "refused_pairs": int(refused),
            **{c: int(counters.get(c, 0)) for c in COUNTERS},
        }


def _entry(row: tuple[object, ...]) -> CachedAnswer:
    key, query, answer, code, language, rung, run_id, judge, created_at, hits = row
    return CachedAnswer(
        key=str(key),
        query=str(query),
        answer=str(answer),
        code=code if code is None else str(code),
        language=None if language is None else str(language),
        rung=None if rung is None else str(rung),
        run_id=str(run_id),
        judge=None if judge is None else str(judge),
        created_at=datetime.fromisoformat(str(created_at)),
        hits=int(str(hits)),
    )
