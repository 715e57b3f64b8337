"""HumanEval in the bench: the installed package's problems, cut in halves, judged by their tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ecoagent.bench.humaneval import load_humaneval, query_for
from ecoagent.cli import app
from ecoagent.errors import EcoagentError
from ecoagent.testing import write_scripted_config

runner = CliRunner()
COMPUTE = Path(__file__).resolve().parents[1] / "benchmarks" / "tasks" / "compute.jsonl"


def number(task_id: str) -> int:
    return int(task_id.rsplit("-", 1)[1])


def test_the_installed_problems_load_in_halves() -> None:
    odd, even = load_humaneval(), load_humaneval(measured="even")
    assert len(odd) == len(even) == 164
    measured_odd = {t.id for t in odd if t.half == "test"}
    assert len(measured_odd) == 82 and all(number(i) % 2 == 1 for i in measured_odd)
    assert {t.id for t in even if t.half == "test"} == {t.id for t in odd} - measured_odd
    first = odd[0]
    assert first.id == "HumanEval-0" and first.entry_point == "has_close_elements" and first.half == "seed"
    assert first.tests and "def check(candidate)" in first.tests
    assert first.code and first.code.startswith("from typing import List") and "return False" in first.code
    assert first.query.startswith("Complete the Python function below.") and "def has_close_elements" in first.query
    assert query_for("def f():\n    pass\n").endswith("```python\ndef f():\n    pass\n```")


def test_a_file_that_is_not_humaneval_is_refused_with_its_line(tmp_path: Path) -> None:
    good = {
        "task_id": "HumanEval/0",
        "prompt": "def f():\n",
        "canonical_solution": "    return 1\n",
        "test": "def check(c):\n    assert c() == 1\n",
        "entry_point": "f",
    }
    path = tmp_path / "he.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({"task_id": "HumanEval/1"}) + "\n", encoding="utf-8")
    with pytest.raises(EcoagentError, match=r"he.jsonl line 2: not a HumanEval problem") as caught:
        load_humaneval(path)
    assert caught.value.exit_code == 2
    path.write_text(json.dumps(good) + "\n", encoding="utf-8")
    (task,) = load_humaneval(path)
    assert task.code == "def f():\n    return 1\n" and task.half == "seed"


@pytest.mark.parametrize("args", [[str(COMPUTE), "-p", "split"], ["humaneval"]])
def test_both_halves_need_humaneval_under_split(tmp_path: Path, args: list[str]) -> None:
    result = runner.invoke(app, ["bench", *args, "--measured-half", "both", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "ecoagent bench humaneval -p split" in result.output, result.output


def test_both_halves_are_measured_and_pooled_in_one_report(tmp_path: Path, sandbox_image: str) -> None:
    solution = load_humaneval()[0].code  # HumanEval/0's canonical solution, whatever the problem
    cfg = write_scripted_config(
        tmp_path, {"cheap": [f"```python\n{solution}\n```", "It is defined above. TERMINATE"] * 10}
    )
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "--config",
            str(cfg),
            "bench",
            "humaneval",
            "-p",
            "split",
            "--measured-half",
            "both",
            "--limit",
            "2",
            "-s",
            "bottom-only",
            "--out",
            str(out),
            "--no-chart",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report-split.json").read_text())
    (pooled,) = report["strategies"]
    assert pooled["items"] == 2 and pooled["solved"] == 1 and "every problem" in report["title"]

    def verdicts(half: str) -> dict[str, bool]:
        lines = (out / half / "split" / "bottom-only" / "results.jsonl").read_text().splitlines()
        return {json.loads(line)["item_id"]: json.loads(line)["resolved"] for line in lines}

    assert verdicts("even-half") == {"HumanEval-0:query": True}  # measured with HumanEval/1 as its seed
    assert verdicts("odd-half") == {"HumanEval-1:query": False}  # HumanEval/0's code fails HumanEval/1's tests
