"""What the service holds, and one query's run in it: the assistant, keys and admission
(:class:`Service`), a query in a task of its own that a client's hang-up cancels
(:class:`Run`), and its events as OpenAI's chunk stream (:func:`stream`).

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
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from autogen_core import CancellationToken
from fastapi import Request
from openai.types.chat import ChatCompletionChunk
from openai.types.chat.chat_completion_chunk import ChoiceDelta
from sse_starlette import ServerSentEvent

from ..assistant import EcoAssistant
from ..config import ServeSettings
from ..errors import EcoagentError, SandboxError
from ..events import DemonstrationsFound, Event
from ..query import Query
from ..records import RunRecord, new_run_id
from .errors import APIError
from .gate import Gate
from .keys import ApiKey, KeyRing
from .metrics import Metrics
from .request import ChatRequest, split_messages, to_query
from .response import chunk, completion, event_fields, now, report, usage, wire

__all__ = [
    "LADDER_MODEL",
    "Run",
    "Service",
    "owned_run",
    "pipeline_error",
    "read_body",
    "start",
    "stream",
    "watch_disconnect",
]

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


async def read_body(request: Request, limit: int) -> bytes:
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


async def watch_disconnect(request: Request) -> None:
    """Return when the client hangs up (the body has been read: nothing else arrives)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


class Run:
    """One query in its own task: events into a queue, the record at the end.

    The admission is released when the task ends, whatever happens to the request,
    and a model slot is held only while the ladder runs.
    """

    def __init__(self, service: Service, query: Query) -> None:
        self.service = service
        self.run_id = query.run_id or ""
        self.events: asyncio.Queue[Event | RunRecord | BaseException | None] = asyncio.Queue()
        self.started = time.monotonic()
        self.token = CancellationToken()
        self.waiting = False  # for a model slot
        self.task = asyncio.create_task(self._main(query))
        service.running.add(self.task)
        self.task.add_done_callback(service.running.discard)
        self.task.add_done_callback(lambda t: t.cancelled() or t.exception())  # reported through the queue

    async def _main(self, query: Query) -> RunRecord:
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


def pipeline_error(exc: BaseException) -> APIError:
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


async def owned_run(service: Service, run_id: str, key: ApiKey | None) -> RunRecord:
    record = await asyncio.to_thread(service.eco.runlog.get, run_id)
    if record is None or (key is not None and record.key_name != key.name):
        raise APIError(
            404,
            f"no run with id {run_id!r}" + (" for this key" if key is not None else ""),
            param="run_id",
            code="run_not_found",
        )
    return record


async def start(service: Service, chat: ChatRequest, start: int, key: ApiKey | None) -> Run:
    """Build the query and start it (a query naming a session gets the session's memory from
    the assistant's memory stage, which also runs a session's turns in order)."""
    turns = split_messages(chat, service.settings.history_turns)
    query = to_query(chat, turns, start_rung=start, key_name=key.name if key else None)
    return Run(service, query.but(run_id=new_run_id()))


def _data(body: ChatCompletionChunk | dict[str, Any] | str) -> ServerSentEvent:
    if isinstance(body, ChatCompletionChunk):
        body = wire(body)
    return ServerSentEvent(data=body if isinstance(body, str) else json.dumps(body))


async def stream(run: Run, chat: ChatRequest, watcher: asyncio.Task[None]) -> AsyncIterator[ServerSentEvent]:
    """OpenAI's chunk stream: the role, one progress chunk per pipeline event, the answer,
    the finish (with the ``ecoagent`` report), usage if asked for, then ``[DONE]``."""
    created, model, run_id = now(), chat.model, run.run_id
    try:
        yield _data(chunk(run_id, model, created, delta=ChoiceDelta(role="assistant", content="")))
        while True:
            item = await run.events.get()
            if item is None:
                break
            if isinstance(item, BaseException):
                if not isinstance(item, asyncio.CancelledError):
                    yield _data(pipeline_error(item).body())
                break
            if isinstance(item, RunRecord):
                content = completion(item, model).choices[0].message.content
                yield _data(chunk(item.run_id, model, created, delta=ChoiceDelta(content=content)))
                yield _data(chunk(item.run_id, model, created, finish="stop", extra=report(item)))
                if chat.include_usage:
                    yield _data(chunk(item.run_id, model, created, usage=usage(item), choices=False))
                continue
            yield _data(chunk(run_id, model, created, extra=event_fields(item)))
        yield _data("[DONE]")
    finally:
        watcher.cancel()
        if not run.task.done():  # the client stopped reading: the query stops too
            run.cancel()
