"""``ecoagent serve``: the whole pipeline behind an OpenAI-compatible HTTP endpoint.

Point any OpenAI client at it (``base_url="http://127.0.0.1:8300/v1"``) and its traffic
gets what chat and batch get: the first-turn cache and guarded replay, the router,
demonstrations from confirmed solutions, compression and the ladder. ``POST
/v1/feedback`` is the thumbs-up that banks, keys and budgets say who may spend what,
and ``/metrics`` shows what it saved. :func:`create_app` is the ASGI app for one
:class:`~ecoagent.EcoAssistant`; :func:`serve` runs it with uvicorn.
"""

from .app import Service, create_app
from .client import RemoteAssistant
from .keys import ApiKey, KeyRing, add_key, hash_key, read_keys, remove_key
from .server import is_loopback, running_server, serve, server_file

__all__ = [
    "ApiKey",
    "KeyRing",
    "RemoteAssistant",
    "Service",
    "add_key",
    "create_app",
    "hash_key",
    "is_loopback",
    "read_keys",
    "remove_key",
    "running_server",
    "serve",
    "server_file",
]
