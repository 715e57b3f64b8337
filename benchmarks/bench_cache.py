"""The first-turn stage on the bench's task set: hit rate, wrong hits, latency against a model call.

Protocol (the bench's split): every task's query is banked with its reference code
(real embedded Qdrant, real MiniLM embeddings); then each paraphrase (same answer,
other words) and each near-parameter variant (same words, other numbers, another
answer) goes through ``EcoAssistant.run`` with the ``auto`` judge, which is what a
user gets by default. A served answer is then checked against the task's expected
answer with the bench's judge (numbers as numbers):

* **hit**: served (exact cache or verified replay), no model ran;
* **wrong hit**: served, and the answer is not the expected one;
* **refused**: a similar solution was found and the guard refused it.

The ladder is the bundled SmolLM2; whatever the stage does not serve would go to
it. Here the stage alone is measured for every query, and only a few paraphrases
are sent up the ladder (``cache=False``) to time a local model call on the same
queries. Latency: medians, in the same run, on this machine. A replay is timed two ways
on the same served paraphrases: with its sandbox started on demand (cold), and with the
sandbox the stage starts ahead of time already running (warm: what a chat turn gets,
since the spare starts while the person reads the answer and types; here a pause of
``--think-s`` stands for that).

Usage: .venv/bin/python benchmarks/bench_cache.py [--model-queries 5] [--limit N] [--replays 10] [--think-s 1]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from ecoagent import EcoAssistant
from ecoagent.bench import load_tasks
from ecoagent.config import load_settings
from ecoagent.judge import contains_answer
from ecoagent.query import Query
from ecoagent.records import RunRecord

TASKS = Path(__file__).resolve().parent / "tasks" / "compute.jsonl"


def _settings(folder: Path):  # type: ignore[no-untyped-def]
    settings = load_settings(None)
    settings.bank.path = folder / "bank"
    settings.cache.path = folder / "cache.sqlite3"
    settings.runlog_path = folder / "runs.sqlite3"
    settings.run.judge = "auto"
    return settings


async def _stage_only(eco: EcoAssistant, text: str) -> tuple[RunRecord, float]:
    """The pipeline up to the first-turn stage: what it serves, or what it refused."""
    query = Query(text)
    judge = eco.make_judge("auto")
    record = RunRecord(query=text)
    t0 = time.perf_counter()
    record.first_turn = await eco.first_turn.check(query, judge)
    return record, time.perf_counter() - t0


async def main(args: argparse.Namespace) -> None:
    tasks = load_tasks(TASKS)[: args.limit]
    with tempfile.TemporaryDirectory() as tmp:
        eco = EcoAssistant(_settings(Path(tmp)))
        for task in tasks:
            assert task.code
            eco.bank.add(task.query, task.code, answer=task.expected, rung="reference")
        forms = {
            "paraphrase": [(t.paraphrase, t.expected) for t in tasks if t.paraphrase],
            "variant": [(t.variant, t.variant_expected) for t in tasks if t.variant and t.variant_expected],
        }
        served: list[str] = []
        print(f"{len(tasks)} tasks banked with their reference code; judge for serving: auto (the default)")
        print(
            f"{'form':<11} {'queries':>7} {'hits':>5} {'hit rate':>8} {'wrong hits':>10} {'refused':>8} {'nothing similar':>15}"
        )
        for form, items in forms.items():
            hits = wrong = refused = none = 0
            for text, expected in items:
                record, _ = await _stage_only(eco, text)
                step = record.first_turn
                if step is None:
                    none += 1
                elif step.served:
                    hits += 1
                    served.append(text)
                    answer = step.execution.output if step.execution else ""
                    wrong += not contains_answer(answer, expected)
                else:
                    refused += 1
            print(f"{form:<11} {len(items):>7} {hits:>5} {hits / len(items):>8.1%} {wrong:>10} {refused:>8} {none:>15}")

        # The same served replays, cold (container started on demand) and warm (started ahead).
        cold_times, warm_times = [], []
        for text in served[: args.replays]:
            eco.first_turn.spare.close()  # no spare: this replay starts its own container
            cold_times.append((await _stage_only(eco, text))[1])
            eco.first_turn.prepare()
            await asyncio.sleep(args.think_s)  # the person reads the answer, types the next question
            warm_times.append((await _stage_only(eco, text))[1])

        # Exact repeats: a cached answer is served without the sandbox.
        exact_times = []
        for task in tasks[:20]:
            eco.cache.put(eco.first_turn.scope, task.query, answer=task.expected, run_id="bench", code=task.code)
            t0 = time.perf_counter()
            step = await eco.first_turn.check(Query(task.query), eco.make_judge("auto"))
            exact_times.append(time.perf_counter() - t0)
            assert step is not None and step.kind == "exact" and step.served

        model_times = []
        for text, _ in forms["paraphrase"][: args.model_queries]:
            t0 = time.perf_counter()
            await eco.run(Query(text, cache=False))
            model_times.append(time.perf_counter() - t0)
        eco.close()

    cold = statistics.median(cold_times) if cold_times else float("nan")
    replay = statistics.median(warm_times) if warm_times else float("nan")
    exact = statistics.median(exact_times)
    print()
    print(
        f"median latency, same run ({len(warm_times)} replays): exact hit {exact * 1000:.1f} ms · "
        f"verified replay, sandbox started ahead {replay * 1000:.0f} ms · started on demand {cold * 1000:.0f} ms"
    )
    if model_times:
        local = statistics.median(model_times)
        print(f"local model (SmolLM2, ladder with --no-cache, {len(model_times)} queries) {local:.1f} s")
        print(
            f"local model / replay: {local / replay:.0f}x (on demand: {local / cold:.0f}x) · local model / exact hit: {local / exact:.0f}x"
        )
    for paid_s in (2.0, 5.0):  # no paid endpoint answers here: a typical call's latency, as an estimate
        print(
            f"estimate: a {paid_s:.0f} s paid call / replay = {paid_s / replay:.0f}x (on demand: {paid_s / cold:.0f}x)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-queries", type=int, default=5, help="Paraphrases timed on the local model.")
    parser.add_argument("--limit", type=int, default=None, help="Use the first N tasks.")
    parser.add_argument("--replays", type=int, default=10, help="Served paraphrases timed cold and warm.")
    parser.add_argument("--think-s", type=float, default=1.0, help="Pause before a warm replay (a person typing).")
    asyncio.run(main(parser.parse_args()))
