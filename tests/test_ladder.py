"""Ladder logic on scripted models and a fake executor: deterministic, no Docker.

The same ladder drives the real sandbox in tests/test_ladder_docker.py; here the
executor is ecoagent.testing.FakeExecutor, which answers print(<arithmetic>) blocks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from ecoagent.config import Rung, RunSettings
from ecoagent.events import CodeExecuted, Escalated, Event, ModelMessage, RungJudged, RungStarted
from ecoagent.judge import AutoJudge, ExpectedJudge, Judge, LLMJudge
from ecoagent.ladder import Ladder
from ecoagent.models import RetryingClient, TransientModelError
from ecoagent.prompts import first_message
from ecoagent.query import Query
from ecoagent.records import Demonstration, RunRecord
from ecoagent.testing import FakeExecutor, ScriptedChatCompletionClient

CHEAP = Rung(name="cheap", provider="openai", model="c", input_price_per_mtok=0.15, output_price_per_mtok=0.60)
TOP = Rung(name="top", provider="openai", model="t", input_price_per_mtok=2.50, output_price_per_mtok=10.0)
GOOD = ["```python\nprint(17 * 23)\n```", "The answer is 391. TERMINATE"]
QUERY = "What is 17 * 23?"


def make(
    cheap: Sequence[object], top: Sequence[object] | None = None, *, run: RunSettings | None = None, reply=None
) -> tuple[Ladder, ScriptedChatCompletionClient, ScriptedChatCompletionClient]:  # type: ignore[no-untyped-def]
    c, t = (
        ScriptedChatCompletionClient(list(cheap)),
        ScriptedChatCompletionClient(list(top if top is not None else GOOD)),
    )
    clients = {
        "cheap": RetryingClient(c, "cheap", retries=2, backoff_s=0.01),
        "top": RetryingClient(t, "top", retries=0),
    }
    ladder = Ladder(
        [CHEAP, TOP], lambda rung: clients[rung.name], lambda s: FakeExecutor(s, reply), run=run or RunSettings()
    )
    return ladder, c, t


def climb(
    ladder: Ladder, query: Query | str = QUERY, judge: Judge | None = None, demos: Sequence[Demonstration] = ()
) -> tuple[RunRecord, list[Event]]:
    q = Query(query) if isinstance(query, str) else query
    record = RunRecord(query=q.text, demonstrations=list(demos))

    async def go() -> list[Event]:
        return [e async for e in ladder.climb(q, first_message(q.text, demos), judge or AutoJudge(), record)]

    return record, asyncio.run(go())


def test_stops_at_the_first_success_and_streams_what_happened() -> None:
    ladder, _, top = make(GOOD)
    record, events = climb(ladder)
    assert record.resolved and record.final_rung == "cheap" and top.calls == []
    assert record.final_answer == "The answer is 391." and record.final_code == "print(17 * 23)"
    assert [type(e) for e in events] == [RungStarted, ModelMessage, CodeExecuted, ModelMessage, RungJudged]
    executed = next(e for e in events if isinstance(e, CodeExecuted))
    assert (
        executed.execution.code == "print(17 * 23)"
        and executed.execution.output == "391\n"
        and executed.execution.exit_code == 0
    )
    judged = events[-1]
    assert isinstance(judged, RungJudged) and judged.ok and judged.attempt.declared_done


@pytest.mark.parametrize(
    ("cheap_script", "reply", "reason"),
    [
        (["It is 381. TERMINATE"], None, "no code ran"),
        (["```python\nprint(17 * 23 +)\n```", "Done. TERMINATE"], None, "the last execution exited 1"),
        (
            ["```python\nprint(17 * 23)\n```", "TERMINATE"],
            lambda code: (124, "[timed out after 1s]"),
            "the last execution timed out",
        ),
        (
            ["```python\nprint(1)\n```", "```python\nprint(2)\n```", "```python\nprint(3)\n```"],
            None,
            "did not declare completion",
        ),
    ],
    ids=["no-code", "exit-nonzero", "timeout", "turn-limit"],
)
def test_escalates_on_each_failure(cheap_script: list[str], reply, reason: str) -> None:  # type: ignore[no-untyped-def]
    ladder, _, top = make(cheap_script, run=RunSettings(max_turns=6))
    if reply is not None:  # the cheap rung's sandbox times out; the top rung's runs normally
        factories = iter([lambda s: FakeExecutor(s, reply), lambda s: FakeExecutor(s)])
        ladder.executor_factory = lambda s: next(factories)(s)
    record, events = climb(ladder)
    first, second = record.attempts
    assert first.verdict and not first.verdict.ok and reason in first.verdict.reason
    assert second.rung == "top" and second.verdict and second.verdict.ok and record.final_rung == "top"
    escalated = [e for e in events if isinstance(e, Escalated)]
    assert len(escalated) == 1 and escalated[0].to_rung == TOP and reason in escalated[0].reason
    # a fresh conversation: the top rung saw only the task, not the cheap rung's attempt
    assert [type(m).__name__ for m in top.calls[0]] == ["SystemMessage", "UserMessage"]


def test_repeated_code_converges_and_the_auto_judge_accepts_it() -> None:
    # SmolLM2's habit: the right output, then the same code again until the turn limit.
    ladder, cheap, top = make(["```python\nprint(17 * 23)\n```"] * 8, run=RunSettings(max_turns=8))
    record, _ = climb(ladder)
    attempt = record.attempts[0]
    assert record.resolved and record.final_rung == "cheap" and top.calls == []
    assert attempt.converged and attempt.stop_reason.startswith("converged")
    assert attempt.verdict and "converged" in attempt.verdict.reason
    assert record.final_answer == "391" and record.final_code == "print(17 * 23)"
    assert len(cheap.calls) == 2 and attempt.turns == 2  # stopped at the repeat, not at 4 turns


def test_convergence_needs_the_same_successful_output() -> None:
    script = [
        "```python\nprint(17 * 23 +)\n```",
        "```python\nprint(17 * 23 +)\n```",
        "```python\nprint(1)\n```",
        "```python\nprint(2)\n```",
    ]
    ladder, _, _ = make(script, run=RunSettings(max_turns=9))
    record, _ = climb(ladder)
    assert not record.attempts[0].converged  # failures and changing outputs never converge
    assert record.final_rung == "top"


def test_convergence_can_be_turned_off() -> None:
    ladder, cheap, _ = make(
        ["```python\nprint(17 * 23)\n```"] * 4, run=RunSettings(max_turns=8, stop_on_convergence=False)
    )
    record, _ = climb(ladder)
    assert not record.attempts[0].converged and len(cheap.calls) == 4
    assert "did not declare completion" in (record.attempts[0].verdict.reason if record.attempts[0].verdict else "")


def test_token_budget_ends_a_rung() -> None:
    script = [f"```python\nprint({i})\n```" for i in range(6)]
    ladder, _, _ = make(script, run=RunSettings(max_turns=20, token_budget=300))
    record, _ = climb(ladder)
    assert "Token usage limit" in record.attempts[0].stop_reason and record.final_rung == "top"


def test_model_errors_are_retried_then_escalated() -> None:
    ladder, cheap, _ = make([TransientModelError("429 Too Many Requests")] * 3)
    record, _ = climb(ladder)
    first = record.attempts[0]
    assert len(cheap.calls) == 3 and first.error and "kept failing after 3 attempts" in first.error
    assert first.verdict and "model endpoint failing" in first.verdict.reason and record.final_rung == "top"


def test_a_transient_error_then_success_stays_on_the_rung() -> None:
    ladder, cheap, top = make([TransientModelError("503"), *GOOD])
    record, _ = climb(ladder)
    assert record.final_rung == "cheap" and len(cheap.calls) == 3 and top.calls == []


def test_non_transient_errors_are_not_retried() -> None:
    ladder, cheap, _ = make([ValueError("bad request: unknown parameter")])
    record, _ = climb(ladder)
    assert len(cheap.calls) == 1 and "bad request" in (record.attempts[0].error or "") and record.final_rung == "top"


def test_expected_judge_escalates_a_wrong_answer() -> None:
    ladder, _, _ = make(["```python\nprint(17 * 22)\n```", "It is 374. TERMINATE"])
    record, _ = climb(ladder, Query(QUERY, expected="391"), ExpectedJudge())
    assert "expected '391' not found" in (record.attempts[0].verdict.reason if record.attempts[0].verdict else "")
    assert record.resolved and record.final_rung == "top"


def test_llm_judge_decides_and_its_tokens_are_paid_for() -> None:
    judge_client = ScriptedChatCompletionClient(["No, the output is wrong.", "Yes"])
    ladder, _, _ = make(GOOD)
    record, _ = climb(ladder, judge=LLMJudge(judge_client, "top", prices=TOP))
    verdicts = [a.verdict for a in record.attempts if a.verdict]
    assert [v.ok for v in verdicts] == [False, True] and "answered 'No" in verdicts[0].reason
    assert QUERY in str(judge_client.calls[0][1].content)
    for v in verdicts:
        assert (
            v.prompt_tokens > 0
            and v.cost > 0
            and v.cost == pytest.approx(TOP.cost(v.prompt_tokens, v.completion_tokens))
        )
    judged = sum(v.cost for v in verdicts)
    assert record.total_cost == pytest.approx(sum(a.cost for a in record.attempts) + judged)
    at_top = sum(TOP.cost(a.prompt_tokens, a.completion_tokens) for a in record.attempts)
    assert record.top_rung_cost_estimate == pytest.approx(at_top + judged)


def test_unresolved_after_the_last_rung() -> None:
    ladder, _, _ = make(["no idea. TERMINATE"], ["still no idea. TERMINATE"])
    record, _ = climb(ladder)
    assert (
        not record.resolved and record.final_rung is None and record.final_answer is None and len(record.attempts) == 2
    )


def test_demonstrations_go_in_the_first_message_only_and_never_run() -> None:
    demo = Demonstration(id="d1", score=0.91, query="What is 12 * 13?", code="print(12 * 13)")
    ladder, cheap, _ = make(GOOD)
    record, _ = climb(ladder, demos=[demo])
    task = record.attempts[0].messages[0]
    assert task.source == "user" and "print(12 * 13)" in task.content and QUERY in task.content
    for call in cheap.calls:
        assert sum("print(12 * 13)" in str(m.content) for m in call) == 1
    assert [e.code for e in record.attempts[0].executions] == ["print(17 * 23)"]


def test_usage_and_cost_per_rung_and_top_estimate() -> None:
    ladder, _, _ = make(["It is 381. TERMINATE"])
    record, _ = climb(ladder)
    for attempt, rung in zip(record.attempts, (CHEAP, TOP), strict=True):
        assert attempt.prompt_tokens == sum(m.prompt_tokens for m in attempt.messages) > 0
        assert attempt.cost == pytest.approx(rung.cost(attempt.prompt_tokens, attempt.completion_tokens))
    expected = sum(TOP.cost(a.prompt_tokens, a.completion_tokens) for a in record.attempts)
    assert record.top_rung_cost_estimate == pytest.approx(expected) and record.top_rung == "top"
    assert record.saving_estimate > 0 and record.saving_estimate == pytest.approx(expected - record.total_cost)


def test_start_rung_skips_cheaper_rungs() -> None:
    ladder, cheap, _ = make(GOOD)
    record, _ = climb(ladder, Query(QUERY, start_rung=1))
    assert cheap.calls == [] and [a.rung for a in record.attempts] == ["top"]


def test_each_attempt_gets_a_fresh_executor_that_is_stopped() -> None:
    FakeExecutor.instances.clear()
    ladder, _, _ = make(["no code. TERMINATE"])
    climb(ladder)
    assert len(FakeExecutor.instances) == 2
    assert all(e.started and e.stopped for e in FakeExecutor.instances)


def test_a_conversation_too_long_for_the_rung_says_what_to_do_and_escalates() -> None:
    ladder, _, _ = make([ValueError("Requested tokens (5120) exceed context window of 4096")])
    record, _ = climb(ladder)
    error = record.attempts[0].error or ""
    assert (
        "exceed context window" in error and "set compress = true on the rung" in error and record.final_rung == "top"
    )


def test_each_rung_reads_the_first_message_its_task_source_gives_it() -> None:
    from ecoagent.events import Compressed
    from ecoagent.records import CompressionStep

    class PerRung:
        async def for_rung(self, rung: Rung) -> tuple[str, CompressionStep | None]:
            if rung.name == "top":
                return "short form of the task", CompressionStep(
                    parts=["context"], rate=0.5, tokens_before=900, tokens_after=400
                )
            return "the whole task", None

    ladder, cheap, top = make(["```python\nprint(1 +)\n```", "Sorry. TERMINATE"])
    record = RunRecord(query=QUERY)

    async def go() -> list[Event]:
        return [e async for e in ladder.climb(Query(QUERY), PerRung(), AutoJudge(), record)]

    events = asyncio.run(go())
    assert cheap.calls[0][-1].content == "the whole task" and top.calls[0][-1].content == "short form of the task"
    assert [type(e) for e in events].count(Compressed) == 1 and record.attempts[0].compression is None
    assert record.attempts[1].compression and record.attempts[1].compression.saved == 500
    assert record.attempts[1].compression_saved_tokens == 500 * record.attempts[1].turns


BROKEN = "```python\nprint(6 *)\n```"  # the fake executor answers it with the same SyntaxError every time


def test_the_same_code_failing_the_same_way_twice_stops_the_attempt_and_escalates() -> None:
    ladder, cheap, top = make([BROKEN] * 4)
    record, events = climb(ladder)
    first = record.attempts[0]
    assert first.stuck and not first.converged and first.stop_reason.startswith("stuck")
    assert (
        len(first.executions) == 2 and first.turns == 2 and cheap.remaining == 2
    )  # two turns of the budget left unspent
    assert first.verdict is not None and "the same code failed the same way twice" in first.verdict.reason
    assert record.resolved and record.final_rung == "top"
    assert [e.from_rung.name for e in events if isinstance(e, Escalated)] == ["cheap"]


def test_different_failing_code_is_not_stuck() -> None:
    other = "```python\nprint(7 *)\n```"
    ladder, cheap, _ = make([BROKEN, other, BROKEN, other], run=RunSettings(max_turns=8))
    record, _ = climb(ladder)
    assert not record.attempts[0].stuck and len(record.attempts[0].executions) == 4


def test_the_turn_budget_never_ends_on_a_block_that_does_not_run() -> None:
    # task, code, its output, code: a plain 4-message limit stopped here, the second block unrun
    ladder, _, _ = make(
        ["```python\nprint(1 +)\n```", "```python\nprint(17 * 23)\n```", "TERMINATE"], [], run=RunSettings(max_turns=4)
    )
    record, _ = climb(ladder)
    first = record.attempts[0]
    assert [e.output.strip() for e in first.executions][-1] == "391" and first.messages[-1].source == "executor"
    assert first.turns == 2  # no extra model call: only the execution the block had paid for


def test_stuck_is_seen_when_the_turn_budget_ends_at_the_same_message() -> None:
    ladder, _, _ = make([BROKEN] * 4, run=RunSettings(max_turns=4))
    record, _ = climb(ladder)
    first = record.attempts[0]
    assert first.stop_reason.startswith("Maximum number of messages") and "stuck:" in first.stop_reason
    assert first.stuck and len(first.executions) == 2 and record.final_rung == "top"
