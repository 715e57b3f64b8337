"""The ladder on the real sandbox: what the executor reports reaches the record through AutoGen's events."""

from __future__ import annotations

import asyncio

import pytest

from ecoagent.config import Rung, RunSettings, SandboxSettings
from ecoagent.judge import AutoJudge
from ecoagent.ladder import Ladder
from ecoagent.prompts import first_message
from ecoagent.query import Query
from ecoagent.records import Demonstration, RunRecord
from ecoagent.sandbox import DockerSandboxExecutor
from ecoagent.testing import ScriptedChatCompletionClient

pytestmark = pytest.mark.docker

CHEAP = Rung(name="cheap", provider="openai", model="c")
TOP = Rung(name="top", provider="openai", model="t")
GOOD = ["```python\nprint(17 * 23)\n```", "The answer is 391. TERMINATE"]


def climb(cheap: list[str], sandbox: SandboxSettings, demos: list[Demonstration] | None = None) -> RunRecord:
    clients = {"cheap": ScriptedChatCompletionClient(cheap), "top": ScriptedChatCompletionClient(GOOD)}
    ladder = Ladder(
        [CHEAP, TOP], lambda r: clients[r.name], DockerSandboxExecutor, sandbox=sandbox, run=RunSettings(max_turns=6)
    )
    query = Query("What is 17 * 23?")
    record = RunRecord(query=query.text)

    async def go() -> None:
        async for _ in ladder.climb(query, first_message(query.text, demos or []), AutoJudge(), record):
            pass

    asyncio.run(go())
    return record


def test_real_output_and_exit_codes_reach_the_record(sandbox_settings: SandboxSettings) -> None:
    record = climb(["```python\nimport sys\nprint('oops')\nsys.exit(3)\n```", "Done. TERMINATE"], sandbox_settings)
    failed = record.attempts[0].executions[0]
    assert failed.exit_code == 3 and failed.output == "oops\n" and not failed.timed_out
    assert record.attempts[0].verdict and "exited 3" in record.attempts[0].verdict.reason
    solved = record.attempts[1].executions[0]
    assert solved.output == "391\n" and solved.exit_code == 0 and record.final_rung == "top"


def test_a_sandbox_timeout_is_recorded_as_one(sandbox_settings: SandboxSettings) -> None:
    settings = sandbox_settings.model_copy(update={"timeout_s": 1.0, "kill_grace_s": 0.5})
    record = climb(["```python\nimport time\ntime.sleep(30)\n```", "TERMINATE"], settings)
    execution = record.attempts[0].executions[0]
    assert execution.timed_out and execution.exit_code == 124
    assert record.attempts[0].verdict and "timed out" in record.attempts[0].verdict.reason


def test_demonstration_code_is_never_executed(sandbox_settings: SandboxSettings) -> None:
    demo = Demonstration(id="d1", score=0.9, query="What is 12 * 13?", code="print('DEMO RAN')")
    record = climb(GOOD, sandbox_settings, [demo])
    assert [e.output for e in record.attempts[0].executions] == ["391\n"]
