"""The routing stage: each query starts at the rung likely to solve it, learned as runs finish.

Every judged climb of the ladder is stored in Qdrant (a collection per ladder, next to
the bank, embedded on the query) with each rung's outcome. A new query's nearest
logged queries give each rung's chance (:class:`NeighbourRouter`); the query starts at
the cheapest rung that clears ``threshold`` and escalates upward as usual. With too
little evidence (a new ladder, an unfamiliar query) it starts at the bottom: the plain
ladder. A share ``explore`` of queries climbs from the bottom whatever the estimate,
so a rung the router stopped trying can prove itself again; those are marked as such.

``mode = "llm"`` is the other way, in the manner of HuggingGPT's model selection: the
cheapest rung reads the rungs' descriptions and the query and names the start rung.
Its tokens are part of the query's cost. It needs no log, and it is only as good as
the cheapest rung's judgement.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import uuid
from collections.abc import Callable, Sequence

import numpy as np
from autogen_core.models import ChatCompletionClient, LLMMessage, SystemMessage, UserMessage
from qdrant_client import models

from ..cache import ladder_scope
from ..config import RouterSettings, Rung
from ..prompts import load_prompt
from ..query import Query
from ..records import RouteEstimate, Routing, RunRecord
from ..vectors import VectorStore
from .cascades import cascades_from
from .neighbours import NeighbourRouter

__all__ = ["RouteIndex", "RouterStage"]


class RouteIndex:
    """Logged climbs of one ladder in Qdrant: query vector → each rung's outcome (1, 0 or unknown).

    Args:
        store: The vector store (the bank's: the climbs move with it).
        rungs: The ladder.
        history: The run log's records, read once when the index is new, so a ladder
            with a log starts routing from what it already knows.
    """

    def __init__(
        self, store: VectorStore, rungs: Sequence[Rung], history: Callable[[], Sequence[RunRecord]] | None = None
    ) -> None:
        self.store = store
        self.rungs = list(rungs)
        self.collection = "routes-" + hashlib.sha256(ladder_scope(rungs).encode()).hexdigest()[:12]
        if store.ensure(self.collection):
            if history is not None:
                self.add_all(history())

    def add(self, record: RunRecord) -> bool:
        """Store a finished run's climb (runs answered without a model or off this ladder are not climbs)."""
        return self.add_all([record]) == 1

    def add_all(self, records: Sequence[RunRecord]) -> int:
        """Store the climbs among ``records`` (embedded in one batch); how many were climbs."""
        climbs = [(r, c) for r in records for c in cascades_from([r], self.rungs)]
        if not climbs:
            return 0
        vectors = self.store.embedder.vectors([r.query for r, _ in climbs])
        points = [
            models.PointStruct(
                id=str(uuid.uuid5(uuid.NAMESPACE_URL, r.run_id)),
                vector=v.tolist(),
                payload={"query": r.query, "run_id": r.run_id, "labels": c.labels(len(self.rungs))},
            )
            for (r, c), v in zip(climbs, vectors, strict=True)
        ]
        self.store.add(self.collection, points)
        return len(points)

    def nearest(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` logged queries nearest to ``query``: their similarities and labels (NaN: unknown)."""
        hits = self.store.nearest(self.collection, self.store.embedder.vector(query), limit=k)
        sims = np.array([float(h.score) for h in hits])
        labels = np.array(
            [[np.nan if x is None else x for x in (h.payload or {})["labels"]] for h in hits], dtype=np.float64
        )
        return sims, labels.reshape(len(hits), len(self.rungs))

    def count(self) -> int:
        """Logged climbs."""
        return self.store.count(self.collection)


class RouterStage:
    """Decides a query's start rung before the ladder runs, and learns from each finished run.

    Args:
        settings: The ``[router]`` section.
        rungs: The ladder, cheapest first.
        index: Opens the route index (on first use: it needs the bank).
        rng: Decides exploration (seedable for tests).
    """

    def __init__(
        self,
        settings: RouterSettings,
        rungs: Sequence[Rung],
        index: Callable[[], RouteIndex],
        rng: random.Random | None = None,
        client_for: Callable[[Rung], ChatCompletionClient] | None = None,
    ) -> None:
        self.settings = settings
        self.rungs = list(rungs)
        self._index = index
        self._client_for = client_for
        self.rng = rng or random.Random(settings.seed)
        self.model = NeighbourRouter(
            len(rungs), k=settings.k, min_similarity=settings.min_similarity, min_evidence=settings.min_evidence
        )

    @property
    def active(self) -> bool:
        """Whether routing applies: on, and a ladder of two rungs or more."""
        return self.settings.enabled and len(self.rungs) > 1

    async def decide(self, query: Query) -> Routing | None:
        """Where ``query`` starts (None when routing does not apply or the caller chose the start)."""
        if not self.active or query.start_rung > 0:
            return None
        if self.rng.random() < self.settings.explore:
            return Routing(
                start=0,
                start_rung=self.rungs[0].name,
                explored=True,
                threshold=self.settings.threshold,
                reason="exploration: the whole ladder from the bottom",
            )
        if self.settings.mode == "llm":
            return await self._ask_controller(query)
        sims, labels = await asyncio.to_thread(self._index().nearest, query.text, self.settings.k)
        start = self.model.start_from(self.model.estimate_from(sims, labels), self.settings.threshold)
        estimates = [
            RouteEstimate(rung=r.name, p=e.p, evidence=e.evidence, neighbours=e.neighbours)
            for r, e in zip(self.rungs, start.estimates, strict=True)
        ]
        return Routing(
            start=start.rung,
            start_rung=self.rungs[start.rung].name,
            reason=start.reason,
            threshold=self.settings.threshold,
            estimates=estimates,
        )

    async def _ask_controller(self, query: Query) -> Routing:
        """The cheapest rung names the start rung from the rungs' descriptions (HuggingGPT-style)."""
        controller = self.rungs[0]
        if self._client_for is None:
            raise ValueError("the llm router needs the rungs' model clients")
        listing = "\n".join(
            f"- {r.name}: {r.description or r.model} (${r.input_price_per_mtok:g}/${r.output_price_per_mtok:g} per Mtok)"
            for r in self.rungs
        )
        messages: list[LLMMessage] = [
            SystemMessage(content=load_prompt("router")),
            UserMessage(content=f"Models:\n{listing}\n\nQuestion: {query.text}\n\nModel:", source="user"),
        ]
        result = await self._client_for(controller).create(messages)
        reply = result.content if isinstance(result.content, str) else ""
        usage = result.usage
        start, reason = 0, "the controller named no rung of the ladder: the plain ladder"
        named = [
            (reply.lower().find(r.name.lower()), i) for i, r in enumerate(self.rungs) if r.name.lower() in reply.lower()
        ]
        if named:
            start = min(named)[1]  # the first name in the reply
            reason = f"{controller.name} chose {self.rungs[start].name}"
        return Routing(
            start=start,
            start_rung=self.rungs[start].name,
            reason=reason,
            threshold=self.settings.threshold,
            controller=controller.name,
            reply=reply.strip()[:200],
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost=controller.cost(usage.prompt_tokens, usage.completion_tokens),
        )

    def learn(self, record: RunRecord) -> None:
        """Add a finished run's climb to the index (called after every run)."""
        if self.active:
            self._index().add(record)
