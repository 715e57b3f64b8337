"""``EcoAssistant``: the library API that ties ladder, bank, judge and run log together.

    from ecoagent import EcoAssistant
    eco = EcoAssistant()                      # offline default ladder, bank in the data dir
    record = eco.run_sync("What is 17 * 23?")
    eco.feedback(record.run_id, good=True)    # banks the query and its code

The bank and the run log open on first use, so constructing an ``EcoAssistant`` is
cheap and never blocks on model loading.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from autogen_core import CancellationToken
from autogen_core.models import ChatCompletionClient

from .bank import SolutionBank
from .config import MAX_QUERY_CHARS, JudgeName, Rung, Settings, load_settings
from .errors import EcoagentError
from .executor import DockerSandboxExecutor
from .judge import AutoJudge, ExpectedJudge, HumanJudge, Judge, LLMJudge
from .ladder import Ladder, LadderObserver
from .models import build_client
from .records import Demonstration, RunRecord
from .runlog import RunLog

__all__ = ["EcoAssistant", "FeedbackResult", "MAX_QUERY_CHARS"]



@dataclass
class FeedbackResult:
    """What a thumbs-up/down did."""

    run_id: str
    good: bool
    solution_id: str | None = None
    created: bool = False
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
        executor_factory: Makes the sandbox for each rung attempt.
        human: For ``judge="human"``: shows an attempt, returns the person's verdict.

    Raises:
        EcoagentError: The ladder is invalid or a rung cannot be built (names the rung).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        clients: Mapping[str, ChatCompletionClient] | None = None,
        bank: SolutionBank | None = None,
        runlog: RunLog | None = None,
        executor_factory: Callable[..., DockerSandboxExecutor] = DockerSandboxExecutor,
        human: HumanJudge | None = None,
    ) -> None:
        self.settings = settings or load_settings()
        self.rungs: list[Rung] = self.settings.ladder.resolved()
        names = [r.name for r in self.rungs]
        if len(set(names)) != len(names):
            raise EcoagentError(f"ladder has duplicate rung names: {names}", "give every rung its own name", exit_code=2)
        run = self.settings.run
        self.clients: dict[str, ChatCompletionClient] = dict(clients) if clients is not None else {
            r.name: build_client(r, retries=run.retries, backoff_s=run.retry_backoff_s) for r in self.rungs
        }  # fmt: skip
        self._bank = bank
        self._runlog = runlog
        self._human = human
        self.ladder = Ladder(
            self.rungs, self.clients, sandbox=self.settings.sandbox, run=run,
            judge=self.make_judge(run.judge), executor_factory=executor_factory,
        )  # fmt: skip

    # ---- parts opened on first use --------------------------------------------
    @property
    def bank(self) -> SolutionBank:
        """The solution bank (opened on first use)."""
        if self._bank is None:
            self._bank = SolutionBank(self.settings.bank)
        return self._bank

    @property
    def runlog(self) -> RunLog:
        """The run log (opened on first use)."""
        if self._runlog is None:
            self._runlog = RunLog(self.settings.runlog_file())
        return self._runlog

    def make_judge(self, name: JudgeName) -> Judge:
        """The judge called ``name``, wired to this assistant's rungs.

        Raises:
            EcoagentError: ``human`` without a way to ask, or an unknown judge rung.
        """
        if name == "auto":
            return AutoJudge()
        if name == "expected":
            return ExpectedJudge()
        if name == "human":
            if self._human is None:
                raise EcoagentError("judge 'human' needs a person to ask", "use it from `ecoagent chat`", exit_code=2)
            return self._human
        rung_name = self.settings.run.judge_rung or self.rungs[-1].name
        if rung_name not in self.clients:
            raise EcoagentError(f"judge rung {rung_name!r} is not on the ladder", "set run.judge_rung to a rung name", exit_code=2)
        prices = next((r for r in self.rungs if r.name == rung_name), None)
        return LLMJudge(self.clients[rung_name], rung_name, prices=prices)

    # ---- running queries --------------------------------------------------------
    async def run(
        self,
        query: str,
        *,
        expected: str | None = None,
        expected_regex: str | None = None,
        judge: JudgeName | Judge | None = None,
        start_rung: int = 0,
        context: str | None = None,
        observer: LadderObserver | None = None,
        cancellation_token: CancellationToken | None = None,
    ) -> RunRecord:
        """Run one query up the ladder with demonstrations from the bank; log it.

        ``context`` (earlier turns of a chat) goes to the model only: retrieval, the
        record and anything banked from it use the query alone.

        Raises:
            EcoagentError: The query is empty or too long (exit code 2).
            SandboxError: The sandbox is not usable (engine down, image missing).
        """
        query = query.strip()
        if not query:
            raise EcoagentError("the query is empty", "ask something, e.g. 'What is 17 * 23?'", exit_code=2)
        if len(query) > MAX_QUERY_CHARS:
            raise EcoagentError(
                f"the query is {len(query)} characters long (limit {MAX_QUERY_CHARS})", "shorten it", exit_code=2
            )
        demos = [
            Demonstration(id=sol.id, score=score, query=sol.query, code=sol.code)
            for sol, score in await asyncio.to_thread(self.bank.retrieve, query)
        ]
        chosen = self.make_judge(judge) if isinstance(judge, str) else judge
        record = await self.ladder.run(
            query, demos, expected=expected, expected_regex=expected_regex, judge=chosen,
            start_rung=start_rung, context=context, observer=observer, cancellation_token=cancellation_token,
        )  # fmt: skip
        await asyncio.to_thread(self.runlog.add, record)
        return record

    def run_sync(self, query: str, **kwargs: object) -> RunRecord:
        """:meth:`run` for code that is not async."""
        return asyncio.run(self.run(query, **kwargs))  # type: ignore[arg-type]

    # ---- feedback -----------------------------------------------------------------
    def feedback(self, run_id: str, good: bool) -> FeedbackResult:
        """Thumbs-up banks a resolved run's query and code; thumbs-down counts against
        the demonstrations it used (repeated downs retire them). Both are logged.

        Raises:
            EcoagentError: Unknown run id (exit code 2).
        """
        record = self.runlog.get(run_id)
        if record is None:
            raise EcoagentError(f"no run with id {run_id!r}", "see `ecoagent logs` for run ids", exit_code=2)
        result = FeedbackResult(run_id=run_id, good=good)
        demo_ids = [d.id for d in record.demonstrations]
        if good:
            if record.resolved and record.final_code:
                result.solution_id, result.created = self._bank_record(record, record.final_code)
                result.note = "banked" if result.created else "updated the existing solution"
            else:
                result.note = "not banked: the run was not resolved by code that ran successfully"
            if demo_ids:
                self.bank.record_outcome(demo_ids, success=True)
        else:
            if demo_ids:
                result.retired = self.bank.record_outcome(demo_ids, success=False)
            result.note = "recorded" + (f"; retired {len(result.retired)} demonstration(s)" if result.retired else "")
        self.runlog.add_feedback(run_id, good, result.solution_id)
        return result

    def bank_verified(self, record: RunRecord) -> tuple[str, bool] | None:
        """Bank a run whose ``expected`` check passed (batch ``--bank-verified``)."""
        last = record.attempts[-1] if record.attempts else None
        if not (record.resolved and record.final_code and last and last.verdict and last.verdict.judge == "expected"):
            return None
        return self._bank_record(record, record.final_code)

    def _bank_record(self, record: RunRecord, code: str) -> tuple[str, bool]:
        """Bank a confirmed run's query and code (or update its near-duplicate)."""
        return self.bank.add(record.query, code, answer=record.final_answer or "",
                             rung=record.final_rung or "", cost=record.total_cost)  # fmt: skip

    def close(self) -> None:
        """Release the bank's store and the run log."""
        if self._bank is not None:
            self._bank.close()
            self._bank = None
        if self._runlog is not None:
            self._runlog.close()
            self._runlog = None
