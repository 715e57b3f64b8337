"""The typed events a run yields, stage by stage, before its :class:`~ecoagent.records.RunRecord`.

``EcoAssistant.run_stream(query)`` yields these as they happen and ends with the
record. The terminal renders them (chat, ask, batch); a library user can render,
log or ignore them. The core never prints: whatever shows a run reads these.
Later stages (cache, router, memory, compression) add their own event types here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from .config import Rung
from .records import CompressionStep, Demonstration, Execution, FirstTurn, Message, Routing, RungAttempt

__all__ = [
    "CacheChecked",
    "CodeExecuted",
    "Compressed",
    "DemonstrationsFound",
    "Escalated",
    "Event",
    "ModelMessage",
    "Routed",
    "RungJudged",
    "RungStarted",
]


@dataclass(frozen=True)
class CacheChecked:
    """The first-turn stage found something: served it (``step.served``), or refused it and why."""

    step: FirstTurn

    @property
    def served(self) -> bool:
        """Whether the query was answered without a model."""
        return self.step.served


@dataclass(frozen=True)
class Routed:
    """The router chose the start rung (``routing.reason`` and its estimates say why)."""

    routing: Routing


@dataclass(frozen=True)
class DemonstrationsFound:
    """The bank's confirmed solutions that go into the first message (possibly none)."""

    demonstrations: list[Demonstration]


@dataclass(frozen=True)
class RungStarted:
    """A rung starts a fresh conversation on the query (``sample`` > 0: another, sampled attempt
    of the same rung, which the evidence judge compares with the first)."""

    rung: Rung
    index: int
    sample: int = 0


@dataclass(frozen=True)
class Compressed:
    """The rung reads a compressed first message (or compression was considered and
    skipped: ``step.skipped`` says why)."""

    rung: Rung
    step: CompressionStep


@dataclass(frozen=True)
class ModelMessage:
    """The rung's assistant said something (code, prose, or the done word)."""

    rung: Rung
    message: Message


@dataclass(frozen=True)
class CodeExecuted:
    """The sandbox ran the assistant's code (from AutoGen's ``CodeExecutionEvent``)."""

    rung: Rung
    execution: Execution


@dataclass(frozen=True)
class RungJudged:
    """The judge decided the rung's attempt; ``attempt.verdict`` says how and why."""

    rung: Rung
    attempt: RungAttempt

    @property
    def ok(self) -> bool:
        """Whether the rung solved the query."""
        return bool(self.attempt.verdict and self.attempt.verdict.ok)


@dataclass(frozen=True)
class Escalated:
    """The rung failed; the next, more expensive one starts from scratch."""

    from_rung: Rung
    to_rung: Rung
    reason: str


Event: TypeAlias = (
    CacheChecked
    | Routed
    | DemonstrationsFound
    | RungStarted
    | Compressed
    | ModelMessage
    | CodeExecuted
    | RungJudged
    | Escalated
)
"""Anything ``run_stream`` yields before the record."""
