"""CLI transcripts for ask, feedback, logs, ladder and bank, on scripted rungs and the real sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecoagent.cli import app
from ecoagent.testing import write_scripted_config

runner = CliRunner()
PRICES = {"cheap": (0.15, 0.6), "top": (2.5, 10.0)}

FAIL = ["```python\nprint(17 * 23 +)\n```", "Sorry. TERMINATE"]
GOOD = ["```python\nprint(17 * 23)\n```", "The answer is 391. TERMINATE"]


def config(tmp_path: Path, cheap: list[object], top: list[object]) -> Path:
    # one scripted answer a rung, judged as before the evidence judge (its CLI tests: tests/test_unverified.py)
    return write_scripted_config(tmp_path, {"cheap": cheap, "top": top}, prices=PRICES, judge="auto")


def invoke(cfg: Path, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--config", str(cfg), *args], input=input)


@pytest.mark.docker
def test_ask_escalates_and_prints_the_answer(tmp_path: Path, sandbox_image: str) -> None:
    result = invoke(config(tmp_path, FAIL, GOOD), "ask", "What is 17 * 23?")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "The answer is 391.\n"  # only the answer on stdout
    assert "cheap failed: the last execution exited 1 → escalating to top" in result.stderr
    assert "✓ resolved by top" in result.stderr and "top-rung estimate" in result.stderr


@pytest.mark.docker
def test_ask_json_and_unresolved_exit_code(tmp_path: Path, sandbox_image: str) -> None:
    result = invoke(config(tmp_path, GOOD, []), "ask", "What is 17 * 23?", "--json")
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and data["resolved"] and data["rung"] == "cheap"
    assert data["answer"] == "The answer is 391." and data["code"] == "print(17 * 23)"
    assert set(data) >= {"run_id", "resolved", "rung", "cost", "answer", "code"}
    # the same rung names and model files as above: --no-cache, or the cached answer would be served
    result = invoke(config(tmp_path, FAIL, ["No idea. TERMINATE"]), "ask", "What is 17 * 23?", "--no-cache")
    assert result.exit_code == 1 and "unresolved" in result.stderr and result.stdout == ""


@pytest.mark.docker
def test_ask_verbose_shows_the_conversation(tmp_path: Path, sandbox_image: str) -> None:
    result = invoke(config(tmp_path, GOOD, []), "ask", "What is 17 * 23?", "-v")
    assert result.exit_code == 0
    for piece in ("▸ cheap", "assistant · cheap", "print(17 * 23)", "executor", "391"):
        assert piece in result.stderr


@pytest.mark.docker
def test_feedback_logs_and_bank_round_trip(tmp_path: Path, sandbox_image: str) -> None:
    cfg = config(tmp_path, GOOD, [])
    run = json.loads(invoke(cfg, "ask", "What is 17 * 23?", "--json").stdout)
    logs = invoke(cfg, "logs")
    assert logs.exit_code == 0 and run["run_id"] in logs.stdout and "cheap" in logs.stdout
    full = invoke(cfg, "logs", "--run", run["run_id"])
    assert "✓ cheap" in full.stdout and "The answer is 391." in full.stdout
    lines = invoke(cfg, "logs", "--json").stdout.splitlines()
    assert json.loads(lines[0])["run_id"] == run["run_id"]

    fb = invoke(cfg, "feedback", run["run_id"], "--good")
    assert fb.exit_code == 0 and fb.stdout.startswith("banked solution ")
    sid = fb.stdout.split()[-1]
    found = invoke(cfg, "bank", "search", "compute 17 times 23")
    assert sid[:8] in found.stdout and "What is 17 * 23?" in found.stdout
    shown = invoke(cfg, "bank", "show", sid)
    assert "print(17 * 23)" in shown.stdout and "answer: The answer is 391." in shown.stdout
    assert "solutions: 1 (1 active, 0 retired)" in invoke(cfg, "bank", "stats").stdout

    export = tmp_path / "bank.jsonl"
    assert invoke(cfg, "bank", "export", str(export)).exit_code == 0
    assert invoke(cfg, "bank", "remove", sid).exit_code == 0
    assert "solutions: 0" in invoke(cfg, "bank", "stats").stdout
    export.write_text(export.read_text() + 'not json\n{"query": "no id"}\n')
    imported = invoke(cfg, "bank", "import", str(export))
    assert imported.exit_code == 1  # bad lines reported, good ones kept
    assert "line 2: skipped" in imported.stderr and "line 3: skipped" in imported.stderr
    assert "imported 1 solution(s), skipped 2 bad line(s)" in imported.stderr
    assert "print(17 * 23)" in invoke(cfg, "bank", "show", sid).stdout

    moved = invoke(cfg, "bank", "migrate", "--to", str(tmp_path / "other-store"))
    assert moved.exit_code == 0 and "migrated 1 solution(s)" in moved.stdout, moved.output


def test_feedback_needs_exactly_one_verdict_and_a_known_run(tmp_path: Path) -> None:
    cfg = config(tmp_path, GOOD, [])
    assert invoke(cfg, "feedback", "some-run").exit_code == 2
    unknown = invoke(cfg, "feedback", "nope", "--bad")
    assert unknown.exit_code == 2 and "no run with id 'nope'" in unknown.stderr


def test_ladder_shows_rungs_prices_and_reachability(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = config(tmp_path, GOOD, GOOD)
    result = invoke(cfg, "ladder")
    assert result.exit_code == 0 and "cheap" in result.stdout and "2.5" in result.stdout
    offline = runner.invoke(app, ["ladder", "--ladder", "offline"])
    assert offline.exit_code == 0 and "smollm2" in offline.stdout and "yes" in offline.stdout, offline.output
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    paid = runner.invoke(app, ["ladder", "--ladder", "openai"])
    assert paid.exit_code == 1 and "no API key for rung gpt-4o-mini" in paid.stdout


def test_missing_key_for_ask_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    result = runner.invoke(app, ["ask", "hi", "--ladder", "openai"])
    assert result.exit_code == 1
    assert "no API key for rung gpt-4o-mini" in result.stderr and "export OPENAI_API_KEY" in result.stderr


@pytest.mark.docker
def test_batch_shows_each_escalation_as_it_happens(tmp_path: Path, sandbox_image: str) -> None:
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"id": "q1", "query": "What is 17 * 23?"}\n')
    result = invoke(config(tmp_path, FAIL, GOOD), "batch", str(queries))
    assert result.exit_code == 0, result.stderr
    assert "q1: cheap failed: the last execution exited 1 → escalating to top" in result.stderr
    assert "[1/1] q1: ✓ top" in result.stderr and "escalations" in result.stderr


def test_logs_keep_the_query_readable_at_80_columns(tmp_path: Path) -> None:
    from ecoagent.config import load_settings
    from ecoagent.records import RunRecord
    from ecoagent.runlog import RunLog

    cfg = config(tmp_path, GOOD, [])
    log = RunLog(load_settings(cfg).runlog_file())
    query = "Write Python code that prints the prime numbers below thirty, one per line"
    record = RunRecord(query=query)
    log.add(record)
    log.close()
    result = invoke(cfg, "logs")  # not a terminal: rich lays it out at 80 columns
    assert result.exit_code == 0 and record.run_id in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert all(word in result.stdout for word in query.split())  # every word shown, folded over lines


@pytest.mark.docker
def test_ask_serves_repeats_from_the_cache_replays_paraphrases_and_no_cache_opts_out(
    tmp_path: Path, sandbox_image: str
) -> None:
    cfg = config(tmp_path, GOOD, [])
    first = json.loads(invoke(cfg, "ask", "What is 17 * 23?", "--json").stdout)
    again = invoke(cfg, "ask", "what is 17 * 23", "--json")
    served = json.loads(again.stdout)
    assert (
        again.exit_code == 0
        and served["rung"] == "exact"
        and served["tokens"] == 0
        and served["answer"] == first["answer"]
    )
    assert "answered from the cache (no model)" in again.stderr
    fresh = json.loads(invoke(cfg, "ask", "What is 17 * 23?", "--json", "--no-cache").stdout)
    assert fresh["rung"] == "cheap" and fresh["tokens"] > 0

    assert invoke(cfg, "feedback", first["run_id"], "--good").exit_code == 0  # banked: replay can use it
    replayed = invoke(cfg, "ask", "Multiply 17 by 23.", "-v")
    assert replayed.exit_code == 0 and replayed.stdout.strip() == "391"
    assert "replayed" in replayed.stderr and "by replaying a confirmed solution" in replayed.stderr
    refused = invoke(cfg, "ask", "What is 17 * 24?", "-v", "--json")
    assert "not replayed" in refused.stderr and "numbers differ (17, 24 vs 17, 23)" in refused.stderr

    assert invoke(cfg, "feedback", served["run_id"], "--bad").exit_code == 0  # evicts the cached answer
    assert json.loads(invoke(cfg, "ask", "What is 17 * 23?", "--json").stdout)["rung"] == "cheap"
    stats = json.loads(invoke(cfg, "cache", "stats", "--json").stdout)
    assert stats["exact_hits"] == 1 and stats["replays_served"] == 1 and stats["guard_refusals"] == 1
    assert stats["evictions"] >= 1
    listed = invoke(cfg, "cache", "list")
    assert "What is 17 * 23?" in listed.stdout and "391" in listed.stdout
    assert (
        "cleared" in invoke(cfg, "cache", "clear").stdout
        and invoke(cfg, "cache", "list").stdout.strip() == "the cache is empty"
    )
