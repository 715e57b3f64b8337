"""OpenAI's chat request in: a request body becomes a :class:`~ecoagent.query.Query`.

The last user message is the query; earlier turns are its history (so the cache and
replay see only first turns); system and developer messages are instructions the model
reads with the question (they join the query's ``context``, so the exact cache tells two
system prompts apart). ecoagent's own options travel as extra top-level fields (the
``openai`` SDK's ``extra_body``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..config import MAX_CONTEXT_CHARS, MAX_QUERY_CHARS
from ..errors import EcoagentError
from ..query import Query
from .errors import APIError

__all__ = ["ChatMessage", "ChatRequest", "Turns", "field_name", "parse_chat_request", "split_messages", "to_query"]

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
    replaces: str | None = Field(
        None, min_length=1, max_length=64, description="The run id of the session's last turn this one asks again."
    )
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
    _check_messages(request.messages)
    return request


def _check_messages(messages: list[ChatMessage]) -> None:
    """Roles ecoagent reads, text parts only, and a last message that is the user's question.

    Raises:
        APIError: 400 naming the message.
    """
    for i, message in enumerate(messages):
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
    last = len(messages) - 1
    if messages[last].role != "user":
        raise APIError(
            400,
            f"messages[{last}]: the last message must be the user's question (role 'user'), "
            f"not {messages[last].role!r}",
            param=f"messages[{last}].role",
            code="invalid_value",
        )
    if not messages[last].text().strip():
        raise APIError(
            400,
            f"messages[{last}].content: the question is empty",
            param=f"messages[{last}].content",
            code="invalid_value",
        )
    if len(messages[last].text().strip()) > MAX_QUERY_CHARS:
        raise APIError(
            400,
            f"messages[{last}].content: the question is over {MAX_QUERY_CHARS} characters; "
            "send the material it is about as 'context'",
            param=f"messages[{last}].content",
            code="invalid_value",
        )


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
            replaces=request.replaces,
            cache=not request.no_cache,
            key_name=key_name,
        )
    except EcoagentError as exc:
        raise APIError(400, exc.message + (f" ({exc.hint})" if exc.hint else ""), code="invalid_value") from None
