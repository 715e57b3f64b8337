"""Similarity-weighted nearest neighbours: each rung's chance of solving a query, from similar logged ones.

In the spirit of RouteLLM's similarity-weighted ranking: the logged queries most
similar to the new one vote on each rung's success, each with a weight that falls
off quickly with distance (``exp(sharpness * (similarity - 1))``). A rung's estimate
is the weighted share of those neighbours it solved, pulled toward its overall rate
by a small prior; its *evidence* is the sum of weights behind it. The start rung is
the cheapest rung that either clears the threshold or has too little evidence to be
skipped, so a cold start or an unfamiliar query climbs the plain ladder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Estimate", "NeighbourRouter", "Start"]


@dataclass(frozen=True)
class Estimate:
    """One rung's chance of solving the query, and the similarity weight behind it."""

    p: float
    evidence: float
    neighbours: int


@dataclass(frozen=True)
class Start:
    """Where a query starts and why."""

    rung: int
    reason: str
    estimates: list[Estimate]


class NeighbourRouter:
    """Start-rung estimates from logged cascades.

    Args:
        rungs: How many rungs the ladder has.
        k: Neighbours consulted.
        min_similarity: Cosine below which a logged query says nothing about this one.
        min_evidence: Weight needed before a rung may be skipped (about one close neighbour).
        sharpness: How fast a neighbour's weight falls with distance.
        prior: Weight of each rung's overall success rate in its estimate.
    """

    def __init__(
        self,
        rungs: int,
        *,
        k: int = 20,
        min_similarity: float = 0.5,
        min_evidence: float = 0.8,
        sharpness: float = 5.0,
        prior: float = 0.5,
    ) -> None:
        self.rungs = rungs
        self.k = k
        self.min_similarity = min_similarity
        self.min_evidence = min_evidence
        self.sharpness = sharpness
        self.prior = prior
        self._vectors: npt.NDArray[np.float32] = np.zeros((0, 1), dtype=np.float32)
        self._labels: npt.NDArray[np.float64] = np.zeros((0, rungs))
        self._rates = np.full(rungs, 0.5)

    def fit(self, vectors: npt.NDArray[np.float32], labels: Sequence[Sequence[float | None]]) -> NeighbourRouter:
        """Learn from logged queries' unit vectors and their per-rung labels (1, 0 or None)."""
        self._vectors = np.asarray(vectors, dtype=np.float32)
        self._labels = np.array(
            [[np.nan if x is None else x for x in row] for row in labels], dtype=np.float64
        ).reshape(len(labels), self.rungs)
        with np.errstate(invalid="ignore"):
            rates = np.nanmean(self._labels, axis=0) if len(labels) else np.full(self.rungs, np.nan)
        self._rates = np.where(np.isnan(rates), 0.5, rates)
        return self

    @property
    def size(self) -> int:
        """Logged queries the router learned from."""
        return int(self._vectors.shape[0])

    def estimate(self, vector: npt.NDArray[np.float32]) -> list[Estimate]:
        """Each rung's chance of solving the query with this unit vector (from the fitted queries)."""
        if self.size == 0:
            return self.estimate_from(np.zeros(0), np.zeros((0, self.rungs)))
        sims = self._vectors @ np.asarray(vector, dtype=np.float32)
        order = np.argsort(-sims)[: self.k]
        return self.estimate_from(sims[order], self._labels[order])

    def estimate_from(self, sims: npt.NDArray[np.floating], labels: npt.NDArray[np.float64]) -> list[Estimate]:
        """Each rung's chance from given neighbours: their similarities and per-rung labels (NaN: unknown)."""
        keep = sims >= self.min_similarity
        weights = np.exp(self.sharpness * (np.asarray(sims, dtype=np.float64)[keep] - 1.0))
        labels = np.asarray(labels, dtype=np.float64).reshape(len(sims), self.rungs)[keep]
        out = []
        for r in range(self.rungs):
            known = ~np.isnan(labels[:, r])
            w = weights[known]
            evidence = float(w.sum())
            p = (float((w * labels[known, r]).sum()) + self.prior * self._rates[r]) / (evidence + self.prior)
            out.append(Estimate(p, evidence, int(known.sum())))
        return out

    def start(self, vector: npt.NDArray[np.float32], threshold: float) -> Start:
        """The cheapest rung likely to solve the query (``p >= threshold``), or one too little is known about.

        A rung is skipped only on evidence that it fails on similar queries; when
        every rung is skipped, the query starts at the top.
        """
        return self.start_from(self.estimate(vector), threshold)

    def start_from(self, estimates: list[Estimate], threshold: float) -> Start:
        """:meth:`start`, for estimates already made (e.g. from a Qdrant search)."""
        for r, e in enumerate(estimates):
            if e.evidence < self.min_evidence:
                why = "no similar logged queries" if r == 0 and e.neighbours == 0 else "too little evidence to skip it"
                return Start(r, why, estimates)
            if e.p >= threshold:
                return Start(r, f"estimated {e.p:.0%} from {e.neighbours} similar queries", estimates)
        return Start(self.rungs - 1, "every rung below failed on similar queries", estimates)
