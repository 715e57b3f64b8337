"""The AutoGen team for one rung: an assistant that writes code, an executor that runs it.

EcoAssistant's conversation is a two-agent loop: the assistant (on the rung's model)
answers with a code block, the executor runs it in the sandbox and replies with the
output, until the assistant declares it is done (``TERMINATE`` in a message with no
code), a turn limit or a token budget ends it. Everything here is AutoGen's own:
``AssistantAgent``, ``CodeExecutorAgent``, ``RoundRobinGroupChat`` and its
termination conditions.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence

from autogen_agentchat.agents import AssistantAgent, CodeExecutorAgent
from autogen_agentchat.base import TerminationCondition
from autogen_agentchat.conditions import FunctionalTermination, MaxMessageTermination, TokenUsageTermination
from autogen_agentchat.messages import BaseAgentEvent, BaseChatMessage, TextMessage
from autogen_agentchat.teams import RoundRobinGroupChat
from autogen_core.models import ChatCompletionClient

from .executor import DockerSandboxExecutor
from .paths import shipped_dir
from .records import Demonstration

__all__ = [
    "ASSISTANT",
    "EXECUTOR",
    "DONE_WORD",
    "build_team",
    "declared_done",
    "first_message",
    "has_code_block",
    "load_prompt",
]

ASSISTANT = "assistant"
EXECUTOR = "executor"
DONE_WORD = "TERMINATE"
LANGUAGES = ["python", "py", "python3", "sh", "bash", "shell"]
_CODE_BLOCK = re.compile(r"```[ \t]*(?:" + "|".join(LANGUAGES) + r")[ \t]*\n", re.IGNORECASE)


def load_prompt(name: str) -> str:
    """A prompt from ``agents/<name>.md`` (users edit these, not code)."""
    return (shipped_dir("agents") / f"{name}.md").read_text(encoding="utf-8").strip()


def has_code_block(text: str) -> bool:
    """Whether ``text`` holds a fenced block the executor would run."""
    return bool(_CODE_BLOCK.search(text))


def first_message(query: str, demonstrations: Sequence[Demonstration] = (), context: str | None = None) -> str:
    """The task: confirmed solutions of similar queries (if any), earlier turns of a chat
    (if any), then the query.

    Demonstrations go in the first message only; later turns never repeat them.
    """
    if context:
        query = f"Earlier in this conversation:\n{context.strip()}\n\nNow: {query}"
    if not demonstrations:
        return query
    parts = ["Here are similar queries that were solved before, with the code that solved them:"]
    for i, demo in enumerate(demonstrations, 1):
        parts.append(f"Example {i}\nQuery: {demo.query}\nCode:\n```python\n{demo.code.strip()}\n```")
    parts.append(f"Now solve this query in the same way:\n{query}")
    return "\n\n".join(parts)


def declared_done(messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> bool:
    """Whether the assistant's last message says it is done (the done word, no code).

    The team stops on it, and the ``auto`` judge asks it of the finished conversation.
    """
    for message in reversed(messages):
        if isinstance(message, TextMessage) and message.source == ASSISTANT:
            return DONE_WORD in message.content and not has_code_block(message.content)
    return False


def build_team(
    client: ChatCompletionClient,
    executor: DockerSandboxExecutor,
    *,
    system_message: str | None = None,
    max_turns: int = 8,
    token_budget: int = 16_000,
) -> RoundRobinGroupChat:
    """A fresh two-agent team for one rung's attempt.

    Args:
        client: The rung's model client.
        executor: The query's sandbox (one container per query).
        system_message: Defaults to ``agents/assistant.md``.
        max_turns: Messages before the attempt stops (task message included).
        token_budget: Total tokens before the attempt stops.
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
        runner = CodeExecutorAgent(EXECUTOR, code_executor=executor, supported_languages=LANGUAGES, sources=[ASSISTANT])
    termination: TerminationCondition = (
        FunctionalTermination(declared_done)
        | MaxMessageTermination(max_turns)
        | TokenUsageTermination(max_total_token=token_budget)
    )
    return RoundRobinGroupChat([assistant, runner], termination_condition=termination)
