"""How often an answer backed by a given kind of evidence is wrong: the table behind ``max_error``.

The evidence judge (:mod:`.evidence`) accepts an answer only where the *upper confidence
bound* of its bin's error rate is at most the user's ``[judge] max_error`` (δ). A bin is
one rung (named by what it runs: model and adapter, so a renamed rung keeps its data and
another model under an old name does not inherit it) and one kind of evidence:

* ``single`` — the answer stands alone: nothing independent agrees with it;
* ``samples`` — another sample of the same rung gave the same answer;
* ``rungs`` — another rung's independent attempt gave the same answer;
* ``function``, ``function-samples``, ``function-rungs`` — the same three for an answer that
  is a written function, compared by what it returns on the query's calls (:mod:`.probe`;
  it also returned what the query's examples state), kept apart because their error rates
  are not a printed answer's.

Each bin counts answers checked against a key (a bench run in which the pipeline never
saw the key, scored afterwards; thumbs up and down) and how many of them were wrong. The
bound is the one-sided Clopper-Pearson bound: distribution-free, so a bin needs enough
checked answers before it can pass a small δ (29 with none wrong for δ = 0.10 at 95%).
A rung the table does not know borrows the pooled agreement bins of the rungs it does
know (said so in the estimate); a lone answer of an unknown rung is never accepted.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from ..errors import EcoagentError
from ..records import risk_phrase

__all__ = [
    "ALONE",
    "EVIDENCE_KINDS",
    "BinCount",
    "Calibration",
    "Estimate",
    "EvidenceKind",
    "risk_phrase",
    "upper_bound",
]

EvidenceKind = Literal["single", "samples", "rungs", "function", "function-samples", "function-rungs"]
EVIDENCE_KINDS: tuple[EvidenceKind, ...] = (
    "single",
    "samples",
    "rungs",
    "function",
    "function-samples",
    "function-rungs",
)
ALONE: tuple[EvidenceKind, ...] = ("single", "function")
"""The kinds in which nothing independent agrees: never borrowed by a rung the table does not know."""
POOLED = "*"
"""The identity under which :meth:`Calibration.pooled` adds up every known rung."""


def upper_bound(wrong: int, n: int, confidence: float = 0.95) -> float:
    """One-sided Clopper-Pearson upper bound on an error rate after ``wrong`` of ``n``.

    The smallest p for which seeing ``wrong`` or fewer errors in ``n`` would have a
    chance of at most ``1 - confidence``. No data gives 1.0.
    """
    if n <= 0 or wrong >= n:
        return 1.0
    alpha = 1.0 - confidence
    lo, hi = wrong / n, 1.0
    for _ in range(60):  # bisection: the binomial CDF falls as p rises
        mid = (lo + hi) / 2
        if _binom_cdf(wrong, n, mid) > alpha:
            lo = mid
        else:
            hi = mid
    return hi


def _binom_cdf(k: int, n: int, p: float) -> float:
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0 if k < n else 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    total = 0.0
    for i in range(k + 1):
        log_term = math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q
        total += math.exp(log_term)
    return min(total, 1.0)


class BinCount(BaseModel):
    """Checked answers in one bin and how many were wrong."""

    n: int = Field(0, ge=0)
    wrong: int = Field(0, ge=0)

    def add(self, other: BinCount) -> BinCount:
        """Both counts together."""
        return BinCount(n=self.n + other.n, wrong=self.wrong + other.wrong)


@dataclass(frozen=True)
class Estimate:
    """What the table says about one bin: the observed error rate, its upper bound, and on what it rests."""

    kind: EvidenceKind
    n: int
    wrong: int
    upper: float
    source: Literal["calibrated", "borrowed", "none"]

    @property
    def rate(self) -> float | None:
        """The observed share of wrong answers (None without data)."""
        return self.wrong / self.n if self.n else None


class Calibration(BaseModel):
    """Counts per rung identity and evidence kind, with where they came from.

    ``rungs`` maps a rung identity (see :func:`rung_identity <ecoagent.judge.evidence.rung_identity>`)
    to its bins. ``meta`` is free-form provenance (data digest, rebuild command, figures).
    """

    rungs: dict[str, dict[EvidenceKind, BinCount]] = Field(default_factory=dict)
    meta: dict[str, object] = Field(default_factory=dict)

    # ---- reading --------------------------------------------------------------------
    def count(self, identity: str, kind: EvidenceKind) -> BinCount:
        """The bin's counts (zero when unknown)."""
        return self.rungs.get(identity, {}).get(kind, BinCount())

    def pooled(self, kind: EvidenceKind) -> BinCount:
        """One kind of evidence added up over every known rung."""
        total = BinCount()
        for bins in self.rungs.values():
            total = total.add(bins.get(kind, BinCount()))
        return total

    def estimate(self, identity: str, kind: EvidenceKind, confidence: float = 0.95) -> Estimate:
        """The bin's error rate and upper bound; an unknown rung borrows the pooled agreement bins."""
        if identity in self.rungs:
            count, source = self.count(identity, kind), "calibrated"
        elif kind not in ALONE and self.pooled(kind).n:
            count, source = self.pooled(kind), "borrowed"
        else:
            count, source = BinCount(), "none"
        upper = upper_bound(count.wrong, count.n, confidence)
        return Estimate(kind=kind, n=count.n, wrong=count.wrong, upper=upper, source=source)  # type: ignore[arg-type]

    # ---- changing -------------------------------------------------------------------
    def observe(self, identity: str, kind: EvidenceKind, wrong: bool) -> None:
        """Count one checked answer."""
        bins = self.rungs.setdefault(identity, {})
        bins[kind] = bins.get(kind, BinCount()).add(BinCount(n=1, wrong=int(wrong)))

    def merged(self, other: Calibration) -> Calibration:
        """Both tables' counts added up (provenance of ``self`` kept)."""
        out = self.model_copy(deep=True)
        for identity, bins in other.rungs.items():
            mine = out.rungs.setdefault(identity, {})
            for kind, count in bins.items():
                mine[kind] = mine.get(kind, BinCount()).add(count)
        return out

    # ---- files ----------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path) -> Calibration:
        """Read a calibration file; a missing file is an empty table.

        Raises:
            EcoagentError: The file is not a calibration (says where and what to do).
        """
        if not path.is_file():
            return cls()
        try:
            return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, ValidationError) as exc:
            raise EcoagentError(
                f"{path} is not a calibration file: {str(exc).splitlines()[0]}",
                "rebuild it with `ecoagent calibrate`, or delete it to start from the shipped calibration",
                exit_code=2,
            ) from None

    def save(self, path: Path) -> None:
        """Write the table atomically (a crash leaves the old file or the new one)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".calibration-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(self.model_dump_json(indent=2) + "\n")
        os.replace(tmp, path)
