"""The ``tests`` judge without Docker: its harness runs in AutoGen's local executor here.

The verdict logic (what passes, which assert is quoted, syntax errors, timeouts, tests
that call what the answer never defined) lives in the harness program, which is the
same program the sandbox runs (tests/test_judge_tests_sandbox.py runs it there).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import openai
import pytest
from autogen_ext.code_executors.local import LocalCommandLineCodeExecutor

from ecoagent.assistant import EcoAssistant
from ecoagent.batch import read_batch
from ecoagent.bench import load_tasks, markdown_table, select_strategies
from ecoagent.bench.runner import run_bench
from ecoagent.config import Rung, RunSettings, SandboxSettings, load_settings
from ecoagent.errors import EcoagentError
from ecoagent.judge import JudgeInput, TestsJudge, read_outcome
from ecoagent.ladder import Ladder
from ecoagent.prompts import first_message
from ecoagent.query import Query
from ecoagent.records import Execution, RungAttempt, RunRecord
from ecoagent.serve import KeyRing, create_app
from ecoagent.testing import LiveServer, ScriptedChatCompletionClient, write_scripted_config

# AutoGen warns that its local executor runs code on this machine: here that is the point (the harness's own logic).
pytestmark = pytest.mark.filterwarnings("ignore:Using LocalCommandLineCodeExecutor")


@pytest.fixture
def local(tmp_path: Path):  # type: ignore[no-untyped-def]
    """An executor factory that runs blocks with this interpreter in a temp folder."""
    work = tmp_path / "work"
    work.mkdir()

    def factory(settings: SandboxSettings) -> LocalCommandLineCodeExecutor:
        return LocalCommandLineCodeExecutor(timeout=max(1, int(settings.timeout_s)), work_dir=work)

    return factory


def verdict(factory, solution: str, tests: str, entry_point: str | None = None, *, timeout_s: float = 20.0):  # type: ignore[no-untyped-def]
    judge = TestsJudge(factory, SandboxSettings(), timeout_s=timeout_s)
    attempt = RungAttempt(
        rung="cheap", executions=[Execution(code=solution, language="python", exit_code=0, output="")]
    )
    query = Query("Write add(a, b).", tests=tests, entry_point=entry_point)
    return asyncio.run(judge(JudgeInput(query, attempt, "")))


ADD = "def add(a, b):\n    return a + b\n"


def test_passing_tests_pass_and_say_how_many_asserts(local) -> None:  # type: ignore[no-untyped-def]
    v = verdict(local, ADD, "assert add(2, 3) == 5\nassert add(-1, 1) == 0\n")
    assert v.ok and v.judge == "tests" and v.reason == "tests passed: 2 assert(s)"


def test_the_first_failing_assert_is_quoted_with_its_line_and_the_value_it_got(local) -> None:  # type: ignore[no-untyped-def]
    wrong = "def add(a, b):\n    return a - b\n"
    v = verdict(local, wrong, "assert add(0, 0) == 0\nassert add(2, 3) == 5, 'two plus three'\nassert add(1, 1) == 2\n")
    assert not v.ok
    assert (
        v.reason
        == "failed: assert add(2, 3) == 5, 'two plus three' (tests line 2) (two plus three); the left side was -1"
    )


def test_humaneval_shape_check_candidate_with_entry_point(local) -> None:  # type: ignore[no-untyped-def]
    tests = "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(2, 2) == 4\n"
    assert verdict(local, ADD, tests, "add").ok
    v = verdict(local, "def plus(a, b):\n    return a + b\n", tests, "add")
    assert not v.ok and v.reason == "the solution defines no function add (the tests' entry point)"
    v = verdict(local, "def add(a, b):\n    return 4\n", tests, "add")
    assert not v.ok and v.reason.startswith("failed: assert candidate(2, 3) == 5 (tests line 2); the left side was 4")


def test_tests_that_use_what_the_answer_never_defined(local) -> None:  # type: ignore[no-untyped-def]
    v = verdict(local, ADD, "assert multiply(2, 3) == 6\n")
    assert (
        not v.ok
        and v.reason
        == "the tests use multiply, which the solution does not define (tests line 1: assert multiply(2, 3) == 6)"
    )


def test_a_solution_that_raises_when_called_names_both_lines(local) -> None:  # type: ignore[no-untyped-def]
    solution = "def ratio(a, b):\n    return a / b\n"
    v = verdict(local, solution, "assert ratio(4, 2) == 2\nassert ratio(1, 0) == 0\n")
    assert not v.ok
    assert v.reason == (
        "the solution raised ZeroDivisionError: division by zero (solution line 2 in ratio) "
        "when tests line 2 called it: assert ratio(1, 0) == 0"
    )


def test_syntax_errors_in_the_tests_are_refused_up_front_and_in_the_solution_judged(local) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(EcoagentError, match=r"the tests do not compile: .* \(tests line 2\)") as caught:
        Query("q", tests="assert True\nassert (\n")
    assert caught.value.exit_code == 2
    v = verdict(local, "def add(a, b:\n    return a + b\n", "assert add(1, 2) == 3\n")
    assert not v.ok and v.reason.startswith("the solution does not compile:") and "solution line 1" in v.reason


def test_an_endless_loop_times_out(local) -> None:  # type: ignore[no-untyped-def]
    v = verdict(local, ADD, "while True:\n    pass\n", timeout_s=2)
    assert not v.ok and "timed out after 2 s" in v.reason


def test_a_solution_that_ends_the_process_early_does_not_pass(local) -> None:  # type: ignore[no-untyped-def]
    v = verdict(local, "import os\nos._exit(0)\n", "assert False\n")
    assert not v.ok and "before the tests finished" in v.reason


def test_tests_may_check_what_a_script_printed(local) -> None:  # type: ignore[no-untyped-def]
    assert verdict(local, "print(6 * 7)\n", "assert OUTPUT.split() == ['42']\n").ok
    assert not verdict(local, "print(6 * 8)\n", "assert OUTPUT.split() == ['42']\n").ok


def test_hard_failures_and_other_languages_are_failures_before_any_test_runs(local) -> None:  # type: ignore[no-untyped-def]
    judge = TestsJudge(local, SandboxSettings())
    query = Query("q", tests="assert True\n")
    none_ran = asyncio.run(judge(JudgeInput(query, RungAttempt(rung="r"), "")))
    assert not none_ran.ok and none_ran.reason == "no code ran"
    shell = RungAttempt(rung="r", executions=[Execution(code="echo 1", language="sh", exit_code=0, output="1")])
    v = asyncio.run(judge(JudgeInput(query, shell, "")))
    assert not v.ok and v.reason == "the tests are Python and the final code is sh"


def test_a_forged_or_missing_verdict_line_is_a_failure() -> None:
    assert not read_outcome('abc {"ok": true, "reason": "x"}\n', 0, "nonce").ok
    assert read_outcome('nonce {"ok": true, "reason": "fine"}\n', 0, "nonce").ok
    assert not read_outcome('nonce {"ok": true, "reason": "fine"}\n', 1, "nonce").ok  # exit code still counts
    assert "killed" in read_outcome("", 137, "nonce").reason


def test_tests_choose_the_tests_judge_and_a_judge_named_wins() -> None:
    assert Query("q", tests="assert 1").judge_name("auto") == "tests"
    assert Query("q", tests="assert 1", expected="3").judge_name("auto") == "tests"
    assert Query("q", tests="assert 1", judge="auto").judge_name("expected") == "auto"
    with pytest.raises(EcoagentError, match="entry_point was given without tests"):
        Query("q", entry_point="add")
    with pytest.raises(EcoagentError, match="not a Python name"):
        Query("q", tests="assert 1", entry_point="add me")
    # the exact cache keys on the tests too: an answer accepted under other tests (or none) has not passed these
    assert Query("q", tests="assert 1").cache_text != Query("q").cache_text != Query("q", tests="assert 2").cache_text


def test_batch_rows_take_tests_and_name_the_line_of_bad_ones(tmp_path: Path) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {"id": "a", "query": "Write add(a, b).", "tests": "assert add(1, 2) == 3"},
                {"id": "b", "query": "Write add.", "tests": "assert (", "entry_point": "add"},
                {"id": "c", "query": "Write add.", "tests": 3},
            ]
        )
        + "\n"
    )
    good, bad_syntax, bad_type = read_batch(str(rows))
    assert getattr(good, "tests", None) == "assert add(1, 2) == 3"
    assert getattr(bad_syntax, "line", None) == 2 and "the tests do not compile" in getattr(bad_syntax, "reason", "")
    assert getattr(bad_type, "reason", None) == "'tests' must be a string, not int"


# ---- the tests judge inside the pipeline: scripted models, real Python runs --------------------------------
CHEAP = Rung(name="cheap", provider="openai", model="c")
TOP = Rung(name="top", provider="openai", model="t")
WRONG_ADD = ["```python\ndef add(a, b):\n    return a - b\nprint(add(2, 2))\n```", "It prints 0. TERMINATE"]
RIGHT_ADD = ["```python\ndef add(a, b):\n    return a + b\nprint(add(2, 2))\n```", "It prints 4. TERMINATE"]
ADD_TESTS = "assert add(2, 3) == 5\nassert add(0, 0) == 0\n"


def test_a_rung_that_converges_but_fails_its_tests_escalates(local) -> None:  # type: ignore[no-untyped-def]
    cheap, top = ScriptedChatCompletionClient(WRONG_ADD), ScriptedChatCompletionClient(RIGHT_ADD)
    clients = {"cheap": cheap, "top": top}
    ladder = Ladder([CHEAP, TOP], lambda rung: clients[rung.name], local, run=RunSettings(max_turns=6))
    query = Query("Write add(a, b) and show add(2, 2).", tests=ADD_TESTS)
    record = RunRecord(query=query.text)

    async def go() -> None:
        async for _ in ladder.climb(query, first_message(query.text), TestsJudge(local, SandboxSettings()), record):
            pass

    asyncio.run(go())
    first, second = record.attempts
    assert first.declared_done and first.verdict and not first.verdict.ok  # the auto judge would have accepted it
    assert first.verdict.reason == "failed: assert add(2, 3) == 5 (tests line 1); the left side was -1"
    assert second.verdict and second.verdict.ok and record.final_rung == "top"
    # the model never saw the tests
    assert all("assert add" not in str(m.content) for call in cheap.calls + top.calls for m in call)


def test_the_model_sees_the_tests_only_when_show_tests_is_on(tmp_path: Path, local) -> None:  # type: ignore[no-untyped-def]
    cfg = write_scripted_config(tmp_path, {"cheap": RIGHT_ADD * 2})
    for show in (False, True):
        settings = load_settings(cfg)
        settings.judge.show_tests = show
        settings.cache.enabled = settings.cache.replay = False
        eco = EcoAssistant(settings, executor_factory=local)
        try:
            record = eco.run_sync(Query("Write add(a, b).", tests=ADD_TESTS))
        finally:
            eco.close()
        first = record.attempts[0].messages[0].content
        assert record.resolved and record.attempts[0].verdict and record.attempts[0].verdict.judge == "tests"
        assert ("assert add(2, 3) == 5" in first) is show


def test_bench_counts_a_tests_task_for_the_rung_whose_code_passed(tmp_path: Path, local) -> None:  # type: ignore[no-untyped-def]
    cfg = write_scripted_config(
        tmp_path, {"cheap": WRONG_ADD * 4, "top": RIGHT_ADD * 4}, prices={"cheap": (0.15, 0.6), "top": (2.5, 10.0)}
    )
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text(json.dumps({"id": "add", "query": "Write add(a, b).", "tests": ADD_TESTS}) + "\n")
    (report,) = asyncio.run(
        run_bench(
            load_settings(cfg),
            select_strategies(["ladder"]),
            load_tasks(tasks),
            protocol="sequential",
            bench_dir=tmp_path / "bench",
            executor_factory=local,
        )
    )
    assert report.solved == 1 and report.solved_by_rung == {"top": 1} and report.escalations == 1
    assert report.tested == 1 and report.pass_at_1 == 1.0
    header, row = markdown_table([report]).splitlines()[0], markdown_table([report]).splitlines()[2]
    assert "| pass@1 |" in header and "| 100.0% (1/1) |" in row


def test_the_server_takes_tests_in_extra_body_and_refuses_bad_ones(tmp_path: Path, local) -> None:  # type: ignore[no-untyped-def]
    cfg = write_scripted_config(tmp_path, {"cheap": WRONG_ADD * 2, "top": RIGHT_ADD * 2})
    settings = load_settings(cfg)
    settings.cache.enabled = settings.cache.replay = False
    eco = EcoAssistant(settings, executor_factory=local)
    with LiveServer(create_app(eco, keys=KeyRing([]))) as live:
        client = openai.OpenAI(base_url=live.url + "/v1", api_key="none", max_retries=0)
        reply = client.chat.completions.create(
            model="ecoagent",
            messages=[{"role": "user", "content": "Write add(a, b)."}],
            extra_body={"tests": ADD_TESTS},
        )
        report = reply.model_extra["ecoagent"]  # type: ignore[index]
        assert report["answered_by"] == "top" and report["verdict"]["judge"] == "tests" and report["verdict"]["ok"]
        with pytest.raises(openai.BadRequestError) as refused:
            client.chat.completions.create(
                model="ecoagent", messages=[{"role": "user", "content": "Write add."}], extra_body={"tests": "assert ("}
            )
        assert "the tests do not compile" in str(refused.value)
    eco.close()
