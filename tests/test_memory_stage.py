"""Memory as a stage of ``run_stream``: a query naming a session reads the conversation, its
answer joins it, turns of a session run in order, and the summary's spend is reported on the
next turn. Scripted rungs and the fake executor (no Docker); real Qdrant and embeddings for recall."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from ecoagent import EcoAssistant
from ecoagent.config import LadderSettings, Rung, Settings
from ecoagent.conversation import session_file
from ecoagent.events import MemoryRecalled
from ecoagent.query import Query
from ecoagent.records import RunRecord
from ecoagent.testing import FakeExecutor, ScriptedChatCompletionClient

CODE = "```python\nprint(17 * 23)\n```"
RUNGS = [
    Rung(name="cheap", provider="openai", model="c", input_price_per_mtok=0.15, output_price_per_mtok=0.6),
    Rung(name="top", provider="openai", model="t", input_price_per_mtok=2.5, output_price_per_mtok=10.0),
]


def assistant(tmp: Path, cheap: ScriptedChatCompletionClient, keep_turns: int = 3) -> EcoAssistant:
    settings = Settings(ladder=LadderSettings(rungs=RUNGS))
    settings.router.enabled = False
    settings.run.judge = "auto"
    settings.bank.path = tmp / "bank"
    settings.runlog_path = tmp / "runs.sqlite3"
    settings.cache.path = tmp / "cache.sqlite3"
    settings.memory.keep_turns = keep_turns
    clients = {"cheap": cheap, "top": ScriptedChatCompletionClient([CODE] * 50)}
    return EcoAssistant(settings, clients=clients, executor_factory=FakeExecutor)


async def collect(eco: EcoAssistant, query: Query) -> tuple[list[object], RunRecord]:
    items = [item async for item in eco.run_stream(query)]
    record = items[-1]
    assert isinstance(record, RunRecord)
    return items[:-1], record


def test_a_follow_up_reads_the_session_and_a_query_without_one_reads_nothing(tmp_path: Path) -> None:
    cheap = ScriptedChatCompletionClient([CODE] * 50)
    eco = assistant(tmp_path, cheap)

    async def go() -> None:
        events, first = await collect(eco, Query("What is 17 * 23?", session="s1"))
        assert isinstance(events[0], MemoryRecalled) and events[0].step.history_chars == 0
        assert first.memory is not None and first.memory.session == "s1" and first.session == "s1"
        events, second = await collect(eco, Query("And that minus 1?", session="s1"))
        step = events[0].step  # type: ignore[attr-defined]
        assert step.verbatim_turns == 1 and step.history_chars > 0 and second.memory == step
        first_message = str(cheap.calls[-1][1].content)
        assert "Q: What is 17 * 23?" in first_message and "391" in first_message
        events, alone = await collect(eco, Query("And that minus 2?"))
        assert not any(isinstance(e, MemoryRecalled) for e in events) and alone.memory is None
        assert "17 * 23" not in str(cheap.calls[-1][1].content)

    asyncio.run(go())
    eco.close()
    saved = json.loads(session_file("s1").read_text(encoding="utf-8"))
    assert saved["run_ids"][-1] == second_run_id(eco, tmp_path)


def second_run_id(eco: EcoAssistant, tmp: Path) -> str:
    from ecoagent.runlog import RunLog

    log = RunLog(tmp / "runs.sqlite3")
    try:
        return next(r.run_id for r in log.recent(10) if r.query == "And that minus 1?")
    finally:
        log.close()


def test_turns_of_one_session_sent_at_once_run_in_order(tmp_path: Path) -> None:
    cheap = ScriptedChatCompletionClient([CODE] * 50)
    eco = assistant(tmp_path, cheap)

    async def go() -> list[RunRecord]:
        runs = [eco.run(Query(f"Question {i}: what is 17 * 23?", session="busy")) for i in range(3)]
        return list(await asyncio.gather(*runs))

    records = asyncio.run(go())
    # each turn saw every earlier one: the stage held the session for one turn at a time
    assert [r.memory.verbatim_turns for r in records if r.memory] == [0, 1, 2]
    eco.close()


def test_a_summary_written_after_a_turn_is_reported_on_the_next(tmp_path: Path) -> None:
    # the cheapest rung also summarizes (a scripted client is its own summarizer)
    cheap = ScriptedChatCompletionClient([CODE, CODE, "the user asked for 17 * 23; it is 391"] + [CODE] * 20)
    eco = assistant(tmp_path, cheap, keep_turns=1)

    async def go() -> list[RunRecord]:
        return [await eco.run(Query(f"What is 17 * 23 (turn {i})?", session="long", key_name="ana")) for i in range(3)]

    first, second, third = asyncio.run(go())
    assert first.memory is not None and first.memory.summary_tokens == 0
    assert second.memory is not None and second.memory.summary_tokens == 0  # one turn: nothing to fold yet
    assert third.memory is not None and third.memory.summary_tokens > 0 and third.memory.folded_turns == 1
    assert eco.runlog.spend("ana").items == 4  # three runs and one summary, charged when written
    eco.close()


def test_a_retry_replaces_the_turn_it_asks_again(tmp_path: Path) -> None:
    cheap = ScriptedChatCompletionClient([CODE] * 50)
    eco = assistant(tmp_path, cheap)

    async def go() -> None:
        first = await eco.run(Query("What is 17 * 23?", session="r"))
        await eco.run(Query("What is 17 * 23?", session="r", replaces=first.run_id))
        third = await eco.run(Query("And doubled?", session="r"))
        assert third.memory is not None and third.memory.verbatim_turns == 1

    asyncio.run(go())
    eco.close()
