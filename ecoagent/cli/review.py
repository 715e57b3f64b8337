"""``ecoagent review results.jsonl``: walk through a batch's results and give each a thumbs-up or -down.

The batch way to bank solutions: for every row with a run, it shows the query, the
rung that answered, the answer and the code, and asks ``[g]ood / [b]ad / [s]kip /
[q]uit``. Rows the judge did not accept but whose code ran successfully are shown
too: the person is the judge of record, and a thumbs-up banks them. Answers can be
piped in (one per line) for scripted reviews.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.syntax import Syntax

from ..errors import EcoagentError
from ..records import RunRecord
from ._common import assistant_from, err, handle_errors, out

__all__ = ["review"]

_CHOICES = {
    "g": "good",
    "good": "good",
    "y": "good",
    "b": "bad",
    "bad": "bad",
    "n": "bad",
    "s": "skip",
    "skip": "skip",
    "": "skip",
    "q": "quit",
    "quit": "quit",
}


def _ask() -> str:
    while True:
        if sys.stdin.isatty():
            try:
                answer = input("[g]ood / [b]ad / [s]kip / [q]uit? ")
            except EOFError:
                return "quit"
        else:
            line = sys.stdin.readline()
            if not line:
                return "quit"
            answer = line
        choice = _CHOICES.get(answer.strip().lower())
        if choice:
            return choice
        out.print("answer g, b, s or q")


@handle_errors
def review(
    ctx: typer.Context,
    results: Annotated[Path, typer.Argument(help="A results file written by `ecoagent batch --out`.")],
    unresolved: Annotated[
        bool, typer.Option("--unresolved", help="Also show rows with no successful execution.")
    ] = False,
) -> None:
    """Give each batch result a thumbs-up (bank it) or a thumbs-down."""
    try:
        lines = results.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EcoagentError(
            f"{results}: cannot read it ({exc})", "pass the file given to `ecoagent batch --out`", exit_code=2
        ) from exc
    eco = assistant_from(ctx)
    tally = {"good": 0, "bad": 0, "skip": 0}
    try:
        records: list[tuple[dict[str, object], RunRecord]] = []
        for lineno, raw in enumerate(lines, 1):
            try:
                row = json.loads(raw)
            except json.JSONDecodeError:
                err.print(f"{results} line {lineno}: skipped: not JSON")
                continue
            if not isinstance(row, dict) or not row.get("run_id"):
                continue
            record = eco.runlog.get(str(row["run_id"]))
            if record is None:
                err.print(f"run {row['run_id']} is not in this run log; skipped")
            elif record.resolved or record.last_good_execution is not None or unresolved:
                records.append((row, record))
        for i, (row, record) in enumerate(records, 1):
            last = record.last_good_execution
            mark = f"✓ {record.answered_by}" if record.resolved else "✗ not accepted by the judge"
            out.print(f"\n[bold]{i}/{len(records)}[/] {row.get('id', '')} · {mark} · {record.run_id}")
            out.print(f"query:  {record.query}", markup=False)
            answer = record.final_answer or (last.output.strip() if last else "")
            out.print(f"answer: {answer or '-'}", markup=False)
            code = record.final_code or (last.code if last else None)
            if code:
                out.print(Syntax(code, "python", theme="ansi_dark"))
            choice = _ask()
            if choice == "quit":
                break
            tally[choice] += 1
            if choice == "skip":
                continue
            result = eco.feedback(record.run_id, good=choice == "good")
            if result.solution_id:
                out.print(
                    f"👍 {'banked' if result.created else 'updated'} solution {result.solution_id}"
                    + (f" ({result.note})" if result.override else ""),
                    markup=False,
                )
            else:
                out.print(("👍 " if choice == "good" else "👎 ") + result.note)
    finally:
        eco.close()
    out.print(f"\nreviewed: {tally['good']} good, {tally['bad']} bad, {tally['skip']} skipped")
