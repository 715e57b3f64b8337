"""The vector store every similarity search shares: one Qdrant (embedded on disk, or a server by
URL), one embedder, one write lock.

The solution bank, the router's logged climbs and chat's recalled turns are collections of this
store, side by side, so they open together, lock together and move together
(:meth:`VectorStore.migrate_to`; ``ecoagent bank migrate``). Each builds on the store; none
reaches into another.

Embedded mode allows one process at a time; a second one gets a clear error that says what to
do instead. Writes are made with ``wait=True``: what is reported as stored survives a
``kill -9`` of the process.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import threading
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from qdrant_client import QdrantClient, models
from qdrant_client.common.version_check import is_compatible
from threadpoolctl import ThreadpoolController

from .config import BankSettings
from .embed import Embedder
from .errors import EcoagentError
from .paths import running_server

__all__ = ["VectorStore", "single_blas_thread"]

_BLAS = ThreadpoolController()
_BLAS_LOCK = threading.Lock()


@contextlib.contextmanager
def single_blas_thread() -> Iterator[None]:
    """One BLAS thread for the duration, one caller at a time.

    threadpoolctl changes a process-wide setting: two threads limiting and
    restoring it at once (``batch -j 2``) would leave it wrong, and changing an
    OpenBLAS thread count while another thread is inside a BLAS call is a known
    way to crash it. The search inside takes milliseconds; serializing it is cheap.
    """
    with _BLAS_LOCK, _BLAS.limit(limits=1, user_api="blas"):
        yield


class VectorStore:
    """Qdrant and the embedder, shared by every collection of one ecoagent home.

    Args:
        settings: The ``[bank]`` section (where the store lives, which embedding model).
        embedder: A shared embedder (loaded from ``settings.embedding_model`` on first use if omitted).

    Raises:
        EcoagentError: The embedded store is open in another process, or the server does not answer.
    """

    def __init__(self, settings: BankSettings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._embedder = embedder
        self._embedder_lock = threading.Lock()
        self.write_lock = threading.RLock()
        # The store first: a store locked by another process fails in milliseconds,
        # not after seconds of loading an embedding model it will never use.
        self.client = self._open()

    @property
    def embedder(self) -> Embedder:
        """The embedder, loaded on first use (listing or counting needs none)."""
        with self._embedder_lock:
            if self._embedder is None:
                self._embedder = Embedder(self.settings.embedding_model, self.settings.embedding_backend)
            return self._embedder

    @property
    def location(self) -> str:
        """Where the store lives (folder or URL), for banners and errors."""
        return self.settings.url or str(self.settings.storage_path())

    @property
    def remote(self) -> bool:
        """Whether the store is a Qdrant server (which evaluates filters natively)."""
        return bool(self.settings.url)

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

    # ---- collections ---------------------------------------------------------------
    def ensure(self, name: str) -> bool:
        """Create the collection ``name`` (this embedder's size; dot product, which is cosine on
        normalized embeddings and spares local mode a norm per stored vector) unless it exists;
        True when it was created. Another process creating it first counts as existing."""
        with self.write_lock:
            if self.client.collection_exists(name):
                return False
            try:
                self.client.create_collection(
                    name, vectors_config=models.VectorParams(size=self.embedder.dim, distance=models.Distance.DOT)
                )
            except Exception as exc:  # a server raced us to it
                if "already exists" not in str(exc).lower():
                    raise
                return False
            return True

    def add(self, name: str, points: Sequence[models.PointStruct]) -> None:
        """Write points (in batches of 256), waiting until they are stored."""
        with self.write_lock:
            for start in range(0, len(points), 256):
                self.client.upsert(name, points=list(points[start : start + 256]), wait=True)

    def nearest(
        self,
        name: str,
        vector: npt.NDArray[np.float32],
        *,
        limit: int,
        floor: float | None = None,
        where: models.Filter | None = None,
    ) -> list[models.ScoredPoint]:
        """Points of ``name`` nearest to ``vector`` (scoring at least ``floor``), best first."""
        query: Any
        if self.remote:
            query = vector.tolist()
        else:
            # qdrant-client's local mode turns a list into a float64 array, and a dot
            # product of float32 vectors with it first copies all of them to float64
            # (~3 ms at 10k points, ~30 ms at 100k). Handing it the float32 array
            # (unvalidated, as the local mode uses it as it is) skips that copy.
            query = models.NearestQuery.model_construct(nearest=vector)  # type: ignore[arg-type]
        return self.client.query_points(
            name, query=query, limit=limit, score_threshold=floor, query_filter=where, with_payload=True
        ).points

    def count(self, name: str, where: models.Filter | None = None) -> int:
        """Points in ``name`` (matching ``where``)."""
        return int(self.client.count(name, count_filter=where, exact=True).count)

    def delete(self, name: str, selector: models.Filter | list[str]) -> None:
        """Delete the points with these ids, or matching the filter."""
        chosen: Any = models.PointIdsList(points=list(selector)) if isinstance(selector, list) else selector
        with self.write_lock:
            self.client.delete(name, points_selector=chosen, wait=True)

    def migrate_to(self, dest: QdrantClient, first: str) -> dict[str, int]:
        """Copy every collection of this store (``first`` first) to another Qdrant (qdrant-client's
        ``migrate``). Returns the points in each destination collection afterwards."""
        names = [first] + sorted(c.name for c in self.client.get_collections().collections if c.name != first)
        self.client.migrate(dest, collection_names=names, recreate_on_collision=True)
        return {name: int(dest.count(name, exact=True).count) for name in names}

    def close(self) -> None:
        """Release the store (the embedded folder's lock)."""
        self.client.close()
