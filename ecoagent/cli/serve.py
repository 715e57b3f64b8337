"""``ecoagent serve`` and ``ecoagent keys``: the pipeline as an OpenAI-compatible service, and its keys.

``serve`` owns the bank, the run log, the cache and the models; any OpenAI client
(``base_url="http://127.0.0.1:8300/v1"``) and the CLI's own ``--server URL`` use them.
``keys add`` prints a new key once and stores only its SHA-256.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from rich.table import Table

from ..errors import EcoagentError
from ._common import err, handle_errors, out, settings_from
from ._render import ladder_line, money

__all__ = ["keys_app", "serve"]

keys_app = typer.Typer(help="API keys and budgets for `ecoagent serve`.", no_args_is_help=True)


@handle_errors
def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option("--host", help="Interface (default: serve.host, 127.0.0.1). Others need keys.")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", "-p", min=0, max=65535, help="Port (default: serve.port, 8300; 0: any free one)."),
    ] = None,
    ladder: Annotated[str | None, typer.Option("--ladder", help="Ladder preset name or TOML path.")] = None,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", "-j", min=1, max=256, help="Queries on a model at once.")
    ] = None,
) -> None:
    """Serve the pipeline as an OpenAI-compatible API (/v1/chat/completions, /v1/feedback, /metrics)."""
    from ..serve import serve as run_server

    settings = settings_from(ctx, ladder=ladder)
    if concurrency is not None:
        settings = settings.model_copy(deep=True)
        settings.serve.concurrency = concurrency
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    def ready(url: str) -> None:
        from ..serve.keys import KeyRing

        keys = KeyRing.load(settings.serve)
        err.print(f"ladder: {ladder_line(settings.ladder.resolved())}", markup=False)
        err.print("keys: none (open to this machine only)" if keys.open else f"keys: {len(keys.keys)}", markup=False)
        out.print(f"ecoagent serve: listening on {url}  (OpenAI base_url {url}/v1; Ctrl-C stops)", markup=False)
        out.file.flush()

    run_server(settings, host=host, port=port, on_ready=ready)
    err.print("stopped")


@keys_app.command("add")
@handle_errors
def keys_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name for the key (kept in the run log with every run it sends).")],
    budget_usd: Annotated[float | None, typer.Option("--budget-usd", min=0, help="USD the key may spend.")] = None,
    budget_tokens: Annotated[
        int | None, typer.Option("--budget-tokens", min=0, help="Tokens the key may spend.")
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Change an existing key's budgets (its secret stays).")
    ] = False,
) -> None:
    """Make a key (printed once: only its hash is stored)."""
    from ..serve.keys import add_key

    path = settings_from(ctx).serve.keys_path()
    secret, entry = add_key(path, name, budget_usd=budget_usd, budget_tokens=budget_tokens, replace=replace)
    if secret:
        out.print(secret, markup=False)
        err.print(
            f"key {entry.name!r} added to {path}; it is shown only now: store it where the client reads it",
            markup=False,
        )
    else:
        err.print(f"key {entry.name!r} updated in {path}", markup=False)


@keys_app.command("list")
@handle_errors
def keys_list(ctx: typer.Context) -> None:
    """Keys, budgets and what each has spent."""
    from ..runlog import RunLog
    from ..serve.keys import read_keys

    settings = settings_from(ctx)
    entries = read_keys(settings.serve.keys_path())
    if not entries:
        err.print(f"no keys in {settings.serve.keys_path()}: `ecoagent keys add NAME` makes one", markup=False)
        return
    log = RunLog(settings.runlog_file()) if settings.runlog_file().is_file() else None
    table = Table(title="API keys", title_justify="left")
    for col in ("name", "budget", "spent", "tokens", "runs+summaries"):
        table.add_column(col)
    try:
        for k in entries:
            spent = log.spend(k.name) if log else None
            budget = (
                " · ".join(
                    x
                    for x in (
                        money(k.budget_usd) if k.budget_usd is not None else "",
                        f"{k.budget_tokens:,} tokens" if k.budget_tokens is not None else "",
                    )
                    if x
                )
                or "-"
            )
            table.add_row(
                k.name,
                budget,
                money(spent.cost) if spent else "$0",
                f"{spent.tokens:,}" if spent else "0",
                str(spent.items) if spent else "0",
            )
    finally:
        if log:
            log.close()
    out.print(table)


@keys_app.command("remove")
@handle_errors
def keys_remove(ctx: typer.Context, name: Annotated[str, typer.Argument(help="The key's name.")]) -> None:
    """Remove a key (a running server reads keys at start: restart it)."""
    from ..serve.keys import remove_key

    path = settings_from(ctx).serve.keys_path()
    if not remove_key(path, name):
        raise EcoagentError(f"no key named {name!r} in {path}", "ecoagent keys list shows them", exit_code=2)
    err.print(f"removed key {name!r}; restart the server for it to take effect", markup=False)
