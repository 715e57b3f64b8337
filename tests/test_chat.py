"""`ecoagent chat` transcripts (scripted stdin, scripted rungs, real sandbox and bank)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecoagent.cli import app
from ecoagent.testing import write_scripted_config

pytestmark = pytest.mark.docker
runner = CliRunner()
PRICES = {"cheap": (0.15, 0.6), "top": (2.5, 10.0)}


def config(tmp_path: Path, cheap: list[object], top: list[object]) -> Path:
    # one scripted answer a rung, judged as before the evidence judge (its chat test: tests/test_unverified.py)
    return write_scripted_config(tmp_path, {"cheap": cheap, "top": top}, prices=PRICES, judge="auto")


def test_chat_transcript_good_cost_and_demonstration(tmp_path: Path, sandbox_image: str) -> None:
    cheap = [
        "```python\nprint(17 * 23 +)\n```",
        "Sorry. TERMINATE",
        "```python\nprint(17 * 24)\n```",
        "It is 408. TERMINATE",
    ]
    top = ["```python\nprint(17 * 23)\n```", "The answer is 391. TERMINATE"]
    stdin = "What is 17 * 23?\n/good\nWhat is 17 * 24?\n/cost\n/history\n/bank 17 times 23\n/exit\n"
    result = runner.invoke(app, ["--config", str(config(tmp_path, cheap, top)), "chat"], input=stdin)
    assert result.exit_code == 0, result.output
    text = result.stdout
    # banner
    assert "ecoagent chat" in text and "cheap ($0.15/$0.6) → top ($2.5/$10)" in text and "bank: " in text
    assert "/help" in text and "Ctrl-D" in text
    # first turn: the cheap rung fails, the top rung solves it, the footer shows the savings
    assert "cheap failed: the last execution exited 1 → escalating to top" in text
    assert "assistant · top" in text and "The answer is 391." in text
    assert "✓ resolved by top" in text and "top-rung estimate" in text and "session" in text
    # /good banks it and prints the id ...
    banked = [line for line in text.splitlines() if "banked solution" in line]
    assert len(banked) == 1
    sid = banked[0].split()[-1]
    # ... and the next, similar query gets it as a demonstration, solved on the cheap rung
    assert "↳ demonstration (0.9" in text and "What is 17 * 23?" in text
    assert "✓ resolved by cheap" in text and "It is 408." in text
    # /cost per rung, /history, /bank search
    assert "session cost" in text and "saved" in text
    assert "1. ✓ top" in text and "2. ✓ cheap" in text
    assert sid in text.split("/bank 17 times 23")[1]
    assert text.rstrip().endswith("bye")


def test_chat_bad_then_retry_from_the_next_rung(tmp_path: Path, sandbox_image: str) -> None:
    cheap = ["```python\nprint(17 * 22)\n```", "It is 374. TERMINATE"]
    top = ["```python\nprint(17 * 23)\n```", "The answer is 391. TERMINATE"]
    stdin = "What is 17 * 23?\n/bad\n/retry\n/good\n"
    result = runner.invoke(app, ["--config", str(config(tmp_path, cheap, top)), "chat"], input=stdin)
    assert result.exit_code == 0, result.output  # end of input = Ctrl-D
    text = result.stdout
    assert "✓ resolved by cheap" in text and "It is 374." in text
    assert "👎 recorded. /retry runs it again from top." in text
    assert "✓ resolved by top" in text.split("› /retry")[1] and "The answer is 391." in text
    assert "banked solution" in text.split("› /good")[1]


def test_chat_help_unknown_and_nothing_yet(tmp_path: Path, sandbox_image: str) -> None:
    result = runner.invoke(
        app, ["--config", str(config(tmp_path, [], [])), "chat"], input="/good\n/help\n/nope\n/ladder\n/new\n"
    )
    assert result.exit_code == 0
    text = result.stdout
    assert "nothing to act on yet" in text and "unknown command /nope" in text
    for command in ("/good", "/bad", "/retry", "/cost", "/history", "/bank", "/ladder", "/new", "/exit", "/help"):
        assert command in text.split("› /help")[1]
    assert "new conversation" in text
