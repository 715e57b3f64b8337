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
from dataclasses import dataclass, field
from typing import Any

from autogen_core import CancellationToken
from autogen_core.models import ChatCompletionClient

from .bank import SolutionBank
from .cache import AnswerCache, FirstTurnStage, ladder_scope
from .compress import CompressionStage, Compressor
from .config import JudgeName, Rung, Settings, load_settings
from .demonstrations import find_demonstrations
from .errors import EcoagentError
from .events import CacheChecked, DemonstrationsFound, Event, Routed
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
from .models import build_client, check_rung
from .query import Query
from .records import Execution, RungAttempt, RunRecord
from .router.stage import RouteIndex, RouterStage
from .runlog import RunLog
from .sandbox.executor import DockerSandboxExecutor

__all__ = ["EcoAssistant", "FeedbackResult"]


@dataclass
class FeedbackResult:
    """What a thumbs-up/down did."""

    run_id: str
    good: bool
    solution_id: str | None = None
    created: bool = False
    override: bool = False
    retired: list[str] = field(default_factory=list)
    note: str = ""


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
        if bottom.adapter and not self._given_clients:
            bottom = bottom.model_copy(update={"name": f"{bottom.name}:base", "adapter": None})
        return bottom.name, self.client_for(bottom)

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
        record = RunRecord(
            query=query.text,
            expected=query.expected or query.expected_regex,
            query_id=query.id,
            session=query.session,
            context_chars=len(query.context or ""),
            key_name=query.key_name,
            **({"run_id": query.run_id} if query.run_id else {}),
        )
        try:
            record.first_turn = await self.first_turn.check(query, judge, cancellation_token)
            if record.first_turn is not None:
                yield CacheChecked(step=record.first_turn)
            if record.served_from_cache:
                _answer_from(record)
            else:
                record.routing = await self.router.decide(query)
                climb = query
                if record.routing is not None:
                    climb = query.but(start_rung=record.routing.start)  # the cache still sees the query as asked
                    yield Routed(routing=record.routing)
                record.demonstrations = await find_demonstrations(self.bank, climb)
                yield DemonstrationsFound(demonstrations=record.demonstrations)
                task = self.compression.for_query(
                    climb, record.demonstrations, show_tests=self.settings.judge.show_tests
                )
                async for event in self.ladder.climb(climb, task, judge, record, cancellation_token):
                    yield event
                await asyncio.to_thread(self.first_turn.remember, query, record)
                await asyncio.to_thread(self.router.learn, record)
        except (asyncio.CancelledError, GeneratorExit):
            # Ctrl-C in chat, a client that hung up on the server: what was spent is logged,
            # marked cancelled (never cached, never learned from). Written synchronously: the
            # task is being cancelled, and a second await could be cancelled too.
            record.cancelled = True
            record.duration_s = time.monotonic() - started
            self.runlog.add(record)
            raise
        record.duration_s = time.monotonic() - started
        await asyncio.to_thread(self.runlog.add, record)
        yield record

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
        record = self.runlog.get(run_id)
        if record is None:
            raise EcoagentError(f"no run with id {run_id!r}", "see `ecoagent logs` for run ids", exit_code=2)
        result = FeedbackResult(run_id=run_id, good=good)
        used = [d.id for d in record.demonstrations]
        if record.served_from_cache and record.first_turn and record.first_turn.kind == "replay":
            used.append(record.first_turn.key)
        self._refine_calibration(record, good)
        if good:
            self._bank_good(record, result)
            if used:
                self.bank.record_outcome(used, success=True)
        else:
            self.first_turn.forget(record)
            if used:
                result.retired = self.bank.record_outcome(used, success=False)
            result.note = "recorded" + (f"; retired {len(result.retired)} demonstration(s)" if result.retired else "")
        record.feedback = "good" if good else "bad"
        record.human_override = record.human_override or result.override
        self.runlog.add(record)
        self.runlog.add_feedback(run_id, good, result.solution_id)
        return result

    def _refine_calibration(self, record: RunRecord, good: bool) -> None:
        """A person's first verdict on an answer the evidence judge weighed counts in the user's
        calibration: one more checked answer in that rung's bin (later changes of mind do not)."""
        attempt = record.served_attempt
        verdict = attempt.verdict if attempt else None
        if record.feedback is not None or verdict is None or verdict.judge != "evidence":
            return
        kind = verdict.evidence
        if kind is None or kind == "void" or verdict.identity is None:
            return
        path = self.settings.judge.calibration_file()
        own = Calibration.load(path)
        own.observe(verdict.identity, kind, wrong=not good)
        own.save(path)
        with self._parts_lock:
            self._calibration = None  # read again, with this answer counted

    def _bank_good(self, record: RunRecord, result: FeedbackResult) -> None:
        if record.unverified and record.final_code:  # nothing backed it but the person: their word banks it
            result.solution_id, result.created = self._bank_record(
                record, record.final_code, record.final_answer or "", record.final_rung or ""
            )
            result.override = True
            result.note = "banked on your word (no independent evidence backed this answer)"
            return
        if record.resolved and record.final_code:
            if record.served_from_cache:
                result.note += "; the cached answer will not be served again"
            result.solution_id, result.created = self._bank_record(
                record, record.final_code, record.final_answer or "", record.final_rung or ""
            )
            result.note = "banked" if result.created else "updated the existing solution"
            return
        found = record.last_execution
        if found is None or record.last_good_execution is None:
            why = _why_not_bankable(record, found)
            result.note = f"not banked: {why}; only code that ran successfully can become a demonstration"
            return
        attempt, last = found
        result.solution_id, result.created = self._bank_record(record, last.code, last.output.strip(), attempt.rung)
        result.override = True
        verdict = attempt.verdict
        judged = f"the {verdict.judge} judge said: {verdict.reason}" if verdict else "no judge accepted it"
        result.note = f"banked on your word ({judged})"

    def bank_verified(self, record: RunRecord) -> tuple[str, bool] | None:
        """Bank a run whose ``expected`` check or tests passed (batch ``--bank-verified``)."""
        if not record.verified or not record.final_code:
            return None
        return self._bank_record(record, record.final_code, record.final_answer or "", record.final_rung or "")

    def _bank_record(self, record: RunRecord, code: str, answer: str, rung: str) -> tuple[str, bool]:
        """Bank a confirmed run's query and the code that answered it (or update its near-duplicate)."""
        found = record.last_execution
        language = (
            found[1].language
            if found
            else (
                record.first_turn.execution.language if record.first_turn and record.first_turn.execution else "python"
            )
        )
        return self.bank.add(record.query, code, answer=answer, rung=rung, cost=record.total_cost, language=language)

    def close(self) -> None:
        """Release the bank's store, the cache and the run log, and a sandbox started for a replay."""
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


def _why_not_bankable(record: RunRecord, found: tuple[RungAttempt, Execution] | None) -> str:
    if found is not None:
        last = found[1]
        return "its last execution timed out" if last.timed_out else f"its last execution exited {last.exit_code}"
    if any(a.error for a in record.attempts):
        return "the model failed before any code ran"
    return "no code ran"


def _answer_from(record: RunRecord) -> None:
    """Fill the record's answer from the first-turn stage that served it (no model ran)."""
    step = record.first_turn
    assert step is not None and step.execution is not None
    record.resolved = True
    record.final_answer = step.execution.output.strip()
    record.final_code = step.execution.code or None
