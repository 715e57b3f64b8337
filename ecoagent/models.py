"""Rung → AutoGen ``ChatCompletionClient``, with retries that know which errors pass.

Two providers cover the field: ``openai`` (any OpenAI-compatible endpoint: OpenAI,
Azure OpenAI, Ollama, vLLM, llama.cpp's server) through AutoGen's
``OpenAIChatCompletionClient``, and ``llama-cpp`` (a GGUF model in-process) through
AutoGen's ``LlamaCppChatCompletionClient``. Every client is wrapped in
:class:`RetryingClient`: 429s, 5xx, timeouts and dropped connections are retried
with exponential backoff; when retries run out the rung fails with
:class:`ModelUnavailableError` and the ladder escalates.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncGenerator, Mapping, Sequence
from pathlib import Path
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

from . import bundled
from .config import Rung
from .errors import EcoagentError

__all__ = [
    "ModelUnavailableError",
    "RetryingClient",
    "TransientModelError",
    "build_client",
    "is_transient",
    "probe_rung",
    "resolve_api_key",
    "scripted_client",
]

_GENERIC_INFO: ModelInfo = {
    "vision": False,
    "function_calling": False,
    "json_output": False,
    "family": "unknown",
    "structured_output": False,
}


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


_CALL_ARGS = ("tools", "tool_choice", "json_output", "extra_create_args", "cancellation_token")


def _passthrough(scope: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of a ``create`` call, to hand on unchanged."""
    return {name: scope[name] for name in _CALL_ARGS}


class _DelegatingClient(ChatCompletionClient):
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
        return await self.inner.create(messages, **_passthrough(locals()))

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
        return self.inner.create_stream(messages, **_passthrough(locals()))

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


class RetryingClient(_DelegatingClient):
    """Delegates to a client; retries transient failures with exponential backoff.

    Args:
        inner: The real client.
        rung: Name used in errors.
        retries: Retries after the first attempt.
        backoff_s: First wait; doubles each retry.
        timeout_s: Deadline of one call.
    """

    def __init__(
        self, inner: ChatCompletionClient, rung: str, *, retries: int = 3, backoff_s: float = 1.0, timeout_s: float = 120.0
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
                call = self.inner.create(messages, **_passthrough(locals()))
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


def resolve_api_key(rung: Rung, environ: Mapping[str, str] | None = None) -> str | None:
    """The key for an ``openai`` rung, from the variable it names.

    ``api_key_env = ""`` means the server needs no key (Ollama, llama.cpp's server).

    Raises:
        EcoagentError: The variable is not set; says which one and how to fix it.
    """
    env = os.environ if environ is None else environ
    name = "OPENAI_API_KEY" if rung.api_key_env is None else rung.api_key_env
    if name == "":
        return None
    key = env.get(name)
    if not key:
        raise EcoagentError(
            f"no API key for rung {rung.name}: ${name} is not set",
            f"export {name}=... , or remove the rung {rung.name!r} from the ladder",
        )
    return key


def _llama_model_path(model: str) -> Path:
    if model.startswith("bundled:"):
        if model != "bundled:smollm2":
            raise EcoagentError(f"unknown bundled model {model!r}", "use bundled:smollm2 or a path to a GGUF file")
        return bundled.smollm2_path()
    path = Path(model).expanduser()
    if not path.is_file():
        raise EcoagentError(f"GGUF model file {path} does not exist", "fix the rung's model path")
    return path


_LLAMA_CACHE: dict[tuple[str, int], ChatCompletionClient] = {}
_LLAMA_LOCK = threading.Lock()


def _llama_client(rung: Rung) -> ChatCompletionClient:
    """One loaded model per (file, context) per process: loading is the slow part."""
    from autogen_ext.models.llama_cpp import LlamaCppChatCompletionClient

    path = _llama_model_path(rung.model)
    key = (str(path), rung.context_tokens)
    with _LLAMA_LOCK:
        client = _LLAMA_CACHE.get(key)
        if client is None:
            client = _LLAMA_CACHE[key] = LlamaCppChatCompletionClient(
                model_info=rung.model_info or _GENERIC_INFO,  # type: ignore[arg-type]
                model_path=str(path),
                n_ctx=rung.context_tokens,
                verbose=False,
                seed=0,
            )
    return _SerializedSampling(client, rung)


class _SerializedSampling(_DelegatingClient):
    """A shared llama.cpp model: one call at a time, with the rung's sampling settings.

    AutoGen's llama-cpp client takes temperature and max_tokens only per call, and a
    llama.cpp context must not be used from two threads at once.
    """

    _locks: dict[tuple[int, int], asyncio.Lock] = {}

    def __init__(self, inner: ChatCompletionClient, rung: Rung) -> None:
        super().__init__(inner)
        self._defaults = {"temperature": rung.temperature, "max_tokens": rung.max_tokens}

    async def create(self, messages: Sequence[LLMMessage], **kwargs: Any) -> CreateResult:
        args = {**self._defaults, **dict(kwargs.pop("extra_create_args", {}) or {})}
        lock = self._locks.setdefault((id(self.inner), id(asyncio.get_running_loop())), asyncio.Lock())
        async with lock:
            # llama.cpp reuses the previous call's KV cache for a shared prefix; which
            # prefix depends on what ran before, and that changes float rounding enough
            # to change greedy output. Starting clean makes every call depend only on
            # its own messages: same query, same answer, in any order or concurrency.
            llm = getattr(self.inner, "llm", None)
            if llm is not None:
                llm.reset()
            return await self.inner.create(messages, extra_create_args=args, **kwargs)


def build_client(
    rung: Rung, *, retries: int = 3, backoff_s: float = 1.0, environ: Mapping[str, str] | None = None
) -> RetryingClient:
    """The rung's model client, ready for an ``AssistantAgent``.

    Raises:
        EcoagentError: Missing key, missing model file or bad settings; names the rung.
    """
    if rung.provider == "llama-cpp":
        inner: ChatCompletionClient = _llama_client(rung)
    elif rung.provider == "scripted":
        inner = scripted_client(Path(rung.model).expanduser())
    else:
        from autogen_ext.models.openai import OpenAIChatCompletionClient

        kwargs: dict[str, Any] = {
            "model": rung.model,
            "api_key": resolve_api_key(rung, environ) or "not-needed",
            "temperature": rung.temperature,
            "max_tokens": rung.max_tokens,
            "timeout": rung.timeout_s,
            "max_retries": 0,  # RetryingClient retries, with the ladder's settings
        }
        if rung.base_url:
            kwargs["base_url"] = rung.base_url
        if rung.model_info or rung.base_url:
            kwargs["model_info"] = {**_GENERIC_INFO, **(rung.model_info or {})}
        try:
            inner = OpenAIChatCompletionClient(**kwargs)
        except ValueError as exc:
            raise EcoagentError(
                f"rung {rung.name}: {exc}", "set model_info for models AutoGen does not know (see agents/ladders/ollama.toml)"
            ) from exc
    return RetryingClient(inner, rung.name, retries=retries, backoff_s=backoff_s, timeout_s=rung.timeout_s)


def scripted_client(path: Path) -> ChatCompletionClient:
    """A :class:`~ecoagent.testing.ScriptedChatCompletionClient` from a JSON file.

    The file holds a list of replies in order; ``{"error": "transient"}`` stands for a
    retryable failure (a 429), ``{"error": "..."}`` for any other failure.

    Raises:
        EcoagentError: The file is missing or not a JSON list (names the file).
    """
    import json

    from .testing import ScriptedChatCompletionClient

    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EcoagentError(f"scripted rung: cannot read {path}: {exc}", "model must be a JSON file with a list of replies") from exc
    if not isinstance(items, list):
        raise EcoagentError(f"scripted rung: {path} is not a JSON list", "write the replies as a JSON list of strings")
    script: list[str | BaseException] = []
    for item in items:
        if isinstance(item, dict) and "error" in item:
            kind = str(item["error"])
            script.append(TransientModelError(kind) if kind == "transient" else RuntimeError(kind))
        else:
            script.append(str(item))
    return ScriptedChatCompletionClient(script)


def probe_rung(rung: Rung, environ: Mapping[str, str] | None = None, timeout: float = 3.0) -> tuple[bool, str]:
    """Whether a rung can answer: its model file exists, or its endpoint answers ``/models``.

    Returns:
        (ok, detail) — the detail says what was found or what to fix.
    """
    if rung.provider == "scripted":
        path = Path(rung.model).expanduser()
        return path.is_file(), f"script {path}" if path.is_file() else f"script {path} does not exist"
    if rung.provider == "llama-cpp":
        try:
            return True, f"in-process: {_llama_model_path(rung.model).name}"
        except (EcoagentError, FileNotFoundError) as exc:
            return False, getattr(exc, "message", str(exc))
    try:
        key = resolve_api_key(rung, environ)
    except EcoagentError as exc:
        return False, f"{exc.message} ({exc.hint})"
    import httpx

    base = (rung.base_url or "https://api.openai.com/v1").rstrip("/")
    try:
        response = httpx.get(f"{base}/models", headers={"Authorization": f"Bearer {key}"} if key else {}, timeout=timeout)
    except httpx.HTTPError as exc:
        return False, f"{base} unreachable ({type(exc).__name__}): is the server running?"
    if response.status_code in (401, 403):
        return False, f"{base} rejected the key (HTTP {response.status_code})"
    return response.status_code < 500, f"{base} answered HTTP {response.status_code}"
