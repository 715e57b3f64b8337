"""Admission and concurrency: a bounded number of queries in the server, fewer on a model.

Two limits, because the traffic is two kinds. A query answered from the cache or by a
replay takes milliseconds and no model; a query on the ladder holds a model for
seconds. So every request takes an *admission* (at most ``concurrency + queue`` in the
server; beyond that the answer is 503 with ``Retry-After`` at once, before any work),
and only a query that reaches the ladder waits for one of ``concurrency`` *model slots*.
Exact hits are never stuck behind slow queries, and the queue is bounded.
"""

from __future__ import annotations

import asyncio

from .errors import APIError

__all__ = ["Gate"]


class Gate:
    """Admission (``concurrency + queue`` at once) and ``concurrency`` model slots.

    Args:
        concurrency: Queries on a model at once.
        queue: Requests admitted beyond those, waiting.
        retry_after_s: What a 503 tells the client to wait.
    """

    def __init__(self, concurrency: int, queue: int, retry_after_s: int = 2) -> None:
        self.concurrency = concurrency
        self.capacity = concurrency + queue
        self.retry_after_s = retry_after_s
        self.admitted = 0
        self.on_model = 0
        self._slots = asyncio.Semaphore(concurrency)
        self.closed = False

    def enter(self) -> None:
        """Take an admission (give it back with :meth:`leave` when the query ends).

        Raises:
            APIError: 503 when the server is full or shutting down.
        """
        if self.closed:
            raise APIError(
                503,
                "the server is shutting down; retry on another instance or after it restarts",
                code="shutting_down",
                headers={"Retry-After": str(self.retry_after_s)},
            )
        if self.admitted >= self.capacity:
            raise APIError(
                503,
                f"the server is at capacity ({self.admitted} queries in flight or queued); "
                f"retry after {self.retry_after_s} s",
                code="overloaded",
                headers={"Retry-After": str(self.retry_after_s)},
            )
        self.admitted += 1

    def leave(self) -> None:
        """Give an admission back."""
        self.admitted -= 1

    async def slot(self) -> None:
        """Wait for a model slot (release it with :meth:`release`)."""
        await self._slots.acquire()
        self.on_model += 1

    def release(self) -> None:
        """Give a model slot back."""
        self.on_model -= 1
        self._slots.release()

    @property
    def waiting(self) -> int:
        """Admitted requests not on a model (queued, or being answered without one)."""
        return self.admitted - self.on_model
