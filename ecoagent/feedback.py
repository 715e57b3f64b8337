"""A person's thumbs-up or -down on a run: what it banks, retires and teaches the judge.

EcoAssistant's human mode: a thumbs-up banks the query with the code that solved it, so
similar queries get it as a demonstration; the person is the judge of record and may
overrule the automatic judge. A thumbs-down counts against the demonstrations the run
used and takes its answer out of the first-turn cache. A person's first verdict on an
answer the evidence judge weighed counts in the user's calibration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .bank import SolutionBank
from .config import JudgeSettings
from .errors import EcoagentError
from .judge import Calibration
from .records import Execution, RungAttempt, RunRecord
from .runlog import RunLog

__all__ = ["Feedback", "FeedbackResult"]


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


class Feedback:
    """Thumbs up and down on logged runs.

    Args:
        runlog: The run log (opened when first asked).
        bank: The solution bank (opened when first asked).
        forget: Takes a run's answer out of the first-turn cache.
        judge: ``[judge]`` settings (where the user's calibration lives).
        recalibrated: Called after a verdict changed the user's calibration.
    """

    def __init__(
        self,
        runlog: Callable[[], RunLog],
        bank: Callable[[], SolutionBank],
        forget: Callable[[RunRecord], object],
        judge: JudgeSettings,
        recalibrated: Callable[[], None],
    ) -> None:
        self._runlog, self._bank, self._forget = runlog, bank, forget
        self._judge, self._recalibrated = judge, recalibrated

    def give(self, run_id: str, good: bool) -> FeedbackResult:
        """The verdict on run ``run_id`` (:meth:`EcoAssistant.feedback <ecoagent.EcoAssistant.feedback>` says what each does).

        Raises:
            EcoagentError: Unknown run id (exit code 2).
        """
        record = self._runlog().get(run_id)
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
                self._bank().record_outcome(used, success=True)
        else:
            self._forget(record)
            if used:
                result.retired = self._bank().record_outcome(used, success=False)
            result.note = "recorded" + (f"; retired {len(result.retired)} demonstration(s)" if result.retired else "")
        record.feedback = "good" if good else "bad"
        record.human_override = record.human_override or result.override
        self._runlog().add(record)
        self._runlog().add_feedback(run_id, good, result.solution_id)
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
        path = self._judge.calibration_file()
        own = Calibration.load(path)
        own.observe(verdict.identity, kind, wrong=not good)
        own.save(path)
        self._recalibrated()  # read again, with this answer counted

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
        return self._bank().add(record.query, code, answer=answer, rung=rung, cost=record.total_cost, language=language)


def _why_not_bankable(record: RunRecord, found: tuple[RungAttempt, Execution] | None) -> str:
    if found is not None:
        last = found[1]
        return "its last execution timed out" if last.timed_out else f"its last execution exited {last.exit_code}"
    if any(a.error for a in record.attempts):
        return "the model failed before any code ran"
    return "no code ran"
