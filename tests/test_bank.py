"""The solution bank on real qdrant-client storage with the real bundled embeddings."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from autogen_core.memory import MemoryContent
from autogen_core.model_context import UnboundedChatCompletionContext
from autogen_core.models import SystemMessage, UserMessage

from ecoagent.bank import SolutionBank, SolutionMemory
from ecoagent.config import BankSettings
from ecoagent.embed import Embedder
from ecoagent.errors import EcoagentError


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture
def settings(tmp_path: Path) -> BankSettings:
    return BankSettings(path=tmp_path / "bank")


@pytest.fixture
def bank(settings: BankSettings, embedder: Embedder):  # type: ignore[no-untyped-def]
    b = SolutionBank(settings, embedder)
    yield b
    b.close()


def test_embeddings_are_real_and_normalized(embedder: Embedder) -> None:
    a, b, c = embedder.embed(["What is 17 times 23?", "Compute 17 * 23.", "Plot the weather in Paris"])
    assert embedder.dim == 384
    dot = lambda x, y: sum(p * q for p, q in zip(x, y, strict=True))  # noqa: E731
    assert dot(a, a) == pytest.approx(1.0, abs=1e-4)
    assert dot(a, b) > 0.6 > dot(a, c)


def test_add_and_retrieve_above_threshold(bank: SolutionBank) -> None:
    sid, created = bank.add(
        "What is the sum of the primes below 100?",
        "print(sum(p for p in range(2, 100) if all(p % d for d in range(2, p))))",
        answer="1060",
        rung="cheap",
    )
    assert created
    hits = bank.retrieve("Add up all prime numbers smaller than 100")
    assert [h[0].id for h in hits] == [sid] and hits[0][1] >= 0.5
    assert hits[0][0].answer == "1060" and hits[0][0].rung == "cheap"
    assert bank.retrieve("Translate 'good morning' into French") == []  # below the threshold
    assert bank.get(sid).times_retrieved == 1  # type: ignore[union-attr]


def test_top_k_orders_by_similarity(bank: SolutionBank) -> None:
    for q in ["What is 17 * 23?", "What is the factorial of 10?", "How many days are in a leap year?"]:
        bank.add(q, f"print({q!r})")
    hits = bank.retrieve("Compute 17 times 23", k=2, threshold=-1)
    assert len(hits) == 2 and hits[0][0].query == "What is 17 * 23?" and hits[0][1] >= hits[1][1]


def test_retrieval_matches_qdrants_own_search(bank: SolutionBank, embedder: Embedder) -> None:
    """The float32 fast path of embedded mode ranks and scores exactly as a plain query does."""
    queries = [f"Sum the multiples of {n} below {10 * n}" for n in range(3, 40)]
    for q in queries:
        bank.add(q, f"print({q!r})")
    probe = "Add up the multiples of 7 that are below 70"
    hits = bank.retrieve(probe, k=5, threshold=-1, count=False)
    plain = bank.client.query_points(bank.collection, query=embedder.embed_one(probe), limit=5).points
    assert [sol.id for sol, _ in hits] == [str(p.id) for p in plain]
    assert [score for _, score in hits] == pytest.approx([p.score for p in plain], abs=1e-5)
    assert hits[0][0].query == "Sum the multiples of 7 below 70"


def test_persists_across_reopen(settings: BankSettings, embedder: Embedder) -> None:
    first = SolutionBank(settings, embedder)
    sid, _ = first.add("Reverse the string 'ecoagent'", "print('ecoagent'[::-1])")
    first.close()
    again = SolutionBank(settings, embedder)
    try:
        assert again.count() == 1 and again.get(sid).code == "print('ecoagent'[::-1])"  # type: ignore[union-attr]
    finally:
        again.close()


def test_near_duplicate_updates_the_existing_entry(bank: SolutionBank) -> None:
    sid, created = bank.add("What is 2 to the power of 10?", "print(2 ** 10)")
    again, created_again = bank.add("What is 2 to the power of 10 ?", "print(pow(2, 10))")
    assert created and not created_again and again == sid
    assert bank.count() == 1
    sol = bank.get(sid)
    assert sol is not None and sol.code == "print(pow(2, 10))" and sol.thumbs_up == 2
    other, created_other = bank.add("What is 3 to the power of 7?", "print(3 ** 7)")
    assert created_other and other != sid and bank.count() == 2


def test_thumbs_down_retires_after_repeated_downs(bank: SolutionBank) -> None:
    sid, _ = bank.add("Count the vowels in 'banana'", "print(sum(c in 'aeiou' for c in 'banana'))")
    assert bank.record_outcome([sid], success=False) == []
    assert bank.retrieve("How many vowels does banana have?")  # still active after one down
    assert bank.record_outcome([sid], success=False) == [sid]
    assert bank.retrieve("How many vowels does banana have?") == []
    assert bank.get(sid).retired and bank.count(include_retired=False) == 0  # type: ignore[union-attr]
    bank.record_outcome([sid], success=True)
    assert bank.get(sid).times_led_to_success == 1  # type: ignore[union-attr]


def test_concurrent_writers_from_threads(bank: SolutionBank) -> None:
    sid, _ = bank.add("Shared solution", "print('shared')")
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        try:
            bank.add(f"Distinct task number {i}: compute {i} squared plus {i * 7}", f"print({i} ** 2 + {i * 7})")
            bank.record_outcome([sid], success=True)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert bank.count() == 13
    assert bank.get(sid).times_led_to_success == 12  # type: ignore[union-attr]  # no lost updates


def test_second_process_gets_a_clear_error(bank: SolutionBank, settings: BankSettings) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from ecoagent.bank import SolutionBank
        from ecoagent.config import BankSettings
        from ecoagent.errors import EcoagentError
        try:
            SolutionBank(BankSettings(path=Path({str(settings.path)!r})))
        except EcoagentError as exc:
            print("ERROR", exc.message, "|", exc.hint)
        # it failed before loading an embedding model it would never use
        print("LOADED", "sentence_transformers" in sys.modules)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert "ERROR" in proc.stdout, proc.stderr
    assert "open in another ecoagent process" in proc.stdout and "Qdrant server" in proc.stdout
    assert "LOADED False" in proc.stdout


def test_sigkill_right_after_a_confirmed_add_loses_nothing(settings: BankSettings, embedder: Embedder) -> None:
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from ecoagent.bank import SolutionBank
        from ecoagent.config import BankSettings
        bank = SolutionBank(BankSettings(path=Path({str(settings.path)!r})))
        sid, _ = bank.add("What is 99 * 99?", "print(99 * 99)", answer="9801")
        print(sid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    sid = proc.stdout.strip()
    reopened = SolutionBank(settings, embedder)
    try:
        sol = reopened.get(sid)
        assert sol is not None and sol.code == "print(99 * 99)" and sol.answer == "9801"
    finally:
        reopened.close()


def test_server_url_that_does_not_answer_is_a_clear_error(embedder: Embedder) -> None:
    with pytest.raises(EcoagentError) as info:
        SolutionBank(BankSettings(url="http://127.0.0.1:9"), embedder)
    assert "does not answer" in info.value.message and "bank.url" in (info.value.hint or "")


def test_qdrant_memory_for_any_autogen_agent(bank: SolutionBank) -> None:
    memory = SolutionMemory(bank)

    async def go() -> tuple[list[str], list[object]]:
        await memory.add(
            MemoryContent(
                content="What is 6 * 7?", mime_type="text/plain", metadata={"code": "print(6 * 7)", "answer": "42"}
            )
        )
        result = await memory.query("Multiply six by seven")
        context = UnboundedChatCompletionContext()
        await context.add_message(UserMessage(content="compute six times seven", source="user"))
        await memory.update_context(context)
        return [str(r.content) for r in result.results], await context.get_messages()

    contents, messages = asyncio.run(go())
    assert len(contents) == 1 and "print(6 * 7)" in contents[0]
    assert isinstance(messages[-1], SystemMessage) and "print(6 * 7)" in messages[-1].content
    asyncio.run(memory.clear())
    assert bank.count() == 0


def test_fast_single_query_path_matches_sentence_transformers(embedder: Embedder) -> None:
    assert embedder._fast  # the bundled model takes the direct path
    text = "Sum the primes below 1000"
    fast = embedder.embed([text])[0]
    reference = embedder._model.encode([text], normalize_embeddings=True)[0]
    assert max(abs(a - float(b)) for a, b in zip(fast, reference, strict=True)) < 1e-5


def test_migrate_moves_every_collection_of_the_store(bank: SolutionBank, tmp_path: Path) -> None:
    from qdrant_client import QdrantClient

    from ecoagent.memory import TurnMemory
    from ecoagent.memory.recall import RecalledTurn

    bank.add("What is 17 * 23?", "print(17 * 23)", answer="391", rung="cheap")
    recall = TurnMemory(bank.store, "alice")  # chat's recalled turns live in the same store
    recall.add(RecalledTurn(session="s1", query="What is the capital of France?", answer="Paris"))
    assert bank.store.ensure("routes-test") and not bank.store.ensure("routes-test")
    dest = QdrantClient(path=str(tmp_path / "moved"))
    try:
        counts = bank.migrate_to(dest)
        assert list(counts)[0] == bank.collection and counts[bank.collection] == 1
        assert counts["turns-alice"] == 1 and counts["routes-test"] == 0
        assert {c.name for c in dest.get_collections().collections} == set(counts)
    finally:
        dest.close()
