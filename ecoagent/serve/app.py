"""The HTTP app: OpenAI's ``/v1/chat/completions`` in front of one :class:`EcoAssistant`.

A thin shell. Each request is authenticated, validated, admitted and turned into a
:class:`~ecoagent.query.Query`; the pipeline answers it (``run_stream``, as chat and
batch call it); its events become chunks and its record a completion. Everything
about answering stays in the pipeline: this module adds transport (HTTP, keys,
budgets, admission, cancellation when the client goes away) and nothing else.

Each query runs in a task of its own, so a client that disconnects, in the middle
of a stream or while waiting for a plain response, cancels it as Ctrl-C does in
chat: the sandbox container goes, the local model's generation is killed, and the
run is logged as cancelled with what it spent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from autogen_core import CancellationToken
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from ..assistant import EcoAssistant
from ..config import Rung, ServeSettings
from ..errors import EcoagentError, SandboxError
from ..events import DemonstrationsFound, Event
from ..query import Query
from ..records import RunRecord, new_run_id
from .errors import APIError, error_body, install_handlers
from .gate import Gate
from .keys import ApiKey, KeyRing
from .metrics import Metrics
from .sessions import ServerSession, Sessions
from .wire import (
    ChatRequest,
    chunk,
    completion,
    event_fields,
    now,
    parse_chat_request,
    report,
    split_messages,
    to_query,
    usage,
)

__all__ = ["Service", "create_app"]

log = logging.getLogger("ecoagent.serve")
LADDER_MODEL = "ecoagent"
_HARD_CANCEL_S = 5.0


@dataclass
class Service:
    """What the app holds: the one assistant and the transport around it."""

    eco: EcoAssistant
    settings: ServeSettings
    keys: KeyRing
    gate: Gate
    sessions: Sessions
    metrics: Metrics = field(default_factory=Metrics)
    running: set[asyncio.Task[Any]] = field(default_factory=set)

    def model_index(self, model: str) -> int:
        """The start rung a request's ``model`` names.

        Raises:
            APIError: 404 for a model that is neither the ladder nor a rung.
        """
        if model == LADDER_MODEL:
            return 0
        for i, rung in enumerate(self.eco.rungs):
            if rung.name == model:
                return i
        names = ", ".join([LADDER_MODEL, *(r.name for r in self.eco.rungs)])
        raise APIError(
            404,
            f"model {model!r} does not exist here; use one of: {names} (GET /v1/models)",
            param="model",
            code="model_not_found",
        )


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused with a 413 past ``limit`` bytes (before reading it all)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise APIError(
            413,
            f"the request body is {int(declared):,} bytes, over this server's {limit:,}-byte limit; "
            "send less context, or raise [serve] max_body_bytes",
            code="request_too_large",
        )
    chunks, size = [], 0
    async for part in request.stream():
        size += len(part)
        if size > limit:
            raise APIError(
                413,
                f"the request body is over this server's {limit:,}-byte limit; "
                "send less context, or raise [serve] max_body_bytes",
                code="request_too_large",
            )
        chunks.append(part)
    return b"".join(chunks)


async def _disconnected(request: Request) -> None:
    """Return when the client hangs up (the body has been read: nothing else arrives)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


class _Run:
    """One query in its own task: events into a queue, the record at the end.

    The admission is released when the task ends, whatever happens to the request,
    and a model slot is held only while the ladder runs.
    """

    def __init__(self, service: Service, query: Query, session: ServerSession | None) -> None:
        self.service = service
        self.session = session
        self.run_id = query.run_id or ""
        self.events: asyncio.Queue[Event | RunRecord | BaseException | None] = asyncio.Queue()
        self.started = time.monotonic()
        self.token = CancellationToken()
        self.waiting = False  # for a model slot
        self.task = asyncio.create_task(self._main(query, session))
        service.running.add(self.task)
        self.task.add_done_callback(service.running.discard)
        self.task.add_done_callback(lambda t: t.cancelled() or t.exception())  # reported through the queue

    async def _main(self, query: Query, session: ServerSession | None) -> RunRecord:
        service, gate = self.service, self.service.gate
        holding = False
        stream = service.eco.run_stream(query, cancellation_token=self.token)
        try:
            async for item in stream:
                if isinstance(item, RunRecord):
                    if holding:
                        gate.release()
                        holding = False
                    service.metrics.observe(item, time.monotonic() - self.started)
                    if session is not None:
                        service.sessions.after(session, item)
                    self.events.put_nowait(item)
                    return item
                self.events.put_nowait(item)
                if isinstance(item, DemonstrationsFound):  # the ladder is next: it needs a model slot
                    self.waiting = True
                    await gate.slot()
                    self.waiting = False
                    holding = True
            raise RuntimeError("run_stream ended without a record")  # pragma: no cover
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                service.metrics.queries.labels("cancelled").inc()
            self.events.put_nowait(exc)
            raise
        finally:
            if holding:
                gate.release()
            await stream.aclose()  # stopped between stages (waiting for a slot): the run is logged as cancelled
            self.events.put_nowait(None)

    def cancel(self) -> None:
        """Stop the query (the client went away, or the server is stopping).

        AutoGen's own way first: the cancellation token stops the model call and the
        team, whose runtime then shuts down cleanly. A task that has not ended a few
        seconds later is cancelled outright.
        """
        if self.task.done():
            return
        if self.waiting:  # not on a model yet: nothing to stop cleanly
            self.task.cancel()
            return
        self.token.cancel()
        asyncio.get_running_loop().call_later(_HARD_CANCEL_S, self.task.cancel)


def _pipeline_error(exc: BaseException) -> APIError:
    if isinstance(exc, SandboxError):
        return APIError(
            503,
            f"the code sandbox is unavailable: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""),
            code="sandbox_unavailable",
        )
    if isinstance(exc, EcoagentError):
        return APIError(500, exc.message + (f" ({exc.hint})" if exc.hint else ""), code="pipeline_error")
    log.error("query failed", exc_info=exc)
    return APIError(500, "the query failed on the server; its log has the details", code="internal_error")


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
        Sessions(eco),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await asyncio.to_thread(eco.warm)
        yield
        service.gate.closed = True
        for task in list(service.running):  # past the grace period: what is still running is cancelled and logged
            task.cancel()
        await asyncio.gather(*list(service.running), return_exceptions=True)
        await service.sessions.drain()
        await asyncio.to_thread(eco.close)

    app = FastAPI(
        title="ecoagent",
        summary="The ecoagent pipeline behind OpenAI's chat completions API.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = service
    install_handlers(app)

    def auth(request: Request) -> ApiKey | None:
        return service.keys.authenticate(request.headers.get("authorization"))

    def refused(handler: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except APIError as exc:
                service.metrics.rejected.labels(str(exc.status)).inc()
                return exc.response()

        wrapped.__name__ = handler.__name__
        return wrapped

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        gate = service.gate
        return {
            "status": "stopping" if gate.closed else "ok",
            "ladder": [r.name for r in eco.rungs],
            "in_flight": gate.admitted,
            "on_model": gate.on_model,
            "capacity": gate.capacity,
        }

    @app.get("/metrics")
    @refused
    async def metrics(request: Request) -> Response:
        auth(request)
        service.metrics.in_flight.set(service.gate.admitted)
        service.metrics.on_model.set(service.gate.on_model)
        return Response(service.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    def model_card(name: str, description: str, rung: Rung | None = None) -> dict[str, Any]:
        extra = (
            {"rung": rung.model_dump(mode="json", exclude={"api_key_env", "base_url"})}
            if rung
            else {"ladder": [r.name for r in eco.rungs]}
        )
        return {
            "id": name,
            "object": "model",
            "created": 0,
            "owned_by": "ecoagent",
            "description": description,
            "ecoagent": extra,
        }

    def models_list() -> list[dict[str, Any]]:
        ladder = " → ".join(r.name for r in eco.rungs)
        cards = [model_card(LADDER_MODEL, f"the whole ladder, cheapest rung first: {ladder}")]
        cards += [
            model_card(
                r.name, f"start the ladder at {r.name} ({r.model})" + (f": {r.description}" if r.description else ""), r
            )
            for r in eco.rungs
        ]
        return cards

    @app.get("/v1/models")
    @refused
    async def list_models(request: Request) -> Response:
        auth(request)
        return JSONResponse({"object": "list", "data": models_list()})

    @app.get("/v1/models/{model_id}")
    @refused
    async def get_model(request: Request) -> Response:
        auth(request)
        model_id = request.path_params["model_id"]
        service.model_index(model_id)
        return JSONResponse(next(c for c in models_list() if c["id"] == model_id))

    @app.post("/v1/chat/completions")
    @refused
    async def chat_completions(request: Request) -> Response:
        key = auth(request)
        chat = parse_chat_request(await _body(request, cfg.max_body_bytes))
        start = service.model_index(chat.model)
        if key is not None:  # an open server has no budgets: no thread hop per request
            await asyncio.to_thread(KeyRing.check_budget, key, eco.runlog)
        service.gate.enter()
        try:
            run = await _start(service, chat, start, key)
        except BaseException:
            service.gate.leave()
            raise
        run.task.add_done_callback(lambda _: service.gate.leave())
        watcher = asyncio.create_task(_disconnected(request))
        watcher.add_done_callback(lambda w: run.cancel() if not w.cancelled() else None)
        if chat.stream:
            return StreamingResponse(
                _stream(run, chat, watcher),
                media_type="text/event-stream",
                headers={"x-ecoagent-run-id": run.run_id, "cache-control": "no-cache"},
            )
        try:
            await asyncio.wait({run.task})
        finally:
            watcher.cancel()
        if run.task.cancelled():  # the client is gone; nobody reads this
            return JSONResponse(
                error_body(499, "the client closed the request; the query was cancelled"), status_code=499
            )
        exc = run.task.exception()
        if exc is not None:
            raise _pipeline_error(exc)
        record = run.task.result()
        pending, cost = run.session.take_pending() if run.session else ((0, 0), 0.0)
        body = completion(record, chat.model, summary_tokens=pending, summary_cost=cost)
        return JSONResponse(body, headers={"x-ecoagent-run-id": record.run_id})

    @app.post("/v1/feedback")
    @refused
    async def feedback(request: Request) -> Response:
        key = auth(request)
        raw = await _body(request, 64 * 1024)
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise APIError(400, 'the body must be JSON: {"run_id": "...", "good": true}', code="invalid_json") from None
        if not isinstance(data, dict) or not isinstance(data.get("run_id"), str) or not data["run_id"]:
            raise APIError(
                400,
                "run_id: required, the id a completion returned (ecoagent.run_id)",
                param="run_id",
                code="invalid_value",
            )
        if not isinstance(data.get("good"), bool):
            raise APIError(
                400,
                "good: required, true (thumbs-up: bank it) or false (thumbs-down)",
                param="good",
                code="invalid_value",
            )
        run_id = data["run_id"]
        await _owned_run(service, run_id, key)
        try:
            result = await asyncio.to_thread(eco.feedback, run_id, data["good"])
        except EcoagentError as exc:
            raise APIError(
                404 if exc.exit_code == 2 else 500, exc.message, param="run_id", code="run_not_found"
            ) from None
        return JSONResponse(
            {
                "run_id": run_id,
                "good": result.good,
                "solution_id": result.solution_id,
                "created": result.created,
                "override": result.override,
                "retired": result.retired,
                "note": result.note,
            }
        )

    @app.get("/v1/runs/{run_id}")
    @refused
    async def get_run(request: Request) -> Response:
        record = await _owned_run(service, request.path_params["run_id"], auth(request))
        return JSONResponse(record.model_dump(mode="json"))

    @app.get("/v1/runs")
    @refused
    async def list_runs(request: Request) -> Response:
        key = auth(request)
        raw = request.query_params.get("limit", "20")
        if not raw.isdigit() or not 1 <= int(raw) <= 1000:
            raise APIError(
                400, f"limit: {raw!r} is not a whole number from 1 to 1000", param="limit", code="invalid_value"
            )
        records = await asyncio.to_thread(eco.runlog.recent, int(raw), key=key.name if key else None)
        return JSONResponse({"object": "list", "data": [r.model_dump(mode="json") for r in records]})

    return app


async def _owned_run(service: Service, run_id: str, key: ApiKey | None) -> RunRecord:
    record = await asyncio.to_thread(service.eco.runlog.get, run_id)
    if record is None or (key is not None and record.key_name != key.name):
        raise APIError(
            404,
            f"no run with id {run_id!r}" + (" for this key" if key is not None else ""),
            param="run_id",
            code="run_not_found",
        )
    return record


async def _start(service: Service, chat: ChatRequest, start: int, key: ApiKey | None) -> _Run:
    """Build the query (with its session's memory) and start it."""
    turns = split_messages(chat, service.settings.history_turns)
    session = None
    history = turns.history
    key_name = key.name if key else None
    if chat.session_id is not None:
        session = await service.sessions.get(chat.session_id, key_name)
        await session.lock.acquire()  # one turn of a session at a time, in order
        try:
            history = await service.sessions.query(session, turns.question, turns.history)
        except BaseException:
            session.lock.release()
            raise
    try:
        query = to_query(chat, turns, start_rung=start, history=history, key_name=key_name).but(run_id=new_run_id())
        run = _Run(service, query, session)
    except BaseException:
        if session is not None:
            session.lock.release()
        raise
    if session is not None:
        held = session

        def unlock(_: object) -> None:
            task = held.summarizing
            if task is None or task.done():
                held.lock.release()
            else:  # the next turn of the session reads the summary this turn is writing
                task.add_done_callback(lambda _: held.lock.release())

        run.task.add_done_callback(unlock)
    return run


def _sse(data: dict[str, Any] | str) -> bytes:
    return f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n".encode()


async def _stream(run: _Run, chat: ChatRequest, watcher: asyncio.Task[None]) -> AsyncIterator[bytes]:
    """OpenAI's chunk stream: the role, one progress chunk per pipeline event, the answer,
    the finish (with the ``ecoagent`` report), usage if asked for, then ``[DONE]``."""
    created, model, run_id = now(), chat.model, run.run_id
    try:
        yield _sse(chunk(run_id, model, created, delta={"role": "assistant", "content": ""}))
        while True:
            item = await run.events.get()
            if item is None:
                break
            if isinstance(item, BaseException):
                if not isinstance(item, asyncio.CancelledError):
                    yield _sse(_pipeline_error(item).body())
                break
            if isinstance(item, RunRecord):
                record = item
                pending, cost = run.session.take_pending() if run.session else ((0, 0), 0.0)
                body = completion(record, model, summary_tokens=pending, summary_cost=cost)
                content = body["choices"][0]["message"]["content"]
                yield _sse(chunk(record.run_id, model, created, delta={"content": content}))
                yield _sse(
                    chunk(
                        record.run_id,
                        model,
                        created,
                        finish="stop",
                        extra=report(record, summary_tokens=sum(pending), summary_cost=cost),
                    )
                )
                if chat.include_usage:
                    yield _sse(chunk(record.run_id, model, created, usage=usage(record, pending), choices=False))
                continue
            yield _sse(chunk(run_id, model, created, extra=event_fields(item)))
        yield _sse("[DONE]")
    finally:
        watcher.cancel()
        if not run.task.done():  # the client stopped reading: the query stops too
            run.cancel()
