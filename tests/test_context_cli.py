"""Long material reaches the assistant apart from the question: ask --context, batch 'context', chat /context and /paste."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecoagent.batch.rows import BadRow, BatchRow, read_batch
from ecoagent.cli import app
from ecoagent.config import MAX_CONTEXT_CHARS, MAX_QUERY_CHARS
from ecoagent.errors import EcoagentError
from ecoagent.query import Query
from ecoagent.testing import write_scripted_config

runner = CliRunner()
ANSWER = ["```python\nprint(631000 + 667000)\n```", "The combined budget is 1298000 dollars. TERMINATE"]


def config(tmp_path: Path, replies: list[object]) -> Path:
    return write_scripted_config(tmp_path, {"paid": replies}, prices={"paid": (2.5, 10.0)}, judge="auto")


@pytest.mark.docker
def test_ask_with_a_context_file_keeps_the_question_as_the_query(tmp_path: Path, sandbox_image: str) -> None:
    material = tmp_path / "report.txt"
    material.write_text(
        "The Atlas budget is 631000 dollars. The Borealis budget is 667000 dollars.\n", encoding="utf-8"
    )
    result = runner.invoke(
        app,
        [
            "--config",
            str(config(tmp_path, ANSWER)),
            "ask",
            "What is the combined budget?",
            "--context",
            str(material),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["resolved"] and summary["answer"] == "The combined budget is 1298000 dollars."
    # too short to pay for a compression: said so, and the material went as it was
    assert "not compressed: context:" in result.stderr and "under the 300" in result.stderr
    logs = runner.invoke(app, ["--config", str(config(tmp_path, [])), "logs", "--run", summary["run_id"], "--json"])
    logged = json.loads(logs.stdout)
    assert logged["query"] == "What is the combined budget?" and logged["context_chars"] == len(material.read_text())


def test_ask_context_errors_say_what_to_do(tmp_path: Path) -> None:
    cfg = str(config(tmp_path, []))
    missing = runner.invoke(app, ["--config", cfg, "ask", "What is it?", "--context", str(tmp_path / "nope.txt")])
    assert missing.exit_code == 2 and "nope.txt: no such file" in missing.stderr
    both = runner.invoke(app, ["--config", cfg, "ask", "-", "--context", "-"], input="x")
    assert both.exit_code == 2 and "only one of the query, the context and the tests can come from stdin" in both.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n", encoding="utf-8")
    blank = runner.invoke(app, ["--config", cfg, "ask", "What is it?", "--context", str(empty)])
    assert blank.exit_code == 2 and "is empty" in blank.stderr


def test_a_long_query_is_told_to_use_context_and_context_has_its_own_limit() -> None:
    with pytest.raises(EcoagentError) as long_query:
        Query("x" * (MAX_QUERY_CHARS + 1))
    assert "--context" in (long_query.value.hint or "")
    assert Query("What is the total?", context="y" * MAX_QUERY_CHARS * 2).context
    with pytest.raises(EcoagentError, match="the context is"):
        Query("What is the total?", context="y" * (MAX_CONTEXT_CHARS + 1))


def test_batch_rows_take_a_context_field_and_a_bad_one_is_named(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text(
        json.dumps({"id": "a", "query": "Total?", "context": "5 apples and 7 pears"})
        + "\n"
        + json.dumps({"id": "b", "query": "Total?", "context": 12})
        + "\n",
        encoding="utf-8",
    )
    good, bad = read_batch(str(path))
    assert isinstance(good, BatchRow) and good.context == "5 apples and 7 pears"
    assert isinstance(bad, BadRow) and bad.line == 2 and "'context' must be a string" in bad.reason


@pytest.mark.docker
def test_chat_paste_and_context_attach_material_to_the_next_questions(tmp_path: Path, sandbox_image: str) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("Borealis budget: 667000 dollars\n", encoding="utf-8")
    stdin = (
        f"/paste\nThe Atlas budget is 631000 dollars.\nIt was approved in March.\n/end\n/context\n"
        f"What is the combined budget?\n/context clear\n/context\n/context {notes}\n/context {tmp_path / 'nope'}\n/exit\n"
    )
    result = runner.invoke(app, ["--config", str(config(tmp_path, ANSWER)), "chat"], input=stdin)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "attached pasted text (62 characters)" in text
    assert "context: 62 characters, starting 'The Atlas budget is 631000 dollars.'" in text
    assert "The combined budget is 1298000 dollars." in text
    assert "context cleared" in text and "no context attached" in text
    assert "attached " + str(notes) in text and "nope: no such file" in result.output
