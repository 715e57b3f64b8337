"""``ecoagent router``: evaluate start-rung policies on logged cascades, and pick a threshold.

Nothing here runs a model: the run log (yours, or the ones ``ecoagent bench`` writes
per strategy) already holds every rung's verdict and cost per query.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import EcoagentError
from ._common import err, handle_errors, out, read_runlogs, settings_from

if TYPE_CHECKING:
    from ..router import PolicyResult, RouterEval

__all__ = ["router_app"]

router_app = typer.Typer(help="Routing: start each query at the rung likely to solve it.", no_args_is_help=True)

LogOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--log", help="Run log(s) to read (default: yours); e.g. ecoagent-bench/sequential/ladder/runs.sqlite3."
    ),
]
LadderOption = Annotated[str | None, typer.Option("--ladder", help="The ladder the log ran on (preset or TOML path).")]
SplitOption = Annotated[float, typer.Option("--split", min=0.1, max=0.9, help="Oldest share of the log to train on.")]


def _evaluate(ctx: typer.Context, logs: list[Path] | None, ladder: str | None, split: float) -> tuple[RouterEval, int]:
    from ..embed import Embedder
    from ..router import cascades_from, evaluate_router

    settings = settings_from(ctx, ladder=ladder)
    rungs = settings.ladder.resolved()
    records = read_runlogs(logs, settings)
    cascades = cascades_from(records, rungs)
    if not cascades:
        names = ", ".join(r.name for r in rungs)
        raise EcoagentError(
            f"no logged climbs of the ladder {names} in {len(records)} run(s)",
            "pass --ladder with the ladder the log ran on",
            exit_code=2,
        )
    embedder = Embedder(settings.bank.embedding_model, settings.bank.embedding_backend)
    vectors = embedder.vectors([c.query for c in cascades])
    return evaluate_router(cascades, vectors, rungs, split=split), len(records)


@router_app.command("eval")
@handle_errors
def eval_(
    ctx: typer.Context,
    logs: LogOption = None,
    ladder: LadderOption = None,
    split: SplitOption = 0.5,
    chart: Annotated[Path | None, typer.Option("--chart", help="Write the cost–success curve as a PNG here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Start-rung policies on the newer part of the log, trained on the older: sweep, baselines, APGR, CPT."""
    from ..router import eval_table, write_curve

    result, runs = _evaluate(ctx, logs, ladder, split)
    summary = result.summary()
    if as_json:
        rows = [{"policy": r.name, "threshold": None, **_data(r)} for r in result.baselines]
        rows += [{"policy": r.name, "threshold": t, **_data(r)} for t, r in result.sweep]
        out.print_json(
            json.dumps(
                {
                    "rungs": result.rungs,
                    "train": result.train,
                    "test": result.test,
                    "policies": rows,
                    "summary": {k: {"pessimistic": _num(v[0]), "optimistic": _num(v[1])} for k, v in summary.items()},
                }
            )
        )
    else:
        title = f"router eval: {' → '.join(result.rungs)} · trained on {result.train}, tested on {result.test} (of {runs} runs)"
        out.print(eval_table(result, title))
        for name, (low, high) in summary.items():
            if math.isnan(low) or math.isnan(high):
                out.print(
                    f"{name}: n/a (always-top solves no more than always-bottom here: there is no gap to recover)"
                )
            elif name.startswith("CPT"):
                out.print(f"{name}: {low:.0%} pessimistic · {high:.0%} optimistic of queries skip the bottom rung")
            else:
                out.print(f"{name}: {low:.3f} pessimistic · {high:.3f} optimistic")
        err.print(
            "success and cost show pessimistic–optimistic bounds where a start above the solving rung was never logged; "
            "an untried rung's cost is an estimate (logged tokens at its prices)",
            style="dim",
        )
    if chart is not None:
        write_curve(result, chart, f"router: {' → '.join(result.rungs)}")
        err.print(f"chart: {chart}")


def _num(value: float) -> float | None:
    """JSON has no NaN: an undefined figure is null."""
    return None if math.isnan(value) else value


def _data(r: PolicyResult) -> dict[str, object]:
    return {
        "success": [r.success_low, r.success_high],
        "cost": [r.cost_low, r.cost_high],
        "skip_bottom": r.skip_share,
        "bounded": r.bounded,
        "queries": r.queries,
    }


@router_app.command("calibrate")
@handle_errors
def calibrate_(
    ctx: typer.Context,
    skip: Annotated[
        float, typer.Option("--skip", min=0.0, max=1.0, help="Target share of queries that skip the bottom rung.")
    ],
    logs: LogOption = None,
    ladder: LadderOption = None,
    split: SplitOption = 0.5,
) -> None:
    """The threshold at which about --skip of the queries start above the bottom rung."""
    from ..router import calibrate

    result, _ = _evaluate(ctx, logs, ladder, split)
    threshold, chosen = calibrate(result, skip)
    out.print(
        f"threshold {threshold:.2f}: {chosen.skip_share:.0%} of {chosen.queries} test queries skip the bottom rung · "
        f"success {chosen.success_low:.1%}–{chosen.success_high:.1%} · cost ${chosen.cost_low:.6f}–${chosen.cost_high:.6f}"
    )
