"""The first-turn stage: answer without a model when a confirmed answer already exists.

Two ways, tried in order, on a conversation's first turn only (a follow-up depends on
what came before, so nothing keyed on its text alone can answer it):

1. **exact cache**: the same normalized query, on the same ladder, was answered
   and accepted within ``cache.ttl_s``: the stored answer is served (no model, no
   sandbox), after a check against the query's expected answer when it has one;
2. **verified replay** (a query without context material: banked code never read
   it): the bank holds a confirmed solution of a similar query
   that the similarity guard lets through (same numbers, names, negations and
   choices, see :mod:`.guard`): its code is re-run in the sandbox and the fresh
   output is the answer, when it exits 0 and the query's judge accepts it.

What the stage did is the record's :class:`~ecoagent.records.FirstTurn`, served or
not, so a refused or rejected replay is visible and counted. Replay is verified by
the sandbox and, when the query has them, its expected answer or its tests; an
``llm`` judge is not asked, since its tokens are what the stage exists to save. An
exact hit for a query with tests is one accepted under the same tests (their digest
is part of the key, :attr:`~ecoagent.query.Query.cache_text`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

from autogen_core import CancellationToken
from autogen_core.code_executor import CodeBlock

from ..bank import BankedSolution, SolutionBank
from ..config import CacheSettings, Rung, SandboxSettings
from ..judge import AutoJudge, ExpectedJudge, Judge, JudgeInput, TestsJudge
from ..ladder import ExecutorFactory
from ..query import Query
from ..records import Execution, FirstTurn, Message, RungAttempt, RunRecord, Verdict
from .guard import mismatch
from .spare import SpareSandbox
from .store import AnswerCache

__all__ = ["FirstTurnStage", "eligible", "ladder_scope"]

_CANDIDATES = 3  # similar solutions the guard looks at, best first


def ladder_scope(rungs: Sequence[Rung]) -> str:
    """The exact cache's scope: which models, in which order, produced an answer."""
    return " | ".join(f"{r.name}={r.provider}:{r.model}" for r in rungs)


def eligible(query: Query) -> bool:
    """Whether the stage may answer ``query``: a first turn, from the bottom, cache allowed."""
    return query.cache and not query.follow_up and query.start_rung == 0


class FirstTurnStage:
    """Exact cache and verified replay in front of the ladder.

    Args:
        settings: What is on (``enabled``, ``replay``) and the similarity floor.
        scope: :func:`ladder_scope` of the ladder whose answers are cached.
        cache: Opens the answer cache (called on first use).
        bank: Opens the solution bank (called on first use, only for replay).
        executor_factory: The sandbox a replay runs in.
        sandbox: Its limits.
    """

    def __init__(
        self,
        settings: CacheSettings,
        scope: str,
        cache: Callable[[], AnswerCache],
        bank: Callable[[], SolutionBank],
        executor_factory: ExecutorFactory,
        sandbox: SandboxSettings,
    ) -> None:
        self.settings = settings
        self.scope = scope
        self._cache = cache
        self._bank = bank
        self.executor_factory = executor_factory
        self.sandbox = sandbox
        self.spare = SpareSandbox(executor_factory, sandbox)

    async def check(self, query: Query, judge: Judge, token: CancellationToken | None = None) -> FirstTurn | None:
        """What the stage can do for ``query``: a served answer, a refusal, or None (nothing similar)."""
        if not eligible(query):
            return None
        rejected = None
        if self.settings.enabled:
            step = await asyncio.to_thread(self._exact, query)
            if step is not None and isinstance(judge, ExpectedJudge):
                step = await self._recheck(query, step, judge)  # accepted then by another judge, perhaps
            if step is not None and step.served:
                return step
            rejected = step
        if self.settings.replay and query.context is None:  # banked code never read this material
            return await self._replay(query, _free(judge), token) or rejected
        return rejected

    async def _recheck(self, query: Query, step: FirstTurn, judge: Judge) -> FirstTurn:
        """An exact hit checked against the query's expected answer (free: no model, no sandbox)."""
        execution = step.execution or Execution(code="", language="python", exit_code=0, output="")
        attempt = RungAttempt(rung="exact", executions=[execution], converged=True, declared_done=True)
        verdict = await judge(JudgeInput(query, attempt, execution.output))
        if verdict.ok:
            return step
        return step.model_copy(
            update={"served": False, "verdict": verdict, "reason": f"cached answer not accepted: {verdict.reason}"}
        )

    def _exact(self, query: Query) -> FirstTurn | None:
        t0 = time.monotonic()
        entry = self._cache().get(self.scope, query.cache_text)
        if entry is None:
            return None
        verdict = Verdict(
            ok=True, judge=entry.judge or "cache", reason=f"exact repeat of run {entry.run_id}, accepted then"
        )
        return FirstTurn(
            kind="exact",
            served=True,
            key=entry.key,
            matched_query=entry.query,
            verdict=verdict,
            reason=f"answered {entry.hits + 1} time(s) from the cache",
            duration_s=time.monotonic() - t0,
            execution=Execution(
                code=entry.code or "", language=entry.language or "python", exit_code=0, output=entry.answer
            ),
        )

    async def _replay(self, query: Query, judge: Judge, token: CancellationToken | None) -> FirstTurn | None:
        t0 = time.monotonic()
        bank = self._bank()
        if bank.count() == 0:  # (an unfiltered count: a filter is evaluated point by point in embedded mode)
            return None
        hits = await asyncio.to_thread(
            bank.retrieve, query.text, _CANDIDATES, self.settings.replay_threshold, count=False
        )
        cache = self._cache()
        refusal: FirstTurn | None = None
        for solution, score in hits:
            if await asyncio.to_thread(cache.refused, query.text, solution.id):
                why = "a person rejected this solution for this query"
            else:
                why = mismatch(query.text, solution.query) or ""
                if not why:
                    return await self._run(query, solution, score, judge, token, t0)
                why = f"guard: {why}"
            refusal = refusal or FirstTurn(
                kind="replay", served=False, key=solution.id, matched_query=solution.query, score=score, reason=why
            )
        if refusal is not None:
            refusal.duration_s = time.monotonic() - t0
            if refusal.reason.startswith("guard:"):
                await asyncio.to_thread(cache.count, "guard_refusals")
        return refusal

    async def _run(
        self,
        query: Query,
        solution: BankedSolution,
        score: float,
        judge: Judge,
        token: CancellationToken | None,
        t0: float,
    ) -> FirstTurn:
        block = CodeBlock(code=solution.code, language=solution.language)
        executor = await asyncio.to_thread(self.spare.take)
        try:
            await executor.start()  # nothing to do when it was started ahead
            result = await executor.execute_code_blocks([block], token or CancellationToken())
        finally:
            self.spare.discard(executor)  # removed in the background: the answer need not wait for it
        self.spare.prepare()  # and the next replay need not wait for a container either
        timed_out = bool(getattr(result, "timed_out", result.exit_code == 124))
        execution = Execution(
            code=solution.code,
            language=solution.language,
            exit_code=result.exit_code,
            output=result.output,
            timed_out=timed_out,
        )
        attempt = RungAttempt(
            rung="replay",
            executions=[execution],
            converged=True,
            declared_done=True,
            messages=[
                Message(source="replay", content=f"```{solution.language}\n{solution.code}\n```"),
                Message(source="executor", content=result.output),
            ],
        )
        verdict = await judge(JudgeInput(query, attempt, result.output.strip()))
        served = verdict.ok
        await asyncio.to_thread(self._cache().count, "replays_served" if served else "replays_rejected")
        reason = f"re-ran the solution of {solution.query!r}" if served else f"replay not accepted: {verdict.reason}"
        return FirstTurn(
            kind="replay",
            served=served,
            key=solution.id,
            matched_query=solution.query,
            score=score,
            execution=execution,
            verdict=verdict,
            reason=reason,
            duration_s=time.monotonic() - t0,
        )

    def prepare(self) -> None:
        """Start a sandbox for the next replay in the background (when replay is on and the bank holds something)."""
        if self.settings.replay and self._bank().count() > 0:
            self.spare.prepare()

    def close(self) -> None:
        """Remove a prepared sandbox that no replay used."""
        self.spare.close()

    # ---- after the run, and on feedback -------------------------------------------------
    def remember(self, query: Query, record: RunRecord) -> None:
        """Cache a first-turn answer the ladder produced and a judge accepted."""
        if not (self.settings.enabled and eligible(query) and record.resolved and record.attempts):
            return
        if record.served_from_cache:
            return  # a replay's output is fresh each time: caching it would freeze it
        last = record.attempts[-1]
        found = record.last_execution
        self._cache().put(
            self.scope,
            query.cache_text,
            answer=record.final_answer or "",
            run_id=record.run_id,
            code=record.final_code,
            language=found[1].language if found else None,
            rung=record.final_rung,
            judge=last.verdict.judge if last.verdict else None,
        )

    def forget(self, record: RunRecord) -> list[str]:
        """A thumbs-down on ``record``: evict what served it and what it stored.

        Returns:
            Ids of banked solutions whose replay the person rejected (the caller
            counts the thumbs-down against them).
        """
        cache = self._cache()
        cache.evict(run_id=record.run_id)
        step = record.first_turn
        if step is None or not step.served:
            return []
        if step.kind == "replay":
            cache.refuse(record.query, step.key)
            return [step.key]
        cache.evict(key=step.key)
        # The same code banked for this query would be replayed next: refuse it too.
        code = step.execution.code if step.execution else ""
        same = [
            sol.id
            for sol, _ in self._bank().retrieve(record.query, _CANDIDATES, 0.0, count=False)
            if code and sol.code == code
        ]
        for solution_id in same:
            cache.refuse(record.query, solution_id)
        return same


def _free(judge: Judge) -> Judge:
    """The judge a replay answers to: the query's own when it costs nothing, else the sandbox's word."""
    return judge if isinstance(judge, ExpectedJudge | AutoJudge | TestsJudge) else AutoJudge()
