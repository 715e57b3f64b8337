"""A sandbox started ahead of time, so a verified replay does not wait for a container.

A replay is one run of banked code: about 20 ms in a running container, but about
0.5 s when the container must start first. So the first-turn stage keeps one
container starting in the background between queries (a thread of its own, since
the terminal runs each query in a fresh event loop). It is still single-use: the
replay that takes it removes it afterwards (in the background too), exactly like a
container started on demand, and the next spare starts then. Nothing of one query
reaches another.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from ..config import SandboxSettings

__all__ = ["SpareSandbox"]

log = logging.getLogger(__name__)


class SpareSandbox:
    """One pre-started executor from ``factory``, handed out once.

    Args:
        factory: Makes an executor (``DockerSandboxExecutor`` or any ``CodeExecutor``
            whose ``start()`` does nothing when it already started).
        settings: The sandbox's limits.
    """

    def __init__(self, factory: Any, settings: SandboxSettings) -> None:
        self._factory = factory
        self._settings = settings
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._ready: Any = None
        self._stopping: list[threading.Thread] = []

    def prepare(self) -> None:
        """Start a spare in the background unless one is ready or starting."""
        with self._lock:
            if self._ready is not None or (self._thread is not None and self._thread.is_alive()):
                return
            thread = threading.Thread(target=self._start, name="ecoagent-spare-sandbox", daemon=True)
            thread.start()  # started before anyone can see it: a thread not yet started cannot be joined
            self._thread = thread

    def _start(self) -> None:
        executor = self._factory(self._settings)
        try:
            asyncio.run(executor.start())
        except Exception as exc:  # the foreground start will raise it with its own message
            log.debug("spare sandbox did not start: %s", exc)
            return
        with self._lock:
            self._ready = executor

    def take(self) -> Any:
        """An executor for one replay: the spare (waiting for it if it is still starting:
        never slower than starting one now), else a new, unstarted one."""
        executor = self._claim()
        return executor if executor is not None else self._factory(self._settings)

    def _claim(self) -> Any:
        """The spare once it has started (None when none was asked for or it failed); it is no longer spare."""
        with self._lock:  # replays on a server claim it from many threads at once
            thread = self._thread
        if thread is not None:
            thread.join()
        with self._lock:
            executor, self._ready = self._ready, None
        return executor

    def discard(self, executor: Any) -> None:
        """Remove a used executor's container in the background (``close`` waits for it)."""
        stopper = threading.Thread(target=_stop, args=(executor,), name="ecoagent-sandbox-removal", daemon=True)
        stopper.start()
        with self._lock:
            self._stopping = [t for t in self._stopping if t.is_alive()] + [stopper]

    def close(self) -> None:
        """Remove a spare that was never used, and wait for removals under way."""
        executor = self._claim()
        if executor is not None:
            self.discard(executor)
        with self._lock:
            stopping = list(self._stopping)
        for stopper in stopping:
            stopper.join()


def _stop(executor: Any) -> None:
    try:
        asyncio.run(executor.stop())
    except Exception as exc:  # the reaper removes it at the next start
        log.debug("sandbox removal failed: %s", exc)
