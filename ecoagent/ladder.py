"""The escalation loop: cheapest rung first, a fresh conversation per rung, stop at success.

EcoAssistant restarts on the stronger model rather than continuing the weak model's
conversation: the weak rung's mistakes would otherwise steer the strong one (and
cost its prices). So each rung gets the same first message, a fresh team and a fresh
sandbox container. What happened is read from AutoGen's own stream (chat messages
with their ``RequestUsage``, ``CodeExecutionEvent`` for each run of code), never from
the executor's insides, so any ``CodeExecutor`` can drive it.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Protocol

from autogen_agentchat.base import TaskResult
from autogen_agentchat.messages import BaseChatMessage, CodeExecutionEvent, CodeGenerationEvent
from autogen_core import CancellationToken
from autogen_core.models import ChatCompletionClient

from .config import Rung, RunSettings, SandboxSettings
from .errors import SandboxError
from .events import CodeExecuted, Compressed, Escalated, Event, ModelMessage, RungJudged, RungStarted
from .judge import Judge, JudgeInput, Unbacked
from .models.base import SamplingClient, TimedClient
from .prompts import has_code_block, strip_done_word
from .query import Query
from .records import CompressionStep, Execution, Message, RungAttempt, RunRecord
from .sandbox.factory import ExecutorFactory
from .sandbox.languages import normalize_language
from .team import ASSISTANT, CONVERGED, STUCK, build_team, declared_done

__all__ = ["ExecutorFactory", "Ladder", "TaskSource", "final_answer_of"]


_TIMEOUT_EXIT = 124
_CONTEXT_FULL = re.compile(r"exceed context window|maximum context length|context_length_exceeded", re.IGNORECASE)


class TaskSource(Protocol):
    """Each rung's first message, when rungs read different ones (compression:
    :class:`ecoagent.compress.FirstMessages`)."""

    async def for_rung(self, rung: Rung) -> tuple[str, CompressionStep | None]:
        """The first message ``rung`` reads, and what compression did to it."""
        ...


def final_answer_of(attempt: RungAttempt) -> str:
    """What the attempt answered.

    A converged attempt's answer is the output it reproduced. Otherwise the
    assistant's closing words (without the done word), else the last good output.
    """
    ok = [e.output.strip() for e in attempt.executions if e.exit_code == 0 and e.output.strip()]
    if attempt.converged and ok:
        return ok[-1]
    for message in reversed(attempt.messages):
        if message.source == ASSISTANT:
            text = strip_done_word(message.content)
            if text and not has_code_block(message.content):
                return text
            break
    return ok[-1] if ok else ""


class Ladder:
    """Runs a query's first message up a ladder of rungs.

    Args:
        rungs: Cheapest first.
        client_for: The model client of a rung, built when the rung first runs.
        executor_factory: Makes the sandbox of each attempt.
        sandbox: Sandbox limits; one container per rung attempt.
        run: Turn limit, token budget, convergence.
        system_message: Overrides ``agents/assistant.md``.
    """

    def __init__(
        self,
        rungs: Sequence[Rung],
        client_for: Callable[[Rung], ChatCompletionClient],
        executor_factory: ExecutorFactory,
        *,
        sandbox: SandboxSettings | None = None,
        run: RunSettings | None = None,
        system_message: str | None = None,
    ) -> None:
        if not rungs:
            raise ValueError("a ladder needs at least one rung")
        self.rungs = list(rungs)
        self.client_for = client_for
        self.executor_factory = executor_factory
        self.sandbox = sandbox or SandboxSettings()
        self.settings = run or RunSettings()
        self.system_message = system_message

    async def climb(
        self,
        query: Query,
        task: str | TaskSource,
        judge: Judge,
        record: RunRecord,
        cancellation_token: CancellationToken | None = None,
    ) -> AsyncIterator[Event]:
        """Climb from ``query.start_rung`` until a rung's attempt is judged a success.

        ``task`` is the first message, the same for every rung, or a source of one
        per rung (a compressing rung reads a compressed one).

        Fills ``record`` (attempts, resolution, cost) as it goes and yields what
        happens. The record's top-rung cost is an *estimate*: the same tokens at the
        top rung's prices.

        Raises:
            SandboxError: The sandbox itself failed (engine down, image missing): no
                rung could have succeeded, so the run stops instead of escalating.
        """
        top = self.rungs[-1]
        record.top_rung = top.name
        for index in range(min(query.start_rung, len(self.rungs) - 1), len(self.rungs)):
            rung = self.rungs[index]
            step: CompressionStep | None = None
            for sample in range(max(1, judge.samples_per_rung)):
                yield RungStarted(rung=rung, index=index, sample=sample)
                if sample == 0:
                    text, step = (task, None) if isinstance(task, str) else await task.for_rung(rung)
                    if step is not None:
                        yield Compressed(rung=rung, step=step)
                attempt = RungAttempt(
                    rung=rung.name,
                    sample=sample,
                    compression=step if sample == 0 or step is None else step.model_copy(update={"reused": True}),
                )
                try:
                    async for event in self._attempt(rung, text, attempt, cancellation_token, judge):
                        yield event
                except (asyncio.CancelledError, GeneratorExit):
                    attempt.error = "cancelled"  # what it spent before the stop still counts
                    record.attempts.append(attempt)
                    _totals(record, top)
                    raise
                if cancellation_token is not None and cancellation_token.is_cancelled():
                    attempt.error = "cancelled"
                    record.attempts.append(attempt)
                    _totals(record, top)
                    raise asyncio.CancelledError
                attempt.answer = final_answer_of(attempt)
                attempt.verdict = await judge(JudgeInput(query, attempt, attempt.answer, earlier=list(record.attempts)))
                record.attempts.append(attempt)
                yield RungJudged(rung=rung, attempt=attempt)
                if attempt.verdict.ok:
                    record.resolved = True
                    record.final_rung = rung.name
                    record.final_answer = attempt.answer
                    record.final_code = attempt.final_code
                    record.risk = attempt.verdict.risk
                    break
                if not attempt.verdict.more:
                    break
            if record.resolved:
                break
            last = record.attempts[-1].verdict
            if index + 1 < len(self.rungs) and last is not None:
                yield Escalated(from_rung=rung, to_rung=self.rungs[index + 1], reason=last.reason)
        if not record.resolved:
            _unbacked(record, judge.unbacked(query.text, record.attempts))
        _totals(record, top)

    async def _attempt(
        self, rung: Rung, task: str, attempt: RungAttempt, token: CancellationToken | None, judge: Judge
    ) -> AsyncIterator[Event]:
        t0 = time.monotonic()
        client = self.client_for(rung)  # a rung that cannot be built is a setup error, not a failed attempt
        if attempt.sample > 0:  # another independent attempt of the same rung: sampled, seeded by its number
            client = SamplingClient(client, temperature=judge.sample_temperature, seed=attempt.sample)
        timed = client = TimedClient(client)
        try:
            async with self.executor_factory(self.sandbox) as executor:
                team = build_team(
                    client,
                    executor,
                    system_message=self.system_message,
                    max_turns=self.settings.max_turns,
                    token_budget=self.settings.token_budget,
                    stop_on_convergence=self.settings.stop_on_convergence,
                )
                code = ""
                language = "python"
                async for item in team.run_stream(task=task, cancellation_token=token):
                    if isinstance(item, TaskResult):
                        attempt.stop_reason = item.stop_reason or ""
                        attempt.declared_done = declared_done(item.messages)
                        # Termination conditions that fire together join their reasons with ", ".
                        attempt.converged = f"{CONVERGED}:" in attempt.stop_reason
                        attempt.stuck = f"{STUCK}:" in attempt.stop_reason
                    elif isinstance(item, CodeGenerationEvent):
                        code = "\n\n".join(b.code.strip("\n") for b in item.code_blocks)
                        language = _language(item.code_blocks[0].language if item.code_blocks else "python")
                    elif isinstance(item, CodeExecutionEvent):
                        execution = _execution(code, language, item)
                        attempt.executions.append(execution)
                        yield CodeExecuted(rung=rung, execution=execution)
                    elif isinstance(item, BaseChatMessage):
                        message = _message(item)
                        attempt.messages.append(message)
                        if message.source == ASSISTANT:
                            yield ModelMessage(rung=rung, message=message)
        except SandboxError:
            raise
        except Exception as exc:  # the model failed: this rung fails, the next one tries
            if token is not None and token.is_cancelled():  # stopped on purpose: no rung should try next
                raise asyncio.CancelledError from exc
            attempt.error = f"{type(exc).__name__}: {_first_line(exc)}"
            if _CONTEXT_FULL.search(attempt.error):
                attempt.error += (
                    f" (the conversation no longer fits {rung.name}'s context: pass less material, "
                    "set compress = true on the rung, or raise its context_tokens)"
                )
        finally:  # also when cancelled: the messages so far were paid for
            attempt.prompt_tokens = sum(m.prompt_tokens for m in attempt.messages)
            attempt.completion_tokens = sum(m.completion_tokens for m in attempt.messages)
            attempt.model_s = timed.seconds
            attempt.cost = rung.cost(attempt.prompt_tokens, attempt.completion_tokens, attempt.model_s)
            attempt.duration_s = time.monotonic() - t0


def _unbacked(record: RunRecord, found: Unbacked | None) -> None:
    """Return the best answer nothing backed, as unverified with its risk (never as resolved)."""
    if found is None:
        return
    record.unverified = True
    record.final_rung = found.attempt.rung
    record.final_answer = found.attempt.answer
    record.final_code = found.attempt.final_code
    record.risk = found.risk


def _totals(record: RunRecord, top: Rung) -> None:
    """The record's cost and its top-rung estimate, from its attempts."""
    # The judge's (and an LLM router's) calls cost the same whichever rung answered, so the estimate keeps them.
    record.total_cost = sum(a.cost for a in record.attempts) + record.overhead_cost
    record.top_rung_cost_estimate = (
        sum(top.cost(a.prompt_tokens, a.completion_tokens, a.model_s) for a in record.attempts) + record.overhead_cost
    )


def _language(name: str) -> str:
    try:
        return normalize_language(name)
    except ValueError:
        return name


def _execution(code: str, language: str, event: CodeExecutionEvent) -> Execution:
    result = event.result
    timed_out = bool(getattr(result, "timed_out", result.exit_code == _TIMEOUT_EXIT))
    return Execution(
        code=code, language=language, exit_code=result.exit_code, output=result.output, timed_out=timed_out
    )


def _message(item: BaseChatMessage) -> Message:
    usage = item.models_usage
    return Message(
        source=item.source,
        content=item.to_text(),
        prompt_tokens=usage.prompt_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    # AutoGen wraps agent errors in RuntimeError carrying the traceback text; keep the gist.
    for line in reversed(text.splitlines()):
        if "Error" in line and ":" in line:
            return line.strip()[:300]
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]
