"""``ecoagent bank``: look into, clean up, back up and move the solution bank."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.syntax import Syntax

from ..errors import EcoagentError
from ._common import err, handle_errors, out, settings_from

if TYPE_CHECKING:  # qdrant-client takes over a second to import: only when a command needs it
    from ..bank import BankedSolution, SolutionBank

__all__ = ["bank_app"]

bank_app = typer.Typer(help="Inspect and manage the solution bank.", no_args_is_help=True)


@contextmanager
def _bank(ctx: typer.Context) -> Iterator[SolutionBank]:
    from ..bank import SolutionBank

    bank = SolutionBank(settings_from(ctx).bank)
    try:
        yield bank
    finally:
        bank.close()


def _show_rows(rows: list[tuple[BankedSolution, float | None]], title: str) -> None:
    """Two lines per solution: id and counts, then the query (whole at any width)."""
    out.print(f"[bold]{title}[/]")
    for sol, score in rows:
        state = "[red]retired[/]" if sol.retired else "[green]active[/]"
        similarity = "" if score is None else f"similarity {score:.2f} · "
        out.print(
            f"{sol.id}  {state} · {similarity}rung {sol.rung or '-'} · 👍 {sol.thumbs_up} 👎 {sol.thumbs_down} · "
            f"retrieved {sol.times_retrieved} · led to success {sol.times_led_to_success}"
        )
        out.print(f"    {sol.query}", markup=False)


@bank_app.command("list")
@handle_errors
def list_(ctx: typer.Context, n: Annotated[int, typer.Option("-n", min=1, help="At most this many.")] = 50) -> None:
    """List banked solutions."""
    with _bank(ctx) as bank:
        rows: list[tuple[BankedSolution, float | None]] = []
        for sol in bank:
            rows.append((sol, None))
            if len(rows) >= n:
                break
        _show_rows(rows, f"{bank.count()} solution(s) in {bank.location}")


@bank_app.command("search")
@handle_errors
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Text to match against banked queries.")],
    k: Annotated[int, typer.Option("-k", min=1, help="How many.")] = 5,
    threshold: Annotated[float, typer.Option("--threshold", help="Minimum similarity.")] = 0.0,
) -> None:
    """Find banked solutions similar to QUERY (what a query would get as demonstrations)."""
    with _bank(ctx) as bank:
        hits = bank.retrieve(query, k=k, threshold=threshold, count=False)
        _show_rows([(s, sc) for s, sc in hits], f"{len(hits)} match(es) for {query!r}")


@bank_app.command("show")
@handle_errors
def show(ctx: typer.Context, solution_id: Annotated[str, typer.Argument(help="Solution id.")]) -> None:
    """Show one solution with its code."""
    with _bank(ctx) as bank:
        sol = bank.get(solution_id)
    if sol is None:
        raise EcoagentError(f"no solution with id {solution_id!r}", "see `ecoagent bank list`", exit_code=2)
    out.print(
        f"[bold]{sol.id}[/] ({'retired' if sol.retired else 'active'}) · rung {sol.rung or '-'} · "
        f"👍 {sol.thumbs_up} 👎 {sol.thumbs_down} · retrieved {sol.times_retrieved} · "
        f"led to success {sol.times_led_to_success} · created {sol.created_at} · updated {sol.updated_at}"
    )
    out.print(f"query:  {sol.query}")
    out.print(f"answer: {sol.answer or '-'}")
    out.print(Syntax(sol.code, "python", theme="ansi_dark"))


@bank_app.command("remove")
@handle_errors
def remove(ctx: typer.Context, solution_id: Annotated[str, typer.Argument(help="Solution id.")]) -> None:
    """Delete one solution."""
    with _bank(ctx) as bank:
        if not bank.remove(solution_id):
            raise EcoagentError(f"no solution with id {solution_id!r}", "see `ecoagent bank list`", exit_code=2)
    out.print(f"removed {solution_id}")


@bank_app.command("stats")
@handle_errors
def stats(ctx: typer.Context) -> None:
    """Counts: solutions, active, retired, retrievals, successes."""
    with _bank(ctx) as bank:
        sols = list(bank)
        location = bank.location
    active = [s for s in sols if not s.retired]
    retrieved = sum(s.times_retrieved for s in sols)
    succeeded = sum(s.times_led_to_success for s in sols)
    out.print(f"bank: {location}")
    out.print(f"solutions: {len(sols)} ({len(active)} active, {len(sols) - len(active)} retired)")
    out.print(f"retrieved as demonstrations: {retrieved} time(s); led to a confirmed success: {succeeded}")
    by_rung: dict[str, int] = {}
    for s in sols:
        by_rung[s.rung or "-"] = by_rung.get(s.rung or "-", 0) + 1
    out.print("solved by rung: " + (", ".join(f"{k} {v}" for k, v in sorted(by_rung.items())) or "-"))


@bank_app.command("export")
@handle_errors
def export(
    ctx: typer.Context, file: Annotated[str, typer.Argument(help="JSONL file to write ('-' for stdout).")]
) -> None:
    """Write every solution as JSON lines (a backup, or a bank to share)."""
    with _bank(ctx) as bank:
        lines = [sol.model_dump_json() + "\n" for sol in bank]
    if file == "-":
        sys.stdout.writelines(lines)
    else:
        Path(file).write_text("".join(lines), encoding="utf-8")
        err.print(f"exported {len(lines)} solution(s) to {file}")


@bank_app.command("import")
@handle_errors
def import_(
    ctx: typer.Context, file: Annotated[str, typer.Argument(help="JSONL file from `bank export` ('-' for stdin).")]
) -> None:
    """Add solutions from a JSONL export; bad lines are reported and skipped."""
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except OSError as exc:
        raise EcoagentError(f"{file}: cannot read it ({exc})", "check the path", exit_code=2) from exc
    from ..bank import BankedSolution

    imported = bad = 0
    with _bank(ctx) as bank:
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                bank.put(BankedSolution.model_validate(json.loads(line)))
                imported += 1
            except (ValueError, ValidationError) as exc:
                bad += 1
                err.print(f"{file} line {lineno}: skipped: {str(exc).splitlines()[0]}")
    err.print(f"imported {imported} solution(s)" + (f", skipped {bad} bad line(s)" if bad else ""))
    if bad:
        raise typer.Exit(1)


@bank_app.command("migrate")
@handle_errors
def migrate(
    ctx: typer.Context,
    to: Annotated[str, typer.Option("--to", help="Qdrant server URL (or a folder for another embedded store).")],
) -> None:
    """Copy the bank to a Qdrant server (qdrant-client's migration), with the router's and recall's
    collections that live in the same store; then set bank.url."""
    from qdrant_client import QdrantClient

    settings = settings_from(ctx).bank
    dest = QdrantClient(url=to) if to.startswith(("http://", "https://")) else QdrantClient(path=to)
    with _bank(ctx) as bank:
        try:
            counts = bank.migrate_to(dest)
        except Exception as exc:
            raise EcoagentError(
                f"migration to {to} failed: {exc}", "check the server is running and reachable"
            ) from exc
        finally:
            dest.close()
    others = ", ".join(f"{name} ({n})" for name, n in counts.items() if name != settings.collection)
    out.print(
        f"migrated {counts[settings.collection]} solution(s) to {to} (collection {settings.collection})"
        + (f", with the router's and recall's collections: {others}" if others else "")
    )
    if to.startswith(("http://", "https://")):
        out.print(f'now point ecoagent at it: [bank] url = "{to}" (or ECOAGENT_BANK__URL={to})')
