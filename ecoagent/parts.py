"""What the pipeline runs on, each made on first use: the bank, the run log, the cache, the
route index, the compressor, the calibration, and a client per rung.

Nothing is built before it is needed, so ``feedback``, ``logs`` and the bank commands never
load a model or need an API key. Each part opens once per assistant, whichever thread asks
first: the server and ``batch -j N`` send many first queries at once. One re-entrant lock,
since the route index opens the bank and the run log.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from autogen_core.models import ChatCompletionClient

from .bank import SolutionBank
from .cache import AnswerCache
from .compress import Compressor
from .config import Rung, Settings
from .errors import EcoagentError
from .judge import Calibration, load_calibration
from .models import build_client, check_rung
from .router.stage import RouteIndex
from .runlog import RunLog
from .vectors import VectorStore

__all__ = ["Parts"]


class Parts:
    """The assistant's stores and model clients, opened on first use.

    Args:
        settings: All settings.
        clients: Model client per rung name, instead of building them from the rungs.
        bank: A solution bank to use instead of opening the configured one.
        runlog: A run log to use instead of opening the configured one.

    Raises:
        EcoagentError: The ladder is invalid (exit code 2).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        clients: Mapping[str, ChatCompletionClient] | None = None,
        bank: SolutionBank | None = None,
        runlog: RunLog | None = None,
    ) -> None:
        self.settings = settings
        self.rungs: list[Rung] = settings.ladder.resolved()
        names = [r.name for r in self.rungs]
        if len(set(names)) != len(names):
            raise EcoagentError(
                f"ladder has duplicate rung names: {names}", "give every rung its own name", exit_code=2
            )
        self._clients: dict[str, ChatCompletionClient] = dict(clients or {})
        self._given_clients = clients is not None
        self._client_lock = threading.Lock()
        self._parts_lock = threading.RLock()
        self._checked = False
        self._bank = bank
        self._runlog = runlog
        self._cache: AnswerCache | None = None
        self._routes: RouteIndex | None = None
        self._compressor: Compressor | None = None
        self._calibration: Calibration | None = None

    @property
    def bank(self) -> SolutionBank:
        """The solution bank (opened on first use)."""
        with self._parts_lock:
            if self._bank is None:
                self._bank = SolutionBank(self.settings.bank)
            return self._bank

    @property
    def vectors(self) -> VectorStore:
        """The vector store the bank, the router's climbs and recalled turns share (the bank's)."""
        return self.bank.store

    @property
    def cache(self) -> AnswerCache:
        """The first-turn answer cache (opened on first use)."""
        with self._parts_lock:
            if self._cache is None:
                self._cache = AnswerCache(self.settings.cache.file(), ttl_s=self.settings.cache.ttl_s)
            return self._cache

    @property
    def routes(self) -> RouteIndex:
        """The router's index of logged climbs (opened on first use, next to the bank; a new one
        is filled from the run log first)."""
        with self._parts_lock:
            if self._routes is None:
                self._routes = RouteIndex(self.vectors, self.rungs, history=self.runlog.all)
            return self._routes

    @property
    def compressor(self) -> Compressor:
        """The prompt compressor (its language model loads on the first compression)."""
        with self._parts_lock:
            if self._compressor is None:
                self._compressor = Compressor(self.settings.compress)
            return self._compressor

    @property
    def calibration(self) -> Calibration:
        """How often answers backed by each kind of evidence were wrong: the shipped table for the
        offline default's rungs plus the user's own (read on first use)."""
        with self._parts_lock:
            if self._calibration is None:
                self._calibration = load_calibration(self.settings.judge)
            return self._calibration

    @property
    def runlog(self) -> RunLog:
        """The run log (opened on first use)."""
        with self._parts_lock:
            if self._runlog is None:
                self._runlog = RunLog(self.settings.runlog_file())
            return self._runlog

    def rung(self, name: str) -> Rung:
        """The rung called ``name``.

        Raises:
            EcoagentError: No such rung (exit code 2).
        """
        for rung in self.rungs:
            if rung.name == name:
                return rung
        raise EcoagentError(
            f"no rung {name!r} on the ladder", f"rungs: {', '.join(r.name for r in self.rungs)}", exit_code=2
        )

    def client_for(self, rung: Rung) -> ChatCompletionClient:
        """The rung's model client, built the first time the rung runs.

        Raises:
            EcoagentError: The client cannot be built (missing key or model file).
        """
        with self._client_lock:
            client = self._clients.get(rung.name)
            if client is None:
                if self._given_clients:
                    raise EcoagentError(
                        f"no model client given for rung {rung.name}", "pass one in clients=", exit_code=2
                    )
                run = self.settings.run
                client = self._clients[rung.name] = build_client(
                    rung, retries=run.retries, backoff_s=run.retry_backoff_s
                )
            return client

    def summarizer(self) -> tuple[str, ChatCompletionClient]:
        """The model that writes conversation memory's summaries, and its name: the cheapest
        rung without its fine-tuned adapter, if it has one. An adapter trained for the
        code-executing protocol answers a request for a summary with "The answer is …
        TERMINATE"; the base model it sits on is the one that can summarize.

        Raises:
            EcoagentError: The client cannot be built (missing key or model file).
        """
        bottom = self.rungs[0]
        if self._given_clients:
            return bottom.name, self.client_for(bottom)
        if bottom.adapter:
            bottom = bottom.model_copy(update={"name": f"{bottom.name}:base", "adapter": None})
        # A client of its own: summaries run on the memory stage's event loop, and an HTTP
        # client's connections belong to the loop that opened them.
        own = bottom.model_copy(update={"name": f"{bottom.name}:summary"})
        return bottom.name, self.client_for(own)

    def check_ladder(self) -> None:
        """Fail fast, before any query runs, on what would fail a rung later: a
        missing API key or model file. Builds nothing and calls no model.

        Raises:
            EcoagentError: Names the rung and what to fix.
        """
        if self._checked or self._given_clients:
            return
        for rung in self.rungs:
            check_rung(rung)
        self._checked = True

    def _recalibrated(self) -> None:
        """Read the calibration again (a person's verdict changed the user's part of it)."""
        with self._parts_lock:
            self._calibration = None
