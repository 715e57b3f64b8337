"""Batch files: every input format, bad rows by line number, resume, interrupt, concurrency, exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecoagent.batch.rows import BadRow, BatchRow, read_batch, read_done_ids
from ecoagent.cli import app
from ecoagent.sandbox.engine import LABEL
from ecoagent.testing import write_scripted_config

runner = CliRunner()
GOOD = ["```python\nprint(17 * 23)\n```", "The answer is 391. TERMINATE"]


def scripted_config(tmp_path: Path, script: list[str]) -> Path:
    return write_scripted_config(tmp_path, {"cheap": script}, prices={"cheap": (0.15, 0.6)}, sandbox_timeout_s=30)


# ---- reading ------------------------------------------------------------------------
def test_jsonl_rows_and_bad_rows_with_line_numbers(tmp_path: Path) -> None:
    f = tmp_path / "q.jsonl"
    f.write_text(
        '{"id": "a", "query": "What is 2+2?", "expected": "4"}\n'
        "not json\n"
        "\n"
        '{"id": "b"}\n'
        '{"query": "   "}\n'
        '{"id": "a", "query": "dup"}\n'
        f'{{"query": "{"x" * 20001}"}}\n'
        '["a list"]\n'
        '{"query": "What is 3+3?", "expected_regex": "^6$"}\n'
    )
    rows = read_batch(str(f))
    good = [r for r in rows if isinstance(r, BatchRow)]
    bad = {r.line: r.reason for r in rows if isinstance(r, BadRow)}
    assert [(r.id, r.line, r.expected, r.expected_regex) for r in good] == [
        ("a", 1, "4", None),
        ("line-9", 9, None, "^6$"),
    ]
    assert bad[2].startswith("invalid JSON") and bad[4] == "missing field 'query'" and bad[5] == "empty query"
    assert bad[6] == "duplicate id 'a'" and "over the 20000 limit" in bad[7] and "JSON object" in bad[8]


def test_csv_and_txt_and_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    csv = tmp_path / "q.csv"
    csv.write_text('id,query,expected\nx,"What is 6*7?",42\ny,,\n')
    rows = read_batch(str(csv))
    assert rows[0] == BatchRow(id="x", query="What is 6*7?", line=2, expected="42")
    assert rows[1] == BadRow(line=3, reason="empty query")
    txt = tmp_path / "q.txt"
    txt.write_text("first query\n\nsecond query\n")
    assert [(r.id, r.query) for r in read_batch(str(txt)) if isinstance(r, BatchRow)] == [
        ("line-1", "first query"),
        ("line-3", "second query"),
    ]
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO('{"query": "from stdin"}\n'))
    assert [r.query for r in read_batch("-") if isinstance(r, BatchRow)] == ["from stdin"]


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("missing.jsonl", None, "no such file"),
        ("q.yaml", "query: x", "unknown batch format"),
        ("q.csv", "question\nx\n", "no 'query' column"),
    ],
)
def test_unreadable_files_are_usage_errors(tmp_path: Path, name: str, content: str | None, needle: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    result = runner.invoke(app, ["batch", str(path)])
    assert result.exit_code == 2 and needle in result.stderr


# ---- running ---------------------------------------------------------------------------
@pytest.mark.docker
def test_batch_runs_writes_results_and_reports(tmp_path: Path, sandbox_image: str) -> None:
    cfg = scripted_config(tmp_path, GOOD * 2)
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        '{"id": "one", "query": "What is 17*23?"}\nbroken\n{"id": "two", "query": "17 times 23?", "expected": "391"}\n'
    )
    out = tmp_path / "results.jsonl"
    result = runner.invoke(app, ["--config", str(cfg), "batch", str(queries), "--out", str(out)])
    assert result.exit_code == 1  # a bad row makes the batch exit 1...
    assert "line 2: skipped: invalid JSON" in result.stderr and "1 bad row(s) skipped" in result.stderr
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    # ...but good rows ran: the row with an expected answer is checked; the one without is judged
    # by the evidence judge, and nothing independent backs a lone answer: returned, unverified
    assert [(x["id"], x["resolved"], x["unverified"], x["rung"]) for x in lines] == [
        ("one", False, True, "cheap"),
        ("two", True, False, "cheap"),
    ]
    assert lines[1]["verdict"]["judge"] == "expected" and lines[0]["verdict"]["judge"] == "evidence"
    assert lines[0]["answer"] == "The answer is 391." and lines[0]["run_id"] and lines[0]["tokens"] > 0
    for piece in ("success", "1/2 (50%)", "unverified", "escalations", "top-rung estimate", "saving", "latency"):
        assert piece in result.stderr


@pytest.mark.docker
def test_failed_expected_exits_1_and_bank_verified_banks_passes(tmp_path: Path, sandbox_image: str) -> None:
    cfg = scripted_config(tmp_path, GOOD * 2)
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        '{"id": "ok", "query": "What is 17*23?", "expected": "391"}\n{"id": "wrong", "query": "What is 17*24?", "expected": "408"}\n'
    )
    result = runner.invoke(app, ["--config", str(cfg), "batch", str(queries), "--bank-verified"])
    assert result.exit_code == 1
    search = runner.invoke(app, ["--config", str(cfg), "bank", "search", "What is 17*23?"])
    assert "1 match(es)" in search.stdout and "17*23" in search.stdout and "17*24" not in search.stdout


@pytest.mark.docker
def test_resume_skips_finished_rows(tmp_path: Path, sandbox_image: str) -> None:
    cfg = scripted_config(tmp_path, GOOD * 3)
    queries = tmp_path / "q.txt"
    queries.write_text("first\nsecond\nthird\n")
    out = tmp_path / "r.jsonl"
    first = runner.invoke(app, ["--config", str(cfg), "batch", str(queries), "--out", str(out), "--limit", "1"])
    assert first.exit_code == 0 and len(out.read_text().splitlines()) == 1
    run_id = json.loads(out.read_text().splitlines()[0])["run_id"]
    again = runner.invoke(app, ["--config", str(cfg), "batch", str(queries), "--out", str(out), "--resume"])
    assert again.exit_code == 0 and "resuming: 1 row(s) already" in again.stderr
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["id"] for x in lines] == ["line-1", "line-2", "line-3"] and lines[0]["run_id"] == run_id
    assert read_done_ids(out) == {"line-1", "line-2", "line-3"}


@pytest.mark.docker
def test_ctrl_c_stops_cleanly_and_resume_finishes(tmp_path: Path, sandbox_image: str, docker_client) -> None:  # type: ignore[no-untyped-def]
    slow = ["```python\nimport time\ntime.sleep(60)\n```", "TERMINATE"]
    cfg = scripted_config(tmp_path, GOOD + slow + GOOD * 2)
    queries = tmp_path / "q.txt"
    queries.write_text("fast\nslow\nlast\n")
    out = tmp_path / "r.jsonl"
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ecoagent", "--config", str(cfg), "batch", str(queries), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (out.exists() and out.read_text().count("\n") >= 1):
        time.sleep(0.2)
    while time.monotonic() < deadline and not docker_client.containers.list(filters={"label": LABEL}):
        time.sleep(0.05)  # until the slow row is in its sandbox
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted after 1 of 3" in stderr and "--resume" in stderr
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["line-1"]
    again = runner.invoke(app, ["--config", str(cfg), "batch", str(queries), "--out", str(out), "--resume"])
    assert again.exit_code == 0
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["line-1", "line-2", "line-3"]


@pytest.mark.docker
def test_concurrency_gives_the_same_results_as_sequential(tmp_path: Path, sandbox_image: str) -> None:
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        "".join(
            json.dumps({"id": f"q{i}", "query": q}) + "\n"
            for i, q in enumerate(
                [
                    "Write Python code to print 17 * 23.",
                    "Write Python code to print the sum of the numbers from 1 to 100.",
                    "Write Python code to print the string 'ecoagent' reversed.",
                ]
            )
        )
    )
    cfg = tmp_path / "ecoagent.toml"
    cfg.write_text(
        '[run]\nmax_turns = 4\njudge = "auto"\n'
    )  # the offline default ladder: the real bundled SmolLM2 (one rung a row: concurrency is what is tested)
    results = {}
    for jobs in ("1", "3"):
        out = tmp_path / f"r{jobs}.jsonl"
        # --no-cache: the second batch would otherwise be served what the first one resolved
        result = runner.invoke(
            app, ["--config", str(cfg), "batch", str(queries), "--out", str(out), "-j", jobs, "--no-cache"]
        )
        assert result.exit_code == 0, result.stderr
        rows = sorted((json.loads(x) for x in out.read_text().splitlines()), key=lambda r: r["id"])
        results[jobs] = [(r["id"], r["resolved"], r["rung"], r["answer"], r["tokens"]) for r in rows]
        assert all(r["error"] is None for r in rows)
    assert results["1"] == results["3"]


@pytest.mark.docker
def test_review_walks_results_and_banks_the_good_ones(tmp_path: Path, sandbox_image: str) -> None:
    cfg = scripted_config(tmp_path, GOOD * 3)
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        '{"id": "a", "query": "What is 17 * 23?"}\n{"id": "b", "query": "Compute the factorial of 5"}\n'
        '{"id": "c", "query": "Reverse the word ecoagent"}\n'
    )
    out = tmp_path / "r.jsonl"
    assert runner.invoke(app, ["--config", str(cfg), "batch", str(queries), "--out", str(out)]).exit_code == 0
    result = runner.invoke(app, ["--config", str(cfg), "review", str(out)], input="g\nx\nb\ns\n")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "1/3" in text and "query:  What is 17 * 23?" in text and "print(17 * 23)" in text
    assert text.count("banked solution") == 1 and "answer g, b, s or q" in text
    assert "reviewed: 1 good, 1 bad, 1 skipped" in text
    stats = runner.invoke(app, ["--config", str(cfg), "bank", "stats"]).stdout
    assert "solutions: 1 (1 active" in stats


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "no queries in"), ("\n\n", "no queries in"), ('not json\n{"id": 1}\n', "no valid queries in")],
)
def test_a_file_without_queries_is_an_error(tmp_path: Path, content: str, message: str) -> None:
    f = tmp_path / "q.jsonl"
    f.write_text(content)
    result = runner.invoke(app, ["batch", str(f)])
    assert result.exit_code == 1 and message in result.stderr and "batch report" not in result.stderr


def test_run_batch_is_a_library_function_rows_in_results_out(tmp_path: Path) -> None:
    import asyncio

    from ecoagent import EcoAssistant
    from ecoagent.batch import BatchRow, run_batch
    from ecoagent.config import BankSettings, LadderSettings, Rung, RunSettings, Settings
    from ecoagent.events import Escalated
    from ecoagent.testing import FakeExecutor, ScriptedChatCompletionClient

    rungs = [
        Rung(name="cheap", provider="openai", model="c", input_price_per_mtok=0.15, output_price_per_mtok=0.6),
        Rung(name="top", provider="openai", model="t", input_price_per_mtok=2.5, output_price_per_mtok=10.0),
    ]
    cheap = ScriptedChatCompletionClient(
        ["```python\nprint(17 * 22)\n```", "374. TERMINATE", *GOOD, RuntimeError("boom")]
    )
    top = ScriptedChatCompletionClient(GOOD)
    settings = Settings(ladder=LadderSettings(rungs=rungs), bank=BankSettings(top_k=0), run=RunSettings(judge="auto"))
    eco = EcoAssistant(settings, clients={"cheap": cheap, "top": top}, executor_factory=FakeExecutor)
    rows = [
        BatchRow("wrong", "What is 17 * 23?", 1, expected="391"),
        BatchRow("right", "17 times 23?", 2),
        BatchRow("crash", "What is 2 + 2?", 3),
    ]
    seen: list[tuple[str, str]] = []
    summary = asyncio.run(run_batch(eco, rows, on_event=lambda row, e: seen.append((row.id, type(e).__name__))))
    eco.close()
    by_id = {r.row.id: r for r in summary.results}
    assert by_id["wrong"].resolved and by_id["wrong"].record and by_id["wrong"].record.final_rung == "top"
    assert by_id["right"].resolved and by_id["right"].record and by_id["right"].record.final_rung == "cheap"
    crash = by_id["crash"]  # the cheap rung's model raised; the top rung had no replies left
    assert not crash.resolved and crash.error and "boom" in crash.error and crash.to_json()["error"] == crash.error
    assert ("wrong", Escalated.__name__) in seen
    assert (
        summary.done == 3
        and summary.solved == 2
        and summary.escalations == 2
        and summary.errors == 1
        and summary.failed
    )
    assert summary.cost.per_rung["top"].solved == 1 and summary.cost.cost > 0
    assert summary.latency(0.5) > 0 and summary.latency(0.9) >= summary.latency(0.5)
