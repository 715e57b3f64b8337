"""``ecoagent finetune``: confirmed runs → training data → a fine-tuned cheap rung."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from ..errors import EcoagentError
from ._common import err, handle_errors, out, read_runlogs, settings_from

__all__ = ["finetune_app"]

finetune_app = typer.Typer(help="Fine-tune the cheap rung on confirmed interactions.", no_args_is_help=True)


def _date(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise EcoagentError(
            f"{option} {value!r} is not a date", f"write it as YYYY-MM-DD, e.g. {option} 2026-11-01", exit_code=2
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@finetune_app.command("export")
@handle_errors
def export(
    ctx: typer.Context,
    out_file: Annotated[
        Path, typer.Option("--out", help="JSONL file to write (OpenAI chat format, a 'split' field per line).")
    ],
    logs: Annotated[list[Path] | None, typer.Option("--log", help="Run log(s) to read (default: yours).")] = None,
    rung: Annotated[
        list[str] | None, typer.Option("--rung", help="Only runs solved by this rung (repeatable).")
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help="Only runs from this date on (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Only runs before this date (YYYY-MM-DD).")] = None,
    judge: Annotated[
        list[str] | None,
        typer.Option(
            "--judge",
            help="Confirming judges: human (thumbs-up), expected, tests; auto and llm only if named (repeatable).",
        ),
    ] = None,
    dedup: Annotated[
        float, typer.Option("--dedup", min=0.5, max=1.0, help="Query similarity at which two runs count as one.")
    ] = 0.95,
    test_fraction: Annotated[
        float, typer.Option("--test-fraction", min=0.0, max=0.9, help="Newest share held out as the test split.")
    ] = 0.1,
    split_files: Annotated[
        bool,
        typer.Option(
            "--split-files",
            help="Write OUT.train.jsonl and OUT.test.jsonl, messages only "
            "(what a provider's fine-tuning upload accepts).",
        ),
    ] = False,
) -> None:
    """Export confirmed runs (thumbs-up, passed expected checks or tests) as chat fine-tuning data."""
    from ..embed import Embedder
    from ..finetune import CONFIRMING_JUDGES, ExportFilter, export_examples, write_examples
    from ..prompts import load_prompt

    judges = tuple(judge or CONFIRMING_JUDGES)
    unknown = sorted(set(judges) - {*CONFIRMING_JUDGES, "auto", "llm"})
    if unknown:
        raise EcoagentError(f"unknown judge {unknown[0]!r}", "use human, expected, tests, auto or llm", exit_code=2)
    filters = ExportFilter(
        rungs=tuple(rung or ()),
        since=_date(since, "--since"),
        until=_date(until, "--until"),
        judges=judges,
        dedup_threshold=dedup,
        test_fraction=test_fraction,
    )
    settings = settings_from(ctx)
    records = read_runlogs(logs, settings)
    embedder = Embedder(settings.bank.embedding_model, settings.bank.embedding_backend)
    report = export_examples(records, load_prompt("assistant"), embedder.vectors, filters)
    if not report.examples:
        why = ", ".join(f"{n} {reason}" for reason, n in report.skipped.most_common()) or "the log is empty"
        raise EcoagentError(
            f"no confirmed run to export among {report.runs} ({why})",
            "confirm good answers first: ecoagent feedback RUN_ID --good, or batch rows with 'expected'",
        )
    paths = write_examples(report, out_file, split_files)
    splits = report.splits
    out.print(
        f"exported {len(report.examples)} example(s) from {report.runs} run(s): {splits['train']} train, "
        f"{splits['test']} test → {', '.join(map(str, paths))}"
    )
    if report.duplicates:
        err.print(
            f"left out {report.duplicates} near-duplicate quer{'y' if report.duplicates == 1 else 'ies'} (kept the newest run)"
        )
    for reason, n in report.skipped.most_common():
        err.print(f"left out {n} run(s): {reason}", style="dim")
    if report.secrets:
        err.print(f"scrubbed {report.secrets} secret(s) → [REDACTED]")


@finetune_app.command("train")
@handle_errors
def train(
    data: Annotated[Path, typer.Argument(help="Chat JSONL from `ecoagent finetune export`.")],
    name: Annotated[
        str, typer.Option("--name", help="Adapter name; a ladder rung uses it as adapter = NAME.")
    ] = "smollm2-ft",
    base: Annotated[
        str | None,
        typer.Option(
            "--base",
            help="The rung model to adapt: bundled:smollm2 (the default), bundled:qwen2.5-coder-0.5b or a GGUF path; with --from-adapter, that adapter's base.",
        ),
    ] = None,
    epochs: Annotated[float, typer.Option("--epochs", min=0.01, help="Passes over the training split.")] = 3.0,
    steps: Annotated[
        int | None, typer.Option("--steps", min=1, help="Stop after this many steps (overrides --epochs).")
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, max=64)] = 4,
    lr: Annotated[float, typer.Option("--lr", min=1e-6, max=1e-1, help="Peak learning rate.")] = 3e-4,
    rank: Annotated[int, typer.Option("--rank", min=1, max=256, help="LoRA rank (alpha is twice it).")] = 16,
    max_tokens: Annotated[
        int, typer.Option("--max-tokens", min=64, max=8192, help="Longer conversations are cut here.")
    ] = 1024,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    from_adapter: Annotated[
        str | None,
        typer.Option(
            "--from-adapter", help="Continue from an adapter (e.g. bundled:smollm2-eco) instead of the plain base."
        ),
    ] = None,
    precision: Annotated[
        str, typer.Option("--precision", help="bf16 (autocast), fp32, or auto: bf16 where the CPU has it.")
    ] = "auto",
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted training from its checkpoint.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing adapter of this name.")] = False,
) -> None:
    """LoRA-train the cheap rung's model on CPU; register the adapter for ladder files."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from ..finetune import TrainConfig, load_examples, train_adapter
    from ..finetune.registry import valid_name

    valid_name(name)
    if not data.is_file():
        raise EcoagentError(
            f"cannot read {data}: no such file", "write it with: ecoagent finetune export --out FILE", exit_code=2
        )
    _, problems, _ = load_examples(data)  # bad lines are named before any time is spent
    if from_adapter:
        from ..finetune import resolve_adapter

        start = resolve_adapter(from_adapter)  # a missing adapter fails before the model loads
        base = base or start.base  # continuing bundled:qwen-eco means training Qwen2.5-Coder
    base = base or "bundled:smollm2"
    for problem in problems[:10]:
        err.print(f"skipped {problem}", style="yellow")
    if len(problems) > 10:
        err.print(f"… and {len(problems) - 10} more bad line(s)", style="yellow")
    config = TrainConfig(
        epochs=epochs,
        max_steps=steps,
        batch_size=batch_size,
        learning_rate=lr,
        rank=rank,
        alpha=2 * rank,
        max_tokens=max_tokens,
        seed=seed,
        precision=precision,
        start_from=from_adapter,
    )
    err.print(f"loading {base} for training (first time: dequantized from GGUF, ~45 s; then cached)…")
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=err,
    )
    task = progress.add_task(f"training {name}", total=None, loss="-")

    def on_start(total: int, done: int, estimate_s: float) -> None:
        err.print(
            f"estimate: {estimate_s / 60:.1f} min for the {total - done - 1} step(s) left of {total} (timed on the first)"
        )
        progress.start()
        progress.update(task, total=total, completed=done)

    def on_step(step: int, loss: float) -> None:
        progress.update(task, completed=step, loss=f"{loss:.3f}")

    try:
        result = train_adapter(
            data, name, config, base=base, resume=resume, force=force, on_start=on_start, on_step=on_step
        )
    finally:
        progress.stop()
    for problem in result.problems[len(problems) :][:10]:  # examples the chat template could not mask
        err.print(f"skipped {problem}", style="yellow")
    before, after = result.heldout_before, result.heldout_after
    heldout = (
        f"held-out loss {before:.3f} → {after:.3f}" if before is not None and after is not None else "no test split"
    )
    out.print(
        f"trained {name}: {result.steps} steps on {result.train_examples} examples in {result.seconds / 60:.1f} min · "
        f"loss {result.losses[0]:.3f} → {result.losses[-1]:.3f} · {heldout}"
    )
    if result.truncated:
        err.print(
            f"{result.truncated} example(s) were cut at {max_tokens} tokens (raise --max-tokens to keep them whole)"
        )
    out.print(
        f'adapter: {result.adapter.gguf}\nuse it in a ladder file:\n\n[[rungs]]\nname = "{name}"\nprovider = "llama-cpp"\n'
        f'model = "{base}"\nadapter = "{name}"\n',
        markup=False,
    )


@finetune_app.command("list")
@handle_errors
def list_() -> None:
    """Adapters: shipped ones (bundled:NAME) and your own; base model, examples (train+test),
    steps, training minutes, held-out loss."""
    from rich.table import Table

    from ..finetune import list_adapters, shipped_adapters

    adapters = shipped_adapters() + list_adapters()
    if not adapters:
        err.print("no adapters yet: ecoagent finetune train DATA.jsonl --name NAME")
        return
    table = Table("name", "base", "examples", "steps", "min", "held-out loss")
    for a in adapters:
        m = {**a.manifest, **a.manifest.get("training", {})}  # a shipped manifest keeps training figures apart
        before, after = m.get("heldout_loss_before"), m.get("heldout_loss_after")
        table.add_row(
            a.name,
            a.base,
            f"{m.get('train_examples', '?')}+{m.get('test_examples', '?')}",
            str(m.get("steps", "?")),
            f"{(m.get('train_seconds') or 0) / 60:.1f}",
            f"{before:.3f} → {after:.3f}" if before and after else "-",
        )
    out.print(table)
