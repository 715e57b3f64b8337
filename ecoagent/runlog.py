"""The run log: every RunRecord and every thumbs-up/down, in one SQLite file.

It backs history (``ecoagent logs``), feedback by run id, cost reports and
fine-tuning export. The ``spend`` table is what each API key of ``ecoagent serve``
has spent, on every path: a run (a cache or replay hit at $0, router and judge calls
included, a cancelled run's finished calls too) and each conversation summary. A run
is written with its spend in one transaction, so a budget never misses a logged run. Records are stored whole as JSON next to the columns that are
queried. SQLite's WAL mode lets a batch write while ``ecoagent logs`` reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ._sqlite import SqliteFile
from .records import RunRecord

__all__ = ["Feedback", "RunLog", "Spend"]

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
CREATE TABLE IF NOT EXISTS spend (
    key TEXT NOT NULL,
    item TEXT NOT NULL,
    kind TEXT NOT NULL,
    tokens INTEGER NOT NULL,
    cost REAL NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (item, kind)
);
CREATE INDEX IF NOT EXISTS spend_key ON spend(key);
"""


@dataclass(frozen=True)
class Feedback:
    """One thumbs-up or thumbs-down on a run."""

    run_id: str
    good: bool
    solution_id: str | None
    created_at: str


@dataclass(frozen=True)
class Spend:
    """What one API key has spent so far."""

    key: str
    tokens: int
    cost: float
    items: int


class RunLog(SqliteFile):
    """SQLite-backed log of runs and feedback (safe across threads and processes)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA, what="run log")

    def add(self, record: RunRecord) -> None:
        """Store (or replace) a run."""
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.run_id,
                    record.created_at.isoformat(),
                    record.query,
                    int(record.resolved),
                    record.final_rung,
                    record.total_cost,
                    record.tokens,
                    record.model_dump_json(),
                ),
            )
            if record.key_name is not None:
                db.execute(
                    "INSERT OR REPLACE INTO spend VALUES (?, ?, 'run', ?, ?, ?)",
                    (record.key_name, record.run_id, record.tokens, record.total_cost, record.created_at.isoformat()),
                )

    def add_spend(self, key: str, item: str, kind: str, tokens: int, cost: float) -> None:
        """Charge ``key`` for something that is not a run (``kind`` ``summary``: a conversation
        summary); ``item`` identifies it, so writing it twice charges once."""
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO spend VALUES (?, ?, ?, ?, ?, ?)",
                (key, item, kind, tokens, cost, datetime.now(UTC).isoformat()),
            )

    def spend(self, key: str) -> Spend:
        """Everything ``key`` has spent (runs and summaries)."""
        with self._lock:
            row = self._db.execute(
                "SELECT COALESCE(SUM(tokens), 0), COALESCE(SUM(cost), 0), COUNT(*) FROM spend WHERE key = ?", (key,)
            ).fetchone()
        return Spend(key, int(row[0]), float(row[1]), int(row[2]))

    def count(self) -> int:
        """How many runs the log holds."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM runs").fetchone()[0])

    def get(self, run_id: str) -> RunRecord | None:
        """A run by id (None when unknown)."""
        with self._lock:
            row = self._db.execute("SELECT record FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return RunRecord.model_validate_json(row[0]) if row else None

    def recent(self, n: int = 20, *, key: str | None = None) -> list[RunRecord]:
        """The newest ``n`` runs, newest first (with ``key``: only the runs that API key sent)."""
        with self._lock:
            if key is None:
                rows = self._db.execute("SELECT record FROM runs ORDER BY created_at DESC LIMIT ?", (n,)).fetchall()
            else:
                rows = self._db.execute(
                    "SELECT record FROM runs WHERE run_id IN (SELECT item FROM spend WHERE key = ? "
                    "AND kind = 'run') ORDER BY created_at DESC LIMIT ?",
                    (key, n),
                ).fetchall()
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
