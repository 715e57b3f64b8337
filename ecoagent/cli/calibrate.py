"""``ecoagent calibrate [BENCH_FOLDER ...]``: how often answers backed by each kind of evidence are wrong.

With folders, counts what the evidence judge weighed in those bench runs, scored by
their answer keys, and writes the user's calibration (``[judge] calibration``); without,
shows the calibration in force. Either way it prints, per rung of the ladder and kind
of evidence, the checked answers, the wrong ones, the upper bound, and whether the
bound passes ``[judge] max_error``: where the ladder will accept an answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..bench.calibrate import calibration_from_results, results_files
from ..judge.calibration import EVIDENCE_KINDS, Calibration
from ..judge.evidence import load_calibration, rung_identity, shipped_calibration_file
from ._common import err, handle_errors, out, settings_from

__all__ = ["calibrate"]


@handle_errors
def calibrate(
    ctx: typer.Context,
    folders: Annotated[
        list[Path] | None,
        typer.Argument(
            help='Bench folders (or results.jsonl files) of runs with judge = "evidence"; none: show the calibration in force.'
        ),
    ] = None,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Write here instead of [judge] calibration (e.g. a ladder's shipped file)."),
    ] = None,
    add: Annotated[bool, typer.Option("--add", help="Add to the existing file instead of replacing it.")] = False,
    ladder: Annotated[
        str | None, typer.Option("--ladder", help="Ladder preset name or TOML path whose rungs the table shows.")
    ] = None,
) -> None:
    """Build or show the evidence judge's calibration: where an answer can be accepted without a key."""
    settings = settings_from(ctx, ladder=ladder)
    if folders:
        files = results_files(folders)
        table = calibration_from_results(files)
        if not table.rungs:
            err.print(
                'the results hold no observations: run the bench with a strategy whose judge is "evidence" '
                "(explore = true runs every rung and sample)"
            )
            raise typer.Exit(1)
        target = out_file or settings.judge.calibration_file()
        if add:
            table = Calibration.load(target).merged(table)
        table.save(target)
        err.print(
            f"wrote {target} ({sum(c.n for b in table.rungs.values() for c in b.values())} checked answers "
            f"from {len(files)} results file(s))"
        )
    else:
        err.print(f"shipped: {shipped_calibration_file()}; yours: {settings.judge.calibration_file()}")
    shown = load_calibration(settings.judge)
    judge = settings.judge
    grid = Table(
        title=f"calibration at max_error {judge.max_error:.2f}, {judge.confidence:.0%} upper bound",
        title_justify="left",
    )
    for column in ("rung", "evidence", "checked", "wrong", "rate", "bound", "accepts"):
        grid.add_column(column, justify="left" if column in ("rung", "evidence") else "right")
    for rung in settings.ladder.resolved():
        for kind in EVIDENCE_KINDS:
            est = shown.estimate(rung_identity(rung), kind, judge.confidence)
            rate = f"{est.rate:.0%}" if est.rate is not None else "-"
            note = "" if est.source == "calibrated" else f" ({est.source})"
            grid.add_row(
                rung.name,
                kind + note,
                str(est.n),
                str(est.wrong),
                rate,
                f"{est.upper:.2f}",
                "yes" if est.upper <= judge.max_error else "no",
            )
    out.print(grid)
