"""Running strategies over the same tasks, each on its own fresh bank and run log.

Two protocols, as EcoAssistant measured:

* **sequential** (its autonomous mode): every form of every task in order (all
  queries, then the paraphrases, then the variants); an answer the ``expected`` judge
  accepts is banked, so later tasks of a strategy with demonstrations benefit;
* **split**: the seed split (each task's query with its reference code) is banked
  first, then the test split (paraphrases and variants) is measured, nothing banked;
  for a set cut in halves (HumanEval), the seed half's reference code is banked and
  the test half's queries are measured.

Each item is judged by its tests when it has them (the ``tests`` judge, in the
sandbox), else by its expected answer.

Each strategy's data lives under ``<bench dir>/<protocol>/<strategy>/`` (bank, run
log, ``results.jsonl``); the user's own bank and run log are never touched. Results
are appended as each item finishes, so ``resume=True`` continues an interrupted bench.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..config import LadderSettings, Settings
from ..conversation import Conversation
from ..errors import EcoagentError
from ..ladder import ExecutorFactory
from ..query import Query
from ..records import RungAttempt, RunRecord
from .report import StrategyReport, summarize
from .results import ItemResult
from .strategies import Strategy
from .tasks import BenchItem, BenchTask, items_for

if TYPE_CHECKING:
    from ..assistant import EcoAssistant

__all__ = ["ItemResult", "Protocol", "bench_items", "run_bench", "run_strategy", "seed_tasks", "strategy_dir"]

Protocol = Literal["sequential", "split"]


def strategy_dir(bench_dir: Path, protocol: Protocol, strategy: Strategy) -> Path:
    """Where one strategy's bank, run log and results live."""
    return bench_dir / protocol / strategy.name


def bench_items(tasks: Sequence[BenchTask], protocol: Protocol) -> list[BenchItem]:
    """What a protocol measures: every form in sequence, or the split's test forms (no follow-ups):
    the test half's queries in a set cut in halves, else the paraphrases and variants."""
    if protocol == "sequential":
        return items_for(list(tasks), ("query", "followup", "paraphrase", "variant"))
    if any(t.half for t in tasks):
        return items_for([t for t in tasks if t.half == "test"], ("query",))
    return items_for(list(tasks), ("paraphrase", "variant"))


def seed_tasks(tasks: Sequence[BenchTask]) -> list[BenchTask]:
    """What the split protocol banks first: the seed half, or every task, that has reference code."""
    halves = any(t.half for t in tasks)
    return [t for t in tasks if t.code and (t.half == "seed" or not halves)]


def _settings_for(base: Settings, strategy: Strategy, folder: Path) -> Settings:
    settings = base.model_copy(deep=True)
    settings.ladder = LadderSettings(rungs=strategy.ladder(base.ladder.resolved()))
    settings.bank = settings.bank.model_copy(
        update={
            "path": folder / "bank",
            "url": None,
            "top_k": max(1, base.bank.top_k) if strategy.demonstrations else 0,
        }
    )
    settings.runlog_path = folder / "runs.sqlite3"
    settings.run = settings.run.model_copy(
        update={"judge": "expected", "judge_rung": None}
    )  # tests, where an item has them
    settings.cache = settings.cache.model_copy(
        update={"enabled": strategy.cache, "replay": strategy.cache, "path": folder / "cache.sqlite3"}
    )
    settings.router = settings.router.model_copy(update={"enabled": strategy.router, "seed": 0})
    judge = {k: v for k, v in (("max_error", strategy.max_error), ("samples", strategy.samples)) if v is not None}
    judge["explore"] = strategy.explore
    # The bench's own calibration file: a user's thumbs never leak into a measurement.
    settings.judge = settings.judge.model_copy(update={**judge, "calibration": folder / "calibration.json"})
    if strategy.compress is not None:  # else each rung's own setting (on where input costs money)
        settings.compress = settings.compress.model_copy(update={"enabled": True})
        rungs = [r.model_copy(update={"compress": strategy.compress}) for r in settings.ladder.rungs]
        settings.ladder = LadderSettings(rungs=rungs)
    return settings


def _done(results: Path) -> dict[str, ItemResult]:
    done: dict[str, ItemResult] = {}
    if not results.is_file():
        return done
    for raw in results.read_text(encoding="utf-8").splitlines():
        try:
            data = json.loads(raw)
            done[data["item_id"]] = ItemResult(**data)
        except (json.JSONDecodeError, TypeError, KeyError):
            continue  # a line cut short by an interrupt: that item runs again
    return done


async def run_strategy(
    base: Settings,
    strategy: Strategy,
    tasks: Sequence[BenchTask],
    *,
    protocol: Protocol,
    bench_dir: Path,
    resume: bool = False,
    fresh: bool = False,
    executor_factory: ExecutorFactory | None = None,
    on_item: Callable[[ItemResult], None] | None = None,
) -> list[ItemResult]:
    """Run one strategy over the tasks under one protocol; return every item's result.

    Args:
        base: The user's settings (ladder, prices, sandbox); bank and run log are replaced.
        strategy: Which rungs and stages.
        tasks: The task set.
        protocol: ``sequential`` or ``split``.
        bench_dir: The bench's own folder.
        resume: Continue from the results already in the strategy's folder.
        fresh: Delete the strategy's folder first.
        executor_factory: The sandbox (default: the hardened Docker sandbox).
        on_item: Called with each finished item, resumed ones first (progress).

    Raises:
        EcoagentError: The folder holds results and neither ``resume`` nor ``fresh``
            was given, or the strategy's rungs are not on the ladder.
    """
    from ..assistant import EcoAssistant  # AutoGen loads only when a bench runs

    folder = strategy_dir(bench_dir, protocol, strategy)
    results_file = folder / "results.jsonl"
    if fresh and folder.exists():
        shutil.rmtree(folder)
    done = _done(results_file)
    if done and not resume:
        raise EcoagentError(
            f"{folder} already holds {len(done)} result(s) of strategy {strategy.name}",
            "add --resume to continue it, or --fresh to start it over",
            exit_code=2,
        )
    folder.mkdir(parents=True, exist_ok=True)
    settings = _settings_for(base, strategy, folder)
    kwargs: dict[str, Any] = {"executor_factory": executor_factory} if executor_factory else {}
    eco = EcoAssistant(settings, **kwargs)
    results = [done[i.id] for i in bench_items(tasks, protocol) if i.id in done]
    if on_item is not None:
        for result in results:  # resumed: progress starts where the last run stopped
            on_item(result)
    try:
        if protocol == "split" and strategy.demonstrations and not (folder / "seeded").exists():
            for task in seed_tasks(tasks):  # the seed split: each task's query with its reference solution
                eco.bank.add(task.query, task.code or "", answer=task.expected or "", rung="reference")
            (folder / "seeded").touch()
        chats = _Conversations(eco, strategy, settings)
        for item in bench_items(tasks, protocol):  # a resumed conversation picks up what it had said
            if item.id in done and item.conversation and done[item.id].run_id:
                await chats.replay(item, done[item.id].run_id or "")
        with results_file.open("a", encoding="utf-8") as sink:
            for item in bench_items(tasks, protocol):
                if item.id in done:
                    continue
                # The answer key decides, unless the strategy runs the pipeline as a user
                # without one would; then the key only scores (:func:`_scored`).
                query = Query(
                    item.query,
                    expected=item.expected,
                    tests=item.tests,
                    entry_point=item.entry_point,
                    id=item.id,
                    context=item.context,
                    judge=strategy.judge,
                )
                if item.conversation:
                    query = await chats.query(item, query)
                record = await eco.run(query)
                if protocol == "sequential" and strategy.demonstrations and record.resolved:
                    eco.bank_verified(record)  # autonomous mode: what the judge accepted helps later tasks
                result = ItemResult.of(item, record)
                if strategy.judge:
                    result = await _scored(eco, query, record, result)
                if item.conversation:
                    await chats.add(item, record, result)
                sink.write(json.dumps(asdict(result)) + "\n")
                sink.flush()
                results.append(result)
                if on_item is not None:
                    on_item(result)
    finally:
        eco.close()
    return results


async def _scored(eco: EcoAssistant, query: Query, record: RunRecord, result: ItemResult) -> ItemResult:
    """``result`` scored by the item's answer key, when the pipeline judged without it.

    Solved means the answer the pipeline stood behind (its accepted attempt) is right by
    the key; an answer it gave up on, or returned unverified, is not solved. ``accepted``
    keeps the pipeline's own verdict, so accepted-but-wrong answers can be counted;
    ``served_right`` says whether what it returned (accepted or unverified) was right.
    Every attempt the evidence judge weighed is scored too (``observations``: rung
    identity, evidence kind, wrong): what ``ecoagent calibrate`` counts.
    """
    from ..judge import JudgeInput

    key: Literal["tests", "expected"] = "tests" if query.tests else "expected"
    judge = eco.make_judge(key)
    scores: dict[int, bool] = {}

    async def right(attempt: RungAttempt) -> bool:
        if id(attempt) not in scores:
            scores[id(attempt)] = (await judge(JudgeInput(query, attempt, attempt.answer or ""))).ok
        return scores[id(attempt)]

    served = record.served_attempt
    served_right = served is not None and await right(served)
    observations = []
    for attempt in record.attempts:
        verdict = attempt.verdict
        if verdict is not None and verdict.identity and verdict.evidence in ("single", "samples", "rungs"):
            observations.append((verdict.identity, verdict.evidence, not await right(attempt)))
    return ItemResult(
        **{
            **asdict(result),
            "resolved": record.resolved and served_right,
            "judge": key,
            "accepted": record.resolved,
            "unverified": record.unverified,
            "served_right": served_right,
            "observations": observations or None,
        }
    )


class _Conversations:
    """Each conversation task's chat, with the strategy's memory (or none: each turn alone)."""

    def __init__(self, eco: EcoAssistant, strategy: Strategy, settings: Settings) -> None:
        self.eco, self.strategy, self.settings = eco, strategy, settings
        self.chats: dict[str, Conversation] = {}

    def _chat(self, task_id: str) -> Conversation:
        if task_id not in self.chats:
            if self.strategy.memory:  # chat's memory, recalled for the bench's own user
                chat = Conversation(session=task_id)
                chat.give_memory(self.eco.summarizer()[1], self.eco.vectors, self.settings.memory, user="bench")
                self.chats[task_id] = chat
            else:
                self.chats[task_id] = Conversation(context_turns=0, session=task_id)
        return self.chats[task_id]

    async def query(self, item: BenchItem, query: Query) -> Query:
        """``query`` with what the conversation carries into it."""
        carried = await self._chat(item.task_id).query(item.query)
        return query.but(history=carried.history)  # no session: the bench holds this memory, not the stage

    async def add(self, item: BenchItem, record: RunRecord, result: ItemResult | None = None) -> None:
        """Remember the turn; summarizing (as chat does after each answer) counts in the turn's cost."""
        chat = self._chat(item.task_id)
        await chat.add(record)
        if chat.memory is None:
            return
        before = chat.memory.usage
        await chat.summarize()
        prompt = chat.memory.usage.prompt_tokens - before.prompt_tokens
        completion = chat.memory.usage.completion_tokens - before.completion_tokens
        if result is not None:
            result.prompt_tokens += prompt
            result.completion_tokens += completion
            result.cost += self.eco.rungs[0].cost(prompt, completion)

    async def replay(self, item: BenchItem, run_id: str) -> None:
        """Rebuild a resumed conversation from its logged turns."""
        record = self.eco.runlog.get(run_id)
        if record is not None:
            await self.add(item, record)


async def run_bench(
    base: Settings,
    strategies: Sequence[Strategy],
    tasks: Sequence[BenchTask] | Mapping[str, Sequence[BenchTask]],
    *,
    protocol: Protocol,
    bench_dir: Path,
    resume: bool = False,
    fresh: bool = False,
    executor_factory: ExecutorFactory | None = None,
    on_item: Callable[[Strategy, ItemResult], None] | None = None,
) -> list[StrategyReport]:
    """Every strategy over the same tasks, one after another; one report per strategy.

    The first strategy is the baseline the table's ratios compare against. ``tasks`` may
    also be *parts*, a sub-folder name for each task list: each strategy runs every part in
    ``bench_dir/<name>`` and its report pools them. That is how all of HumanEval is measured
    under ``split``: each half measured with the other half's solutions as its seed.
    """
    parts = dict(tasks) if isinstance(tasks, Mapping) else {"": tasks}
    reports = []
    for strategy in strategies:
        callback = (lambda result, s=strategy: on_item(s, result)) if on_item is not None else None
        results: list[ItemResult] = []
        for name, part in parts.items():
            results += await run_strategy(
                base,
                strategy,
                part,
                protocol=protocol,
                bench_dir=bench_dir / name,
                resume=resume,
                fresh=fresh,
                executor_factory=executor_factory,
                on_item=callback,
            )
        reports.append(summarize(strategy.name, protocol, results))
    return reports
