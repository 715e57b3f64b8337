"""``SummaryBufferContext``: the last K turns verbatim, everything older folded into a summary.

An AutoGen :class:`~autogen_core.model_context.ChatCompletionContext` in the manner of
LangChain's ConversationSummaryBufferMemory, which AutoGen does not ship. Pass it as an
agent's ``model_context``; the model then reads at most a summary and K turns however
long the conversation runs, instead of a history that grows every turn.

Three rules keep it safe to use:

* **Summarizing is off the response path.** ``get_messages`` never calls a model: it
  returns the summary, the turns not yet folded and the last K turns. Call
  :meth:`SummaryBufferContext.summarize` when nobody is waiting (after the answer
  is shown). Until then nothing is lost: unfolded turns are returned verbatim.
* **A turn is never split.** A turn starts at a user message that is not the result
  of the assistant's code or function call: an assistant message with a code
  block and the execution result that follows it stay together, in the summary or
  in the verbatim part, never one in each.
* **The summary stays short.** It is held to ``summary_words`` (cut at a sentence
  end when one is near): small models overrun any limit a prompt gives them.
* **Its state is all of it.** ``save_state``/``load_state`` round-trip the messages,
  the summary and what the summarizing cost; ``dump_component``/``load_component``
  round-trip its configuration (model client included).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from typing import Any, Self

from autogen_core import CancellationToken, Component, ComponentModel
from autogen_core.model_context import ChatCompletionContext
from autogen_core.models import (
    AssistantMessage,
    ChatCompletionClient,
    FunctionExecutionResultMessage,
    LLMMessage,
    RequestUsage,
    SystemMessage,
    UserMessage,
)
from pydantic import BaseModel, Field

__all__ = ["SummaryBufferContext", "SummaryBufferContextConfig", "SummaryBufferState", "split_turns"]

SUMMARY_PREFIX = "Summary of the earlier conversation:"  # the same words as chat's first message
_CODE = re.compile(r"```")
_SUMMARIZE = """You keep a running summary of a conversation between a user and a coding assistant.
Update the summary with the new turns. Keep every fact a later question may need: numbers,
names, file names, results and decisions. Drop greetings and code details. At most {words} words.

Current summary:
{summary}

New turns:
{turns}

Updated summary:"""


class SummaryBufferContextConfig(BaseModel):
    """The component configuration of :class:`SummaryBufferContext`."""

    model_client: ComponentModel
    keep_turns: int = 3
    summary_words: int = 120
    initial_messages: list[LLMMessage] | None = None


class SummaryBufferState(BaseModel):
    """Everything ``save_state`` keeps."""

    messages: list[LLMMessage] = Field(default_factory=list)
    summary: str = ""
    folded_turns: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


def _is_followup(previous: LLMMessage | None, message: LLMMessage) -> bool:
    """Whether ``message`` continues the turn of ``previous`` (an execution or function result)."""
    if isinstance(message, FunctionExecutionResultMessage):
        return True
    if not isinstance(message, UserMessage) or not isinstance(previous, AssistantMessage):
        return not isinstance(message, UserMessage)
    content = previous.content
    return isinstance(content, list) or (isinstance(content, str) and bool(_CODE.search(content)))


def split_turns(messages: Sequence[LLMMessage]) -> list[list[LLMMessage]]:
    """Messages grouped into turns; system messages are not part of any turn."""
    turns: list[list[LLMMessage]] = []
    previous: LLMMessage | None = None
    for message in messages:
        if isinstance(message, SystemMessage):
            continue
        if turns and _is_followup(previous, message):
            turns[-1].append(message)
        else:
            turns.append([message])
        previous = message
    return turns


def _capped(summary: str, words: int) -> str:
    """The summary within its word limit (small models overrun it), cut at a sentence end if one is near."""
    parts = summary.split()
    if len(parts) <= words:
        return summary
    cut = " ".join(parts[:words])
    end = max(cut.rfind(". "), cut.rfind(".\n"))
    return cut[: end + 1] if end > len(cut) // 2 else cut + " …"


def _text(message: LLMMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return " ".join(str(getattr(part, "content", part)) for part in content)


def _render(turns: Sequence[Sequence[LLMMessage]]) -> str:
    lines = []
    for turn in turns:
        for m in turn:
            who = "assistant" if isinstance(m, AssistantMessage) else getattr(m, "source", "user")
            lines.append(f"{who}: {_text(m).strip()}")
    return "\n".join(lines)


class SummaryBufferContext(ChatCompletionContext, Component[SummaryBufferContextConfig]):
    """The last ``keep_turns`` turns verbatim; older ones folded into a summary by ``model_client``.

    Args:
        model_client: Writes the summary (in ecoagent, the ladder's cheapest rung).
        keep_turns: Turns always kept verbatim.
        summary_words: The summary's length limit, as the model is asked to keep it.
        initial_messages: Messages to start from.
    """

    component_config_schema = SummaryBufferContextConfig
    component_provider_override = "ecoagent.memory.SummaryBufferContext"

    def __init__(
        self,
        model_client: ChatCompletionClient,
        keep_turns: int = 3,
        summary_words: int = 120,
        initial_messages: list[LLMMessage] | None = None,
    ) -> None:
        super().__init__(initial_messages)
        if keep_turns < 1:
            raise ValueError("keep_turns must be 1 or more")
        self._client = model_client
        self._keep_turns = keep_turns
        self._summary_words = summary_words
        self._summary = ""
        self._folded_turns = 0
        self._usage = RequestUsage(prompt_tokens=0, completion_tokens=0)
        self._lock = asyncio.Lock()

    @property
    def summary(self) -> str:
        """The running summary ('' until older turns were folded)."""
        return self._summary

    @property
    def usage(self) -> RequestUsage:
        """Tokens the summarizing has cost so far (they are part of what memory costs)."""
        return self._usage

    @property
    def folded_turns(self) -> int:
        """Turns folded into the summary so far."""
        return self._folded_turns

    def pending(self) -> int:
        """Turns that a :meth:`summarize` call would fold now."""
        return max(0, len(split_turns(self._messages)) - self._keep_turns)

    async def get_messages(self) -> list[LLMMessage]:
        """System messages, the summary (as a system message) and every unfolded turn, in order."""
        system = [m for m in self._messages if isinstance(m, SystemMessage)]
        if self._summary:
            system.append(SystemMessage(content=f"{SUMMARY_PREFIX}\n{self._summary}"))
        return system + [m for turn in split_turns(self._messages) for m in turn]

    async def summarize(self, cancellation_token: CancellationToken | None = None) -> bool:
        """Fold every turn but the last ``keep_turns`` into the summary (one model call).

        Returns:
            Whether anything was folded. On a model error nothing changes and the
            error propagates: the turns stay verbatim, to be folded next time.
        """
        async with self._lock:
            turns = split_turns(self._messages)
            if len(turns) <= self._keep_turns:
                return False
            fold, keep = turns[: -self._keep_turns], turns[-self._keep_turns :]
            prompt = _SUMMARIZE.format(
                words=self._summary_words, summary=self._summary or "(none yet)", turns=_render(fold)
            )
            # A word is about 1.3 tokens: twice the words bounds what a rambling model generates.
            result = await self._client.create(
                [UserMessage(content=prompt, source="user")],
                extra_create_args={"max_tokens": 2 * self._summary_words},
                cancellation_token=cancellation_token,
            )
            self._usage = RequestUsage(
                prompt_tokens=self._usage.prompt_tokens + result.usage.prompt_tokens,
                completion_tokens=self._usage.completion_tokens + result.usage.completion_tokens,
            )
            summary = _capped(str(result.content).strip(), self._summary_words)
            if summary:
                self._summary = summary
            system = [m for m in self._messages if isinstance(m, SystemMessage)]
            self._messages = system + [m for turn in keep for m in turn]
            self._folded_turns += len(fold)
            return True

    async def clear(self) -> None:
        """Forget the turns and the summary."""
        async with self._lock:
            self._messages = []
            self._summary = ""
            self._folded_turns = 0

    async def save_state(self) -> Mapping[str, Any]:
        """Messages, summary and summarizing cost."""
        return SummaryBufferState(
            messages=self._messages,
            summary=self._summary,
            folded_turns=self._folded_turns,
            prompt_tokens=self._usage.prompt_tokens,
            completion_tokens=self._usage.completion_tokens,
        ).model_dump()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`save_state` returned."""
        loaded = SummaryBufferState.model_validate(state)
        self._messages = list(loaded.messages)
        self._summary = loaded.summary
        self._folded_turns = loaded.folded_turns
        self._usage = RequestUsage(prompt_tokens=loaded.prompt_tokens, completion_tokens=loaded.completion_tokens)

    def _to_config(self) -> SummaryBufferContextConfig:
        return SummaryBufferContextConfig(
            model_client=self._client.dump_component(),
            keep_turns=self._keep_turns,
            summary_words=self._summary_words,
            initial_messages=self._initial_messages,
        )

    @classmethod
    def _from_config(cls, config: SummaryBufferContextConfig) -> Self:
        return cls(
            ChatCompletionClient.load_component(config.model_client),
            keep_turns=config.keep_turns,
            summary_words=config.summary_words,
            initial_messages=config.initial_messages,
        )
