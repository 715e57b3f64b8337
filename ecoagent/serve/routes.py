"""The endpoints: OpenAI's ``/v1/chat/completions`` and ``/v1/models``, and ecoagent's feedback,
run log, health and metrics, as one router.

Each handler gets the :class:`~.service.Service` and the caller's key from dependencies
(``ServiceDep``, ``KeyDep``: a missing or wrong key is a 401 before anything else runs),
validates what it reads with pydantic, and hands the work to the pipeline. A refusal is an
:class:`~.errors.APIError`, answered in OpenAI's shape by the handlers :mod:`.errors` installs.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, StrictBool, ValidationError
from sse_starlette import EventSourceResponse

from ..config import Rung
from ..errors import EcoagentError
from .errors import APIError, error_body
from .keys import ApiKey, KeyRing
from .request import field_name, parse_chat_request
from .response import completion, wire
from .service import LADDER_MODEL, Service, owned_run, pipeline_error, read_body, start, stream, watch_disconnect

__all__ = ["BudgetDep", "FeedbackRequest", "KeyDep", "ServiceDep", "router"]


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(_service)]


def _key(request: Request, service: ServiceDep) -> ApiKey | None:
    return service.keys.authenticate(request.headers.get("authorization"))


KeyDep = Annotated[ApiKey | None, Depends(_key)]
"""The caller's key (None on a server without keys); a missing or wrong key is a 401."""


async def _within_budget(service: ServiceDep, key: KeyDep) -> ApiKey | None:
    if key is not None:  # an open server has no budgets: no thread hop per request
        await asyncio.to_thread(KeyRing.check_budget, key, service.eco.runlog)
    return key


BudgetDep = Annotated[ApiKey | None, Depends(_within_budget)]
"""The caller's key, with budget left (a spent budget is a 429)."""

router = APIRouter()


class FeedbackRequest(BaseModel):
    """``POST /v1/feedback``: a thumbs-up or thumbs-down on a run."""

    run_id: str = Field(..., min_length=1, description="the id a completion returned (ecoagent.run_id)")
    good: StrictBool = Field(..., description="true (thumbs-up: bank it) or false (thumbs-down)")


@router.get("/healthz")
async def healthz(service: ServiceDep) -> dict[str, Any]:
    gate = service.gate
    return {
        "status": "stopping" if gate.closed else "ok",
        "ladder": [r.name for r in service.eco.rungs],
        "in_flight": gate.admitted,
        "on_model": gate.on_model,
        "capacity": gate.capacity,
    }


@router.get("/metrics")
async def metrics(service: ServiceDep, key: KeyDep) -> Response:
    service.metrics.in_flight.set(service.gate.admitted)
    service.metrics.on_model.set(service.gate.on_model)
    return Response(service.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")


def _card(service: Service, name: str, description: str, rung: Rung | None = None) -> dict[str, Any]:
    extra = (
        {"rung": rung.model_dump(mode="json", exclude={"api_key_env", "base_url"})}
        if rung
        else {"ladder": [r.name for r in service.eco.rungs]}
    )
    return {
        "id": name,
        "object": "model",
        "created": 0,
        "owned_by": "ecoagent",
        "description": description,
        "ecoagent": extra,
    }


def _cards(service: Service) -> list[dict[str, Any]]:
    rungs = service.eco.rungs
    cards = [
        _card(service, LADDER_MODEL, "the whole ladder, cheapest rung first: " + " → ".join(r.name for r in rungs))
    ]
    for r in rungs:
        cards.append(
            _card(
                service,
                r.name,
                f"start the ladder at {r.name} ({r.model})" + (f": {r.description}" if r.description else ""),
                r,
            )
        )
    return cards


@router.get("/v1/models")
async def list_models(service: ServiceDep, key: KeyDep) -> dict[str, Any]:
    return {"object": "list", "data": _cards(service)}


@router.get("/v1/models/{model_id}")
async def get_model(model_id: str, service: ServiceDep, key: KeyDep) -> dict[str, Any]:
    service.model_index(model_id)
    return next(c for c in _cards(service) if c["id"] == model_id)


@router.post("/v1/chat/completions")
async def chat_completions(request: Request, service: ServiceDep, key: BudgetDep) -> Response:
    chat = parse_chat_request(await read_body(request, service.settings.max_body_bytes))
    first = service.model_index(chat.model)
    service.gate.enter()
    try:
        run = await start(service, chat, first, key)
    except BaseException:
        service.gate.leave()
        raise
    run.task.add_done_callback(lambda _: service.gate.leave())
    watcher = asyncio.create_task(watch_disconnect(request))
    watcher.add_done_callback(lambda w: run.cancel() if not w.cancelled() else None)
    if chat.stream:
        return EventSourceResponse(stream(run, chat, watcher), headers={"x-ecoagent-run-id": run.run_id}, sep="\n")
    try:
        await asyncio.wait({run.task})
    finally:
        watcher.cancel()
    if run.task.cancelled():  # the client is gone; nobody reads this
        return JSONResponse(error_body(499, "the client closed the request; the query was cancelled"), status_code=499)
    exc = run.task.exception()
    if exc is not None:
        raise pipeline_error(exc)
    record = run.task.result()
    return JSONResponse(wire(completion(record, chat.model)), headers={"x-ecoagent-run-id": record.run_id})


@router.post("/v1/feedback")
async def feedback(request: Request, service: ServiceDep, key: KeyDep) -> dict[str, Any]:
    raw = await read_body(request, 64 * 1024)
    try:
        data = FeedbackRequest.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = field_name(tuple(first["loc"]))
        if first["type"] == "json_invalid" or not where:
            raise APIError(
                400, 'the body must be a JSON object: {"run_id": "...", "good": true}', code="invalid_json"
            ) from None
        field = FeedbackRequest.model_fields.get(where)
        hint = f"; send {field.description}" if field is not None and field.description else ""
        raise APIError(400, f"{where}: {first['msg']}{hint}", param=where, code="invalid_value") from None
    await owned_run(service, data.run_id, key)
    try:
        result = await asyncio.to_thread(service.eco.feedback, data.run_id, data.good)
    except EcoagentError as exc:
        raise APIError(404 if exc.exit_code == 2 else 500, exc.message, param="run_id", code="run_not_found") from None
    return {
        "run_id": data.run_id,
        "good": result.good,
        "solution_id": result.solution_id,
        "created": result.created,
        "override": result.override,
        "retired": result.retired,
        "note": result.note,
    }


@router.get("/v1/runs/{run_id}")
async def get_run(run_id: str, service: ServiceDep, key: KeyDep) -> dict[str, Any]:
    record = await owned_run(service, run_id, key)
    return record.model_dump(mode="json")


@router.get("/v1/runs")
async def list_runs(
    service: ServiceDep,
    key: KeyDep,
    limit: Annotated[int, Query(ge=1, le=1000, description="How many, newest first.")] = 20,
) -> dict[str, Any]:
    records = await asyncio.to_thread(service.eco.runlog.recent, limit, key=key.name if key else None)
    return {"object": "list", "data": [r.model_dump(mode="json") for r in records]}
