"""``ecoagent ask "QUERY"``: one query, non-interactive.

The answer goes to stdout; progress (escalations, and with ``-v`` the whole
conversation) and the cost footer go to stderr, so ``ecoagent ask ... > answer.txt``
captures only the answer. Exit 0 when a rung resolved the query, 1 when none did; an
answer nothing backed (``⚠ unverified``) is printed, with its risk on stderr, and exits 1.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..config import JudgeName
from ..errors import EcoagentError
from ..query import Query
from ._common import SERVER_OPTION, assistant_from, err, handle_errors, read_context, remote_from
from ._render import LiveRun, footer

__all__ = ["ask"]


@handle_errors
def ask(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="The question or task; '-' reads it from stdin.")],
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print {run_id, resolved, unverified, risk, rung, cost, tokens, answer, code}."),
    ] = False,
    judge: Annotated[
        JudgeName | None,
        typer.Option(
            "--judge",
            help="evidence | auto | expected | tests | llm (default: tests with --tests, expected with --expected, else from config: evidence).",
        ),
    ] = None,
    expected: Annotated[str | None, typer.Option("--expected", help="Answer that must appear in the output.")] = None,
    expected_regex: Annotated[
        str | None, typer.Option("--expected-regex", help="Regex that must match the output.")
    ] = None,
    tests: Annotated[
        Path | None,
        typer.Option(
            "--tests",
            help="Python tests the final code must pass in the sandbox (asserts, or check(candidate) with --entry-point); the model does not see them.",
        ),
    ] = None,
    entry_point: Annotated[
        str | None, typer.Option("--entry-point", help="The function the tests' check(candidate) is called with.")
    ] = None,
    ladder: Annotated[str | None, typer.Option("--ladder", help="Ladder preset name or TOML path.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show the whole conversation on stderr.")] = False,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Run the ladder even if a cached or replayable answer exists.")
    ] = False,
    context: Annotated[
        Path | None,
        typer.Option("--context", "-c", help="A file the question is about (document, table, log); '-' reads stdin."),
    ] = None,
    server: Annotated[str | None, SERVER_OPTION] = None,
) -> None:
    """Answer one query: a cached or replayed answer when one is confirmed, else cheapest rung first."""
    if [query == "-", context == Path("-"), tests == Path("-")].count(True) > 1:
        raise EcoagentError(
            "only one of the query, the context and the tests can come from stdin",
            "pass the others as files",
            exit_code=2,
        )
    if query == "-":
        query = sys.stdin.read()
    material = read_context(context) if context is not None else None
    test_code = read_context(tests, what="tests") if tests is not None else None
    question = Query(
        query,
        expected=expected,
        expected_regex=expected_regex,
        tests=test_code,
        entry_point=entry_point,
        judge=judge,
        cache=not no_cache,
        context=material,
    )
    if server and ladder:
        raise EcoagentError(
            "--ladder does not apply with --server: the server runs its own ladder", "drop one of them", exit_code=2
        )
    eco = remote_from(server) or assistant_from(ctx, ladder=ladder)
    try:
        record = asyncio.run(eco.run(question, on_event=LiveRun(err, verbose=verbose)))
    finally:
        eco.close()
    if as_json:
        sys.stdout.write(json.dumps(record.summary()) + "\n")
    elif record.final_answer:
        sys.stdout.write(record.final_answer.rstrip("\n") + "\n")
    err.print(footer(record))
    if record.unverified:
        err.print(
            f"  hint: nothing independent backed this answer; if it is right, `ecoagent feedback {record.run_id} --good` "
            "banks it and counts it toward your calibration"
        )
    elif not record.resolved:
        if record.last_good_execution is not None:
            err.print(f"  hint: if the output is right, `ecoagent feedback {record.run_id} --good` banks it")
        err.print("  hint: try a stronger ladder (--ladder openai), or rephrase the query")
    raise typer.Exit(0 if record.resolved else 1)
