"""The demonstrations stage: confirmed solutions of similar queries, for the first message.

As EcoAssistant retrieves them: the top-1 solution by default, accepted above cosine
0.5 (``bank.top_k``, ``bank.threshold``). Retrieval is keyed on the query text alone,
never on chat context, so the same question finds the same examples in any session.
"""

from __future__ import annotations

import asyncio

from .bank import SolutionBank
from .query import Query
from .records import Demonstration

__all__ = ["find_demonstrations"]


async def find_demonstrations(bank: SolutionBank, query: Query) -> list[Demonstration]:
    """The bank's closest confirmed solutions for ``query``, best first (none when ``top_k`` is 0)."""
    if bank.settings.top_k <= 0:
        return []
    hits = await asyncio.to_thread(bank.retrieve, query.text)
    return [Demonstration(id=sol.id, score=score, query=sol.query, code=sol.code) for sol, score in hits]
