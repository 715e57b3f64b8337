"""Reading batch query files: JSONL, CSV, plain text or stdin, with every bad row named.

A bad row (invalid JSON, no query, empty or oversized query, duplicate id) never
stops the batch: it is reported with its line number and skipped. Only a file that
cannot be read at all (missing, unknown format, a CSV without a ``query`` column) is
an error.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import MAX_CONTEXT_CHARS, MAX_QUERY_CHARS
from ..errors import EcoagentError
from ..query import Query

__all__ = ["BadRow", "BatchRow", "read_batch", "read_done_ids"]


@dataclass(frozen=True)
class BatchRow:
    """One query to run."""

    id: str
    query: str
    line: int
    expected: str | None = None
    expected_regex: str | None = None
    context: str | None = None
    tests: str | None = None
    entry_point: str | None = None


@dataclass(frozen=True)
class BadRow:
    """A row that was skipped, and why."""

    line: int
    reason: str


def _row(line: int, data: dict[str, Any], seen: set[str]) -> BatchRow | BadRow:
    query = data.get("query")
    if query is None:
        return BadRow(line, "missing field 'query'")
    if not isinstance(query, str):
        return BadRow(line, f"'query' must be a string, not {type(query).__name__}")
    if not query.strip():
        return BadRow(line, "empty query")
    if len(query) > MAX_QUERY_CHARS:
        return BadRow(
            line,
            f"query of {len(query)} characters is over the {MAX_QUERY_CHARS} limit "
            "(put the material in a 'context' field and keep the question in 'query')",
        )
    context = data.get("context")
    if context is not None and not isinstance(context, str):
        return BadRow(line, f"'context' must be a string, not {type(context).__name__}")
    if context is not None and len(context) > MAX_CONTEXT_CHARS:
        return BadRow(
            line,
            f"context of {len(context)} characters is over the {MAX_CONTEXT_CHARS} limit "
            "(keep only the part the question is about)",
        )
    raw_id = data.get("id")
    row_id = str(raw_id) if raw_id not in (None, "") else f"line-{line}"
    if row_id in seen:
        return BadRow(line, f"duplicate id {row_id!r}")
    seen.add(row_id)
    expected = data.get("expected")
    regex = data.get("expected_regex")
    tests, entry_point = data.get("tests"), data.get("entry_point")
    for name, value in (("tests", tests), ("entry_point", entry_point)):
        if value is not None and not isinstance(value, str):
            return BadRow(line, f"{name!r} must be a string, not {type(value).__name__}")
    tests, entry_point = tests or None, entry_point or None
    try:
        Query(query, tests=tests, entry_point=entry_point)  # the same checks the run would make, said per line
    except EcoagentError as exc:
        return BadRow(line, exc.message)
    return BatchRow(
        id=row_id,
        query=query.strip(),
        line=line,
        expected=None if expected in (None, "") else str(expected),
        expected_regex=None if regex in (None, "") else str(regex),
        context=context or None,
        tests=tests,
        entry_point=entry_point,
    )


def _jsonl(text: str) -> list[BatchRow | BadRow]:
    rows: list[BatchRow | BadRow] = []
    seen: set[str] = set()
    for line, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            rows.append(BadRow(line, f"invalid JSON ({exc.msg} at column {exc.colno})"))
            continue
        if not isinstance(data, dict):
            rows.append(BadRow(line, "each line must be a JSON object with a 'query'"))
            continue
        rows.append(_row(line, data, seen))
    return rows


def _csv(text: str, name: str) -> list[BatchRow | BadRow]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "query" not in reader.fieldnames:
        raise EcoagentError(
            f"{name}: no 'query' column (columns: {', '.join(reader.fieldnames or []) or 'none'})",
            "the first row must name the columns: query[,id,expected,expected_regex,context,tests,entry_point]",
            exit_code=2,
        )
    rows: list[BatchRow | BadRow] = []
    seen: set[str] = set()
    for data in reader:
        rows.append(_row(reader.line_num, dict(data), seen))
    return rows


def _txt(text: str) -> list[BatchRow | BadRow]:
    seen: set[str] = set()
    return [_row(line, {"query": raw}, seen) for line, raw in enumerate(text.splitlines(), 1) if raw.strip()]


def read_batch(source: str) -> list[BatchRow | BadRow]:
    """Rows of a batch file (``.jsonl``, ``.csv``, ``.txt``) or ``-`` (JSONL on stdin).

    Raises:
        EcoagentError: The file is missing, unreadable, of an unknown kind, or a CSV
            without a ``query`` column (exit code 2).
    """
    if source == "-":
        return _jsonl(sys.stdin.read())
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".ndjson", ".csv", ".txt"):
        raise EcoagentError(
            f"{source}: unknown batch format {suffix or '(no extension)'}",
            "use .jsonl, .csv or .txt, or - for JSONL on stdin",
            exit_code=2,
        )
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EcoagentError(f"{source}: no such file", "check the path", exit_code=2) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EcoagentError(f"{source}: cannot read it ({exc})", "pass a UTF-8 text file", exit_code=2) from exc
    if suffix == ".csv":
        return _csv(text, source)
    if suffix == ".txt":
        return _txt(text)
    return _jsonl(text)


def read_done_ids(out: Path) -> set[str]:
    """Ids already finished in a results file (for ``--resume``); unreadable lines are ignored."""
    done: set[str] = set()
    if not out.is_file():
        return done
    for raw in out.read_text(encoding="utf-8").splitlines():
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            continue  # a line cut short by an interrupt: that row runs again
        if isinstance(data, dict) and data.get("run_id") and "id" in data:
            done.add(str(data["id"]))
    return done
