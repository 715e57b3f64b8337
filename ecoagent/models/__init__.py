"""Model clients: a rung becomes an AutoGen ``ChatCompletionClient``.

* :mod:`.build` — :func:`build_client` per provider, :func:`probe_rung`, API keys;
* :mod:`.retry` — :class:`RetryingClient` (429/5xx/timeouts, exponential backoff);
* :mod:`.llama` — the local llama.cpp model, in a worker process that a crash or a
  timeout cannot take the caller down with;
* :mod:`.base` — the delegating base of every wrapper and the generic model info.

Test doubles (scripted clients) live in :mod:`ecoagent.testing`.
"""

from __future__ import annotations

from .base import GENERIC_MODEL_INFO, DelegatingClient, SamplingClient
from .build import build_client, check_rung, probe_rung, resolve_api_key, scripted_client
from .retry import ModelUnavailableError, RetryingClient, TransientModelError, is_transient

__all__ = [
    "GENERIC_MODEL_INFO",
    "DelegatingClient",
    "ModelUnavailableError",
    "RetryingClient",
    "SamplingClient",
    "TransientModelError",
    "build_client",
    "check_rung",
    "is_transient",
    "probe_rung",
    "resolve_api_key",
    "scripted_client",
]
