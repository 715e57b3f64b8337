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
import threading
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any

from autogen_core import CancellationToken
from autogen_core.models import ChatCompletionClient

from .bank import SolutionBank
from .cache import AnswerCache, FirstTurnStage, ladder_scope
from .compress import CompressionStage, Compressor
from .config import JudgeName, Rung, Settings, load_settings
from .demonstrations import find_demonstrations
from .errors import EcoagentError
from .events import CacheChecked, DemonstrationsFound, Event, MemoryRecalled, Routed
from .feedback import Feedback, FeedbackResult
from .judge import (
    AutoJudge,
    Calibration,
    EvidenceJudge,
    ExpectedJudge,
    FunctionProbe,
    HumanJudge,
    Judge,
    LLMJudge,
    TestsJudge,
    load_calibration,
)
from .ladder import ExecutorFactory, Ladder
from .memory.stage import MemoryStage
from .models import build_client, check_rung
from .query import Query
from .records import RunRecord
from .router.stage import RouteIndex, RouterStage
from .runlog import RunLog
from .sandbox.executor import DockerSandboxExecutor

__all__ = ["EcoAssistant", "FeedbackResult"]


class EcoAssistant:
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
        self.settings = settings or load_settings()
        self.rungs: list[Rung] = self.settings.ladder.resolved()
        names = [r.name for r in self.rungs]
        if len(set(names)) != len(names):
            raise EcoagentError(
                f"ladder has duplicate rung names: {names}", "give every rung its own name", exit_code=2
            )
        self._clients: dict[str, ChatCompletionClient] = dict(clients or {})
        self._given_clients = clients is not None
        self._client_lock = threading.Lock()
        self._parts_lock = threading.RLock()
        self._checked = False
        self._bank = bank
        self._runlog = runlog
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
        self._cache: AnswerCache | None = None
        self.compression = CompressionStage(self.settings.compress, lambda: self.compressor)
        self.router = RouterStage(self.settings.router, self.rungs, lambda: self.routes, client_for=self.client_for)
        self._routes: RouteIndex | None = None
        self._compressor: Compressor | None = None
        self._calibration: Calibration | None = None
        self.memory = MemoryStage(
            self.settings.memory,
            lambda: self.summarizer()[1],
            lambda: self.bank,
            lambda: self.runlog,
            self.rungs[0].cost,
        )
        self._feedback = Feedback(
            lambda: self.runlog, lambda: self.bank, self.first_turn.forget, self.settings.judge, self._recalibrated
        )

    def _recalibrated(self) -> None:
        with self._parts_lock:
            self._calibration = None

    # ---- parts made on first use ------------------------------------------------
    # Each part opens once per assistant, whichever thread asks first: the server and
    # `batch -j N` send many first queries at once. One re-entrant lock, since the route
    # index opens the bank and the run log.
    @property
    def bank(self) -> SolutionBank:
        """The solution bank (opened on first use)."""
        with self._parts_lock:
            if self._bank is None:
                self._bank = SolutionBank(self.settings.bank)
            return self._bank

    @property
    def cache(self) -> AnswerCache:
        """The first-turn answer cache (opened on first use)."""
        with self._parts_lock:
            if self._cache is None:
                self._cache = AnswerCache(self.settings.cache.file(), ttl_s=self.settings.cache.ttl_s)
            return self._cache

    @property
    def routes(self) -> RouteIndex:
        """The router's index of logged climbs (opened on first use, next to the bank; a new one
        is filled from the run log first)."""
        with self._parts_lock:
            if self._routes is None:
                self._routes = RouteIndex(self.bank, self.rungs, history=self.runlog.all)
            return self._routes

    @property
    def compressor(self) -> Compressor:
        """The prompt compressor (its language model loads on the first compression)."""
        with self._parts_lock:
            if self._compressor is None:
                self._compressor = Compressor(self.settings.compress)
            return self._compressor

    @property
    def calibration(self) -> Calibration:
        """How often answers backed by each kind of evidence were wrong: the shipped table for the
        offline default's rungs plus the user's own (read on first use)."""
        with self._parts_lock:
            if self._calibration is None:
                self._calibration = load_calibration(self.settings.judge)
            return self._calibration

    @property
    def runlog(self) -> RunLog:
        """The run log (opened on first use)."""
        with self._parts_lock:
            if self._runlog is None:
                self._runlog = RunLog(self.settings.runlog_file())
            return self._runlog

    def rung(self, name: str) -> Rung:
        """The rung called ``name``.

        Raises:
            EcoagentError: No such rung (exit code 2).
        """
        for rung in self.rungs:
            if rung.name == name:
                return rung
        raise EcoagentError(
            f"no rung {name!r} on the ladder", f"rungs: {', '.join(r.name for r in self.rungs)}", exit_code=2
        )

    def client_for(self, rung: Rung) -> ChatCompletionClient:
        """The rung's model client, built the first time the rung runs.

        Raises:
            EcoagentError: The client cannot be built (missing key or model file).
        """
        with self._client_lock:
            client = self._clients.get(rung.name)
            if client is None:
                if self._given_clients:
                    raise EcoagentError(
                        f"no model client given for rung {rung.name}", "pass one in clients=", exit_code=2
                    )
                run = self.settings.run
                client = self._clients[rung.name] = build_client(
                    rung, retries=run.retries, backoff_s=run.retry_backoff_s
                )
            return client

    def summarizer(self) -> tuple[str, ChatCompletionClient]:
        """The model that writes conversation memory's summaries, and its name: the cheapest
        rung without its fine-tuned adapter, if it has one. An adapter trained for the
        code-executing protocol answers a request for a summary with "The answer is …
        TERMINATE"; the base model it sits on is the one that can summarize.

        Raises:
            EcoagentError: The client cannot be built (missing key or model file).
        """
        bottom = self.rungs[0]
        if self._given_clients:
            return bottom.name, self.client_for(bottom)
        if bottom.adapter:
            bottom = bottom.model_copy(update={"name": f"{bottom.name}:base", "adapter": None})
        # A client of its own: summaries run on the memory stage's event loop, and an HTTP
        # client's connections belong to the loop that opened them.
        own = bottom.model_copy(update={"name": f"{bottom.name}:summary"})
        return bottom.name, self.client_for(own)

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

    def check_ladder(self) -> None:
        """Fail fast, before any query runs, on what would fail a rung later: a
        missing API key or model file. Builds nothing and calls no model.

        Raises:
            EcoagentError: Names the rung and what to fix.
        """
        if self._checked or self._given_clients:
            return
        for rung in self.rungs:
            check_rung(rung)
        self._checked = True

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
