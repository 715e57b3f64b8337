"""``ecoagent batch FILE``: run a file of queries up the ladder and report what it cost.

The running is :func:`ecoagent.batch.run_batch`; this module reads the file, shows
progress, writes each finished row to ``--out`` at once (flushed, so an interrupted
batch loses nothing and ``--resume`` continues where it stopped) and prints the report.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from ..batch import BadRow, BatchResult, BatchRow, BatchSummary, read_batch, read_done_ids, run_batch
from ..errors import EcoagentError
from ..events import Escalated, Event
from ._common import SERVER_OPTION, assistant_from, err, handle_errors, remote_from
from ._render import money

__all__ = ["batch", "judged_lines"]


_WHAT = {
    "expected": "by their expected answer",
    "tests": "by their tests",
    "evidence": "by the evidence judge: independent answers agreed under max_error; answers unchecked by a key",
    "auto": "by the auto judge: ran and converged or declared done; answers unchecked",
    "llm": "by the llm judge: a model's opinion; answers unchecked",
    "human": "by a person",
}


def judged_lines(summary: BatchSummary) -> list[str]:
    """What the success figure rests on: per judge, rows accepted of rows judged."""
    lines = []
    correct, checked = summary.checked
    if checked:
        lines.append(f"correct: {correct}/{checked} checked row(s) (an expected answer or tests)")
    for judge, (ok, n) in sorted(summary.by_judge.items()):
        lines.append(f"{ok}/{n} accepted {_WHAT.get(judge, 'by ' + judge)}")
    return lines


def _report(summary: BatchSummary) -> None:
    c = summary.cost
    table = Table(title="batch report", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value")
    table.add_row("success", f"{summary.solved}/{summary.done} ({summary.success_rate:.0%})")
    for line in judged_lines(summary):
        table.add_row("", line)
    if summary.unverified:
        table.add_row(
            "unverified",
            f"{summary.unverified} answer(s) returned that nothing independent backed (not counted "
            "as success; each row's risk is in its result line)",
        )
    for rung, row in c.per_rung.items():
        compute = f", {row.compute_s:,.1f} s compute" if row.compute_s >= 0.05 else ""
        table.add_row(
            f"  {rung}",
            f"{row.attempts} attempts, {row.solved} solved, {row.tokens:,} tokens{compute}, {money(row.cost)}",
        )
    table.add_row("escalations", str(summary.escalations))
    table.add_row("converged", f"{summary.converged} attempt(s) stopped when their code repeated its output")
    if summary.stuck:
        table.add_row("stuck", f"{summary.stuck} attempt(s) stopped when the same code failed the same way twice")
    table.add_row("tokens", f"{c.tokens:,} ({c.prompt_tokens:,} in, {c.completion_tokens:,} out)")
    if c.compute_s >= 0.05:
        table.add_row("compute", f"{c.compute_s:,.1f} s of model time (priced at each rung's price_per_compute_hour)")
    table.add_row("cost", money(c.cost))
    table.add_row(
        "top-rung estimate", f"{money(c.estimate)} (estimate: same tokens and compute seconds at the top rung's prices)"
    )
    table.add_row("saving (estimate)", money(c.saving_estimate))
    if summary.done:
        table.add_row("latency", f"p50 {summary.latency(0.5):.1f} s, p90 {summary.latency(0.9):.1f} s")
    if summary.banked:
        table.add_row("banked", f"{summary.banked} verified solution(s)")
    if summary.errors:
        table.add_row("errors", str(summary.errors))
    err.print(table)


@handle_errors
def batch(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(help=".jsonl, .csv or .txt file of queries; '-' reads JSONL from stdin.")],
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Append one JSON line per finished query.")
    ] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", "-j", min=1, max=32, help="Queries in flight.")] = 1,
    judge: Annotated[
        Literal["evidence", "auto", "expected", "tests", "llm"] | None,
        typer.Option(
            "--judge",
            help="Default: tests for rows with tests, expected for rows with an expected answer, else the configured judge.",
        ),
    ] = None,
    bank_verified: Annotated[
        bool, typer.Option("--bank-verified", help="Bank rows whose expected check or tests passed.")
    ] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Skip ids already in --out.")] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Run at most N rows.")] = None,
    ladder: Annotated[str | None, typer.Option("--ladder", help="Ladder preset name or TOML path.")] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Run every row on the ladder, even cached or replayable ones.")
    ] = False,
    server: Annotated[str | None, SERVER_OPTION] = None,
) -> None:
    """Run every query in FILE; report success, cost and savings per rung."""
    if resume and out_file is None:
        raise EcoagentError("--resume needs --out (the results to continue)", "add --out results.jsonl", exit_code=2)
    parsed = read_batch(file)
    bad = [r for r in parsed if isinstance(r, BadRow)]
    rows = [r for r in parsed if isinstance(r, BatchRow)]
    for b in bad:
        err.print(f"{file} line {b.line}: skipped: {b.reason}")
    if not rows:
        what = f"no valid queries in {file} ({len(bad)} bad row(s))" if bad else f"no queries in {file}"
        raise EcoagentError(
            what, 'each line needs a query, e.g. {"id": "q1", "query": "What is 17 * 23?"}', exit_code=1
        )
    if resume and out_file is not None:
        done = read_done_ids(out_file)
        skipped = [r for r in rows if r.id in done]
        rows = [r for r in rows if r.id not in done]
        if skipped:
            err.print(f"resuming: {len(skipped)} row(s) already in {out_file}")
        if not rows:
            err.print(f"nothing left to run: every row of {file} is in {out_file}")
            raise typer.Exit(1 if bad else 0)
    if limit is not None:
        rows = rows[:limit]
    if server and (ladder or no_cache):
        raise EcoagentError(
            "--ladder and --no-cache do not apply with --server: the server's settings do",
            "drop them, or run without --server",
            exit_code=2,
        )
    eco = remote_from(server) or assistant_from(ctx, ladder=ladder, no_cache=no_cache)
    # A fresh run starts a fresh results file; --resume continues the one it has.
    sink = out_file.open("a" if resume else "w", encoding="utf-8") if out_file else None
    # A live progress bar on a terminal; plain lines per row otherwise.
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
    )
    progress = Progress(*columns, console=err, transient=True) if err.is_terminal else None
    task_id = progress.add_task("batch", total=len(rows)) if progress else None
    summary = BatchSummary(total=len(rows))

    def finished(result: BatchResult, so_far: BatchSummary) -> None:
        nonlocal summary
        summary = so_far
        if sink is not None:
            sink.write(json.dumps(result.to_json()) + "\n")
            sink.flush()
        if progress is not None and task_id is not None:
            progress.update(
                task_id, advance=1, description=f"solved {so_far.solved}/{so_far.done} · {money(so_far.cost.cost)}"
            )
            return
        record = result.record
        mark = (
            "error"
            if record is None
            else "✓ " + str(record.answered_by)
            if record.resolved
            else f"⚠ unverified ({record.final_rung}): {record.risk_note}"
            if record.unverified
            else "✗ unresolved"
        )
        err.print(
            f"[{so_far.done}/{so_far.total}] {result.row.id}: {mark}" + (f" ({result.error})" if result.error else ""),
            markup=False,
        )

    def happened(row: BatchRow, event: Event) -> None:
        if isinstance(event, Escalated):  # the rest of a row's story is in its result line and `ecoagent logs`
            console = progress.console if progress is not None else err
            console.print(
                f"{row.id}: {event.from_rung.name} failed: {event.reason} → escalating to {event.to_rung.name}",
                markup=False,
                highlight=False,
            )

    interrupted = False
    try:
        with progress or contextlib.nullcontext():
            summary = asyncio.run(
                run_batch(
                    eco,
                    rows,
                    concurrency=concurrency,
                    judge=judge,
                    bank_verified=bank_verified,
                    on_result=finished,
                    on_event=happened,
                )
            )
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if sink is not None:
            sink.close()
        eco.close()
    _report(summary)
    if bad:
        err.print(f"{len(bad)} bad row(s) skipped")
    if interrupted:
        hint = f" --out {out_file} --resume" if out_file else " --out results.jsonl"
        err.print(
            f"interrupted after {summary.done} of {summary.total} row(s); continue with: ecoagent batch {file}{hint}"
        )
        raise typer.Exit(130)
    if out_file is not None:
        err.print(f"results: {out_file}")
    raise typer.Exit(1 if bad or summary.failed else 0)
