"""Adding up what runs cost: tokens and USD per rung, against the top-rung estimate.

One tally for a chat session, a batch and a bench strategy alike. The top-rung
figure is an *estimate* (the same tokens and compute seconds at the top rung's prices), and is labelled
as one wherever it is shown.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

from .records import RunRecord

__all__ = ["CostTally", "RungTally", "quantile"]


@dataclass
class RungTally:
    """One rung's (or one judge's) share of a tally."""

    attempts: int = 0
    solved: int = 0
    tokens: int = 0
    cost: float = 0.0
    compute_s: float = 0.0


@dataclass
class CostTally:
    """Tokens and cost per rung over many runs."""

    per_rung: dict[str, RungTally] = field(default_factory=dict)
    runs: int = 0
    resolved: int = 0
    cost: float = 0.0
    estimate: float = 0.0
    tokens: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    compute_s: float = 0.0

    def add(self, record: RunRecord) -> None:
        """Count one run: every rung attempt and every paid verdict."""
        for attempt in record.attempts:
            row = self.per_rung.setdefault(attempt.rung, RungTally())
            ok = bool(attempt.verdict and attempt.verdict.ok)
            row.attempts += 1
            row.solved += ok
            row.tokens += attempt.tokens
            row.cost += attempt.cost
            row.compute_s += attempt.model_s
            verdict = attempt.verdict
            if verdict and (verdict.prompt_tokens or verdict.completion_tokens):
                judged = self.per_rung.setdefault(f"{verdict.judge} judge", RungTally())
                judged.attempts += 1
                judged.solved += ok
                judged.tokens += verdict.prompt_tokens + verdict.completion_tokens
                judged.cost += verdict.cost
        self.runs += 1
        self.resolved += record.resolved
        self.cost += record.total_cost
        self.estimate += record.top_rung_cost_estimate
        self.tokens += record.tokens
        self.prompt_tokens += record.prompt_tokens
        self.completion_tokens += record.completion_tokens
        self.compute_s += record.compute_s

    @property
    def saving_estimate(self) -> float:
        """Estimated USD saved against sending the same tokens to the top rung."""
        return self.estimate - self.cost


def quantile(values: Iterable[float], q: float) -> float:
    """The ``q`` quantile (0.5 = median, 0.9 = p90) of ``values``; 0 when there are none."""
    ordered = sorted(values)
    if len(ordered) < 2:
        return ordered[0] if ordered else 0.0
    return statistics.quantiles(ordered, n=100, method="inclusive")[min(98, max(0, round(q * 100) - 1))]
