"""The run log: every RunRecord and every thumbs-up/down, in one SQLite file.

It backs history (``ecoagent logs``), feedback by run id, cost reports and
fine-tuning export. Records are stored whole as JSON next to the columns that are
queried. SQLite's WAL mode lets a batch write while ``ecoagent logs`` reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ._sqlite import SqliteFile
from .records import RunRecord

__all__ = ["Feedback", "RunLog"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    query TEXT NOT NULL,
    resolved INTEGER NOT NULL,
    rung TEXT,
    cost REAL NOT NULL,
    tokens INTEGER NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_created ON runs(created_at);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    good INTEGER NOT NULL,
    solution_id TEXT,
    created_at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Feedback:
    """One thumbs-up or thumbs-down on a run."""

    run_id: str
    good: bool
    solution_id: str | None
    created_at: str


class RunLog(SqliteFile):
    """SQLite-backed log of runs and feedback (safe across threads and processes)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA, what="run log")

    def add(self, record: RunRecord) -> None:
        """Store (or replace) a run."""
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (record.run_id, record.created_at.isoformat(), record.query, int(record.resolved),
                 record.final_rung, record.total_cost, record.tokens, record.model_dump_json()),
            )  # fmt: skip

    def get(self, run_id: str) -> RunRecord | None:
        """A run by id (None when unknown)."""
        with self._lock:
            row = self._db.execute("SELECT record FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return RunRecord.model_validate_json(row[0]) if row else None

    def recent(self, n: int = 20) -> list[RunRecord]:
        """The newest ``n`` runs, newest first."""
        with self._lock:
            rows = self._db.execute("SELECT record FROM runs ORDER BY created_at DESC LIMIT ?", (n,)).fetchall()
        return [RunRecord.model_validate_json(r[0]) for r in rows]

    def all(self) -> list[RunRecord]:
        """Every run, oldest first (the router learns from and is evaluated on these)."""
        with self._lock:
            rows = self._db.execute("SELECT record FROM runs ORDER BY created_at").fetchall()
        return [RunRecord.model_validate_json(r[0]) for r in rows]

    def add_feedback(self, run_id: str, good: bool, solution_id: str | None = None) -> None:
        """Record a thumbs-up/down."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO feedback (run_id, good, solution_id, created_at) VALUES (?, ?, ?, ?)",
                (run_id, int(good), solution_id, datetime.now(UTC).isoformat(timespec="seconds")),
            )

    def feedback(self, run_id: str) -> list[Feedback]:
        """All feedback on a run, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT run_id, good, solution_id, created_at FROM feedback WHERE run_id = ? ORDER BY id", (run_id,)
            ).fetchall()
        return [Feedback(r[0], bool(r[1]), r[2], r[3]) for r in rows]
