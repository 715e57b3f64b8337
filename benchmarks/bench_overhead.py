"""Per-query time spent outside the model and the sandbox, with 1k / 10k / 100k banked solutions.

What ecoagent itself adds to every query. "total per query" is the whole pipeline,
``EcoAssistant.run()`` end to end (query, demonstrations stage, first message, ladder
with the AutoGen team and the judge, run log, and the events in between); the parts
are measured on their own: embedding the query and searching the bank (retrieval),
building the first message, and writing the record to the run log. The model is a
scripted client that answers instantly and the executor is a stub that returns at
once, so every millisecond measured is ecoagent's.

Banks are filled with synthetic queries embedded by the real bundled model (the
100k bank takes a few minutes to embed) and written straight through qdrant-client.

The query embedding runs on ONNX Runtime by default (``--backend torch`` measures the
PyTorch path instead, for comparison).

Usage: .venv/bin/python benchmarks/bench_overhead.py [--sizes 1000 10000 100000] [--queries 50]
       [--backend auto|onnx|torch]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from qdrant_client import models

from ecoagent.bank import BankedSolution, SolutionBank
from ecoagent.config import BankSettings, LadderSettings, Rung, RunSettings, Settings
from ecoagent.embed import Embedder
from ecoagent.prompts import first_message
from ecoagent.records import Demonstration, RunRecord
from ecoagent.runlog import RunLog
from ecoagent.testing import FakeExecutor, ScriptedChatCompletionClient

SUBJECTS = [
    "the primes below",
    "the squares up to",
    "the factorial of",
    "the fibonacci numbers below",
    "the digits of",
    "the divisors of",
    "the cubes up to",
    "the even numbers below",
]
VERBS = ["Sum", "Count", "List", "Print the product of", "Find the largest of", "Average"]


def synthetic(i: int) -> str:
    rnd = random.Random(i)
    return f"{rnd.choice(VERBS)} {rnd.choice(SUBJECTS)} {rnd.randint(2, 100_000)} (task {i})"


def instant_executor(settings: object) -> FakeExecutor:
    """Stands in for the sandbox: answers at once, so only ecoagent's time is measured."""
    return FakeExecutor(settings, lambda code: (0, "391\n"))


def fill(bank: SolutionBank, embedder: Embedder, n: int) -> float:
    t0 = time.perf_counter()
    batch = 1024
    for start in range(0, n, batch):
        queries = [synthetic(i) for i in range(start, min(n, start + batch))]
        vectors = embedder.embed(queries)
        points = [
            models.PointStruct(
                id=str(uuid.uuid4()),
                vector=v,
                payload=BankedSolution(id="x", query=q, code=f"print({len(q)})").payload(),
            )
            for q, v in zip(queries, vectors, strict=True)
        ]
        bank.client.upsert(bank.collection, points=points, wait=True)
    return time.perf_counter() - t0


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def measure(size: int, queries: int, embedder: Embedder) -> dict[str, list[float]]:
    from ecoagent import EcoAssistant

    with tempfile.TemporaryDirectory() as tmp:
        bank = SolutionBank(BankSettings(path=Path(tmp) / "bank"), embedder)
        took = fill(bank, embedder, size)
        print(f"  filled {size} solutions in {took:.0f} s")
        runlog = RunLog(Path(tmp) / "runs.sqlite3")
        rung = Rung(name="instant", provider="openai", model="scripted")
        settings = Settings(ladder=LadderSettings(rungs=[rung]), run=RunSettings(max_turns=4))
        script = ["```python\nprint(17 * 23)\n```", "It is 391. TERMINATE"] * (queries + 5)
        eco = EcoAssistant(
            settings,
            clients={"instant": ScriptedChatCompletionClient(script)},
            bank=bank,
            runlog=runlog,
            executor_factory=instant_executor,
        )
        names = ["retrieval (embed+search)", "first message", "run log write", "total per query"]
        parts: dict[str, list[float]] = {n: [] for n in names}
        for i in range(queries + 3):
            q = f"Sum the primes below {1000 + i}"
            t0 = time.perf_counter()
            demos = [Demonstration(id=sol.id, score=sc, query=sol.query, code=sol.code) for sol, sc in bank.retrieve(q)]
            t1 = time.perf_counter()
            first_message(q, demos)
            t2 = time.perf_counter()
            runlog.add(RunRecord(query=q, demonstrations=demos))
            t3 = time.perf_counter()
            await eco.run(q)  # the whole pipeline: retrieval, first message, team + judge, run log
            t4 = time.perf_counter()
            if i >= 3:  # warm-up excluded
                for name, value in zip(names, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                    parts[name].append(value * 1000)
        eco.close()
        return parts


async def main(args: argparse.Namespace) -> None:
    embedder = Embedder(backend=args.backend)
    print(f"query embeddings on {embedder.backend}")
    print(f"{'banked':>8} {'part':26} {'p50 ms':>9} {'p90 ms':>9}")
    for size in args.sizes:
        parts = await measure(size, args.queries, embedder)
        for name, vals in parts.items():
            print(f"{size:>8} {name:26} {statistics.median(vals):>9.2f} {pct(vals, 90):>9.2f}")
    print("target: total per query p50 <= 20 ms at 10k banked solutions")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--backend", choices=["auto", "onnx", "torch"], default="auto")
    asyncio.run(main(parser.parse_args()))
