"""Conversation memory: the summary buffer (scripted and with the bundled model), recall across sessions, chat --resume."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from autogen_core import ComponentModel
from autogen_core.model_context import ChatCompletionContext
from autogen_core.models import AssistantMessage, SystemMessage, UserMessage
from autogen_ext.models.replay import ReplayChatCompletionClient
from typer.testing import CliRunner

from ecoagent.bank import SolutionBank
from ecoagent.cli import app
from ecoagent.config import BankSettings, Settings, load_settings
from ecoagent.conversation import Conversation
from ecoagent.memory import SummaryBufferContext, TurnMemory, split_turns
from ecoagent.records import Execution, RungAttempt, RunRecord
from ecoagent.testing import GENERIC_MODEL_INFO, ScriptedChatCompletionClient, write_scripted_config


def turn(i: int, code: bool = True) -> list:  # type: ignore[type-arg]
    messages = [UserMessage(content=f"question {i}: what is {i} * 7?", source="user")]
    if code:
        messages += [
            AssistantMessage(content=f"```python\nprint({i} * 7)\n```", source="assistant"),
            UserMessage(content=str(i * 7), source="executor"),
        ]
    messages.append(AssistantMessage(content=f"It is {i * 7}.", source="assistant"))
    return messages


async def filled(ctx: ChatCompletionContext, n: int) -> None:
    for i in range(1, n + 1):
        for m in turn(i):
            await ctx.add_message(m)


# ---- the summary buffer, scripted summarizer (no Docker, no model) -------------------------
def test_turns_never_split_code_from_its_execution_result() -> None:
    messages = [SystemMessage(content="sys"), *turn(1), *turn(2, code=False), *turn(3)]
    turns = split_turns(messages)
    assert [len(t) for t in turns] == [4, 2, 4]
    assert (
        isinstance(turns[0][1], AssistantMessage)
        and isinstance(turns[0][2], UserMessage)
        and turns[0][2].source == "executor"
    )


def test_summarize_folds_all_but_the_last_turns_off_the_response_path() -> None:
    client = ScriptedChatCompletionClient(["Asked 1*7=7 and 2*7=14.", "Asked 1..4 times 7: 7, 14, 21, 28."])
    ctx = SummaryBufferContext(client, keep_turns=2)

    async def go() -> None:
        await filled(ctx, 4)
        before = await ctx.get_messages()
        assert len(before) == 16 and not client.calls  # get_messages never calls the model
        assert ctx.pending() == 2
        assert await ctx.summarize()
        after = await ctx.get_messages()
        assert isinstance(after[0], SystemMessage) and "1*7=7" in str(after[0].content)
        assert [m.content for m in after[1:] if isinstance(m, UserMessage) and m.source == "user"] == [
            "question 3: what is 3 * 7?",
            "question 4: what is 4 * 7?",
        ]
        assert "question 1" in str(client.calls[0][0].content) and "question 3" not in str(client.calls[0][0].content)
        assert not await ctx.summarize()  # nothing more to fold
        await filled(ctx, 1)  # a fifth turn (numbered 1 again)
        assert await ctx.summarize() and ctx.folded_turns == 3
        assert "Asked 1*7=7" in str(client.calls[1][0].content)  # the old summary is updated, not lost
        assert ctx.usage.prompt_tokens > 0

    asyncio.run(go())


def test_state_round_trips_and_the_component_config_too() -> None:
    client = ScriptedChatCompletionClient(["summary one"])
    ctx = SummaryBufferContext(client, keep_turns=1)

    async def go() -> None:
        await filled(ctx, 3)
        await ctx.summarize()
        state = json.loads(json.dumps(await ctx.save_state()))  # survives JSON, as chat saves it
        other = SummaryBufferContext(ScriptedChatCompletionClient([]), keep_turns=1)
        await other.load_state(state)
        assert other.summary == "summary one" and other.folded_turns == 2
        assert await other.get_messages() == await ctx.get_messages()

    asyncio.run(go())
    replay = SummaryBufferContext(
        ReplayChatCompletionClient(["x"], model_info=GENERIC_MODEL_INFO), keep_turns=4, summary_words=50
    )
    config = replay.dump_component()
    assert config.provider == "ecoagent.memory.SummaryBufferContext"
    loaded = ChatCompletionContext.load_component(ComponentModel.model_validate(json.loads(config.model_dump_json())))
    assert isinstance(loaded, SummaryBufferContext) and loaded._keep_turns == 4 and loaded._summary_words == 50


def test_an_autogen_assistant_agent_runs_with_it_as_model_context() -> None:
    from autogen_agentchat.agents import AssistantAgent

    model = ScriptedChatCompletionClient(["first answer", "second answer"])
    ctx = SummaryBufferContext(ScriptedChatCompletionClient(["the user asked twice"]), keep_turns=1)
    agent = AssistantAgent("assistant", model_client=model, model_context=ctx)

    async def go() -> None:
        await agent.run(task="hello")
        await agent.run(task="again")
        assert await ctx.summarize() and ctx.summary == "the user asked twice"

    asyncio.run(go())
    assert [str(m.content) for m in model.calls[1] if isinstance(m, UserMessage)] == ["hello", "again"]


# ---- the bundled model writes the summary ---------------------------------------------------
def test_the_bundled_model_summarizes_a_long_chat() -> None:
    from ecoagent import EcoAssistant

    eco = EcoAssistant(load_settings(None))
    name, client = eco.summarizer()
    # the default rung carries the shipped adapter, trained for code: the base model summarizes
    assert eco.rungs[0].adapter and name == f"{eco.rungs[0].name}:base"
    ctx = SummaryBufferContext(client, keep_turns=3, summary_words=60)

    async def go() -> list:  # type: ignore[type-arg]
        for i in range(1, 9):
            for m in turn(i):
                await ctx.add_message(m)
        assert await ctx.summarize()
        return await ctx.get_messages()

    messages = asyncio.run(go())
    assert ctx.folded_turns == 5 and ctx.summary.strip()
    assert isinstance(messages[0], SystemMessage) and ctx.summary in str(messages[0].content)
    assert len(split_turns(messages)) == 3 and ctx.usage.completion_tokens > 0
    raw = sum(len(str(m.content)) for t in [turn(i) for i in range(1, 9)] for m in t)
    assert sum(len(str(m.content)) for m in messages) < raw  # the model reads less than the whole chat
    eco.close()


# ---- recall across sessions (real Qdrant, real embeddings) ----------------------------------
def record(query: str, answer: str, output: str = "") -> RunRecord:
    attempt = RungAttempt(
        rung="cheap", executions=[Execution(code="print(1)", language="python", exit_code=0, output=output)]
    )
    return RunRecord(query=query, final_answer=answer, resolved=True, final_rung="cheap", attempts=[attempt])


def test_recall_finds_earlier_sessions_turns_and_forget_removes_them(tmp_path: Path) -> None:
    settings = BankSettings(path=tmp_path / "bank")
    bank = SolutionBank(settings)
    monday = Conversation(recall=TurnMemory(bank.store, "ana"))
    asyncio.run(
        monday.add(
            record("Load sales.csv and give the total revenue for March", "Total March revenue: 48,210 EUR", "48210")
        )
    )
    asyncio.run(monday.add(record("What is the capital of Peru?", "Lima")))
    bank.close()

    bank = SolutionBank(settings)  # another process, another day
    tuesday = Conversation(recall=TurnMemory(bank.store, "ana"))
    asyncio.run(tuesday.add(record("Hi, let's continue the sales analysis", "Sure.")))
    query = asyncio.run(tuesday.query("How does March revenue compare with April?"))
    assert (
        query.history is not None
        and "Total March revenue: 48,210 EUR" in query.history
        and "(the code printed: 48210)" in query.history
    )
    assert "Peru" not in query.history  # below the threshold
    assert (
        asyncio.run(Conversation(recall=TurnMemory(bank.store, "bob")).query("first question")).history is None
    )  # per user
    assert asyncio.run(tuesday.query("And the March revenue?")).history.count("March revenue") == 1  # type: ignore[union-attr]
    assert asyncio.run(tuesday.forget(everything=True)) == 3
    assert "48,210" not in (asyncio.run(tuesday.query("March revenue?")).history or "")
    bank.close()


def test_a_first_turn_gets_no_recall_so_it_stays_cacheable(tmp_path: Path) -> None:
    bank = SolutionBank(BankSettings(path=tmp_path / "bank"))
    memory = TurnMemory(bank.store, "ana")
    asyncio.run(Conversation(recall=memory).add(record("What is 17 * 23?", "391")))
    assert asyncio.run(Conversation(recall=memory).query("What is 17 * 23?")).history is None
    bank.close()


# ---- chat: /memory, /forget, --resume --------------------------------------------------------
@pytest.mark.docker
def test_chat_memory_forget_and_resume(tmp_path: Path, sandbox_image: str) -> None:
    good = ["```python\nprint(17 * 23)\n```", "The answer is 391. TERMINATE"]
    cfg = write_scripted_config(
        tmp_path, {"cheap": good * 4, "top": []}, prices={"cheap": (0.15, 0.6), "top": (2.5, 10.0)}
    )
    runner = CliRunner()
    first = runner.invoke(app, ["--config", str(cfg), "chat"], input="What is 17 * 23?\n/memory\n")
    assert first.exit_code == 0, first.output
    shown = first.stdout.split("› /memory")[1]
    assert (
        "Q: What is 17 * 23?" in shown and "Code:\n```python\nprint(17 * 23)\n```" in shown and "Output: 391" in shown
    )
    assert "A: The answer is 391." in shown and "1 turn(s) verbatim" in shown
    session = first.stdout.split("ecoagent chat --resume ")[1].split()[0]

    resumed = runner.invoke(
        app, ["--config", str(cfg), "chat", "--resume", session], input="/memory\n/forget\n/memory\n"
    )
    assert resumed.exit_code == 0, resumed.output
    before, after = resumed.stdout.split("› /forget")
    assert "Q: What is 17 * 23?" in before and "nothing yet" in after and "forgot" in after
    missing = runner.invoke(app, ["--config", str(cfg), "chat", "--resume", "nope"], input="")
    assert missing.exit_code == 2 and "no saved chat session 'nope'" in missing.output and session in missing.output


def test_settings_have_a_memory_section() -> None:
    settings = Settings()
    assert settings.memory.keep_turns == 3 and settings.memory.recall


@pytest.mark.docker
def test_a_new_chat_session_recalls_an_earlier_sessions_turn(tmp_path: Path, sandbox_image: str) -> None:
    good = ["```python\nprint(48210.5)\n```", "Total March revenue: 48,210.50 EUR. TERMINATE"]
    cfg = write_scripted_config(
        tmp_path, {"cheap": good * 4, "top": []}, prices={"cheap": (0.15, 0.6), "top": (2.5, 10.0)}
    )
    runner = CliRunner()
    monday = runner.invoke(
        app, ["--config", str(cfg), "chat"], input="What is the total revenue for March in sales.csv?\n"
    )
    assert monday.exit_code == 0, monday.output
    tuesday = runner.invoke(
        app, ["--config", str(cfg), "chat"], input="Hello again\n/memory how did March revenue look?\n"
    )
    assert tuesday.exit_code == 0, tuesday.output
    shown = tuesday.stdout.split("› /memory")[1]
    assert "Related earlier turns:" in shown and "Q: What is the total revenue for March in sales.csv?" in shown
    assert "48,210.50" in shown and "recall: 2 earlier turn(s) stored for user default" in shown


def test_a_retried_turn_replaces_its_first_answer_in_the_buffer_and_in_recall(tmp_path: Path) -> None:
    bank = SolutionBank(BankSettings(path=tmp_path / "bank"))
    conversation = Conversation(
        memory=SummaryBufferContext(ScriptedChatCompletionClient([])), recall=TurnMemory(bank.store, "ana")
    )
    asyncio.run(conversation.add(record("What is the total revenue for March?", "It is 12.")))
    asyncio.run(
        conversation.add(
            record("What is the total revenue for March?", "Total March revenue: 48,210.50 EUR."), retry=True
        )
    )
    view = asyncio.run(conversation.memory_for(None))
    assert len(view.verbatim) == 1 and "48,210.50" in view.verbatim[0] and "It is 12." not in view.verbatim[0]
    assert conversation.recall is not None and conversation.recall.count() == 1
    bank.close()


def test_an_unverified_answer_is_remembered_with_the_code_that_gave_it() -> None:
    """A later rung's code that was not served must not sit beside the answer in the memory."""
    served = RungAttempt(
        rung="mid",
        answer="390",
        executions=[Execution(code="print(391 - 1)", language="python", exit_code=0, output="390")],
    )
    later = RungAttempt(
        rung="top", executions=[Execution(code="print(17 * 23)", language="python", exit_code=0, output="391")]
    )
    record = RunRecord(
        query="And that minus 1?",
        final_answer="390",
        final_rung="mid",
        unverified=True,
        attempts=[served, later],
    )
    assert record.answer_execution is not None and record.answer_execution[1].code == "print(391 - 1)"
    conversation = Conversation(memory=SummaryBufferContext(ScriptedChatCompletionClient([])))
    asyncio.run(conversation.add(record))
    shown = asyncio.run(conversation.memory_for(None)).verbatim[0]
    assert "print(391 - 1)" in shown and "Output: 390" in shown and "17 * 23" not in shown
