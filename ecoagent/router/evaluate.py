"""Start-rung policies evaluated on logged cascades, without running any model.

A policy picks a start rung per query; the logged cascade says what follows. Where
the start is a rung the log tried (at or above its logged start, at or below the
rung that solved it), the outcome is **exact**: the logged verdicts and costs from
there up. Where it is not (above the solving rung, or below the logged start), the
log cannot say: the outcome is **bounded**, optimistically (the chosen rung solves
it) and pessimistically (it and every untried rung above fail), with the cost of an
untried rung *estimated* as the tokens of a logged attempt at that rung's prices.

The curve's summary follows RouteLLM, with "strong calls" read as queries that skip
the bottom rung: PGR (performance gap recovered) is a policy's success between
always-bottom (0) and always-top (1); APGR is the area under PGR against the share
of skipping queries; CPT(x) is the smallest share of skipping queries that
recovers x of the gap.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..config import Rung
from .cascades import Cascade

__all__ = ["Outcome", "PolicyResult", "apgr", "cpt", "evaluate", "outcome", "pgr"]


@dataclass(frozen=True)
class Outcome:
    """What starting one query at one rung would have given (``exact`` when low == high)."""

    success_low: bool
    success_high: bool
    cost_low: float
    cost_high: float
    exact: bool


def _estimate(cascade: Cascade, rung: Rung) -> float:
    """Estimated cost of an untried rung: the solving (else the last) attempt's tokens at its prices."""
    ref = cascade.outcomes[cascade.solved_at if cascade.solved_at is not None else cascade.last_tried]
    return rung.cost(ref.prompt_tokens, ref.completion_tokens)


def outcome(cascade: Cascade, start: int, rungs: Sequence[Rung]) -> Outcome:
    """Starting ``cascade``'s query at rung ``start``, as far as the log can tell."""
    solved = cascade.solved_at
    top = len(rungs) - 1
    if start < cascade.start:  # rungs below the logged start were never tried
        unknown = [_estimate(cascade, rungs[i]) for i in range(start, cascade.start)]
        logged = sum(o.cost for o in cascade.outcomes.values())
        return Outcome(solved is not None, True, unknown[0], sum(unknown) + logged, exact=False)
    if solved is None or start <= solved:
        if start <= cascade.last_tried:
            end = solved if solved is not None else cascade.last_tried
            cost = sum(cascade.outcomes[i].cost for i in range(start, end + 1))
            return Outcome(solved is not None, solved is not None, cost, cost, exact=True)
    # above the rung that solved it: untried
    first = _estimate(cascade, rungs[start])
    every = sum(_estimate(cascade, rungs[i]) for i in range(start, top + 1))
    return Outcome(False, True, first, every, exact=False)


@dataclass(frozen=True)
class PolicyResult:
    """A policy over a set of queries: success and cost as bounds, and how many needed them."""

    name: str
    queries: int
    solved_low: int
    solved_high: int
    cost_low: float
    cost_high: float
    bounded: int
    skipped_bottom: int

    @property
    def success_low(self) -> float:
        """Pessimistic success rate."""
        return self.solved_low / self.queries if self.queries else 0.0

    @property
    def success_high(self) -> float:
        """Optimistic success rate."""
        return self.solved_high / self.queries if self.queries else 0.0

    @property
    def skip_share(self) -> float:
        """Share of queries started above the bottom rung ("strong calls")."""
        return self.skipped_bottom / self.queries if self.queries else 0.0


def evaluate(name: str, starts: Sequence[int], cascades: Sequence[Cascade], rungs: Sequence[Rung]) -> PolicyResult:
    """A policy's ``starts`` (one per cascade) replayed on the logged ``cascades``."""
    outs = [outcome(c, s, rungs) for c, s in zip(cascades, starts, strict=True)]
    return PolicyResult(
        name=name,
        queries=len(outs),
        solved_low=sum(o.success_low for o in outs),
        solved_high=sum(o.success_high for o in outs),
        cost_low=sum(o.cost_low for o in outs),
        cost_high=sum(o.cost_high for o in outs),
        bounded=sum(not o.exact for o in outs),
        skipped_bottom=sum(s > 0 for s in starts),
    )


def baselines(cascades: Sequence[Cascade], rungs: Sequence[Rung], *, seed: int = 0) -> list[PolicyResult]:
    """Always-bottom, always-top, a random start, and the oracle: it knows the outcome, so it starts at the
    solving rung, and a query no rung solves costs it only the top rung's failed attempt."""
    top = len(rungs) - 1
    rng = random.Random(seed)
    policies: dict[str, Callable[[Cascade], int]] = {
        "always-bottom": lambda c: 0,
        "always-top": lambda c: top,
        "random": lambda c: rng.randint(0, top),
        "oracle": lambda c: c.solved_at if c.solved_at is not None else top,
    }
    return [evaluate(name, [pick(c) for c in cascades], cascades, rungs) for name, pick in policies.items()]


def pgr(result: PolicyResult, bottom: PolicyResult, top: PolicyResult, *, optimistic: bool) -> float:
    """Performance gap recovered: 0 at always-bottom's success, 1 at always-top's; NaN when
    there is no gap (always-top solves no more than always-bottom: nothing to recover)."""
    s = result.success_high if optimistic else result.success_low
    lo = bottom.success_high if optimistic else bottom.success_low
    hi = top.success_high if optimistic else top.success_low
    return (s - lo) / (hi - lo) if hi > lo else math.nan


def _curve(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """(skip share, PGR) points from (0, 0) to (1, 1), the best PGR at each share."""
    best: dict[float, float] = {0.0: 0.0, 1.0: 1.0}
    for share, value in points:
        best[share] = max(best.get(share, value), value)
    return sorted(best.items())


def apgr(points: Sequence[tuple[float, float]]) -> float:
    """Area under PGR against the share of queries skipping the bottom rung (trapezoids); NaN without a gap."""
    if any(math.isnan(value) for _, value in points):
        return math.nan
    curve = _curve(points)
    return sum((x1 - x0) * (y0 + y1) / 2 for (x0, y0), (x1, y1) in zip(curve, curve[1:], strict=False))


def cpt(points: Sequence[tuple[float, float]], target: float) -> float:
    """The smallest share of queries skipping the bottom rung at which PGR reaches ``target``; NaN without a gap."""
    if any(math.isnan(value) for _, value in points):
        return math.nan
    return min(share for share, value in _curve(points) if value >= target)
