"""The typed events a run yields, stage by stage, before its :class:`~ecoagent.records.RunRecord`.

``EcoAssistant.run_stream(query)`` yields these as they happen and ends with the
record. The terminal renders them (chat, ask, batch); a library user can render,
log or ignore them. The core never prints: whatever shows a run reads these.

They are one discriminated pydantic union (:data:`Event`, tagged by ``event``), so one
adapter (:data:`EVENTS`) writes them to JSON and reads them back: ``ecoagent serve`` sends
each as the ``ecoagent`` field of a progress chunk, and the CLI, as the server's client,
turns it back into the same event. On the wire a rung leaves out where its endpoint is and
which variable holds its key (``base_url``, ``api_key_env``), as ``/v1/models`` does.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, TypeAdapter

from .config import Rung
from .records import (
    CompressionStep,
    Demonstration,
    Execution,
    FirstTurn,
    MemoryStep,
    Message,
    Routing,
    RungAttempt,
)

__all__ = [
    "EVENTS",
    "CacheChecked",
    "CodeExecuted",
    "Compressed",
    "DemonstrationsFound",
    "Escalated",
    "Event",
    "MemoryRecalled",
    "ModelMessage",
    "Routed",
    "RungJudged",
    "RungStarted",
]


def _public(rung: Rung) -> dict[str, Any]:
    return rung.model_dump(mode="json", exclude={"api_key_env", "base_url"})


WireRung = Annotated[Rung, PlainSerializer(_public, when_used="json")]
"""A rung; written to JSON without its endpoint and key variable."""


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True)


class MemoryRecalled(_Event):
    """The query belongs to a session: ``step`` says what of the conversation its first message
    carries (summary, verbatim turns, recalled ones) and what the last summary cost."""

    event: Literal["memory"] = "memory"
    step: MemoryStep


class CacheChecked(_Event):
    """The first-turn stage found something: served it (``step.served``), or refused it and why."""

    event: Literal["first_turn"] = "first_turn"
    step: FirstTurn

    @property
    def served(self) -> bool:
        """Whether the query was answered without a model."""
        return self.step.served


class Routed(_Event):
    """The router chose the start rung (``routing.reason`` and its estimates say why)."""

    event: Literal["routed"] = "routed"
    routing: Routing


class DemonstrationsFound(_Event):
    """The bank's confirmed solutions that go into the first message (possibly none)."""

    event: Literal["demonstrations"] = "demonstrations"
    demonstrations: list[Demonstration]


class RungStarted(_Event):
    """A rung starts a fresh conversation on the query (``sample`` > 0: another, sampled attempt
    of the same rung, which the evidence judge compares with the first)."""

    event: Literal["rung_started"] = "rung_started"
    rung: WireRung
    index: int
    sample: int = 0


class Compressed(_Event):
    """The rung reads a compressed first message (or compression was considered and
    skipped: ``step.skipped`` says why)."""

    event: Literal["compressed"] = "compressed"
    rung: WireRung
    step: CompressionStep


class ModelMessage(_Event):
    """The rung's assistant said something (code, prose, or the done word)."""

    event: Literal["model_message"] = "model_message"
    rung: WireRung
    message: Message


class CodeExecuted(_Event):
    """The sandbox ran the assistant's code (from AutoGen's ``CodeExecutionEvent``)."""

    event: Literal["code_executed"] = "code_executed"
    rung: WireRung
    execution: Execution


class RungJudged(_Event):
    """The judge decided the rung's attempt; ``attempt.verdict`` says how and why."""

    event: Literal["judged"] = "judged"
    rung: WireRung
    attempt: RungAttempt

    @property
    def ok(self) -> bool:
        """Whether the rung solved the query."""
        return bool(self.attempt.verdict and self.attempt.verdict.ok)


class Escalated(_Event):
    """The rung failed; the next, more expensive one starts from scratch."""

    event: Literal["escalated"] = "escalated"
    from_rung: WireRung
    to_rung: WireRung
    reason: str


Event: TypeAlias = Annotated[
    MemoryRecalled
    | CacheChecked
    | Routed
    | DemonstrationsFound
    | RungStarted
    | Compressed
    | ModelMessage
    | CodeExecuted
    | RungJudged
    | Escalated,
    Field(discriminator="event"),
]
"""Anything ``run_stream`` yields before the record."""

EVENTS: TypeAdapter[Event] = TypeAdapter(Event)
"""Reads and writes any :data:`Event` (``EVENTS.dump_python(e, mode="json")``, ``EVENTS.validate_python(d)``)."""
