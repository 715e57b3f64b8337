"""LLMLingua compression on the real bundled model: the transformers-5 fix, literals intact, the pipeline stage.

The compressor LM is the bundled SmolLM2 read by transformers (no hub, no network);
one compressor is loaded for the module and shared.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from autogen_core.models import SystemMessage, UserMessage

from ecoagent import EcoAssistant, Query
from ecoagent.compress import CompressingClient, Compression, Compressor, count_tokens, protected_spans, split_blocks
from ecoagent.config import CompressSettings, LadderSettings, Rung, Settings
from ecoagent.events import Compressed
from ecoagent.testing import FakeExecutor, ScriptedChatCompletionClient

TASKS = Path(__file__).parents[1] / "benchmarks" / "tasks" / "longcontext.jsonl"
CODE = '```python\ndef within(limit, x):\n    return x < limit and not x <= 0   # "<" and indentation kept\n```\n'
TRACE = (
    'Traceback (most recent call last):\n  File "/srv/app.py", line 12, in <module>\n'
    "    main()\nKeyError: 'budget_2024'\n"
)


def _contexts(n: int) -> list[str]:
    return [json.loads(line)["context"] for line in TASKS.read_text(encoding="utf-8").splitlines()[:n]]


def _half(text: str) -> str:
    """The first half of a report's paragraphs (~550 tokens, over ``min_tokens``): enough for
    the tests of the stage's mechanics, at half the compressor's time."""
    paragraphs = text.split("\n\n")
    return "\n\n".join(paragraphs[: max(1, len(paragraphs) // 2)])


def _long_document() -> str:
    """Three reports of the bench's long-context set with code and a traceback between: several thousand tokens."""
    a, b, c = _contexts(3)
    return f"{a}\n{CODE}\n{b}\n{TRACE}\n{c}"


@pytest.fixture(scope="module")
def compressor() -> Compressor:
    c = Compressor(CompressSettings())
    c.lingua  # noqa: B018 - load the model once for the module
    return c


@pytest.fixture(scope="module")
def compressed(compressor: Compressor) -> tuple[str, Compression]:
    doc = _long_document()
    return doc, compressor.compress(doc, "What is the combined budget of the two projects, in dollars?")


@pytest.mark.filterwarnings("ignore:.*past_key_values.*:FutureWarning")  # the stock call path, on purpose
def test_stock_llmlingua_fails_past_one_window_on_transformers_5_and_the_fixed_one_does_not(
    compressor: Compressor, compressed: tuple[str, Compression]
) -> None:
    from llmlingua import PromptCompressor

    doc, result = compressed
    assert count_tokens(doc) > 3000
    stock = compressor.lingua
    stock_get_ppl = PromptCompressor.get_ppl.__get__(stock)  # LLMLingua's own method on the same model
    prose = "".join(b.text for b in split_blocks(doc) if not b.protected)
    original = stock.get_ppl
    stock.get_ppl = stock_get_ppl
    try:
        with pytest.raises((ValueError, TypeError, AttributeError)) as failure:
            stock.compress_prompt([prose], rate=0.5, use_context_level_filter=False, concate_question=False)
    finally:
        stock.get_ppl = original
    assert "unpack" in str(failure.value) or "get_seq_length" in str(failure.value) or "Cache" in str(failure.value)
    assert result.skipped is None and result.tokens_after < 0.8 * result.tokens_before, result


def test_code_tracebacks_numbers_and_literals_survive_byte_for_byte(compressed: tuple[str, Compression]) -> None:
    doc, result = compressed
    assert CODE in result.text and TRACE in result.text
    for block in split_blocks(doc):
        if block.protected:
            assert block.text.strip("\n") in result.text
            continue
        for start, end in protected_spans(block.text):
            assert block.text[start:end] in result.text, block.text[start:end]
    for fact in ("dollars", "budget"):
        assert fact in result.text


def test_compression_is_skipped_where_it_would_not_pay() -> None:
    fresh = Compressor(CompressSettings(min_tokens=300))
    short = fresh.compress("The Atlas budget is 631000 dollars, approved in March.", "What is the Atlas budget?")
    assert short.skipped and "under the 300" in short.skipped and short.text.startswith("The Atlas")
    code_only = fresh.compress(CODE * 40, "what does within do?")
    assert code_only.skipped and code_only.text == CODE * 40
    assert fresh._lingua is None  # neither loaded the model: deciding to skip costs no model time

    free = Rung(name="local", provider="llama-cpp", model="bundled:smollm2")
    paid = Rung(name="paid", provider="openai", model="m", input_price_per_mtok=2.5)
    assert not free.compresses and paid.compresses
    assert Rung(name="forced", provider="llama-cpp", model="x", compress=True).compresses
    assert not Rung(name="off", provider="openai", model="m", input_price_per_mtok=2.5, compress=False).compresses


def _paid_ladder(compressor: Compressor, replies: list[str]) -> tuple[EcoAssistant, ScriptedChatCompletionClient]:
    rungs = [Rung(name="paid", provider="openai", model="m", input_price_per_mtok=2.5, output_price_per_mtok=10.0)]
    settings = Settings(ladder=LadderSettings(rungs=rungs))
    client = ScriptedChatCompletionClient(replies)
    eco = EcoAssistant(settings, clients={"paid": client}, executor_factory=FakeExecutor)
    eco._compressor = compressor
    return eco, client


def test_a_paid_rung_reads_compressed_context_and_the_record_says_what_it_saved(compressor: Compressor) -> None:
    context = _half(_contexts(1)[0])
    question = json.loads(TASKS.read_text(encoding="utf-8").splitlines()[0])["query"]
    eco, client = _paid_ladder(compressor, ["```python\nprint(1 + 1)\n```", "It is 2. TERMINATE"])

    async def run() -> list[Any]:
        return [e async for e in eco.run_stream(Query(question, context=context))]

    items = asyncio.run(run())
    step = next(e.step for e in items if isinstance(e, Compressed))
    record = items[-1]
    assert step.skipped is None and step.parts == ["context"] and 0 < step.tokens_after < step.tokens_before
    first = client.calls[0][-1].content
    assert isinstance(first, str) and first.rstrip().endswith(question) and "<material>" in first
    assert count_tokens(first) < count_tokens(context)
    attempt = record.attempts[0]
    assert attempt.compression == step and attempt.compression_saved_tokens == step.saved * attempt.turns
    assert record.query == question and record.context_chars == len(context)
    assert eco.runlog.get(record.run_id).attempts[0].compression == step  # type: ignore[union-attr]
    eco.close()


def test_the_same_question_about_other_material_is_another_cache_entry() -> None:
    a = Query("What is the total?", context="Total: 5 apples.")
    b = Query("What is the total?", context="Total: 7 apples.")
    assert a.cache_text != b.cache_text and Query("What is the total?").cache_text == "What is the total?"


def test_compressing_client_compresses_a_long_user_message_once_for_any_autogen_agent(compressor: Compressor) -> None:
    inner = ScriptedChatCompletionClient(["first", "second"])
    client = CompressingClient(inner, compressor, rate=0.5)
    context = _half(_contexts(2)[1])
    question = "How many more engineers does the platform team have than the search team?"
    messages = [
        SystemMessage(content="Answer briefly."),
        UserMessage(content=f"{context}\n\n{question}", source="user"),
    ]

    async def twice() -> None:
        await client.create(messages)
        await client.create(messages)

    asyncio.run(twice())
    sent = [call[1].content for call in inner.calls]
    assert sent[0] == sent[1] and len(client.compressions) == 1  # compressed once, reused
    assert isinstance(sent[0], str) and sent[0].endswith(question) and inner.calls[0][0].content == "Answer briefly."
    assert client.saved_tokens == client.compressions[0].saved > 0


def test_two_rungs_at_one_rate_share_one_compression_and_its_time_counts_once(compressor: Compressor) -> None:
    from ecoagent.compress import CompressionStage
    from ecoagent.records import Demonstration

    stage = CompressionStage(CompressSettings(), lambda: compressor)
    messages = stage.for_query(
        Query("What is the combined budget?", context=_half(_contexts(1)[0])),
        [Demonstration(id="d", score=0.7, query="Add two budgets", code="print(1 + 2)")],
    )
    mid = Rung(name="mid", provider="openai", model="m", input_price_per_mtok=0.5)
    top = Rung(name="top", provider="openai", model="t", input_price_per_mtok=5.0)

    async def both() -> list[tuple[str, Any]]:
        return [await messages.for_rung(mid), await messages.for_rung(top)]

    (text_mid, step_mid), (text_top, step_top) = asyncio.run(both())
    assert text_mid == text_top and step_mid.seconds > 0 and step_top.seconds == 0 and step_top.reused
    assert "print(1 + 2)" in text_mid and step_mid.parts == ["demonstrations", "context"]
