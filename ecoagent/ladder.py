"""The escalation loop: cheapest rung first, a fresh conversation per rung, stop at success.

EcoAssistant restarts on the stronger model rather than continuing the weak model's
conversation: the weak rung's mistakes would otherwise steer the strong one (and
cost its prices). So each rung gets the same first message — demonstrations plus
query — a fresh team and a fresh sandbox container. Usage comes from AutoGen's
``RequestUsage`` on each model message and is priced per rung.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from autogen_agentchat.base import TaskResult
from autogen_agentchat.messages import BaseChatMessage
from autogen_core import CancellationToken
from autogen_core.models import ChatCompletionClient

from .config import Rung, RunSettings, SandboxSettings
from .errors import SandboxError
from .executor import DockerSandboxExecutor
from .judge import AutoJudge, Judge, JudgeInput
from .records import Demonstration, Execution, Message, RungAttempt, RunRecord
from .team import ASSISTANT, DONE_WORD, build_team, declared_done, first_message, has_code_block

__all__ = ["Ladder", "LadderObserver", "final_answer_of"]


class LadderObserver(Protocol):
    """Hooks the terminal uses to show a run as it happens. All are optional."""

    def on_demonstrations(self, demonstrations: list[Demonstration]) -> None: ...
    def on_rung_start(self, rung: Rung, index: int) -> None: ...
    def on_message(self, rung: Rung, message: Message) -> None: ...
    def on_rung_end(self, rung: Rung, attempt: RungAttempt) -> None: ...
    def on_escalate(self, from_rung: Rung, to_rung: Rung, reason: str) -> None: ...


def _notify(observer: object | None, hook: str, *args: object) -> None:
    method = getattr(observer, hook, None)
    if callable(method):
        method(*args)


def final_answer_of(attempt: RungAttempt) -> str:
    """The assistant's closing words (without the done word), else the last good output."""
    for message in reversed(attempt.messages):
        if message.source == ASSISTANT:
            text = message.content.replace(DONE_WORD, "").strip()
            if text and not has_code_block(message.content):
                return text
            break
    ok = [e.output.strip() for e in attempt.executions if e.exit_code == 0 and e.output.strip()]
    return ok[-1] if ok else ""


class Ladder:
    """Runs queries up a ladder of rungs.

    Args:
        rungs: Cheapest first.
        clients: Model client per rung name.
        sandbox: Sandbox limits; one container per rung attempt.
        run: Turn limit, token budget.
        judge: Decides each attempt (default ``AutoJudge``).
        executor_factory: Makes the sandbox; tests may pass another ``CodeExecutor``.
        system_message: Overrides ``agents/assistant.md``.
    """

    def __init__(
        self,
        rungs: Sequence[Rung],
        clients: Mapping[str, ChatCompletionClient],
        *,
        sandbox: SandboxSettings | None = None,
        run: RunSettings | None = None,
        judge: Judge | None = None,
        executor_factory: Callable[[SandboxSettings], DockerSandboxExecutor] = DockerSandboxExecutor,
        system_message: str | None = None,
    ) -> None:
        if not rungs:
            raise ValueError("a ladder needs at least one rung")
        missing = [r.name for r in rungs if r.name not in clients]
        if missing:
            raise ValueError(f"no model client for rung(s): {', '.join(missing)}")
        self.rungs = list(rungs)
        self.clients = dict(clients)
        self.sandbox = sandbox or SandboxSettings()
        self.settings = run or RunSettings()
        self.judge = judge or AutoJudge()
        self.executor_factory = executor_factory
        self.system_message = system_message

    async def run(
        self,
        query: str,
        demonstrations: Sequence[Demonstration] = (),
        *,
        expected: str | None = None,
        expected_regex: str | None = None,
        judge: Judge | None = None,
        start_rung: int = 0,
        context: str | None = None,
        observer: LadderObserver | None = None,
        cancellation_token: CancellationToken | None = None,
    ) -> RunRecord:
        """Climb until a rung's attempt is judged a success or the rungs run out.

        Raises:
            SandboxError: The sandbox itself failed (engine down, image missing): no
                rung could have succeeded, so the run stops instead of escalating.
        """
        judge = judge or self.judge
        record = RunRecord(query=query, demonstrations=list(demonstrations), expected=expected or expected_regex)
        started = time.monotonic()
        task = first_message(query, demonstrations, context)
        top = self.rungs[-1]
        record.top_rung = top.name
        _notify(observer, "on_demonstrations", list(demonstrations))
        for index in range(start_rung, len(self.rungs)):
            rung = self.rungs[index]
            _notify(observer, "on_rung_start", rung, index)
            attempt, done = await self._attempt(rung, task, observer, cancellation_token)
            data = JudgeInput(query, attempt, done, final_answer_of(attempt), expected, expected_regex)
            attempt.verdict = await judge(data)
            record.attempts.append(attempt)
            _notify(observer, "on_rung_end", rung, attempt)
            if attempt.verdict.ok:
                record.resolved = True
                record.final_rung = rung.name
                record.final_answer = data.final_answer
                record.final_code = attempt.final_code
                break
            if index + 1 < len(self.rungs):
                _notify(observer, "on_escalate", rung, self.rungs[index + 1], attempt.verdict.reason)
        # The judge's calls cost the same whichever rung answered, so the estimate keeps them as they are.
        record.total_cost = sum(a.cost for a in record.attempts) + record.judge_cost
        record.top_rung_cost_estimate = (
            sum(top.cost(a.prompt_tokens, a.completion_tokens) for a in record.attempts) + record.judge_cost
        )
        record.duration_s = time.monotonic() - started
        return record

    async def _attempt(
        self, rung: Rung, task: str, observer: LadderObserver | None, token: CancellationToken | None
    ) -> tuple[RungAttempt, bool]:
        attempt = RungAttempt(rung=rung.name)
        t0 = time.monotonic()
        executor = self.executor_factory(self.sandbox)
        done = False
        try:
            async with executor:
                team = build_team(
                    self.clients[rung.name], executor, system_message=self.system_message,
                    max_turns=self.settings.max_turns, token_budget=self.settings.token_budget,
                )  # fmt: skip
                result: TaskResult | None = None
                async for item in team.run_stream(task=task, cancellation_token=token):
                    if isinstance(item, TaskResult):
                        result = item
                    elif isinstance(item, BaseChatMessage):
                        message = _message(item)
                        attempt.messages.append(message)
                        _notify(observer, "on_message", rung, message)
                if result is not None:
                    attempt.stop_reason = result.stop_reason or ""
                    done = declared_done(result.messages)
                for blocks, res in executor.history:
                    attempt.executions.append(
                        Execution(
                            code="\n\n".join(b.code.strip("\n") for b in blocks),
                            language=blocks[0].language if blocks else "python",
                            exit_code=res.exit_code, output=res.output, timed_out=res.timed_out,
                        )  # fmt: skip
                    )
        except SandboxError:
            raise
        except Exception as exc:  # the model failed: this rung fails, the next one tries
            attempt.error = f"{type(exc).__name__}: {_first_line(exc)}"
        attempt.prompt_tokens = sum(m.prompt_tokens for m in attempt.messages)
        attempt.completion_tokens = sum(m.completion_tokens for m in attempt.messages)
        attempt.cost = rung.cost(attempt.prompt_tokens, attempt.completion_tokens)
        attempt.duration_s = time.monotonic() - t0
        return attempt, done


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
