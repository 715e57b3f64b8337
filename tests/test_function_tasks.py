"""Function-writing teacher tasks (benchmarks/tasks/make_functions.py), judged by tests."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import random
import sys
from pathlib import Path
from typing import Any

from ecoagent.bench import load_tasks
from ecoagent.bench.humaneval import load_humaneval
from ecoagent.config import SandboxSettings
from ecoagent.judge import TestsJudge
from ecoagent.sandbox import DockerSandboxExecutor

TASKS = Path(__file__).resolve().parents[1] / "benchmarks" / "tasks"


def _load(name: str, path: Path):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def committed() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (TASKS / "functions.jsonl").read_text(encoding="utf-8").splitlines()]


def passes(code: str, tests: str, entry_point: str, candidate: Any = None) -> bool:
    """The tests against ``code``'s function (or ``candidate`` instead), in-process: our own code."""
    scope: dict[str, Any] = {"print": lambda *a, **k: None}
    exec(compile(code, "<solution>", "exec"), scope)  # noqa: S102
    exec(compile(tests, "<tests>", "exec"), scope)  # noqa: S102
    try:
        scope["check"](candidate if candidate is not None else scope[entry_point])
    except AssertionError:
        return False
    except Exception:  # a wrong candidate may raise instead of answering wrong
        return False
    return True


def test_the_committed_set_is_what_the_generator_writes() -> None:
    make = _load("make_functions", TASKS / "make_functions.py")
    built = make.build()
    assert committed() == built  # regenerate with: .venv/bin/python benchmarks/tasks/make_functions.py
    families = {t["family"] for t in built}
    assert len(families) >= 25 and len(built) >= 300 and len({t["query"] for t in built}) == len(built)
    for task in built:
        assert task["entry_point"] in task["query"] and task["tests"].startswith("def check(candidate):")
        assert task["code"].startswith(f"def {task['entry_point']}(")
    assert {t.entry_point for t in load_tasks(TASKS / "functions.jsonl")} == {
        t["entry_point"] for t in built
    }  # the bench reads it


def test_the_tests_pass_the_reference_and_reject_wrong_answers() -> None:
    wrong = [lambda *a: None, lambda *a: 0, lambda *a: a[0] if a else None]
    for task in committed():
        assert passes(task["code"], task["tests"], task["entry_point"]), task["id"]
        for candidate in wrong:
            assert not passes(task["code"], task["tests"], task["entry_point"], candidate), task["id"]


def test_no_task_is_a_humaneval_problem() -> None:
    theirs = load_humaneval()
    names = {t.entry_point for t in theirs}
    assert not names & {t["entry_point"] for t in committed()}
    their_prompts = {t.query for t in theirs}
    assert not their_prompts & {t["query"] for t in committed()}


def test_function_families_fall_on_both_sides_of_the_holdout_split() -> None:
    make = _load("make_teacher", TASKS / "make_teacher.py")
    train, held = make.holdout_split(sorted({t["family"] for t in committed()}))
    assert train and held and not train & held


def test_a_sample_passes_the_tests_judge_in_the_sandbox(sandbox_settings: SandboxSettings) -> None:
    sample = random.Random(0).sample(committed(), 8)

    async def go() -> list[str]:
        judge = TestsJudge(DockerSandboxExecutor, sandbox_settings)
        outcomes = [(t["id"], await judge.run(t["code"], t["tests"], t["entry_point"])) for t in sample]
        return [f"{i}: {o.reason}" for i, o in outcomes if not o.ok]

    assert asyncio.run(go()) == []


def test_a_teacher_run_of_function_tasks_is_confirmed_by_their_tests(
    sandbox_settings: SandboxSettings, tmp_path: Path
) -> None:
    from ecoagent.embed import Embedder
    from ecoagent.finetune import ExportFilter, export_examples
    from ecoagent.prompts import load_prompt
    from ecoagent.runlog import RunLog

    bench = _load("bench_finetune", TASKS.parent / "bench_finetune.py")
    rows = committed()[:1] + committed()[-1:]
    (tasks := tmp_path / "tasks.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert asyncio.run(bench.teacher_runs(load_tasks(tasks), tmp_path / "teacher", fail_fraction=1.0)) == (2, 2)
    log = RunLog(tmp_path / "teacher" / "runs.sqlite3")
    records = log.all()
    report = export_examples(records, load_prompt("assistant"), Embedder().vectors, ExportFilter(test_fraction=0.0))
    log.close()
    verdicts = [r.attempts[-1].verdict for r in records]
    assert all(v is not None and v.judge == "tests" and v.ok for v in verdicts), verdicts
    assert len(report.examples) == 2  # a passed tests verdict counts as confirmed
    last = [m for m in report.examples[0]["messages"] if m["role"] == "assistant"][-1]["content"]
    assert last.endswith("is defined above and runs. TERMINATE")
