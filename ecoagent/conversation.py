"""A conversation's turns: what a chat remembers between queries.

Follow-up turns carry the last few turns (question and answer) as context for the
model; retrieval, the run log and banking stay keyed on the new question alone.
``/new`` forgets the context but not the session's history or cost.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from .costs import CostTally
from .query import Query
from .records import RunRecord

__all__ = ["Conversation"]


@dataclass
class Conversation:
    """Turns, context and cost of one chat session.

    Args:
        context_turns: Earlier turns shown to the model on a follow-up.
    """

    context_turns: int = 3
    session: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    turns: list[RunRecord] = field(default_factory=list)
    context: list[RunRecord] = field(default_factory=list)
    cost: CostTally = field(default_factory=CostTally)

    def context_text(self) -> str | None:
        """The earlier turns the model reads on a follow-up (None when there are none)."""
        recent = self.context[-self.context_turns :] if self.context_turns else []
        if not recent:
            return None
        return "\n".join(f"Q: {r.query}\nA: {r.final_answer or '(unresolved)'}" for r in recent)

    def query(self, text: str, *, start_rung: int = 0) -> Query:
        """The next turn's query, with this conversation's context and session."""
        return Query(text, start_rung=start_rung, context=self.context_text(), session=self.session)

    def add(self, record: RunRecord, *, retry: bool = False) -> None:
        """Count a finished turn; a retry replaces the turn it retried in the context."""
        self.turns.append(record)
        if not retry or not self.context:
            self.context.append(record)
        else:
            self.context[-1] = record
        self.cost.add(record)

    @property
    def last(self) -> RunRecord | None:
        """The latest turn, if any."""
        return self.turns[-1] if self.turns else None

    def new(self) -> None:
        """Forget the context (history and cost stay)."""
        self.context.clear()
