"""``ecoagent ladder``: the rungs, their prices, and whether each one answers right now."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Annotated

import typer
from rich.table import Table

from ..config import LadderSettings
from ..models import probe_rung
from ._common import handle_errors, out, settings_from

__all__ = ["ladder"]


@handle_errors
def ladder(
    ctx: typer.Context,
    preset: Annotated[str | None, typer.Option("--ladder", help="Show this preset or TOML file instead.")] = None,
) -> None:
    """Show the ladder: rungs cheapest first, prices, and whether each is reachable."""
    settings = settings_from(ctx)
    rungs = LadderSettings(preset=preset).resolved() if preset else settings.ladder.resolved()
    with ThreadPoolExecutor(max_workers=4) as pool:
        probes = list(pool.map(probe_rung, rungs))
    table = Table(
        title=f"ladder ({preset or ('inline' if settings.ladder.rungs else settings.ladder.preset)})",
        title_justify="left",
    )
    for col in ("#", "rung", "provider", "model", "$/Mtok in", "$/Mtok out", "reachable"):
        if col == "model":  # can be a long path: it folds and takes the squeeze
            table.add_column(col, overflow="fold", ratio=1)
        else:
            table.add_column(col, no_wrap=True)
    for i, (rung, (ok, _detail)) in enumerate(zip(rungs, probes, strict=True), 1):
        table.add_row(
            str(i),
            rung.name,
            rung.provider,
            rung.model,
            f"{rung.input_price_per_mtok:g}",
            f"{rung.output_price_per_mtok:g}",
            "[green]yes[/]" if ok else "[red]no[/]",
        )
    out.print(table)
    for rung, (ok, detail) in zip(rungs, probes, strict=True):  # whole sentences, at any width
        out.print(f"{'[green]✓[/]' if ok else '[red]✗[/]'} {rung.name}: ", end="")
        out.print(detail, markup=False)
    if not all(ok for ok, _ in probes):
        raise typer.Exit(1)
