"""Retries that know which errors pass: 429s, 5xx, timeouts and dropped connections.

When retries run out the rung fails with :class:`ModelUnavailableError` and the
ladder escalates. A timed-out call is cancelled; a client that runs work outside
the event loop (the local llama.cpp worker) must stop that work when cancelled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from autogen_core import CancellationToken
from autogen_core.models import ChatCompletionClient, CreateResult, LLMMessage
from autogen_core.tools import Tool, ToolSchema

from ..errors import EcoagentError
from .base import DelegatingClient, passthrough

__all__ = ["ModelUnavailableError", "RetryingClient", "TransientModelError", "is_transient"]


class TransientModelError(Exception):
    """A model call failed in a way worth retrying (test doubles raise this)."""


class ModelUnavailableError(EcoagentError):
    """A rung's model kept failing after all retries."""


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a 429, a 5xx, a timeout or a dropped connection."""
    if isinstance(exc, TransientModelError | asyncio.TimeoutError | TimeoutError | ConnectionError):
        return True
    try:
        import openai
    except ImportError:  # pragma: no cover - openai ships with autogen-ext[openai]
        return False
    if isinstance(exc, openai.APIConnectionError | openai.RateLimitError | openai.InternalServerError):
        return True
    return isinstance(exc, openai.APIStatusError) and exc.status_code >= 500


class RetryingClient(DelegatingClient):
    """Delegates to a client; retries transient failures with exponential backoff.

    Args:
        inner: The real client.
        rung: Name used in errors.
        retries: Retries after the first attempt.
        backoff_s: First wait; doubles each retry.
        timeout_s: Deadline of one call; None when the inner client keeps its own
            (the local model counts from when it starts on the call, not from the queue).
    """

    def __init__(
        self,
        inner: ChatCompletionClient,
        rung: str,
        *,
        retries: int = 3,
        backoff_s: float = 1.0,
        timeout_s: float | None = 120.0,
    ) -> None:
        super().__init__(inner)
        self.rung = rung
        self.retries = retries
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s

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
        last: BaseException | None = None
        for attempt in range(self.retries + 1):
            try:
                call = self.inner.create(messages, **passthrough(locals()))
                return await asyncio.wait_for(call, self.timeout_s)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                last = exc
                if attempt < self.retries:
                    await asyncio.sleep(self.backoff_s * (2**attempt))
        raise ModelUnavailableError(
            f"rung {self.rung}: the model kept failing after {self.retries + 1} attempts ({type(last).__name__}: {last})",
            "check the endpoint and the key, or run `ecoagent ladder` to see which rungs answer",
        )
