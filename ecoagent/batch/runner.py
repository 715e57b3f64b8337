"""The batch runner as a library function: rows in, results out, usable from any app.

Rows run ``concurrency`` at a time, each in its own sandbox container. A row that
fails in any way (a bad query, a model that crashed, an unexpected error) becomes a
result with the reason and the batch carries on; only a sandbox that cannot run at
all stops it, since no row could succeed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..costs import CostTally, quantile
from ..errors import EcoagentError, SandboxError
from ..events import Event
from ..query import Query
from ..records import VERIFYING_JUDGES, RunRecord
from .rows import BatchRow

if TYPE_CHECKING:
    from ..config import JudgeName

__all__ = ["Assistant", "BatchResult", "BatchSummary", "run_batch"]


class Assistant(Protocol):
    """What a batch runs on: an :class:`~ecoagent.EcoAssistant`, or the client of a running
    ``ecoagent serve`` (``--server``), which answers the same three calls."""

    def check_ladder(self) -> None: ...

    async def run(self, query: Query, *, on_event: Callable[[Event], None] | None = None) -> RunRecord: ...

    def bank_verified(self, record: RunRecord) -> tuple[str, bool] | None: ...


@dataclass
class BatchResult:
    """One row's outcome: its record, or the error that kept it from running."""

    row: BatchRow
    record: RunRecord | None
    error: str | None = None
    duration_s: float = 0.0
    banked: str | None = None

    @property
    def resolved(self) -> bool:
        """Whether a rung resolved the row."""
        return self.record is not None and self.record.resolved

    @property
    def judge(self) -> str | None:
        """The row's judge of record (:attr:`RunRecord.judged_by`)."""
        return self.record.judged_by if self.record is not None else None

    @property
    def checked(self) -> bool:
        """Whether the row was judged on its answer itself: an expected answer or tests."""
        return self.judge in VERIFYING_JUDGES

    def to_json(self) -> dict[str, Any]:
        """The row's line in a results file (``ecoagent batch --out``)."""
        row, record = self.row, self.record
        if record is None:
            return {
                "id": row.id,
                "line": row.line,
                "query": row.query,
                "run_id": None,
                "resolved": False,
                "error": self.error,
            }
        last = record.attempts[-1] if record.attempts else None
        return {
            "id": row.id,
            "run_id": record.run_id,
            "resolved": record.resolved,
            "unverified": record.unverified,
            "risk": None if record.risk is None else round(record.risk, 4),
            "rung": record.answered_by or record.final_rung,
            "verdict": last.verdict.model_dump() if last and last.verdict else None,
            "converged": bool(last and last.converged),
            "stuck": bool(last and last.stuck),
            "turns": sum(a.turns for a in record.attempts),
            "tokens": record.tokens,
            "cost": round(record.total_cost, 8),
            "answer": record.final_answer,
            "query": row.query,
            "error": self.error,
            "duration_s": round(self.duration_s, 3),
        }


@dataclass
class BatchSummary:
    """What a batch came to: success, escalations, cost and latency."""

    total: int = 0
    results: list[BatchResult] = field(default_factory=list)
    cost: CostTally = field(default_factory=CostTally)
    solved: int = 0
    unverified: int = 0
    errors: int = 0
    failed_checks: int = 0
    escalations: int = 0
    converged: int = 0
    stuck: int = 0
    banked: int = 0
    #: Per judge of record: [rows it accepted, rows it judged].
    by_judge: dict[str, list[int]] = field(default_factory=dict)

    @property
    def done(self) -> int:
        """Rows finished (with or without an error)."""
        return len(self.results)

    @property
    def success_rate(self) -> float:
        """Solved rows over finished rows."""
        return self.solved / self.done if self.done else 0.0

    def latency(self, q: float) -> float:
        """The ``q`` quantile (0.5 = median) of the rows' wall-clock seconds."""
        return quantile((r.duration_s for r in self.results), q)

    def add(self, result: BatchResult) -> None:
        """Count a finished row."""
        self.results.append(result)
        record = result.record
        if record is None:
            self.errors += 1
            return
        self.cost.add(record)
        self.solved += record.resolved
        self.unverified += record.unverified
        self.escalations += max(0, len(record.attempts) - 1)
        self.converged += sum(a.converged for a in record.attempts)
        self.stuck += sum(a.stuck for a in record.attempts)
        self.banked += result.banked is not None
        if result.judge is not None:
            tally = self.by_judge.setdefault(result.judge, [0, 0])
            tally[0] += record.resolved
            tally[1] += 1
        if not record.resolved and result.checked:
            self.failed_checks += 1
        if not record.resolved and result.error:
            self.errors += 1

    @property
    def checked(self) -> tuple[int, int]:
        """(correct, checked): rows whose answer an expected answer or tests checked."""
        tallies = [t for judge, t in self.by_judge.items() if judge in VERIFYING_JUDGES]
        return sum(t[0] for t in tallies), sum(t[1] for t in tallies)

    @property
    def failed(self) -> bool:
        """Whether anything went wrong that a script should notice (exit code 1)."""
        return bool(self.errors or self.failed_checks)


async def run_batch(
    eco: Assistant,
    rows: Sequence[BatchRow],
    *,
    concurrency: int = 1,
    judge: JudgeName | None = None,
    bank_verified: bool = False,
    on_result: Callable[[BatchResult, BatchSummary], None] | None = None,
    on_event: Callable[[BatchRow, Event], None] | None = None,
) -> BatchSummary:
    """Run every row up the ladder; call ``on_result`` as each one finishes.

    Args:
        eco: The assistant (its bank, run log and ladder), or a running server's.
        rows: The queries (see :func:`~ecoagent.batch.rows.read_batch`).
        concurrency: Rows in flight at once.
        judge: The judge for every row; default: ``tests`` for rows with tests,
            ``expected`` for rows with an expected answer, else the configured judge.
        bank_verified: Bank the rows whose expected check or tests passed.
        on_result: Called with each finished row (write it out, advance a bar).
        on_event: Called with each event of each row's run, as it happens.

    Raises:
        SandboxError: The sandbox cannot run at all (engine down, image missing).
        EcoagentError: The ladder cannot run (a missing key), before any row runs.
    """
    eco.check_ladder()
    summary = BatchSummary(total=len(rows))
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(row: BatchRow) -> None:
        async with gate:
            t0 = time.monotonic()
            record, error, banked = None, None, None
            try:
                query = Query(
                    row.query,
                    expected=row.expected,
                    expected_regex=row.expected_regex,
                    tests=row.tests,
                    entry_point=row.entry_point,
                    judge=judge,
                    id=row.id,
                    context=row.context,
                )
                record = await eco.run(query, on_event=(lambda e: on_event(row, e)) if on_event else None)
                if bank_verified and record is not None:
                    verified = await asyncio.to_thread(eco.bank_verified, record)
                    banked = verified[0] if verified else None
            except SandboxError:
                raise  # the sandbox is down: no row can succeed, stop the batch
            except EcoagentError as exc:
                error = exc.message
            except Exception as exc:  # one row's surprise must not end the batch
                error = f"{type(exc).__name__}: {exc}"
            if record is not None and not record.resolved and error is None:
                error = next((a.error for a in record.attempts if a.error), None)
            result = BatchResult(row, record, error, time.monotonic() - t0, banked)
            summary.add(result)
            if on_result is not None:
                on_result(result, summary)

    await asyncio.gather(*(one(r) for r in rows))
    return summary
