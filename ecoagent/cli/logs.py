"""``ecoagent logs``: recent runs with rung, verdict, tokens and cost, or one run in full."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from ..errors import EcoagentError
from ..records import RunRecord
from ..runlog import RunLog
from ._common import handle_errors, out, settings_from
from ._render import money

__all__ = ["logs"]

_WIDE = 120  # below this many columns, the table drops the time and tokens to keep the query readable


def _table(records: list[RunRecord], width: int) -> Table:
    """Recent runs; ids are copied by people, so they never wrap and the query takes the squeeze."""
    wide = width >= _WIDE
    table = Table(title=f"last {len(records)} run(s)", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("run", no_wrap=True, min_width=24)
    if wide:
        table.add_column("when", no_wrap=True)
    table.add_column("result", no_wrap=True)
    if wide:
        table.add_column("tokens", no_wrap=True, justify="right")
    table.add_column("cost", no_wrap=True, justify="right")
    table.add_column("query", overflow="fold", ratio=1, min_width=20)
    for r in records:
        last = r.attempts[-1].verdict if r.attempts else None
        result = (
            ("✓ " + (r.answered_by or "-"))
            if r.resolved
            else "✗ cancelled"
            if r.cancelled
            else ("✗ " + (last.judge if last else "-"))
        )
        cells = [r.run_id, f"{r.created_at:%m-%d %H:%M}", result, f"{r.tokens:,}", money(r.total_cost), r.query[:160]]
        table.add_row(*(cells if wide else [cells[0], cells[2], cells[4], cells[5]]))
    return table


@handle_errors
def logs(
    ctx: typer.Context,
    n: Annotated[int, typer.Option("-n", min=1, help="How many recent runs.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines (full records with --run).")] = False,
    run: Annotated[str | None, typer.Option("--run", help="Show one run in full.")] = None,
) -> None:
    """Show recent runs, or one run in full."""
    log = RunLog(settings_from(ctx).runlog_file())
    try:
        if run:
            record = log.get(run)
            if record is None:
                raise EcoagentError(f"no run with id {run!r}", "see `ecoagent logs` for run ids", exit_code=2)
            if as_json:
                sys.stdout.write(record.model_dump_json() + "\n")
                return
            out.print(f"[bold]{record.run_id}[/]  {record.created_at:%Y-%m-%d %H:%M:%S}  {record.query}")
            for d in record.demonstrations:
                out.print(f"  demonstration {d.id} ({d.score:.2f}): {d.query}")
            for a in record.attempts:
                verdict = a.verdict.reason if a.verdict else "-"
                mark = "[green]✓[/]" if a.verdict and a.verdict.ok else "[red]✗[/]"
                out.print(
                    f"  {mark} {a.rung}: {verdict} · {a.tokens:,} tokens · {money(a.cost)} · {len(a.executions)} execution(s)"
                )
            out.print(f"  answer: {record.final_answer or '-'}")
            return
        records = log.recent(n)
        if as_json:
            for record in records:
                sys.stdout.write(
                    json.dumps({**record.summary(), "query": record.query, "created_at": record.created_at.isoformat()})
                    + "\n"
                )
            return
        out.print(_table(records, out.width))
    finally:
        log.close()
