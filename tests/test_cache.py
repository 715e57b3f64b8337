"""The first-turn stage: the guard, the exact cache, and verified replay on the real sandbox and bank."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ecoagent import EcoAssistant
from ecoagent.bench import load_tasks, run_bench, select_strategies
from ecoagent.cache import AnswerCache, mismatch, normalize
from ecoagent.config import LadderSettings, Rung, RunSettings, Settings, load_settings
from ecoagent.events import CacheChecked
from ecoagent.query import Query
from ecoagent.records import RunRecord
from ecoagent.testing import FakeExecutor, ScriptedChatCompletionClient, write_scripted_config

TASKS_FILE = Path(__file__).resolve().parents[1] / "benchmarks" / "tasks" / "compute.jsonl"
RUNGS = [
    Rung(name="cheap", provider="openai", model="c", input_price_per_mtok=0.15, output_price_per_mtok=0.6),
    Rung(name="top", provider="openai", model="t", input_price_per_mtok=2.5, output_price_per_mtok=10.0),
]
SOLVE = ["```python\nprint(17 * 23)\n```", "It is 391. TERMINATE"]


# ---- the guard (no Docker, no model) ------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b"),
    [  # measured on MiniLM at 0.87-0.98: similarity alone would serve each of these wrongly
        ("What is 17*23?", "What is 17*24?"),
        ("How do I enable 2FA on my account?", "How do I disable 2FA on my account?"),
        ("Convert 100 USD to EUR", "Convert 100 EUR to USD"),
        ("What is 17 - 23?", "What is 23 - 17?"),
        ("Convert 5 miles to km", "Convert 5 km to miles"),
        ("Sum of the digits of 12345", "Product of the digits of 12345"),
        ("Count the vowels in 'banana'", "Count the consonants in 'banana'"),
        ("Is 97 a prime number?", "Is 97 not a prime number?"),
        ("Count lines in data.csv", "Count lines in data.json"),
        ("What is the 10th Fibonacci number?", "What is the eleventh Fibonacci number?"),
        ("Print the current date", "Print the current time"),
        ("How many words are in 'the quick brown fox'?", "How many characters are in 'the quick brown fox'?"),
    ],
)
def test_the_guard_refuses_queries_that_need_other_answers(a: str, b: str) -> None:
    assert mismatch(a, b) is not None and mismatch(b, a) is not None


# Confusable pairs written after the guard's word lists were tuned on the bench set, and
# never tuned on since: the guard's held-out check (all must be refused).
HELD_OUT_1 = [
    ("What is the median of 3, 8, 1?", "What is the mean of 3, 8, 1?"),
    ("Sort the list [4, 2, 9] in descending order", "Sort the list [4, 2, 9] in ascending order"),
    ("How many words are in 'the quick brown fox'?", "How many characters are in 'the quick brown fox'?"),
    ("Convert 5 miles to km", "Convert 5 km to miles"),
    ("What is the 10th Fibonacci number?", "What is the 11th Fibonacci number?"),
    ("Print the current date", "Print the current time"),
    ("Is 97 a prime number?", "Is 97 not a prime number?"),
    ("Count lines in data.csv", "Count lines in data.json"),
    ("What day of the week was 2020-02-29?", "What day of the week was 2021-02-28?"),
    ("Find the minimum of [3, 7, 2]", "Find the maximum of [3, 7, 2]"),
    ("What is the square root of 144?", "What is the cube root of 144?"),
    ("Round 3.14159 to 2 decimals", "Round 3.14159 to 3 decimals"),
    ("List the first 5 even numbers", "List the first 5 odd numbers"),
    ("Encode 'hello' in base64", "Decode 'hello' in base64"),
    ("What is the factorial of 10?", "What is the factorial of ten plus one?"),
    ("Convert 'Hello World' to uppercase", "Convert 'Hello World' to lowercase"),
    ("How many seconds in a day?", "How many minutes in a day?"),
    ("What is the GCD of 48 and 18?", "What is the LCM of 48 and 18?"),
    ("What is the hex value of 255?", "What is the octal value of 255?"),
    (
        "What is the average of all numbers from 1 to 10 excluding 5?",
        "What is the average of all numbers from 1 to 10 including 5?",
    ),
]
HELD_OUT_2 = [
    ("How many days until Christmas?", "How many days since Christmas?"),
    ("What is the population of France?", "What is the capital of France?"),
    ("Translate 'good morning' into French", "Translate 'good morning' into Spanish"),
    ("Plot a histogram of the values", "Plot a scatter of the values"),
    ("Download the page and count its links", "Download the page and count its images"),
    ("What is the distance from Paris to Berlin?", "What is the distance from Berlin to Paris by train?"),
    ("How many leap years between 1900 and 2000?", "How many leap years between 1900 and 2000 inclusive?"),
    ("Generate a random password of 12 characters", "Generate a random username of 12 characters"),
    ("Compute the mean of the column price", "Compute the mean of the column cost"),
    ("What is the next prime after 100?", "What is the previous prime before 100?"),
    ("Convert 3 hours to minutes", "Convert 3 minutes to hours"),
    ("Is 2024 a leap year?", "Is 2023 a leap year?"),
    ("What is the weather in Tokyo today?", "What is the weather in Tokyo tomorrow?"),
    ("Count the unique words in 'a b a c'", "Count the repeated words in 'a b a c'"),
    ("What is the sine of 30 degrees?", "What is the cosine of 30 degrees?"),
]


@pytest.mark.parametrize(("a", "b"), HELD_OUT_1 + HELD_OUT_2)
def test_the_guard_refuses_every_held_out_confusable_pair(a: str, b: str) -> None:
    assert mismatch(a, b) is not None and mismatch(b, a) is not None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("What is 17 * 23?", "Multiply 17 by 23."),
        ("What is the largest of 4, 9, 2?", "Find the maximum of 4, 9, 2."),
        ("How many primes are below 50?", "Count the primes below 50."),
        ("Please compute the factorial of 12", "What's the factorial of 12?"),
        ("What is 17*23?", "what is 17 * 23"),
        ("What is seventeen times 23?", "Multiply 17.0 by 23"),
    ],
)
def test_the_guard_lets_true_paraphrases_through(a: str, b: str) -> None:
    assert mismatch(a, b) is None


def test_no_near_parameter_variant_or_other_task_of_the_bench_passes_the_guard() -> None:
    tasks = load_tasks(TASKS_FILE)
    assert all(mismatch(t.variant, t.query) is not None for t in tasks if t.variant)
    queries = [t.query for t in tasks]
    passing = [
        (a, b) for i, a in enumerate(queries) for j, b in enumerate(queries) if i != j and mismatch(a, b) is None
    ]
    assert passing == []


def test_normalize_ignores_case_spacing_and_closing_punctuation_only() -> None:
    assert normalize("  What is  17*23? ") == normalize("what is 17*23") == "what is 17*23"
    assert normalize("What is 17*23?") != normalize("What is 17 * 23?")  # a different text is a different key


# ---- the store -----------------------------------------------------------------------
def test_answer_cache_scopes_expiry_eviction_refusals_and_counts(tmp_path: Path) -> None:
    cache = AnswerCache(tmp_path / "c.sqlite3", ttl_s=3600)
    key = cache.put("ladder A", "What is 17 * 23?", answer="391", run_id="r1", code="print(17 * 23)", judge="auto")
    entry = cache.get("ladder A", "what is 17 * 23")
    assert entry is not None and entry.key == key and entry.answer == "391" and entry.run_id == "r1"
    assert cache.get("ladder B", "What is 17 * 23?") is None  # another ladder's models never answer
    cache._db.execute("UPDATE answers SET created_at = ?", ((datetime.now(UTC) - timedelta(hours=2)).isoformat(),))
    assert cache.get("ladder A", "What is 17 * 23?") is None  # stale
    cache.put("ladder A", "q", answer="a", run_id="r2")
    assert cache.evict(run_id="r2") == 1 and cache.get("ladder A", "q") is None
    cache.refuse("Multiply 17 by 23", "sol-1")
    assert cache.refused("multiply 17 by 23.", "sol-1") and not cache.refused("Multiply 17 by 23", "sol-2")
    stats = cache.stats()
    assert stats["entries"] == 1 and stats["refused_pairs"] == 1 and stats["exact_hits"] == 1
    assert stats["exact_misses"] == 3 and stats["evictions"] == 2 and stats["stores"] == 2
    cache.close()


# ---- the exact cache in the pipeline (scripted models, fake sandbox) -------------------
def make(tmp_path: Path, cheap: list[str], **cache: object) -> tuple[EcoAssistant, ScriptedChatCompletionClient]:
    client = ScriptedChatCompletionClient(cheap)
    settings = Settings(
        ladder=LadderSettings(rungs=RUNGS[:1]), runlog_path=tmp_path / "runs.sqlite3", run=RunSettings(judge="auto")
    )
    settings.bank.path = tmp_path / "bank"
    settings.cache = settings.cache.model_copy(update={"path": tmp_path / "cache.sqlite3", **cache})
    return EcoAssistant(settings, clients={"cheap": client}, executor_factory=FakeExecutor), client


def test_an_exact_repeat_is_served_without_a_model_and_a_thumbs_down_evicts_it(tmp_path: Path) -> None:
    eco, client = make(tmp_path, SOLVE * 3)
    first = eco.run_sync("What is 17 * 23?")
    assert first.resolved and first.first_turn is None and client.remaining == 4

    async def stream(text: str) -> list[object]:
        return [item async for item in eco.run_stream(Query(text))]

    items = asyncio.run(stream("what is 17 * 23"))
    second = items[-1]
    assert [type(i) for i in items] == [CacheChecked, RunRecord]  # no demonstrations, no rung
    assert isinstance(second, RunRecord) and second.served_from_cache and second.first_turn is not None
    assert second.first_turn.kind == "exact" and second.final_answer == first.final_answer and second.tokens == 0
    assert second.attempts == [] and client.remaining == 4  # no model call
    assert eco.run_sync("What is 17 * 23?", cache=False).attempts[0].rung == "cheap"  # --no-cache
    assert client.remaining == 2
    assert eco.run_sync("What is 17 * 23?", history="earlier: hi").first_turn is None  # a follow-up: never cached
    eco.feedback(second.run_id, good=False)
    third = eco.run_sync("What is 17 * 23?")
    assert not third.served_from_cache and client.remaining == 0  # evicted: the model ran again
    eco.close()


def test_an_exact_hit_is_checked_against_the_querys_expected_answer(tmp_path: Path) -> None:
    eco, client = make(tmp_path, SOLVE * 2, replay=False)
    eco.run_sync("What is 17 * 23?")  # accepted by the auto judge and cached
    wrong = eco.run_sync("What is 17 * 23?", expected="392")  # the cached 391 does not pass: not served
    assert wrong.first_turn is not None and wrong.first_turn.kind == "exact" and not wrong.first_turn.served
    assert wrong.first_turn.reason.startswith("cached answer not accepted: expected '392' not found")
    assert wrong.attempts and client.remaining == 0  # the ladder ran instead
    right = eco.run_sync("What is 17 * 23?", expected="391")
    assert right.served_from_cache and right.tokens == 0
    eco.close()


def test_the_cache_can_be_turned_off(tmp_path: Path) -> None:
    eco, client = make(tmp_path, SOLVE * 2, enabled=False, replay=False)
    eco.run_sync("What is 17 * 23?")
    assert eco.run_sync("What is 17 * 23?").first_turn is None and client.remaining == 0
    eco.close()


# ---- verified replay: real sandbox, real bank, real embeddings ------------------------------
def test_replay_reruns_banked_code_fresh_and_never_serves_a_near_parameter_query(
    tmp_path: Path, sandbox_image: str
) -> None:
    from ecoagent.sandbox.executor import DockerSandboxExecutor

    client = ScriptedChatCompletionClient(["```python\nprint(17 * 24)\n```", "It is 408. TERMINATE"])
    settings = Settings(
        ladder=LadderSettings(rungs=RUNGS[:1]), runlog_path=tmp_path / "runs.sqlite3", run=RunSettings(judge="auto")
    )
    settings.bank.path = tmp_path / "bank"
    settings.cache.path = tmp_path / "cache.sqlite3"
    settings.sandbox.timeout_s = 20
    eco = EcoAssistant(settings, clients={"cheap": client}, executor_factory=DockerSandboxExecutor)
    clock, _ = eco.bank.add("Print the current time in nanoseconds.", "import time\nprint(time.time_ns())")
    product, _ = eco.bank.add("What is 17 * 23?", "print(17 * 23)")

    one = eco.run_sync("Show the current time in nanoseconds")
    two = eco.run_sync("Give me the current time in nanoseconds")
    for record in (one, two):
        step = record.first_turn
        assert step is not None and step.kind == "replay" and step.served and step.key == clock
        assert record.resolved and record.tokens == 0 and record.attempts == []
    assert int(one.final_answer or 0) < int(two.final_answer or 0)  # re-run, not remembered
    assert eco.run_sync("Show the current time in nanoseconds").served_from_cache  # replays are not frozen

    variant = eco.run_sync("What is 17 * 24?")  # 0.9+ similar to the banked 17 * 23
    step = variant.first_turn
    assert step is not None and not step.served and step.key == product and "numbers differ" in step.reason
    assert variant.resolved and variant.final_answer and "408" in variant.final_answer  # the model answered

    paraphrase = eco.run_sync("Multiply 17 by 23.")
    assert paraphrase.served_from_cache and paraphrase.final_answer == "391"
    eco.feedback(paraphrase.run_id, good=False)  # a person says the replay was wrong for this query
    again = eco.run_sync("Multiply 17 by 23.")
    assert not again.served_from_cache and again.first_turn is not None and "rejected" in again.first_turn.reason
    stats = eco.cache.stats()
    assert stats["replays_served"] == 4 and stats["guard_refusals"] == 1 and stats["refused_pairs"] == 1
    eco.close()


def test_a_replay_the_expected_answer_rejects_is_not_served(tmp_path: Path, sandbox_image: str) -> None:
    from ecoagent.sandbox.executor import DockerSandboxExecutor

    client = ScriptedChatCompletionClient(SOLVE)
    settings = Settings(
        ladder=LadderSettings(rungs=RUNGS[:1]), runlog_path=tmp_path / "runs.sqlite3", run=RunSettings(judge="auto")
    )
    settings.bank.path = tmp_path / "bank"
    settings.cache.path = tmp_path / "cache.sqlite3"
    eco = EcoAssistant(settings, clients={"cheap": client}, executor_factory=DockerSandboxExecutor)
    eco.bank.add("What is 17 * 23?", "print(17 * 22)")  # a wrong solution got banked
    record = eco.run_sync("Multiply 17 by 23.", expected="391")
    step = record.first_turn
    assert step is not None and step.kind == "replay" and not step.served and step.execution is not None
    assert step.verdict is not None and not step.verdict.ok and "374" in step.execution.output
    assert record.resolved and record.attempts[0].rung == "cheap"  # the ladder answered instead
    eco.close()


# ---- the bench's +cache strategy ---------------------------------------------------------
def test_bench_cache_strategy_counts_hits_wrong_hits_and_refusals(tmp_path: Path) -> None:
    right = ["```python\nprint(17 * 23)\n```", "The answer is 391. TERMINATE"]
    cfg = write_scripted_config(tmp_path, {"cheap": right * 20}, prices={"cheap": (0.15, 0.6)}, judge="auto")
    tasks = tmp_path / "tasks.jsonl"
    rows = [
        {
            "id": "t1",
            "query": "What is 17 * 23?",
            "paraphrase": "Multiply 17 by 23.",
            "expected": "391",
            "code": "print(17 * 23)",
            "variant": "What is 17 * 24?",
            "variant_expected": "408",
        },
        {
            "id": "t2",
            "query": "What is 391 + 0?",
            "paraphrase": "Add 391 and 0.",
            "expected": "391",
            "code": "print(391 + 0)",
        },
    ]
    tasks.write_text("".join(json.dumps(t) + "\n" for t in rows))
    strategies = select_strategies(["bottom+demos", "bottom+demos+cache"])
    plain, cached = asyncio.run(
        run_bench(
            load_settings(cfg),
            strategies,
            load_tasks(tasks),
            protocol="sequential",
            bench_dir=tmp_path / "b",
            executor_factory=FakeExecutor,
        )
    )
    # sequential: t1, t2 solved by the model and banked; both paraphrases replayed; the variant refused by the guard
    assert (plain.items, plain.solved, plain.cache_hits, plain.cache_on) == (5, 4, 0, False)
    assert (cached.items, cached.solved, cached.cache_hits, cached.wrong_hits, cached.guard_refusals) == (5, 4, 2, 0, 1)
    assert cached.solved_by_rung == {"cheap": 2, "replay": 2} and cached.tokens < plain.tokens
    results = [
        json.loads(x)
        for x in (tmp_path / "b" / "sequential" / "bottom+demos+cache" / "results.jsonl").read_text().splitlines()
    ]
    assert [r["first_turn"] for r in results] == [None, None, "replay", "replay", "refused"]


def test_replay_runs_the_banked_code_in_the_given_sandbox_and_no_model(tmp_path: Path) -> None:
    eco, client = make(tmp_path, SOLVE)
    solution, _ = eco.bank.add("What is 17 * 23?", "print(17 * 23)")
    FakeExecutor.instances.clear()
    record = eco.run_sync("Multiply 17 by 23.")
    assert record.served_from_cache and client.remaining == 2 and record.first_turn is not None
    assert record.first_turn.key == solution and record.first_turn.score is not None and record.first_turn.score >= 0.5
    # one sandbox ran the code; a second is started for the next replay, used by nothing yet
    assert [x.ran for x in FakeExecutor.instances] == [["print(17 * 23)"], []] and record.final_code == "print(17 * 23)"
    eco.close()
    assert all(x.stopped for x in FakeExecutor.instances)  # the unused spare is removed at close


def test_a_sandbox_started_ahead_serves_the_next_replay_once(tmp_path: Path) -> None:
    eco, _ = make(tmp_path, SOLVE)
    eco.bank.add("What is 17 * 23?", "print(17 * 23)")
    FakeExecutor.instances.clear()
    eco.first_turn.prepare()  # what chat does while the person types
    spare = eco.first_turn.spare
    assert spare._thread is not None
    spare._thread.join()
    ahead = FakeExecutor.instances[0]
    assert ahead.started and ahead.ran == []
    first = eco.run_sync("Multiply 17 by 23.")
    assert first.served_from_cache and ahead.ran == ["print(17 * 23)"] and ahead.stopped  # used once, removed
    second = eco.run_sync("What is 17 times 23?")
    assert second.served_from_cache and ahead.ran == ["print(17 * 23)"]  # never reused
    assert FakeExecutor.instances[1].ran == ["print(17 * 23)"]
    eco.close()


def test_a_damaged_cache_file_is_a_clear_error_that_touches_nothing(tmp_path: Path) -> None:
    from ecoagent.errors import EcoagentError

    damaged = tmp_path / "cache.sqlite3"
    damaged.write_text("not a database")
    with pytest.raises(EcoagentError, match="answer cache at .* cannot be opened") as info:
        AnswerCache(damaged)
    assert "delete" in (info.value.hint or "") and damaged.read_text() == "not a database"
