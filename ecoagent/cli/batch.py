"""``ecoagent batch FILE``: run a file of queries up the ladder and report what it cost.

Each finished row is appended to ``--out`` at once (and flushed), so an interrupted
batch loses nothing and ``--resume`` continues where it stopped. Rows run
``--concurrency`` at a time, each in its own sandbox container.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Literal

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from ..batchio import BadRow, BatchRow, read_batch, read_done_ids
from ..errors import EcoagentError, SandboxError
from ..records import RunRecord
from ._common import assistant_from, err, handle_errors
from ._render import SessionCost, money

if TYPE_CHECKING:
    from ..assistant import EcoAssistant

__all__ = ["batch"]


class _Tally:
    def __init__(self, total: int) -> None:
        self.total = total
        self.done = self.solved = self.errors = self.failed_expected = self.escalations = 0
        self.latencies: list[float] = []
        self.cost = SessionCost()


def _result_line(row: BatchRow, record: RunRecord | None, error: str | None) -> dict[str, object]:
    if record is None:
        return {"id": row.id, "line": row.line, "query": row.query, "run_id": None, "resolved": False, "error": error}
    last = record.attempts[-1].verdict if record.attempts else None
    return {
        "id": row.id, "run_id": record.run_id, "resolved": record.resolved, "rung": record.final_rung,
        "verdict": last.model_dump() if last else None, "tokens": record.tokens, "cost": round(record.total_cost, 8),
        "answer": record.final_answer, "query": row.query,
    }  # fmt: skip


async def _run_rows(
    eco: EcoAssistant, rows: list[BatchRow], sink: IO[str] | None, *, concurrency: int, judge: str | None,
    bank_verified: bool, tally: _Tally, progress: Progress | None,
) -> None:  # fmt: skip
    gate = asyncio.Semaphore(concurrency)
    task_id = progress.add_task("batch", total=len(rows)) if progress else None

    async def one(row: BatchRow) -> None:
        async with gate:
            t0 = time.monotonic()
            record, error = None, None
            row_judge = judge or ("expected" if row.expected or row.expected_regex else None)
            try:
                record = await eco.run(row.query, expected=row.expected, expected_regex=row.expected_regex, judge=row_judge)  # type: ignore[arg-type]
            except SandboxError:
                raise  # the sandbox is down: no row can succeed, stop the batch
            except EcoagentError as exc:
                error = exc.message
            tally.latencies.append(time.monotonic() - t0)
            tally.done += 1
            if record is None:
                tally.errors += 1
            else:
                tally.cost.add(record)
                tally.solved += record.resolved
                tally.escalations += max(0, len(record.attempts) - 1)
                if not record.resolved and row_judge == "expected":
                    tally.failed_expected += 1
                if bank_verified:
                    await asyncio.to_thread(eco.bank_verified, record)
            if sink is not None:
                sink.write(json.dumps(_result_line(row, record, error)) + "\n")
                sink.flush()
            mark = "error" if record is None else ("✓ " + str(record.final_rung) if record.resolved else "✗ unresolved")
            if progress is not None and task_id is not None:
                progress.update(task_id, advance=1, description=f"solved {tally.solved}/{tally.done} · {money(tally.cost.cost)}")
            else:
                err.print(f"[{tally.done}/{tally.total}] {row.id}: {mark}" + (f" ({error})" if error else ""))

    await asyncio.gather(*(one(r) for r in rows))


def _report(tally: _Tally) -> None:
    c = tally.cost
    table = Table(title="batch report", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value")
    rate = tally.solved / tally.done if tally.done else 0.0
    table.add_row("success", f"{tally.solved}/{tally.done} ({rate:.0%})")
    for rung, row in c.per_rung.items():
        table.add_row(f"  {rung}", f"{int(row['attempts'])} attempts, {int(row['solved'])} solved, "
                      f"{int(row['tokens']):,} tokens, {money(row['cost'])}")  # fmt: skip
    table.add_row("escalations", str(tally.escalations))
    table.add_row("tokens", f"{c.tokens:,}")
    table.add_row("cost", money(c.cost))
    table.add_row("top-rung estimate", f"{money(c.estimate)} (estimate: same tokens at the top rung's prices)")
    table.add_row("saving", money(c.estimate - c.cost))
    if tally.latencies:
        lat = sorted(tally.latencies)
        table.add_row("latency", f"mean {statistics.fmean(lat):.1f} s, p90 {lat[min(len(lat) - 1, int(0.9 * (len(lat) - 1) + 0.5))]:.1f} s")
    if tally.errors:
        table.add_row("errors", str(tally.errors))
    err.print(table)


@handle_errors
def batch(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(help=".jsonl, .csv or .txt file of queries; '-' reads JSONL from stdin.")],
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="Append one JSON line per finished query.")] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", "-j", min=1, max=32, help="Queries in flight.")] = 1,
    judge: Annotated[Literal["auto", "expected", "llm"] | None, typer.Option("--judge", help="Default: expected for rows with an expected answer, else the configured judge.")] = None,
    bank_verified: Annotated[bool, typer.Option("--bank-verified", help="Bank rows whose expected check passed.")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Skip ids already in --out.")] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Run at most N rows.")] = None,
    ladder: Annotated[str | None, typer.Option("--ladder", help="Ladder preset name or TOML path.")] = None,
) -> None:
    """Run every query in FILE; report success, cost and savings per rung."""
    if resume and out_file is None:
        raise EcoagentError("--resume needs --out (the results to continue)", "add --out results.jsonl", exit_code=2)
    parsed = read_batch(file)
    bad = [r for r in parsed if isinstance(r, BadRow)]
    rows = [r for r in parsed if isinstance(r, BatchRow)]
    for b in bad:
        err.print(f"{file} line {b.line}: skipped: {b.reason}")
    if resume and out_file is not None:
        done = read_done_ids(out_file)
        skipped = [r for r in rows if r.id in done]
        rows = [r for r in rows if r.id not in done]
        if skipped:
            err.print(f"resuming: {len(skipped)} row(s) already in {out_file}")
    if limit is not None:
        rows = rows[:limit]
    tally = _Tally(len(rows))
    eco = assistant_from(ctx, ladder=ladder)
    # A fresh run starts a fresh results file; --resume continues the one it has.
    sink = out_file.open("a" if resume else "w", encoding="utf-8") if out_file else None
    interrupted = False
    # A live progress bar on a terminal; plain lines per row otherwise.
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(), TimeRemainingColumn())
    progress = Progress(*columns, console=err, transient=True) if err.is_terminal else None
    try:
        with progress or contextlib.nullcontext():
            asyncio.run(_run_rows(eco, rows, sink, concurrency=concurrency, judge=judge,
                                  bank_verified=bank_verified, tally=tally, progress=progress))  # fmt: skip
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if sink is not None:
            sink.close()
        eco.close()
    _report(tally)
    if bad:
        err.print(f"{len(bad)} bad row(s) skipped")
    if interrupted:
        hint = f" --out {out_file} --resume" if out_file else " --out results.jsonl"
        err.print(f"interrupted after {tally.done} of {tally.total} row(s); continue with: ecoagent batch {file}{hint}")
        raise typer.Exit(130)
    if out_file is not None:
        err.print(f"results: {out_file}")
    raise typer.Exit(1 if bad or tally.errors or tally.failed_expected else 0)
