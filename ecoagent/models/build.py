"""Rung → AutoGen ``ChatCompletionClient``.

Three providers: ``openai`` (any OpenAI-compatible endpoint: OpenAI, Azure OpenAI,
Ollama, vLLM, llama.cpp's server) through AutoGen's ``OpenAIChatCompletionClient``;
``llama-cpp`` (a GGUF model run locally, see :mod:`.llama`); ``scripted`` (replies
from a JSON file, for tests and dry runs). Every client is wrapped in
:class:`~.retry.RetryingClient`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from autogen_core.models import ChatCompletionClient

from ..config import Rung
from ..errors import EcoagentError
from .base import GENERIC_MODEL_INFO
from .llama import llama_client, llama_model_path, rung_adapter
from .retry import RetryingClient, TransientModelError

__all__ = ["build_client", "check_rung", "probe_rung", "resolve_api_key", "scripted_client"]


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


def check_rung(rung: Rung, environ: Mapping[str, str] | None = None) -> None:
    """Check what building the rung's client needs, without building it: the API key
    of an ``openai`` rung, the model file of a ``llama-cpp`` or ``scripted`` rung.

    Raises:
        EcoagentError: Names the rung and what to fix.
    """
    if rung.provider == "openai":
        resolve_api_key(rung, environ)
    elif rung.provider == "llama-cpp":
        rung_adapter(rung, llama_model_path(rung.model))
    elif not Path(rung.model).expanduser().is_file():
        raise EcoagentError(f"rung {rung.name}: script {rung.model} does not exist", "fix the rung's model path")


def build_client(
    rung: Rung, *, retries: int = 3, backoff_s: float = 1.0, environ: Mapping[str, str] | None = None
) -> RetryingClient:
    """The rung's model client, ready for an ``AssistantAgent``.

    Raises:
        EcoagentError: Missing key, missing model file or bad settings; names the rung.
    """
    if rung.provider == "llama-cpp":
        inner: ChatCompletionClient = llama_client(rung)
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
        if rung.seed is not None:
            kwargs["seed"] = rung.seed
        if rung.base_url:
            kwargs["base_url"] = rung.base_url
        if rung.model_info or rung.base_url:
            kwargs["model_info"] = {**GENERIC_MODEL_INFO, **(rung.model_info or {})}
        try:
            inner = OpenAIChatCompletionClient(**kwargs)
        except ValueError as exc:
            raise EcoagentError(
                f"rung {rung.name}: {exc}",
                "set model_info for models AutoGen does not know (see agents/ladders/ollama.toml)",
            ) from exc
    # The local model enforces the rung's timeout itself, from when it starts on the call.
    timeout_s = None if rung.provider == "llama-cpp" else rung.timeout_s
    return RetryingClient(inner, rung.name, retries=retries, backoff_s=backoff_s, timeout_s=timeout_s)


def scripted_client(path: Path) -> ChatCompletionClient:
    """A :class:`~ecoagent.testing.ScriptedChatCompletionClient` from a JSON file.

    The file holds a list of replies in order; ``{"error": "transient"}`` stands for a
    retryable failure (a 429), ``{"error": "..."}`` for any other failure.

    Raises:
        EcoagentError: The file is missing or not a JSON list (names the file).
    """
    import json

    from ..testing import ScriptedChatCompletionClient

    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EcoagentError(
            f"scripted rung: cannot read {path}: {exc}", "model must be a JSON file with a list of replies"
        ) from exc
    if not isinstance(items, list):
        raise EcoagentError(f"scripted rung: {path} is not a JSON list", "write the replies as a JSON list of strings")
    script: list[str | BaseException] = []
    for item in items:
        if isinstance(item, dict) and "error" in item:
            kind = str(item["error"])
            script.append(TransientModelError(kind) if kind == "transient" else RuntimeError(kind))
        else:
            script.append(str(item))
    client: ChatCompletionClient = ScriptedChatCompletionClient(script)
    return client


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
            path = llama_model_path(rung.model)
            adapter = rung_adapter(rung, path)
            return True, f"in-process: {path.name}" + (f" + adapter {adapter.parent.name}" if adapter else "")
        except (EcoagentError, FileNotFoundError) as exc:
            return False, getattr(exc, "message", str(exc))
    try:
        key = resolve_api_key(rung, environ)
    except EcoagentError as exc:
        return False, f"{exc.message} ({exc.hint})"
    import httpx

    base = (rung.base_url or "https://api.openai.com/v1").rstrip("/")
    try:
        response = httpx.get(
            f"{base}/models", headers={"Authorization": f"Bearer {key}"} if key else {}, timeout=timeout
        )
    except httpx.HTTPError as exc:
        return False, f"{base} unreachable ({type(exc).__name__}): is the server running?"
    if response.status_code in (401, 403):
        return False, f"{base} rejected the key (HTTP {response.status_code})"
    return response.status_code < 500, f"{base} answered HTTP {response.status_code}"
