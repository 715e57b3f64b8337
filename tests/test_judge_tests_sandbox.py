"""The ``tests`` judge in the real sandbox: a fresh, locked-down container per verdict."""

from __future__ import annotations

import asyncio

import pytest

from ecoagent.bench.humaneval import load_humaneval
from ecoagent.config import SandboxSettings
from ecoagent.judge import JudgeInput, TestOutcome, TestsJudge
from ecoagent.query import Query
from ecoagent.records import Execution, RungAttempt
from ecoagent.sandbox import DockerSandboxExecutor
from ecoagent.sandbox.engine import LABEL


def run(
    settings: SandboxSettings, solution: str, tests: str, entry_point: str | None = None, timeout_s: float = 20
) -> TestOutcome:
    return asyncio.run(
        TestsJudge(DockerSandboxExecutor, settings, timeout_s=timeout_s).run(solution, tests, entry_point)
    )


def test_a_passing_and_a_failing_solution(sandbox_settings: SandboxSettings) -> None:
    tests = "assert add(2, 3) == 5\nassert add(-2, 2) == 0\n"
    assert run(sandbox_settings, "def add(a, b):\n    return a + b\n", tests) == TestOutcome(
        True, "tests passed: 2 assert(s)"
    )
    failed = run(sandbox_settings, "def add(a, b):\n    return a * b\n", tests)
    assert failed == TestOutcome(False, "failed: assert add(2, 3) == 5 (tests line 1); the left side was 6")


def test_the_verdict_runs_in_a_fresh_container_not_the_attempts_workspace(sandbox_settings: SandboxSettings) -> None:
    async def go() -> TestOutcome:
        async with DockerSandboxExecutor(sandbox_settings) as attempt:  # the attempt leaves a file behind...
            await attempt.run("open('answer.txt', 'w').write('42')")
            judge = TestsJudge(DockerSandboxExecutor, sandbox_settings)
            verdict = await judge(
                JudgeInput(
                    Query("q", tests="import os\nassert os.path.exists('answer.txt'), 'no answer.txt'\n"),
                    RungAttempt(
                        rung="r", executions=[Execution(code="x = 1", language="python", exit_code=0, output="")]
                    ),
                    "",
                )
            )
            return TestOutcome(verdict.ok, verdict.reason)

    outcome = asyncio.run(go())  # ...which the judge's container does not have
    assert not outcome.ok and "no answer.txt" in outcome.reason


def test_tests_that_try_the_network_or_loop_forever_fail_cleanly(
    sandbox_settings: SandboxSettings, docker_client
) -> None:  # type: ignore[no-untyped-def]
    before = {c.id for c in docker_client.containers.list(all=True, filters={"label": LABEL})}
    network = (
        "import socket\ns = socket.create_connection(('1.1.1.1', 80), timeout=3)\nassert False, 'reached the network'\n"
    )
    outcome = run(sandbox_settings, "x = 1\n", network)
    assert (
        not outcome.ok
        and "reached the network" not in outcome.reason
        and outcome.reason.startswith("the tests raised OSError")
    )
    forever = run(sandbox_settings, "def f():\n    while True:\n        pass\n", "f()\n", timeout_s=2)
    assert forever == TestOutcome(
        False, "the tests timed out after 2 s (an endless loop in the solution or the tests?)"
    )
    left = {c.id for c in docker_client.containers.list(all=True, filters={"label": LABEL})}
    assert left <= before  # every verdict's container is gone


@pytest.mark.parametrize("number", [0, 1, 2, 11, 32, 53, 100, 163])
def test_humaneval_canonical_solutions_pass_and_a_wrong_one_fails(
    sandbox_settings: SandboxSettings, number: int
) -> None:
    task = load_humaneval()[number]
    assert task.code and task.tests and task.entry_point
    passed = run(sandbox_settings, task.code, task.tests, task.entry_point)
    assert passed.ok, passed.reason
    gives_up = f"def {task.entry_point}(*args, **kwargs):\n    return None\n"
    assert not run(sandbox_settings, gives_up, task.tests, task.entry_point).ok
