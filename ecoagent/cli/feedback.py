"""``ecoagent feedback RUN_ID --good|--bad``: thumbs-up banks a run, thumbs-down counts against its demonstrations."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import EcoagentError
from ._common import SERVER_OPTION, assistant_from, err, handle_errors, out, remote_from

__all__ = ["feedback"]


@handle_errors
def feedback(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="Run id (see `ecoagent logs`).")],
    good: Annotated[bool, typer.Option("--good", help="Thumbs-up: bank the query and its code.")] = False,
    bad: Annotated[bool, typer.Option("--bad", help="Thumbs-down: count against the demonstrations it used.")] = False,
    server: Annotated[str | None, SERVER_OPTION] = None,
) -> None:
    """Give a run a thumbs-up or a thumbs-down."""
    if good == bad:
        raise EcoagentError("say --good or --bad (exactly one)", f"ecoagent feedback {run_id} --good", exit_code=2)
    eco = remote_from(server) or assistant_from(ctx)
    try:
        result = eco.feedback(run_id, good=good)
    finally:
        eco.close()
    if result.solution_id:
        out.print(f"{'banked' if result.created else 'updated'} solution {result.solution_id}", markup=False)
        if result.override:
            err.print(result.note, markup=False)
    else:
        out.print(result.note, markup=False)
    for sid in result.retired:
        err.print(f"retired demonstration {sid} (too many thumbs-down)")
