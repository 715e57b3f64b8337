"""The router evaluated on a run log: split by time, a threshold sweep, baselines, APGR and CPT.

The older part of the log trains the router; the newer part is what it is tested
on, so it never sees the future. Every threshold of the sweep is one policy; with
the baselines (always-bottom, always-top, random, oracle) they make the
cost–success curve, printed as a table and drawn as a PNG.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from rich.table import Table

from ..config import Rung
from ..errors import EcoagentError
from .cascades import Cascade
from .evaluate import PolicyResult, apgr, baselines, cpt, evaluate, pgr
from .neighbours import NeighbourRouter

__all__ = ["RouterEval", "calibrate", "evaluate_router", "eval_table", "write_curve"]

THRESHOLDS = tuple(round(x * 0.05, 2) for x in range(21))


@dataclass
class RouterEval:
    """The router and the baselines on the test part of a log."""

    rungs: list[str]
    train: int
    test: int
    baselines: list[PolicyResult]
    sweep: list[tuple[float, PolicyResult]] = field(default_factory=list)

    def baseline(self, name: str) -> PolicyResult:
        """A baseline by name."""
        return next(b for b in self.baselines if b.name == name)

    def points(self, *, optimistic: bool) -> list[tuple[float, float]]:
        """(share of queries skipping the bottom rung, PGR) of every threshold."""
        bottom, top = self.baseline("always-bottom"), self.baseline("always-top")
        return [(r.skip_share, pgr(r, bottom, top, optimistic=optimistic)) for _, r in self.sweep]

    def summary(self) -> dict[str, tuple[float, float]]:
        """APGR, CPT(50%) and CPT(80%), each as (pessimistic, optimistic)."""
        low, high = self.points(optimistic=False), self.points(optimistic=True)
        return {
            "APGR": (apgr(low), apgr(high)),
            "CPT(50%)": (cpt(low, 0.5), cpt(high, 0.5)),
            "CPT(80%)": (cpt(low, 0.8), cpt(high, 0.8)),
        }


def evaluate_router(
    cascades: Sequence[Cascade],
    vectors: npt.NDArray[np.float32],
    rungs: Sequence[Rung],
    *,
    split: float = 0.5,
    thresholds: Sequence[float] = THRESHOLDS,
    router: NeighbourRouter | None = None,
) -> RouterEval:
    """Train on the oldest ``split`` of ``cascades`` (vectors: their queries' unit vectors, same order), test on the rest.

    Raises:
        EcoagentError: Too few cascades to split, or a ladder of one rung (nothing to route).
    """
    if len(rungs) < 2:
        raise EcoagentError(
            "routing needs a ladder of two rungs or more", "pass --ladder with the ladder the log ran on", exit_code=2
        )
    cut = int(len(cascades) * split)
    if cut < 1 or cut >= len(cascades):
        raise EcoagentError(
            f"{len(cascades)} logged cascade(s) cannot be split {split:.0%}/{1 - split:.0%}",
            "log more runs on this ladder (ecoagent bench writes a run log per strategy)",
            exit_code=2,
        )
    train, test = list(cascades[:cut]), list(cascades[cut:])
    model = (router or NeighbourRouter(len(rungs))).fit(vectors[:cut], [c.labels(len(rungs)) for c in train])
    result = RouterEval([r.name for r in rungs], len(train), len(test), baselines(test, rungs))
    test_vectors = vectors[cut:]
    for threshold in thresholds:
        starts = [model.start(v, threshold).rung for v in test_vectors]
        result.sweep.append((threshold, evaluate(f"router@{threshold:.2f}", starts, test, rungs)))
    return result


def calibrate(result: RouterEval, skip_share: float) -> tuple[float, PolicyResult]:
    """The threshold whose share of queries skipping the bottom rung is closest to ``skip_share``
    (the lower threshold on a tie: fewer skips)."""
    return min(result.sweep, key=lambda tr: (abs(tr[1].skip_share - skip_share), tr[0]))


def _row(r: PolicyResult) -> list[str]:
    success = f"{r.success_low:.1%}" if r.solved_low == r.solved_high else f"{r.success_low:.1%}–{r.success_high:.1%}"
    cost = f"{r.cost_low:.6f}" if r.cost_low == r.cost_high else f"{r.cost_low:.6f}–{r.cost_high:.6f}"
    return [r.name, success, cost, f"{r.skip_share:.0%}", f"{r.bounded}/{r.queries}"]


def eval_table(result: RouterEval, title: str) -> Table:
    """Baselines, then the sweep (success and cost as pessimistic–optimistic bounds where the log cannot say)."""
    table = Table(title=title, title_justify="left")
    for name in ("policy", "success", "cost $", "skip bottom", "bounded"):
        table.add_column(name, justify="left" if name == "policy" else "right")
    for r in result.baselines:
        table.add_row(*_row(r))
    for _, r in result.sweep:
        table.add_row(*_row(r))
    return table


def write_curve(result: RouterEval, path: Path, title: str) -> Path:
    """Cost against success: the router's sweep (both bounds) and the baselines, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    sweep = [r for _, r in result.sweep]
    ax.plot([r.cost_low for r in sweep], [100 * r.success_high for r in sweep], "-o", ms=3, label="router (optimistic)")
    ax.plot(
        [r.cost_high for r in sweep], [100 * r.success_low for r in sweep], "--o", ms=3, label="router (pessimistic)"
    )
    at: dict[tuple[float, float], list[str]] = {}  # baselines at the same point share one label
    for r in result.baselines:
        at.setdefault(((r.cost_low + r.cost_high) / 2, 100 * (r.success_low + r.success_high) / 2), []).append(r.name)
    for (x, y), names in at.items():
        ax.scatter([x], [y], marker="s", s=40)
        ax.annotate(" = ".join(names), (x, y), textcoords="offset points", xytext=(5, 4), fontsize=8)
    ax.set_xlabel("cost (USD)")
    ax.set_ylabel("success (%)")
    ax.set_ylim(-5, 105)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    plt.close(fig)
    return path
