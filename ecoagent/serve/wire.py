"""OpenAI's wire format in and out: a request body becomes a :class:`~ecoagent.query.Query`,
a :class:`~ecoagent.records.RunRecord` becomes a ``chat.completion``, each pipeline event a
``chat.completion.chunk``.

Nothing here answers anything. The last user message is the query; earlier turns are
its history (so the cache and replay see only first turns); system and developer
messages are instructions the model reads with the question (they join the query's
``context``, so the exact cache tells two system prompts apart). ecoagent's own options
travel as extra top-level fields (the ``openai`` SDK's ``extra_body``), and its own
results as an ``ecoagent`` field that OpenAI clients ignore.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..config import MAX_CONTEXT_CHARS, MAX_QUERY_CHARS
from ..errors import EcoagentError
from ..events import EVENTS, Event
from ..query import Query
from ..records import RunRecord
from .errors import APIError

__all__ = [
    "ChatMessage",
    "ChatRequest",
    "Turns",
    "chunk",
    "completion",
    "event_fields",
    "field_name",
    "now",
    "parse_chat_request",
    "report",
    "split_messages",
    "to_query",
    "unresolved_text",
    "answer_text",
    "usage",
]

_OUTPUT_CHARS = 2000
_ROLES = {"system", "developer", "user", "assistant"}


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    """One message of the request."""

    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[_Part] | None = None
    name: str | None = None

    def text(self) -> str:
        """The message's text (text parts joined)."""
        if isinstance(self.content, list):
            return "\n".join(p.text or "" for p in self.content)
        return self.content or ""


class ChatRequest(BaseModel):
    """The fields of ``POST /v1/chat/completions`` that ecoagent reads, and OpenAI's sampling
    options, checked as OpenAI checks them (types and ranges: ``"temperature": "hot"`` is a 400)
    and then left to the ladder's settings: each rung samples as its configuration says, so
    that its answers stay comparable with the ones its calibration counted."""

    model_config = ConfigDict(extra="allow")
    model: str = Field(..., min_length=1)
    messages: list[ChatMessage] = Field(..., min_length=1)
    stream: bool = Field(False, strict=True)
    stream_options: dict[str, Any] | None = None
    n: int | None = Field(None, ge=1, le=1, strict=True, description="One answer per request.")
    metadata: dict[str, Any] | None = None
    # OpenAI's sampling options: validated, not applied (see the class docstring)
    temperature: float | None = Field(None, ge=0, le=2, strict=True)
    top_p: float | None = Field(None, ge=0, le=1, strict=True)
    max_tokens: int | None = Field(None, ge=1, strict=True)
    max_completion_tokens: int | None = Field(None, ge=1, strict=True)
    presence_penalty: float | None = Field(None, ge=-2, le=2, strict=True)
    frequency_penalty: float | None = Field(None, ge=-2, le=2, strict=True)
    seed: int | None = Field(None, strict=True)
    stop: str | list[str] | None = Field(None, max_length=4)
    user: str | None = Field(None, strict=True)
    logprobs: bool | None = Field(None, strict=True)
    top_logprobs: int | None = Field(None, ge=0, le=20, strict=True)
    logit_bias: dict[str, float] | None = None
    response_format: dict[str, Any] | None = None
    # ecoagent's own (extra_body)
    session: str | None = Field(None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    expected: str | None = None
    expected_regex: str | None = None
    tests: str | None = Field(None, max_length=MAX_CONTEXT_CHARS)
    entry_point: str | None = Field(None, max_length=200)
    judge: Literal["evidence", "auto", "expected", "tests", "llm"] | None = None
    context: str | None = Field(None, max_length=MAX_CONTEXT_CHARS)
    no_cache: bool = False

    @field_validator("expected_regex")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression ({exc})") from exc
        return v

    @property
    def session_id(self) -> str | None:
        """``session``, else ``metadata.session``."""
        if self.session:
            return self.session
        value = (self.metadata or {}).get("session")
        return str(value) if value else None

    @property
    def include_usage(self) -> bool:
        """Whether a streamed answer ends with a usage chunk."""
        return bool((self.stream_options or {}).get("include_usage"))


def field_name(loc: tuple[int | str, ...]) -> str:
    """A validation error's location as the request field it names (``messages[2].role``)."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_chat_request(body: bytes) -> ChatRequest:
    """The request, validated.

    Raises:
        APIError: 400 naming the field for anything malformed.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise APIError(
            400, f"the request body is not UTF-8 (byte {exc.start}): send JSON text", code="invalid_body"
        ) from None
    if not text.strip():
        raise APIError(
            400, "the request body is empty: send a JSON object with 'model' and 'messages'", code="invalid_body"
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise APIError(
            400,
            f"the request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            code="invalid_json",
        ) from None
    if not isinstance(data, dict):
        raise APIError(400, f"the request body must be a JSON object, not {type(data).__name__}", code="invalid_body")
    for name in ("tools", "functions"):
        if data.get(name):
            raise APIError(
                400,
                f"'{name}' is not supported: ecoagent answers by writing and running code itself",
                param=name,
                code="unsupported_parameter",
            )
    try:
        request = ChatRequest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = field_name(tuple(first["loc"]))
        raise APIError(400, f"{where}: {first['msg']}", param=where, code="invalid_value") from None
    for i, message in enumerate(request.messages):
        if message.role not in _ROLES:
            hint = (
                "tool calls are not supported"
                if message.role in ("tool", "function")
                else "use system, developer, user or assistant"
            )
            raise APIError(
                400,
                f"messages[{i}].role: {message.role!r} is not a role ecoagent reads ({hint})",
                param=f"messages[{i}].role",
                code="invalid_value",
            )
        if isinstance(message.content, list):
            for j, part in enumerate(message.content):
                if part.type != "text":
                    raise APIError(
                        400,
                        f"messages[{i}].content[{j}]: only text parts are supported, not {part.type!r}",
                        param=f"messages[{i}].content[{j}].type",
                        code="invalid_value",
                    )
    last = len(request.messages) - 1
    if request.messages[last].role != "user":
        raise APIError(
            400,
            f"messages[{last}]: the last message must be the user's question (role 'user'), "
            f"not {request.messages[last].role!r}",
            param=f"messages[{last}].role",
            code="invalid_value",
        )
    if not request.messages[last].text().strip():
        raise APIError(
            400,
            f"messages[{last}].content: the question is empty",
            param=f"messages[{last}].content",
            code="invalid_value",
        )
    if len(request.messages[last].text().strip()) > MAX_QUERY_CHARS:
        raise APIError(
            400,
            f"messages[{last}].content: the question is over {MAX_QUERY_CHARS} characters; "
            "send the material it is about as 'context'",
            param=f"messages[{last}].content",
            code="invalid_value",
        )
    return request


@dataclass(frozen=True)
class Turns:
    """The request's messages, split the way the pipeline reads them."""

    question: str
    instructions: str | None
    history: str | None


def split_messages(request: ChatRequest, keep_turns: int) -> Turns:
    """The question (last user message), the system/developer instructions, and the
    earlier turns as history (at most ``keep_turns`` of them)."""
    *earlier, last = request.messages
    instructions = "\n\n".join(
        m.text().strip() for m in earlier if m.role in ("system", "developer") and m.text().strip()
    )
    turns: list[str] = []
    for m in earlier:
        text = m.text().strip()
        if not text or m.role in ("system", "developer"):
            continue
        if m.role == "user":
            turns.append(f"Q: {text}")
        elif turns:
            turns[-1] += f"\nA: {text}"
        else:
            turns.append(f"A: {text}")
    kept = turns[-keep_turns:] if keep_turns else []
    return Turns(last.text().strip(), instructions or None, "\n".join(kept) or None)


def to_query(request: ChatRequest, turns: Turns, *, start_rung: int, key_name: str | None) -> Query:
    """The pipeline's query.

    Raises:
        APIError: 400 when the query itself is invalid (the message says why).
    """
    context = (
        "\n\n".join(
            x
            for x in (
                f"Instructions from the application:\n{turns.instructions}" if turns.instructions else None,
                request.context,
            )
            if x
        )
        or None
    )
    try:
        return Query(
            turns.question,
            expected=request.expected,
            expected_regex=request.expected_regex,
            tests=request.tests,
            entry_point=request.entry_point,
            judge=request.judge,
            start_rung=start_rung,
            history=turns.history,
            context=context,
            session=request.session_id,
            cache=not request.no_cache,
            key_name=key_name,
        )
    except EcoagentError as exc:
        raise APIError(400, exc.message + (f" ({exc.hint})" if exc.hint else ""), code="invalid_value") from None


def unresolved_text(record: RunRecord) -> str:
    """What the client reads when no rung resolved the query: that it failed, why, and
    the last output (so an application never mistakes it for an answer)."""
    last = record.attempts[-1] if record.attempts else None
    why = (last.verdict.reason if last and last.verdict else last.error if last else None) or "no rung answered"
    text = f"ecoagent could not resolve this query ({why})."
    found = record.last_execution
    if found is not None and found[1].output.strip():
        text += f"\nLast output:\n{found[1].output.strip()[:_OUTPUT_CHARS]}"
    return text


def answer_text(record: RunRecord) -> str:
    """The message content: the answer (resolved, or unverified: the ``ecoagent`` object says
    which, with the risk), else what went wrong."""
    if (record.resolved or record.unverified) and record.final_answer is not None:
        return record.final_answer
    return unresolved_text(record)


def report(record: RunRecord) -> dict[str, Any]:
    """The ``ecoagent`` object of a completion: what answered, what it cost (with the session's
    summary written since its previous turn), and why."""
    memory = record.memory
    last = record.attempts[-1] if record.attempts else None
    verdict = (
        record.first_turn.verdict if record.served_from_cache and record.first_turn else last.verdict if last else None
    )
    escalations = [
        {"from": a.rung, "to": b.rung, "reason": a.verdict.reason if a.verdict else a.error or ""}
        for a, b in zip(record.attempts, record.attempts[1:], strict=False)
    ]
    first = record.first_turn
    return {
        "run_id": record.run_id,
        "answered_by": record.answered_by,
        "resolved": record.resolved,
        "unverified": record.unverified,
        "risk": None if record.risk is None else round(record.risk, 4),
        "risk_note": record.risk_note,
        "verdict": (
            {
                "ok": False,
                "judge": verdict.judge if verdict else "evidence",
                "reason": f"unverified: {record.risk_note or 'nothing independent backed this answer'}",
            }
            if record.unverified
            else verdict.model_dump(include={"ok", "judge", "reason"})
            if verdict
            else None
        ),
        "rungs": [a.rung for a in record.attempts],
        "escalations": escalations,
        "cost": round(record.total_cost + (memory.summary_cost if memory else 0.0), 10),
        "top_rung_cost_estimate": round(record.top_rung_cost_estimate, 10),
        "estimate_note": "estimate: the same tokens and compute seconds at the top rung's prices",
        "demonstrations": [{"id": d.id, "score": round(d.score, 4), "query": d.query} for d in record.demonstrations],
        "first_turn": None
        if first is None
        else {
            "kind": first.kind,
            "served": first.served,
            "reason": first.reason,
            "score": first.score,
            "matched_query": first.matched_query,
        },
        "code": record.final_code,
        "summary_tokens": memory.summary_tokens if memory else 0,
        "duration_s": round(record.duration_s, 4),
    }


def usage(record: RunRecord) -> dict[str, int]:
    """Tokens really spent: every rung, the router, the judge, and the conversation summary
    this turn read (0 on a cache or replay hit)."""
    memory = record.memory
    prompt = record.prompt_tokens + (memory.summary_prompt_tokens if memory else 0)
    completion = record.completion_tokens + (memory.summary_completion_tokens if memory else 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def completion(record: RunRecord, model: str) -> dict[str, Any]:
    """A ``chat.completion`` object for a finished run."""
    content = answer_text(record)
    return {
        "id": f"chatcmpl-{record.run_id}",
        "object": "chat.completion",
        "created": int(record.created_at.timestamp()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": usage(record),
        "ecoagent": report(record),
    }


def chunk(
    run_id: str,
    model: str,
    created: int,
    *,
    delta: dict[str, Any] | None = None,
    finish: str | None = None,
    extra: dict[str, Any] | None = None,
    usage: dict[str, int] | None = None,
    choices: bool = True,
) -> dict[str, Any]:
    """One ``chat.completion.chunk``; ``extra`` travels as the ``ecoagent`` field."""
    body: dict[str, Any] = {
        "id": f"chatcmpl-{run_id}",
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish, "logprobs": None}] if choices else [],
    }
    if usage is not None:
        body["usage"] = usage
    if extra is not None:
        body["ecoagent"] = extra
    return body


def event_fields(event: Event) -> dict[str, Any]:
    """A pipeline event as the ``ecoagent`` field of a progress chunk: the event itself, tagged by
    ``event`` (:data:`~ecoagent.events.EVENTS` reads it back, as the CLI does)."""
    fields: dict[str, Any] = EVENTS.dump_python(event, mode="json")
    return fields


def now() -> int:
    """Seconds since the epoch, for ``created``."""
    return int(time.time())
