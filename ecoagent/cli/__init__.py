"""The ``ecoagent`` command line: one module per command group.

``main`` is the console-script entry point; ``app`` is the typer application that
tests drive with ``typer.testing.CliRunner``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from .. import __version__
from ..errors import EcoagentError
from ._common import fail
from .ask import ask
from .bank import bank_app
from .batch import batch
from .bench import bench
from .cache import cache_app
from .calibrate import calibrate
from .chat import chat
from .doctor import doctor
from .feedback import feedback
from .finetune import finetune_app
from .ladder import ladder
from .logs import logs
from .review import review
from .router import router_app
from .sandbox import sandbox_app
from .serve import keys_app, serve

__all__ = ["app", "main"]

app = typer.Typer(
    name="ecoagent",
    help="Make an LLM assistant cheaper without making it worse: a model ladder, "
    "banked solutions as demonstrations, and a hardened code sandbox.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ecoagent {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="Settings file (default: ./ecoagent.toml, then the user config dir)."),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    ctx.ensure_object(dict)["config_path"] = config
    # AutoGen logs agent errors with full tracebacks; the CLI reports them itself.
    for name in ("autogen_core", "autogen_agentchat", "autogen_ext"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


app.command("chat")(chat)
app.command("ask")(ask)
app.command("batch")(batch)
app.command("review")(review)
app.command("feedback")(feedback)
app.command("logs")(logs)
app.command("ladder")(ladder)
app.command("bench")(bench)
app.command("calibrate")(calibrate)
app.add_typer(bank_app, name="bank")
app.add_typer(cache_app, name="cache")
app.add_typer(finetune_app, name="finetune")
app.add_typer(router_app, name="router")
app.add_typer(sandbox_app, name="sandbox")
app.command("serve")(serve)
app.add_typer(keys_app, name="keys")
app.command("doctor")(doctor)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except EcoagentError as exc:  # raised outside a command (e.g. while loading settings)
        raise SystemExit(fail(exc).exit_code) from None
