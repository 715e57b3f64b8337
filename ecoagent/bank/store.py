"""The solution bank: confirmed query → code pairs in Qdrant, returned as demonstrations.

Only what a person (or a passed ``expected`` check) confirmed goes in. A near-
duplicate query (cosine ≥ ``dedupe_threshold``) updates its entry instead of adding
one. Thumbs-down on runs that used a solution count against it; enough of them
retire it. Qdrant runs embedded on disk by default (qdrant-client's local mode) or as
a server when ``bank.url`` is set — the same code path either way.

Embedded mode allows one process at a time; a second one gets a clear error that
says to use a server. Writes are serialized and made with ``wait=True``: a solution
reported as banked survives a ``kill -9`` of the process. Only the "times retrieved"
statistic is batched (flushed before any write, every 64 hits and on close), since a
disk write per retrieval would double the cost of every query.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import threading
import uuid
import warnings
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field
from qdrant_client import QdrantClient, models
from qdrant_client.common.version_check import is_compatible
from threadpoolctl import ThreadpoolController

from ..config import BankSettings
from ..embed import Embedder
from ..errors import EcoagentError
from ..paths import running_server

__all__ = ["BankedSolution", "SolutionBank"]


_BLAS = ThreadpoolController()
_BLAS_LOCK = threading.Lock()
_FLUSH_AT = 64  # pending retrieval counts before they are written
_ACTIVE = models.Filter(must_not=[models.FieldCondition(key="retired", match=models.MatchValue(value=True))])


@contextlib.contextmanager
def _single_blas_thread() -> Iterator[None]:
    """One BLAS thread for the duration, one caller at a time.

    threadpoolctl changes a process-wide setting: two threads limiting and
    restoring it at once (``batch -j 2``) would leave it wrong, and changing an
    OpenBLAS thread count while another thread is inside a BLAS call is a known
    way to crash it. The search inside takes milliseconds; serializing it is cheap.
    """
    with _BLAS_LOCK, _BLAS.limit(limits=1, user_api="blas"):
        yield


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

    Raises:
        EcoagentError: The embedded store is open in another process, or the server
            does not answer.
    """

    def __init__(self, settings: BankSettings | None = None, embedder: Embedder | None = None) -> None:
        self.settings = settings or BankSettings()
        self._embedder = embedder
        self._embedder_lock = threading.Lock()
        self._write = threading.Lock()
        self._retrieved: Counter[str] = Counter()
        # The store first: a bank locked by another process fails in milliseconds,
        # not after seconds of loading an embedding model it will never use.
        self.client = self._open()
        self.collection = self.settings.collection
        if not self.client.collection_exists(self.collection):
            self.client.create_collection(
                self.collection,
                # Embeddings are normalized, so dot product *is* cosine similarity; local
                # mode's COSINE recomputes every stored vector's norm on each search.
                vectors_config=models.VectorParams(size=self.embedder.dim, distance=models.Distance.DOT),
            )

    @property
    def embedder(self) -> Embedder:
        """The query embedder, loaded on first use (listing or counting needs none)."""
        with self._embedder_lock:
            if self._embedder is None:
                self._embedder = Embedder(self.settings.embedding_model, self.settings.embedding_backend)
            return self._embedder

    @property
    def location(self) -> str:
        """Where the bank lives (folder or URL), for banners and errors."""
        return self.settings.url or str(self.settings.storage_path())

    def _open(self) -> QdrantClient:
        s = self.settings
        if s.url:
            api_key = os.environ.get(s.api_key_env) if s.api_key_env else None
            # qdrant-client's own version check runs in a thread and, for a server that
            # is down, only warns; the error below says it better. Check after connecting.
            try:
                client = QdrantClient(url=s.url, api_key=api_key, timeout=10, check_compatibility=False)
                server = client.info().version
            except Exception as exc:
                raise EcoagentError(
                    f"the Qdrant server at {s.url} does not answer ({exc})",
                    "start it, or remove bank.url to use the embedded store",
                ) from exc
            mine = importlib.metadata.version("qdrant-client")
            if not is_compatible(mine, server):
                warnings.warn(
                    f"qdrant-client {mine} may not work with the Qdrant server {server} at {s.url}: "
                    "install a qdrant-client with the server's major version and a minor version within 1",
                    UserWarning,
                    stacklevel=3,
                )
            return client
        path = s.storage_path()
        path.mkdir(parents=True, exist_ok=True)
        try:
            return QdrantClient(path=str(path))
        except RuntimeError as exc:
            if "already accessed" not in str(exc):
                raise
            held_by = running_server()
            if held_by is not None:
                raise EcoagentError(
                    f"the solution bank at {path} is held by `ecoagent serve` at {held_by}",
                    f"send this command to it: add --server {held_by} (or set ECOAGENT_SERVER={held_by})",
                ) from exc
            raise EcoagentError(
                f"the solution bank at {path} is open in another ecoagent process",
                "close the other process, run `ecoagent serve` and pass --server URL to the others, or for "
                "concurrent use run a Qdrant server and set bank.url (`ecoagent bank migrate --to URL` moves this bank there)",
            ) from exc

    def close(self) -> None:
        """Write pending counts and release the store (the embedded folder's lock)."""
        self.flush()
        self.client.close()

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

    def ensure_collection(self, name: str) -> bool:
        """Create the vector collection ``name`` beside the solutions (same embedder, same
        distance) unless it exists; True when it was created. The router's climbs and chat's
        recalled turns live in this store this way, so they move with it (:meth:`migrate_to`)."""
        with self._write:
            if self.client.collection_exists(name):
                return False
            self.client.create_collection(
                name, vectors_config=models.VectorParams(size=self.embedder.dim, distance=models.Distance.DOT)
            )
            return True

    def migrate_to(self, dest: QdrantClient) -> dict[str, int]:
        """Copy every collection of this store (the solutions, the router's climbs, recalled turns)
        to another Qdrant (qdrant-client's ``migrate``).

        Returns:
            Points in each destination collection afterwards, the solutions first.
        """
        self.flush()
        names = [self.collection] + sorted(
            c.name for c in self.client.get_collections().collections if c.name != self.collection
        )
        self.client.migrate(dest, collection_names=names, recreate_on_collision=True)
        return {name: int(dest.count(name, exact=True).count) for name in names}

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
        if self.settings.url:  # a server evaluates the filter natively
            return self._counted(self._nearest(vector, limit=k, floor=floor, active_only=True), count)
        # Embedded mode searches with numpy. One BLAS thread: a multi-threaded BLAS
        # keeps its threads spinning after the search and slows the next embedding
        # (torch) threefold on a small machine; this search gains nothing from threads.
        with _single_blas_thread():
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
        """Points nearest to the vector, scoring above ``floor``, best first."""
        query: Any
        if self.settings.url:
            query = vector.tolist()
        else:
            # qdrant-client's local mode turns a list into a float64 array, and a dot
            # product of float32 vectors with it first copies all of them to float64
            # (~3 ms at 10k points, ~30 ms at 100k). Handing it the float32 array
            # (unvalidated, as the local mode uses it as it is) skips that copy.
            query = models.NearestQuery.model_construct(nearest=vector)  # type: ignore[arg-type]
        return self.client.query_points(
            self.collection,
            query=query,
            limit=limit,
            score_threshold=floor,
            query_filter=_ACTIVE if active_only else None,
            with_payload=True,
        ).points

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
        flt = None if include_retired else _ACTIVE
        return int(self.client.count(self.collection, count_filter=flt, exact=True).count)

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
