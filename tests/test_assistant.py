"""EcoAssistant end to end on scripted models: real sandbox, real bank, real run log."""

from __future__ import annotations

import asyncio

import pytest

from ecoagent import EcoAssistant
from ecoagent.config import LadderSettings, Rung, Settings
from ecoagent.errors import EcoagentError
from ecoagent.testing import ScriptedChatCompletionClient

RUNGS = [
    Rung(name="cheap", provider="openai", model="c", input_price_per_mtok=0.15, output_price_per_mtok=0.6),
    Rung(name="top", provider="openai", model="t", input_price_per_mtok=2.5, output_price_per_mtok=10.0),
]


def make(
    cheap: list[str], top: list[str] | None = None, **settings: object
) -> tuple[EcoAssistant, ScriptedChatCompletionClient]:
    c = ScriptedChatCompletionClient(cheap)
    t = ScriptedChatCompletionClient(top or [])
    cfg = Settings(ladder=LadderSettings(rungs=RUNGS), **settings)  # type: ignore[arg-type]
    cfg.sandbox.timeout_s = 10
    if "run" not in settings:  # one scripted answer a rung: the auto judge (the evidence judge has its own tests)
        cfg.run.judge = "auto"
    return EcoAssistant(cfg, clients={"cheap": c, "top": t}), c


def test_run_stream_yields_the_stages_in_order_then_the_record(sandbox_image: str) -> None:
    from ecoagent.events import CodeExecuted, DemonstrationsFound, ModelMessage, Routed, RungJudged, RungStarted
    from ecoagent.query import Query
    from ecoagent.records import RunRecord

    eco, _ = make(["```python\nprint(6 * 7)\n```", "It is 42. TERMINATE"])

    async def collect() -> list[object]:
        return [item async for item in eco.run_stream(Query("What is 6 * 7?", id="q1"))]

    items = asyncio.run(collect())
    assert [type(i) for i in items] == [
        Routed,
        DemonstrationsFound,
        RungStarted,
        ModelMessage,
        CodeExecuted,
        ModelMessage,
        RungJudged,
        RunRecord,
    ]
    record = items[-1]
    assert isinstance(record, RunRecord) and record.query_id == "q1" and eco.runlog.get(record.run_id) == record
    eco.close()


def test_run_logs_feedback_banks_and_demonstrations_come_back(sandbox_image: str) -> None:
    eco, _ = make(["```python\nprint(sum(range(1, 101)))\n```", "The sum is 5050. TERMINATE"])
    record = eco.run_sync("What is the sum of the integers from 1 to 100?")
    assert record.resolved and record.final_rung == "cheap" and record.demonstrations == []
    assert eco.runlog.get(record.run_id) == record

    result = eco.feedback(record.run_id, good=True)
    assert result.created and result.solution_id and result.note == "banked"
    banked = eco.bank.get(result.solution_id)
    assert banked is not None and banked.code == "print(sum(range(1, 101)))" and banked.rung == "cheap"
    eco.close()

    eco2, cheap2 = make(["```python\nprint(sum(range(1, 201)))\n```", "It is 20100. TERMINATE"])
    second = eco2.run_sync("Add up all integers from 1 to 200")
    assert [d.id for d in second.demonstrations] == [result.solution_id]
    assert second.demonstrations[0].score >= 0.5
    assert "print(sum(range(1, 101)))" in str(cheap2.calls[0][-1].content)  # in the first message
    eco2.close()


def test_llm_judge_is_priced_at_its_rung_and_counted_in_the_run(sandbox_image: str) -> None:
    eco, _ = make(["```python\nprint(6 * 7)\n```", "It is 42. TERMINATE"], top=["Yes, 42 is right."])
    record = eco.run_sync("What is 6 times 7?", judge="llm")
    verdict = record.attempts[0].verdict
    assert record.resolved and verdict is not None and verdict.judge == "llm" and "top answered" in verdict.reason
    assert (
        verdict.cost == pytest.approx(RUNGS[1].cost(verdict.prompt_tokens, verdict.completion_tokens))
        and verdict.cost > 0
    )
    assert record.total_cost == pytest.approx(record.attempts[0].cost + verdict.cost)
    logged = eco.runlog.get(record.run_id)
    assert logged is not None and logged.judge_cost == pytest.approx(verdict.cost)
    eco.close()


def test_thumbs_down_counts_against_demonstrations_and_retires(sandbox_image: str) -> None:
    eco, _ = make(["```python\nprint(2 ** 16)\n```", "65536. TERMINATE"])
    first = eco.run_sync("What is 2 to the 16th power?")
    sid = eco.feedback(first.run_id, good=True).solution_id
    eco.close()
    for expected_retired in ([], [sid]):
        eco, _ = make(["```python\nprint(2 ** 17)\n```", "131072. TERMINATE"])
        run = eco.run_sync("What is 2 to the power of 17?")
        assert [d.id for d in run.demonstrations] == [sid]
        assert eco.feedback(run.run_id, good=False).retired == expected_retired
        eco.close()
    eco, _ = make(["```python\nprint(2 ** 18)\n```", "262144. TERMINATE"])
    assert eco.run_sync("What is 2 to the power of 18?").demonstrations == []  # retired
    assert [f.good for f in eco.runlog.feedback(first.run_id)] == [True]
    eco.close()


def test_thumbs_up_on_a_run_with_no_successful_execution_banks_nothing(sandbox_image: str) -> None:
    eco, _ = make(["I don't know. TERMINATE"], ["```python\nprint(1 +)\n```", "Sorry. TERMINATE"])
    record = eco.run_sync("What is the meaning of life?")
    assert not record.resolved
    result = eco.feedback(record.run_id, good=True)
    assert result.solution_id is None and not result.override and eco.bank.count() == 0
    assert result.note.startswith("not banked: its last execution exited 1")
    eco.close()


def test_the_person_overrules_the_judge_when_the_last_execution_succeeded(sandbox_image: str) -> None:
    # The expected check says no (the row's expected answer was wrong); the person saw 391 and says yes.
    eco, _ = make(["```python\nprint(17 * 23)\n```", "It is 391. TERMINATE"], ["No idea. TERMINATE"])
    record = eco.run_sync("What is 17 * 23?", expected="392")
    assert not record.resolved
    result = eco.feedback(record.run_id, good=True)
    assert (
        result.created and result.override and "banked on your word" in result.note and "expected '392'" in result.note
    )
    banked = eco.bank.get(result.solution_id or "")
    assert banked is not None and banked.code == "print(17 * 23)" and banked.answer == "391" and banked.rung == "cheap"
    logged = eco.runlog.get(record.run_id)
    assert logged is not None and logged.human_override and logged.feedback == "good"
    eco.close()


def test_bad_input_is_a_clear_error(sandbox_image: str) -> None:
    eco, _ = make([])
    with pytest.raises(EcoagentError, match="empty"):
        eco.run_sync("   ")
    with pytest.raises(EcoagentError, match="no run with id"):
        eco.feedback("nope", good=True)
    with pytest.raises(EcoagentError, match="needs a person"):
        eco.make_judge("human")
    eco.close()


def test_no_client_is_built_until_a_query_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    eco = EcoAssistant(Settings(ladder=LadderSettings(preset="openai")))  # no key needed to construct
    with pytest.raises(EcoagentError, match="no run with id"):
        eco.feedback("nope", good=False)  # feedback never needs a model
    with pytest.raises(EcoagentError) as info:
        eco.run_sync("What is 17 * 23?")  # a query does, and fails before anything runs
    assert "rung gpt-4o-mini" in info.value.message and "OPENAI_API_KEY" in info.value.message
    assert eco.runlog.recent() == []
    eco.close()
