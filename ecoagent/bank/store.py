"""The solution bank: confirmed query → code pairs in Qdrant, returned as demonstrations.

Only what a person (or a passed ``expected`` check) confirmed goes in. A near-
duplicate query (cosine ≥ ``dedupe_threshold``) updates its entry instead of adding
one. Thumbs-down on runs that used a solution count against it; enough of them
retire it. Qdrant runs embedded on disk by default (qdrant-client's local mode) or as
a server when ``bank.url`` is set — the same code path either way.

The bank is the solutions' collection of the :class:`~ecoagent.vectors.VectorStore` (which
opens Qdrant, locks it and embeds). Writes are serialized and made with ``wait=True``: a
solution reported as banked survives a ``kill -9`` of the process. Only the "times retrieved"
statistic is batched (flushed before any write, every 64 hits and on close), since a
disk write per retrieval would double the cost of every query.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field
from qdrant_client import QdrantClient, models

from ..config import BankSettings
from ..embed import Embedder
from ..vectors import VectorStore, single_blas_thread

__all__ = ["BankedSolution", "SolutionBank"]


_FLUSH_AT = 64  # pending retrieval counts before they are written
_ACTIVE = models.Filter(must_not=[models.FieldCondition(key="retired", match=models.MatchValue(value=True))])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class BankedSolution(BaseModel):
    """One confirmed solution and how it has fared since."""

    id: str
    query: str
    code: str
    language: str = "python"
    answer: str = ""
    rung: str = ""
    cost: float = 0.0
    created_at: str = Field(default_factory=_now)
    updated_at: str = Field(default_factory=_now)
    thumbs_up: int = 1
    thumbs_down: int = 0
    times_retrieved: int = 0
    times_led_to_success: int = 0
    retired: bool = False

    def payload(self) -> dict[str, Any]:
        """What Qdrant stores (everything but the id)."""
        return self.model_dump(exclude={"id"})


class SolutionBank:
    """Qdrant-backed store of confirmed solutions.

    Args:
        settings: Location, collection, thresholds.
        embedder: Shared embedder (loaded from ``settings.embedding_model`` if omitted).
        store: The vector store to keep the solutions in (default: one opened from ``settings``,
            which the bank then closes).

    Raises:
        EcoagentError: The embedded store is open in another process, or the server
            does not answer.
    """

    def __init__(
        self,
        settings: BankSettings | None = None,
        embedder: Embedder | None = None,
        *,
        store: VectorStore | None = None,
    ) -> None:
        self.settings = settings or BankSettings()
        self._owns_store = store is None
        self.store = store or VectorStore(self.settings, embedder)
        self.client = self.store.client
        self._write = self.store.write_lock
        self._retrieved: Counter[str] = Counter()
        self.collection = self.settings.collection
        self.store.ensure(self.collection)

    @property
    def embedder(self) -> Embedder:
        """The store's embedder, loaded on first use (listing or counting needs none)."""
        return self.store.embedder

    @property
    def location(self) -> str:
        """Where the bank lives (folder or URL), for banners and errors."""
        return self.store.location

    def close(self) -> None:
        """Write pending counts and release the store (the embedded folder's lock) if the bank opened it."""
        self.flush()
        if self._owns_store:
            self.store.close()

    # ---- writes --------------------------------------------------------------
    def add(
        self, query: str, code: str, *, answer: str = "", rung: str = "", cost: float = 0.0, language: str = "python"
    ) -> tuple[str, bool]:
        """Bank a confirmed solution, or update the near-duplicate already there.

        Returns:
            (id, created): ``created`` is False when an existing entry was updated.
        """
        vector = self.embedder.vector(query)
        with self._write:
            self._flush_retrieved()
            hits = self._nearest(vector, limit=1, floor=self.settings.dedupe_threshold)
            if hits:
                old = self._solution(hits[0].id, hits[0].payload or {})
                update = {
                    "code": code,
                    "language": language,
                    "answer": answer,
                    "rung": rung,
                    "cost": cost,
                    "updated_at": _now(),
                    "thumbs_up": old.thumbs_up + 1,
                    "retired": False,
                    "thumbs_down": 0,
                }
                self.client.set_payload(self.collection, payload=update, points=[old.id], wait=True)
                return old.id, False
            solution = BankedSolution(
                id=str(uuid.uuid4()), query=query, code=code, language=language, answer=answer, rung=rung, cost=cost
            )
            point = models.PointStruct(id=solution.id, vector=vector.tolist(), payload=solution.payload())
            self.client.upsert(self.collection, points=[point], wait=True)
            return solution.id, True

    def record_outcome(self, ids: list[str], success: bool) -> list[str]:
        """Count a run that used these demonstrations as a success or a failure.

        Returns:
            Ids retired by this call (too many thumbs-down).
        """
        retired: list[str] = []
        with self._write:
            self._flush_retrieved()
            for point in self.client.retrieve(self.collection, ids=ids, with_payload=True):
                sol = self._solution(point.id, point.payload or {})
                if success:
                    update: dict[str, Any] = {"times_led_to_success": sol.times_led_to_success + 1}
                else:
                    downs = sol.thumbs_down + 1
                    update = {"thumbs_down": downs}
                    if downs >= self.settings.retire_after_downs and not sol.retired:
                        update["retired"] = True
                        retired.append(sol.id)
                update["updated_at"] = _now()
                self.client.set_payload(self.collection, payload=update, points=[sol.id], wait=True)
        return retired

    def put(self, solution: BankedSolution) -> None:
        """Store a solution as it is (id, counts and all), e.g. from an export file."""
        vector = self.embedder.embed_one(solution.query)
        with self._write:
            point = models.PointStruct(id=solution.id, vector=vector, payload=solution.payload())
            self.client.upsert(self.collection, points=[point], wait=True)

    def migrate_to(self, dest: QdrantClient) -> dict[str, int]:
        """Copy every collection of the bank's store (the solutions, the router's climbs, recalled
        turns) to another Qdrant. Returns the points in each destination collection, solutions first."""
        self.flush()
        return self.store.migrate_to(dest, first=self.collection)

    def remove(self, solution_id: str) -> bool:
        """Delete one solution; False if it was not there."""
        with self._write:
            if not self.client.retrieve(self.collection, ids=[solution_id]):
                return False
            self.client.delete(self.collection, points_selector=models.PointIdsList(points=[solution_id]), wait=True)
            return True

    # ---- reads ---------------------------------------------------------------
    def retrieve(
        self, query: str, k: int | None = None, threshold: float | None = None, *, count: bool = True
    ) -> list[tuple[BankedSolution, float]]:
        """The top-k active solutions at or above the similarity threshold, best first."""
        k = self.settings.top_k if k is None else k
        if k <= 0:
            return []
        vector = self.embedder.vector(query)
        floor = self.settings.threshold if threshold is None else threshold
        if self.store.remote:  # a server evaluates the filter natively
            return self._counted(self._nearest(vector, limit=k, floor=floor, active_only=True), count)
        # Embedded mode searches with numpy. One BLAS thread: a multi-threaded BLAS
        # keeps its threads spinning after the search and slows the next embedding
        # (torch) threefold on a small machine; this search gains nothing from threads.
        with single_blas_thread():
            # Embedded mode evaluates payload filters in Python point by point (~130 ms
            # at 10k points); over-fetching a few and skipping the rare retired ones
            # costs a few payload copies.
            limit = k * 4 + 8
            while True:
                page = self._nearest(vector, limit=limit, floor=floor)
                hits = [h for h in page if not (h.payload or {}).get("retired")][:k]
                if len(hits) == k or len(page) < limit:
                    break
                limit *= 4
        return self._counted(hits, count)

    def _nearest(
        self, vector: npt.NDArray[np.float32], *, limit: int, floor: float, active_only: bool = False
    ) -> list[models.ScoredPoint]:
        """Solutions nearest to the vector, scoring above ``floor``, best first."""
        return self.store.nearest(
            self.collection, vector, limit=limit, floor=floor, where=_ACTIVE if active_only else None
        )

    def _counted(self, hits: list[Any], count: bool) -> list[tuple[BankedSolution, float]]:
        found = [(self._solution(h.id, h.payload or {}), float(h.score)) for h in hits]
        if count and found:
            with self._write:
                self._retrieved.update(sol.id for sol, _ in found)
                if sum(self._retrieved.values()) >= _FLUSH_AT:
                    self._flush_retrieved()
        return found

    def _flush_retrieved(self) -> None:
        """Write the pending retrieval counts (caller holds the write lock)."""
        pending, self._retrieved = self._retrieved, Counter()
        if not pending:
            return
        for point in self.client.retrieve(self.collection, ids=list(pending), with_payload=["times_retrieved"]):
            current = int((point.payload or {}).get("times_retrieved", 0))
            self.client.set_payload(
                self.collection,
                payload={"times_retrieved": current + pending[str(point.id)]},
                points=[point.id],
                wait=True,
            )

    def flush(self) -> None:
        """Write pending retrieval counts now (they are batched: a counter per hit would
        cost a disk write per query)."""
        with self._write:
            self._flush_retrieved()

    def get(self, solution_id: str) -> BankedSolution | None:
        """One solution by id (with its counts up to date)."""
        self.flush()
        try:
            points = self.client.retrieve(self.collection, ids=[solution_id], with_payload=True)
        except Exception:  # a malformed id (not a UUID) is simply not there
            return None
        return self._solution(points[0].id, points[0].payload or {}) if points else None

    def count(self, include_retired: bool = True) -> int:
        """How many solutions the bank holds."""
        return self.store.count(self.collection, None if include_retired else _ACTIVE)

    def __iter__(self) -> Iterator[BankedSolution]:
        offset = None
        while True:
            points, offset = self.client.scroll(self.collection, limit=256, offset=offset, with_payload=True)
            for p in points:
                yield self._solution(p.id, p.payload or {})
            if offset is None:
                return

    @staticmethod
    def _solution(point_id: Any, payload: dict[str, Any]) -> BankedSolution:
        return BankedSolution(id=str(point_id), **payload)
