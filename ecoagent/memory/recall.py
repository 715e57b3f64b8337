"""Recall of earlier turns: every finished chat turn in Qdrant, per user, across sessions.

In the manner of Zep's perpetual memory: a follow-up finds the few earlier turns most
similar to it (above a threshold), and they go into its first message. They are not
appended to a system message that every later turn pays for again. A turn is stored as
what a later question needs: the question, the answer, and what the code printed.

The turns live in a collection of their own (``turns-<user>``) in the bank's Qdrant
store, so the embedded store is still opened only once per process and a Qdrant server
serves both.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from pydantic import BaseModel, Field
from qdrant_client import models

from ..vectors import VectorStore

__all__ = ["RecalledTurn", "TurnMemory"]

_OUTPUT_CHARS = 400


class RecalledTurn(BaseModel):
    """One finished turn, as recall stores and returns it."""

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    session: str
    query: str
    answer: str = ""
    output: str = ""
    run_id: str | None = None
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    score: float | None = Field(None, exclude=True)

    def text(self) -> str:
        """How the turn reads in a first message."""
        out = f"\n(the code printed: {self.output.strip()[:_OUTPUT_CHARS]})" if self.output.strip() else ""
        return f"Q: {self.query}\nA: {self.answer.strip() or '(unresolved)'}{out}"


class TurnMemory:
    """A user's earlier turns, searchable by similarity.

    Args:
        store: The vector store (the bank's: recalled turns move with it).
        user: Whose turns (a collection per user).
        threshold: Minimum cosine similarity of a recalled turn.
        k: At most this many turns recalled per query.
    """

    def __init__(self, store: VectorStore, user: str = "default", *, threshold: float = 0.45, k: int = 2) -> None:
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", user):
            raise ValueError(f"user {user!r}: use letters, digits, '_' or '-' (at most 64)")
        self.store = store
        self.user = user
        self.threshold = threshold
        self.k = k
        self.collection = f"turns-{user}"
        store.ensure(self.collection)

    def add(self, turn: RecalledTurn) -> str:
        """Store a finished turn (embedded on its question and answer)."""
        vector = self.store.embedder.vector(f"{turn.query}\n{turn.answer}")
        self.store.add(
            self.collection, [models.PointStruct(id=turn.id, vector=vector.tolist(), payload=turn.model_dump())]
        )
        return turn.id

    def search(self, query: str, *, exclude: set[str] | None = None) -> list[RecalledTurn]:
        """The earlier turns most similar to ``query``, best first, leaving out ids in ``exclude``
        (the turns the conversation already shows verbatim)."""
        if self.k <= 0:
            return []
        vector = self.store.embedder.vector(query)
        hits = self.store.nearest(self.collection, vector, limit=self.k + len(exclude or ()), floor=self.threshold)
        found = []
        for hit in hits:
            turn = RecalledTurn(**(hit.payload or {}))
            if exclude and turn.id in exclude:
                continue
            turn.score = float(hit.score)
            found.append(turn)
        return found[: self.k]

    def remove(self, turn_id: str) -> None:
        """Delete one stored turn (a retried turn's first answer)."""
        self.store.delete(self.collection, [turn_id])

    def forget(self, session: str | None = None) -> int:
        """Delete this user's turns of one session, or all of them; how many went."""
        where = models.Filter()
        if session is not None:
            where = models.Filter(must=[models.FieldCondition(key="session", match=models.MatchValue(value=session))])
        count = self.store.count(self.collection, where)
        self.store.delete(self.collection, where)
        return count

    def count(self) -> int:
        """How many turns are stored for this user."""
        return self.store.count(self.collection)
