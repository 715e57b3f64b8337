"""``CompressingClient``: LLMLingua in front of any AutoGen model client.

Wrap a paid client and give it to any AutoGen agent; long user messages reach the
model compressed, in the style of AutoGen's ``ChatCompletionCache``::

    from ecoagent.compress import CompressingClient
    client = CompressingClient(OpenAIChatCompletionClient(model="gpt-4o"), rate=0.5)
    agent = AssistantAgent("assistant", model_client=client)

Only ``UserMessage``s with text content are touched; system prompts, the model's own
messages and function results go as they are. In a long message the last paragraph
is taken as its question: it is kept verbatim and steers what is kept of the rest
(question-aware LongLLMLingua). The same message is compressed once and reused on
every later call of the conversation, which re-sends it each time.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from autogen_core import CancellationToken
from autogen_core.models import ChatCompletionClient, CreateResult, LLMMessage, UserMessage
from autogen_core.tools import Tool, ToolSchema

from ..models.base import DelegatingClient, passthrough
from .compressor import Compression, Compressor

__all__ = ["CompressingClient"]

_REMEMBERED = 256  # compressed messages kept for reuse


class CompressingClient(DelegatingClient):
    """Compresses long user messages before ``inner`` reads them.

    Args:
        inner: The client to save tokens on.
        compressor: The compressor (default: a new :class:`Compressor` on the bundled model).
        rate: Share of the prose tokens to keep (default: the compressor's setting).

    Attributes:
        compressions: What each compression did (tokens before and after, seconds),
            in order: the caller's record of what was saved and what it cost.
    """

    def __init__(
        self, inner: ChatCompletionClient, compressor: Compressor | None = None, *, rate: float | None = None
    ) -> None:
        super().__init__(inner)
        self.compressor = compressor or Compressor()
        self.rate = rate
        self.compressions: list[Compression] = []
        self._done: OrderedDict[str, str] = OrderedDict()

    @property
    def saved_tokens(self) -> int:
        """cl100k tokens the compressions cut, once each (every later call re-sending a
        compressed message saves them again)."""
        return sum(c.saved for c in self.compressions)

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Any = "auto",
        json_output: bool | type[Any] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        shorter = [await self._shorten(m) for m in messages]
        return await self.inner.create(shorter, **passthrough(locals()))

    async def _shorten(self, message: LLMMessage) -> LLMMessage:
        if not isinstance(message, UserMessage) or not isinstance(message.content, str):
            return message
        key = hashlib.sha256(f"{self.rate}\0{message.content}".encode()).hexdigest()
        if key not in self._done:
            self._done[key] = await asyncio.to_thread(self._compress, message.content)
            while len(self._done) > _REMEMBERED:
                self._done.popitem(last=False)
        self._done.move_to_end(key)
        return UserMessage(content=self._done[key], source=message.source)

    def _compress(self, text: str) -> str:
        body, sep, question = text.rstrip().rpartition("\n\n")
        if not sep:
            body, question = text, ""
        result = self.compressor.compress(body, question, self.rate)
        if result.skipped is not None:
            return text
        self.compressions.append(result)
        return result.text.rstrip("\n") + sep + question if sep else result.text
