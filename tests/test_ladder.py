"""Ladder logic with scripted model clients (deterministic) and the real sandbox."""

from __future__ import annotations

import asyncio

import pytest

from ecoagent.config import Rung, RunSettings, SandboxSettings
from ecoagent.judge import ExpectedJudge, LLMJudge
from ecoagent.ladder import Ladder
from ecoagent.models import RetryingClient, TransientModelError
from ecoagent.records import Demonstration, RunRecord
from ecoagent.testing import ScriptedChatCompletionClient

pytestmark = pytest.mark.docker

CHEAP = Rung(name="cheap", provider="openai", model="c", input_price_per_mtok=0.15, output_price_per_mtok=0.60)
TOP = Rung(name="top", provider="openai", model="t", input_price_per_mtok=2.50, output_price_per_mtok=10.0)
GOOD = ["```python\nprint(17 * 23)\n```", "The answer is 391. TERMINATE"]


def ladder(cheap: list, top: list | None = None, *, run: RunSettings | None = None,  # type: ignore[type-arg]
           sandbox: SandboxSettings, **kw: object) -> tuple[Ladder, ScriptedChatCompletionClient, ScriptedChatCompletionClient]:  # fmt: skip
    c, t = ScriptedChatCompletionClient(cheap), ScriptedChatCompletionClient(top if top is not None else GOOD)
    clients = {"cheap": RetryingClient(c, "cheap", retries=2, backoff_s=0.01), "top": RetryingClient(t, "top", retries=0)}
    return Ladder([CHEAP, TOP], clients, sandbox=sandbox, run=run or RunSettings(), **kw), c, t  # type: ignore[arg-type]


def run(lad: Ladder, query: str = "What is 17 * 23?", **kw: object) -> RunRecord:
    return asyncio.run(lad.run(query, **kw))  # type: ignore[arg-type]


def test_stops_at_the_first_success(sandbox_settings: SandboxSettings) -> None:
    lad, cheap, top = ladder(GOOD, sandbox=sandbox_settings)
    record = run(lad)
    assert record.resolved and record.final_rung == "cheap"
    assert [a.rung for a in record.attempts] == ["cheap"]
    assert top.calls == []  # the expensive model was never called
    assert record.final_answer == "The answer is 391."
    assert record.final_code == "print(17 * 23)"
    assert record.attempts[0].executions[0].output == "391\n"
    assert record.attempts[0].verdict and record.attempts[0].verdict.judge == "auto"


@pytest.mark.parametrize(
    ("cheap_script", "reason"),
    [
        (["It is 381. TERMINATE"], "no code ran"),
        (["```python\nprint(17 * 23 +)\n```", "Done. TERMINATE"], "the last execution exited 1"),
        (["```python\nimport time\ntime.sleep(30)\n```", "TERMINATE"], "the last execution timed out"),
        (["```python\nprint(391)\n```"] * 3, "did not declare completion"),
    ],
    ids=["no-code", "exit-nonzero", "timeout", "turn-limit"],
)
def test_escalates_on_each_failure(sandbox_settings: SandboxSettings, cheap_script: list[str], reason: str) -> None:
    settings = sandbox_settings.model_copy(update={"timeout_s": 1.0, "kill_grace_s": 0.5})
    lad, _, top = ladder(cheap_script, sandbox=settings, run=RunSettings(max_turns=5))
    record = run(lad)
    first, second = record.attempts
    assert first.rung == "cheap" and first.verdict and not first.verdict.ok
    assert reason in first.verdict.reason
    assert second.rung == "top" and second.verdict and second.verdict.ok
    assert record.resolved and record.final_rung == "top"
    # a fresh conversation: the top rung saw only the task, not the cheap rung's attempt
    assert [type(m).__name__ for m in top.calls[0]] == ["SystemMessage", "UserMessage"]


def test_token_budget_ends_a_rung(sandbox_settings: SandboxSettings) -> None:
    lad, _, _ = ladder(["```python\nprint(391)\n```"] * 6, sandbox=sandbox_settings, run=RunSettings(max_turns=20, token_budget=300))
    record = run(lad)
    first = record.attempts[0]
    assert "Token usage limit" in first.stop_reason
    assert first.verdict and not first.verdict.ok and record.final_rung == "top"


def test_model_errors_are_retried_then_escalated(sandbox_settings: SandboxSettings) -> None:
    failing = [TransientModelError("429 Too Many Requests")] * 3  # first try + 2 retries
    lad, cheap, _ = ladder(failing, sandbox=sandbox_settings)
    record = run(lad)
    first = record.attempts[0]
    assert len(cheap.calls) == 3  # retried twice before giving up
    assert first.error and "kept failing after 3 attempts" in first.error
    assert first.verdict and "model endpoint failing" in first.verdict.reason
    assert record.resolved and record.final_rung == "top"


def test_a_transient_error_then_success_stays_on_the_rung(sandbox_settings: SandboxSettings) -> None:
    lad, cheap, top = ladder([TransientModelError("503"), *GOOD], sandbox=sandbox_settings)
    record = run(lad)
    assert record.final_rung == "cheap" and len(cheap.calls) == 3 and top.calls == []


def test_non_transient_errors_are_not_retried(sandbox_settings: SandboxSettings) -> None:
    lad, cheap, _ = ladder([ValueError("bad request: unknown parameter")], sandbox=sandbox_settings)
    record = run(lad)
    assert len(cheap.calls) == 1
    assert "bad request" in (record.attempts[0].error or "") and record.final_rung == "top"


def test_judge_saying_no_escalates(sandbox_settings: SandboxSettings) -> None:
    wrong = ["```python\nprint(17 * 22)\n```", "It is 374. TERMINATE"]
    lad, _, _ = ladder(wrong, sandbox=sandbox_settings, judge=ExpectedJudge())
    record = run(lad, expected="391")
    assert "expected '391' not found" in (record.attempts[0].verdict.reason if record.attempts[0].verdict else "")
    assert record.resolved and record.final_rung == "top"


def test_llm_judge_decides(sandbox_settings: SandboxSettings) -> None:
    judge_client = ScriptedChatCompletionClient(["No, the output is wrong.", "Yes"])
    lad, _, _ = ladder(GOOD, sandbox=sandbox_settings, judge=LLMJudge(judge_client, "top", prices=TOP))
    record = run(lad)
    verdicts = [a.verdict for a in record.attempts if a.verdict]
    assert [v.ok for v in verdicts] == [False, True]
    assert "answered 'No" in verdicts[0].reason
    # the judge saw the query and the transcript
    assert "What is 17 * 23?" in str(judge_client.calls[0][1].content)
    # ...and its tokens, at the judge rung's prices, are part of the query's cost
    for v in verdicts:
        assert v.prompt_tokens > 0 and v.cost > 0
        assert v.cost == pytest.approx(TOP.cost(v.prompt_tokens, v.completion_tokens))
    judged = sum(v.cost for v in verdicts)
    assert record.judge_cost == pytest.approx(judged)
    assert record.total_cost == pytest.approx(sum(a.cost for a in record.attempts) + judged)
    assert record.tokens == sum(a.tokens + v.prompt_tokens + v.completion_tokens for a, v in zip(record.attempts, verdicts, strict=True))
    conversation_at_top = sum(TOP.cost(a.prompt_tokens, a.completion_tokens) for a in record.attempts)
    assert record.top_rung_cost_estimate == pytest.approx(conversation_at_top + judged)


def test_unresolved_after_the_last_rung(sandbox_settings: SandboxSettings) -> None:
    lad, _, _ = ladder(["no idea. TERMINATE"], ["still no idea. TERMINATE"], sandbox=sandbox_settings)
    record = run(lad)
    assert not record.resolved and record.final_rung is None and record.final_answer is None
    assert len(record.attempts) == 2


def test_demonstrations_go_in_the_first_message_only(sandbox_settings: SandboxSettings) -> None:
    demo = Demonstration(id="d1", score=0.91, query="What is 12 * 13?", code="print(12 * 13)")
    lad, cheap, _ = ladder(GOOD, sandbox=sandbox_settings)
    record = run(lad, demonstrations=[demo])
    task = record.attempts[0].messages[0]
    assert task.source == "user" and "print(12 * 13)" in task.content and "What is 17 * 23?" in task.content
    for call in cheap.calls:  # each model call carries the demonstration exactly once (the task)
        assert sum("print(12 * 13)" in str(m.content) for m in call) == 1
    assert all("print(12 * 13)" not in m.content for m in record.attempts[0].messages[1:])
    assert record.demonstrations == [demo]
    # the executor ran the assistant's code only, never the demonstration's
    assert [e.code for e in record.attempts[0].executions] == ["print(17 * 23)"]
    assert record.attempts[0].executions[0].output == "391\n"


def test_usage_and_cost_per_rung_and_top_estimate(sandbox_settings: SandboxSettings) -> None:
    lad, _, _ = ladder(["It is 381. TERMINATE"], sandbox=sandbox_settings)
    record = run(lad)
    for attempt, rung in zip(record.attempts, (CHEAP, TOP), strict=True):
        assert attempt.prompt_tokens == sum(m.prompt_tokens for m in attempt.messages) > 0
        assert attempt.completion_tokens == sum(m.completion_tokens for m in attempt.messages) > 0
        assert attempt.cost == pytest.approx(rung.cost(attempt.prompt_tokens, attempt.completion_tokens))
    assert record.total_cost == pytest.approx(sum(a.cost for a in record.attempts))
    expected = sum(TOP.cost(a.prompt_tokens, a.completion_tokens) for a in record.attempts)
    assert record.top_rung_cost_estimate == pytest.approx(expected) and record.top_rung == "top"
    assert record.saving_estimate == pytest.approx(expected - record.total_cost) and record.saving_estimate > 0


def test_start_rung_skips_cheaper_rungs(sandbox_settings: SandboxSettings) -> None:
    lad, cheap, _ = ladder(GOOD, sandbox=sandbox_settings)
    record = run(lad, start_rung=1)
    assert cheap.calls == [] and [a.rung for a in record.attempts] == ["top"]
