"""What every command shares: consoles, settings, and errors that say what to do.

Answers go to stdout; progress, tables of diagnostics and errors go to stderr, so
``ecoagent ... > out.txt`` captures only the answer. rich turns colour off by itself
when the stream is not a terminal or ``NO_COLOR`` is set.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console

from ..config import LadderSettings, Settings, load_settings
from ..errors import EcoagentError

if TYPE_CHECKING:
    from ..assistant import EcoAssistant
    from ..records import RunRecord
    from ..serve.client import RemoteAssistant

__all__ = [
    "SERVER_OPTION",
    "assistant_from",
    "err",
    "fail",
    "handle_errors",
    "out",
    "read_context",
    "read_runlogs",
    "remote_from",
    "settings_from",
]

out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)

F = TypeVar("F", bound=Callable[..., Any])


def fail(error: EcoagentError) -> typer.Exit:
    """Print an error and its hint on stderr; return the matching ``typer.Exit``."""
    err.print(f"[bold red]error:[/] {error.message}", markup=True)
    if error.hint:
        err.print(f"  [bold]hint:[/] {error.hint}", markup=True)
    return typer.Exit(error.exit_code)


def handle_errors(func: F) -> F:
    """Turn :class:`EcoagentError` into a readable message and its exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except EcoagentError as exc:
            raise fail(exc) from None
        except KeyboardInterrupt:
            err.print("interrupted")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def assistant_from(
    ctx: typer.Context, *, ladder: str | None = None, no_cache: bool = False, **kwargs: Any
) -> EcoAssistant:
    """An EcoAssistant for this invocation; ``ladder`` overrides the preset (``--ladder``),
    ``no_cache`` turns the first-turn stage off (``--no-cache``)."""
    from ..assistant import EcoAssistant

    return EcoAssistant(settings_from(ctx, ladder=ladder, no_cache=no_cache), **kwargs)


SERVER_OPTION = typer.Option(
    "--server",
    envvar="ECOAGENT_SERVER",
    help="Send the queries to a running `ecoagent serve` at this URL (key: $ECOAGENT_API_KEY).",
)


def remote_from(server: str | None) -> RemoteAssistant | None:
    """The running server ``--server`` names, checked to answer (None without one)."""
    if not server:
        return None
    from ..serve.client import RemoteAssistant

    remote = RemoteAssistant(server)
    remote.check_ladder()
    return remote


def settings_from(ctx: typer.Context, *, ladder: str | None = None, no_cache: bool = False) -> Settings:
    """Settings for this invocation (``--config`` on the main command), loaded once;
    ``ladder`` (a command's ``--ladder``) replaces the configured ladder, ``no_cache``
    (``--no-cache``) turns the first-turn stage off."""
    obj = ctx.ensure_object(dict)
    if "settings" not in obj:
        path: Path | None = obj.get("config_path")
        obj["settings"] = load_settings(path)
    settings: Settings = obj["settings"]
    if ladder or no_cache:
        settings = settings.model_copy(deep=True)
    if ladder:
        settings.ladder = LadderSettings(preset=ladder)
    if no_cache:
        settings.cache.enabled = settings.cache.replay = False
    return settings


def read_runlogs(logs: list[Path] | None, settings: Settings) -> list[RunRecord]:
    """Every record of the ``--log`` files, else of the user's own run log.

    Raises:
        EcoagentError: A log does not exist (exit code 2; for the user's own: there are no runs yet).
    """
    from ..runlog import RunLog

    records: list[RunRecord] = []
    for path in logs or [settings.runlog_file()]:
        if not path.is_file():
            hint = (
                "pass --log with a runs.sqlite3 file"
                if logs
                else "no runs yet: run queries (ecoagent ask / chat / batch) first, or pass --log"
            )
            raise EcoagentError(f"run log {path} does not exist", hint, exit_code=2)
        log = RunLog(path)
        try:
            records += log.all()
        finally:
            log.close()
    return records


def read_context(path: Path, *, what: str = "context") -> str:
    """The text of a ``--context`` (or ``--tests``) file (``-``: stdin).

    Raises:
        EcoagentError: The file is missing, not UTF-8 text, or empty (exit code 2).
    """
    if str(path) == "-":
        text = sys.stdin.read()
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise EcoagentError(f"{what} file {path}: no such file", "check the path", exit_code=2) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise EcoagentError(
                f"{what} file {path}: cannot read it ({exc})", "pass a UTF-8 text file", exit_code=2
            ) from exc
    if not text.strip():
        hint = (
            "pass the document the question is about" if what == "context" else "write the asserts the answer must pass"
        )
        raise EcoagentError(f"{what} file {path} is empty", hint, exit_code=2)
    return text
