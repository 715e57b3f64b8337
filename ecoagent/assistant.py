"""``EcoAssistant``: the query pipeline, one stage after another, as a stream of events.

    from ecoagent import EcoAssistant
    eco = EcoAssistant()                      # offline default ladder, bank in the data dir
    record = eco.run_sync("What is 17 * 23?")
    eco.feedback(record.run_id, good=True)    # banks the query and its code

    async for event in eco.run_stream(Query("What is 17 * 23?")):
        ...                                   # DemonstrationsFound, RungStarted, ..., then the RunRecord

:meth:`EcoAssistant.run_stream` is the whole path of a query, stage by stage; each
stage is a module with one job and the next technique adds a module and a line.
Nothing is built before it is needed: the bank and run log open on first use, a
rung's model client is built when that rung first runs, so ``feedback``, ``logs`` and
the bank commands never load a model or need an API key.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any

from autogen_core import CancellationToken
from autogen_core.models import ChatCompletionClient

from .bank import SolutionBank
from .cache import FirstTurnStage, ladder_scope
from .compress import CompressionStage
from .config import JudgeName, Settings, load_settings
from .demonstrations import find_demonstrations
from .errors import EcoagentError
from .events import CacheChecked, DemonstrationsFound, Event, MemoryRecalled, Routed
from .feedback import Feedback, FeedbackResult
from .judge import (
    AutoJudge,
    EvidenceJudge,
    ExpectedJudge,
    FunctionProbe,
    HumanJudge,
    Judge,
    LLMJudge,
    TestsJudge,
)
from .ladder import ExecutorFactory, Ladder
from .memory.stage import MemoryStage
from .parts import Parts
from .query import Query
from .records import Routing, RunRecord
from .router.stage import RouterStage
from .runlog import RunLog
from .sandbox.executor import DockerSandboxExecutor

__all__ = ["EcoAssistant", "FeedbackResult"]


class EcoAssistant(Parts):
    """A cost-saving, code-executing assistant: ladder + solution bank + sandbox.

    Args:
        settings: All settings (default: loaded from the config file chain and env).
        clients: Model client per rung name, instead of building them from the rungs
            (tests pass scripted clients here).
        bank: A solution bank to use instead of opening the configured one.
        runlog: A run log to use instead of opening the configured one.
        executor_factory: Makes the sandbox for each rung attempt (any AutoGen
            ``CodeExecutor`` usable with ``async with``).
        human: For ``judge="human"``: shows an attempt, returns the person's verdict.

    Raises:
        EcoagentError: The ladder is invalid (exit code 2).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        clients: Mapping[str, ChatCompletionClient] | None = None,
        bank: SolutionBank | None = None,
        runlog: RunLog | None = None,
        executor_factory: ExecutorFactory = DockerSandboxExecutor,
        human: HumanJudge | None = None,
    ) -> None:
        super().__init__(settings or load_settings(), clients=clients, bank=bank, runlog=runlog)
        self._human = human
        self._executor_factory = executor_factory
        self.ladder = Ladder(
            self.rungs, self.client_for, executor_factory, sandbox=self.settings.sandbox, run=self.settings.run
        )
        self.first_turn = FirstTurnStage(
            self.settings.cache,
            ladder_scope(self.rungs),
            lambda: self.cache,
            lambda: self.bank,
            executor_factory,
            self.settings.sandbox,
        )
        self.compression = CompressionStage(self.settings.compress, lambda: self.compressor)
        self.router = RouterStage(self.settings.router, self.rungs, lambda: self.routes, client_for=self.client_for)
        self.memory = MemoryStage(
            self.settings.memory,
            lambda: self.summarizer()[1],
            lambda: self.vectors,
            lambda: self.runlog,
            self.rungs[0].cost,
        )
        self._feedback = Feedback(
            lambda: self.runlog, lambda: self.bank, self.first_turn.forget, self.settings.judge, self._recalibrated
        )

    def warm(self) -> None:
        """Load what the first query needs before it arrives (chat before its prompt, serve before
        it listens): the ladder's keys and files checked, the embedder, the cheapest rung's model,
        the run log and the cache, and a spare sandbox for a replay.

        Raises:
            EcoagentError: A rung cannot run (missing key or model file), or the bank is held.
        """
        self.check_ladder()
        self.bank.embedder.vector("warm up")
        self.client_for(self.rungs[0])
        _ = self.runlog, self.cache
        self.first_turn.prepare()  # a replay of a banked solution then needs no container start

    def make_judge(self, name: JudgeName | Judge) -> Judge:
        """The judge called ``name``, wired to this assistant's rungs.

        Raises:
            EcoagentError: ``human`` without a way to ask, or an unknown judge rung.
        """
        if isinstance(name, Judge):
            return name
        if name == "evidence":
            probe = FunctionProbe(
                self._executor_factory, self.settings.sandbox, timeout_s=self.settings.judge.timeout_s
            )
            return EvidenceJudge.from_settings(self.rungs, self.settings.judge, self.calibration, probe)
        if name == "auto":
            return AutoJudge()
        if name == "expected":
            return ExpectedJudge()
        if name == "tests":
            return TestsJudge(self._executor_factory, self.settings.sandbox, timeout_s=self.settings.judge.timeout_s)
        if name == "human":
            if self._human is None:
                raise EcoagentError("judge 'human' needs a person to ask", "use it from `ecoagent chat`", exit_code=2)
            return self._human
        judge_rung = self.rung(self.settings.run.judge_rung or self.rungs[-1].name)
        return LLMJudge(self.client_for(judge_rung), judge_rung.name, prices=judge_rung)

    # ---- the pipeline -----------------------------------------------------------
    async def run_stream(
        self, query: Query | str, *, judge: Judge | None = None, cancellation_token: CancellationToken | None = None
    ) -> AsyncGenerator[Event | RunRecord, None]:
        """Run one query through every stage; yield what happens, then the :class:`RunRecord`.

        ``judge`` is a judge of your own (a :class:`~ecoagent.judge.Judge`); without it the
        query's judge name, or the rule :meth:`Query.judge_name` states, picks one.

        Raises:
            EcoagentError: A bad query or setting (exit code 2), or a rung that cannot
                be built (missing key or model file).
            SandboxError: The sandbox is not usable (engine down, image missing).
        """
        query = Query(query) if isinstance(query, str) else query
        started = time.monotonic()
        self.check_ladder()
        judge = judge or self.make_judge(query.judge_name(self.settings.run.judge))
        async with self.memory.turn(query) as turn:
            record = RunRecord(
                query=query.text,
                expected=query.expected or query.expected_regex,
                query_id=query.id,
                session=query.session,
                context_chars=len(query.context or ""),
                key_name=query.key_name,
                memory=turn.step,
                **({"run_id": query.run_id} if query.run_id else {}),
            )
            try:
                if turn.step is not None:
                    yield MemoryRecalled(step=turn.step)
                async for event in self._stages(turn.query, judge, record, cancellation_token):
                    yield event
            except (asyncio.CancelledError, GeneratorExit):
                # Ctrl-C in chat, a client that hung up on the server: what was spent is logged,
                # marked cancelled (never cached, never learned from, not remembered). Written
                # synchronously: the task is being cancelled, and a second await could be too.
                record.cancelled = True
                record.duration_s = time.monotonic() - started
                self.runlog.add(record)
                raise
            record.duration_s = time.monotonic() - started
            await asyncio.to_thread(self.runlog.add, record)
            turn.record = record  # the session remembers it (the next turn of the session waits for that)
        yield record

    async def _stages(
        self, query: Query, judge: Judge, record: RunRecord, cancellation_token: CancellationToken | None
    ) -> AsyncGenerator[Event, None]:
        """First turn (cache, replay), else routing, demonstrations, compression and the ladder."""
        record.first_turn = await self.first_turn.check(query, judge, cancellation_token)
        if record.first_turn is not None:
            yield CacheChecked(step=record.first_turn)
        if record.served_from_cache:
            _answer_from(record)
            return
        record.routing = await self.router.decide(query)
        start = record.routing.start if record.routing is not None else query.start_rung
        lifted = judge.start_rung(query.text, [r.name for r in self.rungs], start)
        if lifted is not None:
            record.routing = Routing(
                start=lifted[0],
                start_rung=self.rungs[lifted[0]].name,
                reason=lifted[1],
                threshold=self.settings.judge.max_error,
            )
        climb = query
        if record.routing is not None:
            climb = query.but(start_rung=record.routing.start)  # the cache still sees the query as asked
            yield Routed(routing=record.routing)
        record.demonstrations = await find_demonstrations(self.bank, climb)
        yield DemonstrationsFound(demonstrations=record.demonstrations)
        task = self.compression.for_query(climb, record.demonstrations, show_tests=self.settings.judge.show_tests)
        async for event in self.ladder.climb(climb, task, judge, record, cancellation_token):
            yield event
        await asyncio.to_thread(self.first_turn.remember, query, record)
        await asyncio.to_thread(self.router.learn, record)

    async def run(
        self,
        query: Query | str,
        *,
        on_event: Callable[[Event], None] | None = None,
        cancellation_token: CancellationToken | None = None,
        **fields: Any,
    ) -> RunRecord:
        """:meth:`run_stream`, consumed: the record, with each event handed to ``on_event``.

        ``fields`` build the :class:`Query` when ``query`` is a string
        (``expected=``, ``expected_regex=``, ``judge=``, ``start_rung=``, ``history=``, ``context=``);
        ``judge=`` may also be a :class:`~ecoagent.judge.Judge` of your own.
        """
        judge = fields.pop("judge") if isinstance(fields.get("judge"), Judge) else None
        if isinstance(query, str):
            query = Query(query, **fields)
        elif fields:
            query = query.but(**fields)
        async for item in self.run_stream(query, judge=judge, cancellation_token=cancellation_token):
            if isinstance(item, RunRecord):
                return item
            if on_event is not None:
                on_event(item)
        raise RuntimeError("run_stream ended without a record")  # pragma: no cover - it always ends with one

    def run_sync(self, query: Query | str, **fields: Any) -> RunRecord:
        """:meth:`run` for code that is not async."""
        return asyncio.run(self.run(query, **fields))

    # ---- feedback -----------------------------------------------------------------
    def feedback(self, run_id: str, good: bool) -> FeedbackResult:
        """A person's thumbs-up or thumbs-down on a run; the person is the judge of record.

        Thumbs-up banks the query with the code that solved it. When the automatic
        judge said no but the run's last execution succeeded, the person's word
        overrules it (EcoAssistant's human mode) and the record shows the override.
        A run with no successful execution is not banked, and the note says why.
        Thumbs-down counts against the demonstrations the run used (repeated downs
        retire them). Both are logged.

        Raises:
            EcoagentError: Unknown run id (exit code 2).
        """
        return self._feedback.give(run_id, good)

    def bank_verified(self, record: RunRecord) -> tuple[str, bool] | None:
        """Bank a run whose ``expected`` check or tests passed (batch ``--bank-verified``)."""
        return self._feedback.bank_verified(record)

    def close(self) -> None:
        """Finish the summaries being written; release the bank's store, the cache and the run log,
        and a sandbox started for a replay."""
        self.memory.close()
        self.first_turn.close()
        if self._cache is not None:
            self._cache.close()
            self._cache = None
        self._routes = None  # it lives in the bank's store
        if self._bank is not None:
            self._bank.close()
            self._bank = None
        if self._runlog is not None:
            self._runlog.close()
            self._runlog = None


def _answer_from(record: RunRecord) -> None:
    """Fill the record's answer from the first-turn stage that served it (no model ran)."""
    step = record.first_turn
    assert step is not None and step.execution is not None
    record.resolved = True
    record.final_answer = step.execution.output.strip()
    record.final_code = step.execution.code or None
