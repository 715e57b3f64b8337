"""``SolutionMemory``: the solution bank as an AutoGen ``Memory``, for any agent.

(Named for what it holds, confirmed solutions, so that "memory" stays free for the
conversation memory of a chat.)

autogen-ext ships ChromaDB, Redis and mem0 memories but none for Qdrant. This one
sits on the same collection as :class:`~ecoagent.bank.SolutionBank`, so an
``AssistantAgent(..., memory=[SolutionMemory(bank)])`` in your own app sees the
solutions people confirmed in ecoagent, and what it adds shows up in ecoagent.
"""

from __future__ import annotations

import asyncio
from typing import Any

from autogen_core import CancellationToken
from autogen_core.memory import Memory, MemoryContent, MemoryMimeType, MemoryQueryResult, UpdateContextResult
from autogen_core.model_context import ChatCompletionContext
from autogen_core.models import SystemMessage
from qdrant_client import models

from ..prompts import format_demonstration
from .store import SolutionBank

__all__ = ["SolutionMemory"]


class SolutionMemory(Memory):
    """Confirmed solutions as memory: queried by the last message, added with code.

    Args:
        bank: The solution bank to read and write (shared, not owned).
        k: Results per query (default: the bank's ``top_k``).
        threshold: Minimum similarity (default: the bank's threshold).

    ``add`` takes the query as ``content`` and the code as ``metadata["code"]``
    (``metadata["answer"]`` optional); a plain text without code is stored as a note.
    """

    component_type = "memory"

    def __init__(self, bank: SolutionBank, *, k: int | None = None, threshold: float | None = None) -> None:
        self.bank = bank
        self.k = k
        self.threshold = threshold

    async def query(
        self, query: str | MemoryContent, cancellation_token: CancellationToken | None = None, **kwargs: Any
    ) -> MemoryQueryResult:
        text = query if isinstance(query, str) else str(query.content)
        hits = await asyncio.to_thread(self.bank.retrieve, text, self.k, self.threshold, count=False)
        return MemoryQueryResult(
            results=[
                MemoryContent(
                    content=format_demonstration(sol.query, sol.code),
                    mime_type=MemoryMimeType.MARKDOWN,
                    metadata={"id": sol.id, "score": score, "query": sol.query, "answer": sol.answer},
                )
                for sol, score in hits
            ]
        )

    async def update_context(self, model_context: ChatCompletionContext) -> UpdateContextResult:
        messages = await model_context.get_messages()
        if not messages:
            return UpdateContextResult(memories=MemoryQueryResult(results=[]))
        last = messages[-1].content
        result = await self.query(last if isinstance(last, str) else str(last))
        if result.results:
            shown = "\n\n".join(str(m.content) for m in result.results)
            await model_context.add_message(
                SystemMessage(content=f"Confirmed solutions of similar queries:\n\n{shown}")
            )
        return UpdateContextResult(memories=result)

    async def add(self, content: MemoryContent, cancellation_token: CancellationToken | None = None) -> None:
        meta = content.metadata or {}
        await asyncio.to_thread(
            self.bank.add, str(content.content), str(meta.get("code", "")), answer=str(meta.get("answer", ""))
        )

    async def clear(self) -> None:
        """Delete every solution in the collection (the bank stays usable)."""
        await asyncio.to_thread(self.bank.store.delete, self.bank.collection, models.Filter())

    async def close(self) -> None:
        """Nothing to release: the bank is shared and closed by its owner."""
