"""Logged cascades: what each rung did on each query, read back from the run log.

A ladder run is a cascade: rungs tried in order from a start rung, each with its
verdict and cost, until one succeeds. That is the router's training data and what
its policies are evaluated on without running any model again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ..config import Rung
from ..records import RunRecord

__all__ = ["Cascade", "RungOutcome", "cascades_from"]


@dataclass(frozen=True)
class RungOutcome:
    """One logged attempt of one rung."""

    ok: bool
    cost: float
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class Cascade:
    """One query's logged climb: ``outcomes[i]`` is rung ``i``'s attempt, for the rungs tried.

    The rungs tried are contiguous, from ``start`` up to the first success (or the top).
    """

    query: str
    created_at: datetime
    start: int
    outcomes: dict[int, RungOutcome]

    @property
    def last_tried(self) -> int:
        """The highest rung the log has an attempt of."""
        return max(self.outcomes)

    @property
    def solved_at(self) -> int | None:
        """The rung that solved the query (None when none did)."""
        return next((i for i in sorted(self.outcomes) if self.outcomes[i].ok), None)

    def labels(self, rungs: int) -> list[float | None]:
        """Per rung: 1.0 solved, 0.0 failed, None unknown.

        A rung above the one that solved the query was never tried; it counts as
        solving it too (a stronger rung solves what a weaker one did), the assumption
        routers for model cascades make. Rungs below the start are unknown.
        """
        solved = self.solved_at
        out: list[float | None] = []
        for i in range(rungs):
            if i in self.outcomes:
                out.append(1.0 if self.outcomes[i].ok else 0.0)
            elif solved is not None and i > solved:
                out.append(1.0)
            else:
                out.append(None)
        return out


def cascades_from(records: Iterable[RunRecord], rungs: Sequence[Rung]) -> list[Cascade]:
    """The cascades of ``records`` on the ladder ``rungs``, oldest first.

    Runs answered without a model (cache, replay), runs without a judged attempt and
    runs on rungs that are not on this ladder (another ladder's log) are left out.
    """
    index = {r.name: i for i, r in enumerate(rungs)}
    found = []
    for record in records:
        attempts = [a for a in record.attempts if a.verdict is not None]
        if record.served_from_cache or not attempts or any(a.rung not in index for a in attempts):
            continue
        outcomes = {
            index[a.rung]: RungOutcome(bool(a.verdict and a.verdict.ok), a.cost, a.prompt_tokens, a.completion_tokens)
            for a in attempts
        }
        tried = sorted(outcomes)
        if tried != list(range(tried[0], tried[-1] + 1)):
            continue  # not a climb of this ladder (rungs skipped): cannot be replayed as a cascade
        found.append(Cascade(record.query, record.created_at, tried[0], outcomes))
    return sorted(found, key=lambda c: c.created_at)
