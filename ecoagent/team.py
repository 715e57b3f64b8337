"""The AutoGen team for one rung: an assistant that writes code, an executor that runs it.

EcoAssistant's conversation is a two-agent loop: the assistant (on the rung's model)
answers with a code block, the executor runs it in the sandbox and replies with the
output, until one of these ends it:

* the assistant declares it is done (``TERMINATE`` in a message with no code);
* the attempt **converges**: the assistant re-sends code whose execution reproduces
  the previous successful execution (exit 0, same output). Small models often print
  the right answer and then repeat the same code until the turn limit; stopping
  there saves those turns and lets the ``auto`` judge accept the result;
* the turn limit or the token budget runs out.

Everything is AutoGen's own (``AssistantAgent``, ``CodeExecutorAgent``,
``RoundRobinGroupChat``, termination conditions). The executor agent reports each
run as AutoGen events (``CodeGenerationEvent`` with the blocks, ``CodeExecutionEvent``
with the exit code and raw output), so whoever reads the team's stream learns what
ran without looking inside the executor.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncGenerator, Sequence

from autogen_agentchat.agents import AssistantAgent, CodeExecutorAgent
from autogen_agentchat.base import Response, TerminatedException, TerminationCondition
from autogen_agentchat.conditions import FunctionalTermination, TokenUsageTermination
from autogen_agentchat.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    CodeExecutionEvent,
    CodeGenerationEvent,
    StopMessage,
    TextMessage,
)
from autogen_agentchat.teams import RoundRobinGroupChat
from autogen_core import CancellationToken
from autogen_core.code_executor import CodeExecutor, CodeResult
from autogen_core.models import ChatCompletionClient

from .prompts import DONE_WORD, has_code_block, load_prompt
from .sandbox.languages import FENCE_LANGUAGES

__all__ = [
    "ASSISTANT",
    "CONVERGED",
    "EXECUTOR",
    "STUCK",
    "ConvergenceTermination",
    "TurnBudget",
    "SandboxExecutorAgent",
    "build_team",
    "declared_done",
    "output_for_model",
]

ASSISTANT = "assistant"
EXECUTOR = "executor"
CONVERGED = "converged"
STUCK = "stuck"
"""Start of the stop reason of an attempt whose code failed the same way twice."""
"""Start of the stop reason of a converged attempt."""


def declared_done(messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> bool:
    """Whether the assistant's last message says it is done (the done word, no code).

    The team stops on it, and the ``auto`` judge asks it of the finished conversation.
    """
    for message in reversed(messages):
        if isinstance(message, TextMessage) and message.source == ASSISTANT:
            return DONE_WORD in message.content and not has_code_block(message.content)
    return False


def output_for_model(result: CodeResult) -> str:
    """What the assistant reads of an execution (AutoGen's wording, exit code included)."""
    if not result.output.strip():
        return (
            f"The script ran but produced no output to console. The POSIX exit code was: {result.exit_code}. "
            "If you were expecting output, consider revising the script to ensure content is printed to stdout."
        )
    if result.exit_code != 0:
        return f"The script ran, then exited with an error (POSIX exit code: {result.exit_code})\nIts output was:\n{result.output}"
    return result.output


class SandboxExecutorAgent(CodeExecutorAgent):
    """AutoGen's ``CodeExecutorAgent`` that reports every run as events.

    Without a model client, AutoGen's agent answers with the output text only; the
    exit code reaches nobody but the model. This one yields a ``CodeGenerationEvent``
    (the blocks) and a ``CodeExecutionEvent`` (the raw result) first, and lists both as
    the response's inner messages, so termination conditions see them too.
    """

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseAgentEvent | BaseChatMessage | Response, None]:
        blocks = await self.extract_code_blocks_from_messages(messages)
        if not blocks:
            yield Response(chat_message=TextMessage(content=self.NO_CODE_BLOCKS_FOUND_MESSAGE, source=self.name))
            return
        code = "\n\n".join(f"```{b.language}\n{b.code}\n```" for b in blocks)
        generated = CodeGenerationEvent(retry_attempt=0, content=code, code_blocks=blocks, source=self.name)
        yield generated
        result = await self._code_executor.execute_code_blocks(blocks, cancellation_token=cancellation_token)
        executed = CodeExecutionEvent(retry_attempt=0, result=result, source=self.name)
        yield executed
        yield Response(
            chat_message=TextMessage(content=output_for_model(result), source=self.name),
            inner_messages=[generated, executed],
        )


class ConvergenceTermination(TerminationCondition):
    """Stops when the attempt has converged, either way:

    * an execution reproduces the last successful one (exit 0, same non-empty output):
      the answer is settled (``converged``);
    * the same code fails with the same output twice in a row: a small model that
      re-sends a block after its error will send it again, so the rest of the turn
      budget would buy nothing (``stuck``; the ladder escalates at once).
    """

    def __init__(self) -> None:
        self._last_ok: str | None = None
        self._last_failed: tuple[str, str] | None = None
        self._code = ""
        self._terminated = False

    @property
    def terminated(self) -> bool:
        return self._terminated

    async def __call__(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        if self._terminated:
            raise TerminatedException("Termination condition has already been reached")
        for message in messages:
            if isinstance(message, CodeGenerationEvent):
                self._code = "\n\n".join(b.code.strip() for b in message.code_blocks)
                continue
            if not isinstance(message, CodeExecutionEvent):
                continue
            output = message.result.output.strip()
            if message.result.exit_code != 0:
                failure = (self._code, output)
                if failure == self._last_failed:
                    self._terminated = True
                    return StopMessage(
                        content=f"{STUCK}: the same code failed the same way twice (exit {message.result.exit_code})",
                        source="ConvergenceTermination",
                    )
                self._last_failed = failure
                continue
            self._last_failed = None
            if output and output == self._last_ok:
                self._terminated = True
                return StopMessage(
                    content=f"{CONVERGED}: the code reproduced its previous successful output",
                    source="ConvergenceTermination",
                )
            self._last_ok = output
        return None

    async def reset(self) -> None:
        self._last_ok = None
        self._last_failed = None
        self._code = ""
        self._terminated = False


class TurnBudget(TerminationCondition):
    """``MaxMessageTermination`` that never ends on code it will not run: when the limit
    falls on the assistant's message with a code block, the executor's reply (no model
    tokens) is let through first, so the tokens spent on the block buy its result."""

    def __init__(self, max_messages: int) -> None:
        self.max_messages = max_messages
        self._count = 0
        self._terminated = False

    @property
    def terminated(self) -> bool:
        return self._terminated

    async def __call__(self, messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> StopMessage | None:
        if self._terminated:
            raise TerminatedException("Termination condition has already been reached")
        chat = [m for m in messages if isinstance(m, BaseChatMessage)]
        self._count += len(chat)
        if self._count < self.max_messages or not chat:
            return None
        last = chat[-1]
        if self._count == self.max_messages and last.source == ASSISTANT and has_code_block(last.to_text()):
            return None  # its execution comes next
        self._terminated = True
        return StopMessage(
            content=f"Maximum number of messages {self.max_messages} reached, current message count: {self._count}",
            source="TurnBudget",
        )

    async def reset(self) -> None:
        self._count = 0
        self._terminated = False


def build_team(
    client: ChatCompletionClient,
    executor: CodeExecutor,
    *,
    system_message: str | None = None,
    max_turns: int = 8,
    token_budget: int = 16_000,
    stop_on_convergence: bool = True,
) -> RoundRobinGroupChat:
    """A fresh two-agent team for one rung's attempt.

    Args:
        client: The rung's model client.
        executor: The query's sandbox (one container per query) or any ``CodeExecutor``.
        system_message: Defaults to ``agents/assistant.md``.
        max_turns: Messages before the attempt stops (task message included).
        token_budget: Total tokens before the attempt stops.
        stop_on_convergence: Stop when an execution reproduces the last good output.
    """
    assistant = AssistantAgent(
        ASSISTANT,
        model_client=client,
        system_message=system_message if system_message is not None else load_prompt("assistant"),
    )
    with warnings.catch_warnings():
        # The sandbox is the approval: every block runs in the hardened container.
        warnings.filterwarnings("ignore", message="No approval function set")
        # sources: run only the assistant's code, never the demonstrations' code blocks
        # that the first message carries.
        runner = SandboxExecutorAgent(
            EXECUTOR, code_executor=executor, supported_languages=FENCE_LANGUAGES, sources=[ASSISTANT]
        )
    termination: TerminationCondition = (
        FunctionalTermination(declared_done)
        | TurnBudget(max_turns)
        | TokenUsageTermination(max_total_token=token_budget)
    )
    if stop_on_convergence:
        termination = termination | ConvergenceTermination()
    return RoundRobinGroupChat([assistant, runner], termination_condition=termination)
