"""The HTTP app: OpenAI's ``/v1/chat/completions`` in front of one :class:`EcoAssistant`.

A thin shell. Each request is authenticated, validated, admitted and turned into a
:class:`~ecoagent.query.Query`; the pipeline answers it (``run_stream``, as chat and
batch call it); its events become chunks and its record a completion. Everything
about answering stays in the pipeline: this package adds transport (HTTP, keys,
budgets, admission, cancellation when the client goes away) and nothing else.
The endpoints are :mod:`.routes`; what a query's run is, :mod:`.service`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ..assistant import EcoAssistant
from ..config import ServeSettings
from .errors import install_handlers
from .gate import Gate
from .keys import KeyRing
from .routes import router
from .service import Service

__all__ = ["Service", "create_app"]


def create_app(eco: EcoAssistant, settings: ServeSettings | None = None, *, keys: KeyRing | None = None) -> FastAPI:
    """The app, serving ``eco``'s pipeline.

    Args:
        eco: The one assistant: its bank, run log, cache, route index and models.
        settings: The ``[serve]`` section (default: ``eco.settings.serve``).
        keys: The accepted keys (default: loaded from the settings).
    """
    cfg = settings or eco.settings.serve
    service = Service(
        eco,
        cfg,
        keys if keys is not None else KeyRing.load(cfg),
        Gate(cfg.concurrency, cfg.queue, cfg.retry_after_s),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(eco.warm)
        yield
        service.gate.closed = True
        for task in list(service.running):  # past the grace period: what is still running is cancelled and logged
            task.cancel()
        await asyncio.gather(*list(service.running), return_exceptions=True)
        await asyncio.to_thread(eco.close)  # summaries being written finish first

    app = FastAPI(
        title="ecoagent",
        summary="The ecoagent pipeline behind OpenAI's chat completions API.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = service
    install_handlers(app)
    app.include_router(router)
    return app
