"""``ecoagent sandbox build|check|run``: the hardened code sandbox by hand.

``run`` executes one block exactly as the assistant's code would run (same image,
same limits, same runner), so a user can reproduce anything the assistant did.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..config import SandboxSettings
from ..errors import EcoagentError
from ..sandbox.engine import connect
from ..sandbox.executor import DockerSandboxExecutor, SandboxResult, normalize_language
from ..sandbox.hardening import verify_hardening
from ..sandbox.image import build_image, image_status
from ._common import err, handle_errors, settings_from

__all__ = ["sandbox_app"]

sandbox_app = typer.Typer(help="Build, verify and use the hardened Docker sandbox.", no_args_is_help=True)

_EXT_LANG = {".py": "python", ".sh": "sh", ".bash": "bash"}


@sandbox_app.command("build")
@handle_errors
def build(
    ctx: typer.Context,
    offline: Annotated[
        bool, typer.Option("--offline", help="Use the offline builder (debootstrap + docker import).")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if the image is current.")] = False,
    check_only: Annotated[
        bool, typer.Option("--check", help="Build nothing; exit 0 if the image is current, 1 if not.")
    ] = False,
) -> None:
    """Build the sandbox image (skipped when it already matches sandbox/)."""
    settings = settings_from(ctx).sandbox
    client = connect()
    if check_only:
        status = image_status(client, settings.image)
        state = "current" if status.current else ("stale" if status.exists else "missing")
        err.print(f"{settings.image}: {state} (sandbox hash {status.wanted_hash})")
        raise typer.Exit(0 if status.current else 1)
    how = build_image(
        client,
        settings.image,
        offline=True if offline else None,
        force=force,
        log=lambda msg: err.print(f"[dim]•[/] {msg}"),
    )
    verb = {"current": "is current", "dockerfile": "built from the Dockerfile", "offline": "built offline"}
    err.print(
        f"[green]✓[/] {settings.image} {verb[how]} (sandbox hash {image_status(client, settings.image).wanted_hash})"
    )


@sandbox_app.command("check")
@handle_errors
def check(ctx: typer.Context) -> None:
    """Verify the engine, the image and the hardening of a live container."""
    settings = settings_from(ctx).sandbox
    checks = asyncio.run(verify_hardening(settings))
    table = Table(title=f"sandbox {settings.image}", title_justify="left")
    for col in ("check", "expected", "actual", ""):
        table.add_column(col)
    for c in checks:
        table.add_row(c.name, c.expected, c.actual, "[green]ok[/]" if c.ok else "[red]FAIL[/]")
    err.print(table)
    failed = [c.name for c in checks if not c.ok]
    if failed:
        err.print(f"[red]✗[/] {len(failed)} check(s) failed: {', '.join(failed)}")
        raise typer.Exit(1)
    err.print(f"[green]✓[/] all {len(checks)} checks passed")


@sandbox_app.command("run")
@handle_errors
def run(
    ctx: typer.Context,
    file: Annotated[str | None, typer.Argument(help="Code file to run; '-' or nothing reads stdin.")] = None,
    lang: Annotated[
        str | None,
        typer.Option("--lang", "-l", help="python or sh (default: from the file extension, else python)."),
    ] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", "-t", min=0.1, help="Seconds for this block.")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print {exit_code, output, timed_out, truncated, duration_s}.")
    ] = False,
    unsafe_local: Annotated[
        bool,
        typer.Option("--unsafe-local", help="Run on this machine with no sandbox at all (dangerous)."),
    ] = False,
) -> None:
    """Run one code block in the sandbox; exit with the code's exit status."""
    code = _read_code(file)
    language = lang or _EXT_LANG.get(Path(file).suffix.lower() if file and file != "-" else "", "python")
    try:
        language = normalize_language(language)
    except ValueError as exc:
        raise EcoagentError(str(exc), "use --lang python or --lang sh", exit_code=2) from exc
    settings = settings_from(ctx).sandbox
    if unsafe_local:
        result = asyncio.run(_run_local(code, language, timeout or settings.timeout_s))
    else:
        result = asyncio.run(_run_sandboxed(settings, code, language, timeout))
    if as_json:
        sys.stdout.write(json.dumps(result.to_json()) + "\n")
    else:
        sys.stdout.write(result.output)
        if result.output and not result.output.endswith("\n"):
            sys.stdout.write("\n")
    sys.stdout.flush()
    raise typer.Exit(result.exit_code)


def _read_code(file: str | None) -> str:
    if file in (None, "-"):
        if sys.stdin is None or (file is None and sys.stdin.isatty()):
            raise EcoagentError(
                "no code given",
                "pass a file, or pipe code in: echo 'print(1)' | ecoagent sandbox run -",
                exit_code=2,
            )
        return sys.stdin.read()
    path = Path(file)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EcoagentError(f"{file}: no such file", "check the path", exit_code=2) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EcoagentError(f"{file}: cannot read it ({exc})", "pass a UTF-8 text file", exit_code=2) from exc


async def _run_sandboxed(settings: SandboxSettings, code: str, language: str, timeout: float | None) -> SandboxResult:
    async with DockerSandboxExecutor(settings) as executor:
        return await executor.run(code, language, timeout_s=timeout)


async def _run_local(code: str, language: str, timeout: float) -> SandboxResult:
    import tempfile
    import time
    import warnings

    from autogen_core import CancellationToken
    from autogen_core.code_executor import CodeBlock
    from autogen_ext.code_executors.local import LocalCommandLineCodeExecutor

    err.print(
        "[bold red]WARNING:[/] --unsafe-local runs the code directly on this machine, as you, "
        "with your files, network and environment. Only use it for code you have read."
    )
    with tempfile.TemporaryDirectory(prefix="ecoagent-local-") as tmp:
        with warnings.catch_warnings():  # we printed our own, clearer warning above
            warnings.simplefilter("ignore", UserWarning)
            executor = LocalCommandLineCodeExecutor(work_dir=tmp, timeout=max(1, int(timeout)))
        started = time.monotonic()
        res = await executor.execute_code_blocks([CodeBlock(code=code, language=language)], CancellationToken())
    return SandboxResult(
        exit_code=res.exit_code,
        output=res.output,
        timed_out=res.exit_code == 124,
        duration_s=time.monotonic() - started,
    )
