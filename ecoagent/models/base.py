"""The one delegating ``ChatCompletionClient`` that every wrapper builds on.

Cross-cutting behaviour (retries, serialized local sampling, later caching and
compression) wraps a model client, as AutoGen's ``ChatCompletionCache`` does: a
wrapper changes ``create`` and hands everything else to the client inside.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

from autogen_core import CancellationToken
from autogen_core.models import (
    ChatCompletionClient,
    CreateResult,
    LLMMessage,
    ModelCapabilities,
    ModelInfo,
    RequestUsage,
)
from autogen_core.tools import Tool, ToolSchema

__all__ = ["GENERIC_MODEL_INFO", "DelegatingClient", "SamplingClient", "TimedClient", "passthrough"]

GENERIC_MODEL_INFO: ModelInfo = {
    "vision": False,
    "function_calling": False,
    "json_output": False,
    "family": "unknown",
    "structured_output": False,
}
"""What ecoagent assumes of a model AutoGen does not know: plain text chat, nothing more."""

_CALL_ARGS = ("tools", "tool_choice", "json_output", "extra_create_args", "cancellation_token")


def passthrough(scope: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of a ``create`` call, to hand on unchanged."""
    return {name: scope[name] for name in _CALL_ARGS}


class DelegatingClient(ChatCompletionClient):
    """Hands every call to ``inner``; subclasses change only ``create``."""

    def __init__(self, inner: ChatCompletionClient) -> None:
        self.inner = inner

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
        return await self.inner.create(messages, **passthrough(locals()))

    def create_stream(  # pragma: no cover - the ladder does not stream model calls
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Any = "auto",
        json_output: bool | type[Any] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        return self.inner.create_stream(messages, **passthrough(locals()))

    async def close(self) -> None:
        await self.inner.close()

    def actual_usage(self) -> RequestUsage:
        return self.inner.actual_usage()

    def total_usage(self) -> RequestUsage:
        return self.inner.total_usage()

    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        return self.inner.count_tokens(messages, tools=tools)

    def remaining_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        return self.inner.remaining_tokens(messages, tools=tools)

    @property
    def capabilities(self) -> ModelCapabilities:
        return self.inner.capabilities

    @property
    def model_info(self) -> ModelInfo:
        return self.inner.model_info


class SamplingClient(DelegatingClient):
    """Every call sampled at ``temperature`` with ``seed``: another independent, reproducible
    attempt of the same rung (the evidence judge compares it with the rung's own).

    The sampling goes in ``extra_create_args``, which both AutoGen's OpenAI client and the
    local llama.cpp client read per call, so it wraps any rung's client.
    """

    def __init__(self, inner: ChatCompletionClient, *, temperature: float, seed: int) -> None:
        super().__init__(inner)
        self.sampling = {"temperature": temperature, "seed": seed}

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
        args = passthrough(locals())
        args["extra_create_args"] = {**dict(extra_create_args), **self.sampling}
        return await self.inner.create(messages, **args)


class TimedClient(DelegatingClient):
    """Adds up the wall-clock seconds the model spends on calls: the compute a local rung costs
    (priced with ``price_per_compute_hour``), which its $0 token prices hide."""

    def __init__(self, inner: ChatCompletionClient) -> None:
        super().__init__(inner)
        self.seconds = 0.0

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
        started = time.monotonic()
        try:
            return await self.inner.create(messages, **passthrough(locals()))
        finally:
            self.seconds += time.monotonic() - started
