"""Conversation memory as a stage of the pipeline: a query that names a session reads what the
conversation so far gives it, and its answer becomes part of that conversation.

``EcoAssistant.run_stream`` opens a :meth:`MemoryStage.turn` around every query. A query
without ``session`` passes through untouched. With one, the stage

1. takes the session's turn lock, so turns of one session run one at a time, in order;
2. waits for the summary the previous turn is writing, if it is not done;
3. replaces the query's ``history`` with the session's memory once the session has turns
   (the running summary, the last turns verbatim, earlier turns recalled by similarity);
   a session the assistant has not seen keeps the history its caller sent;
4. after the run, adds the turn to the conversation and starts writing the summary on the
   stage's own event loop, off the response path (nobody waits for it but the next turn).

The summary's tokens are charged to the query's key as soon as they are spent
(``RunLog.add_spend``) and reported on the next turn's :class:`~ecoagent.records.MemoryStep`.
Sessions are saved after every turn where ``ecoagent chat --resume ID`` finds them, so chat
and ``ecoagent serve`` continue each other's conversations. With an API key, a session
belongs to its key: another key naming the same id gets a conversation of its own, and
recall searches only the key's own turns.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..conversation import Conversation, save_session, session_file
from ..query import Query
from ..records import MemoryStep, RunRecord

if TYPE_CHECKING:
    from autogen_core.models import ChatCompletionClient

    from ..config import MemorySettings
    from ..runlog import RunLog
    from ..vectors import VectorStore

__all__ = ["MemoryStage", "Turn"]

log = logging.getLogger("ecoagent.memory")
_KEEP = 512  # sessions held in memory; older ones reload from their file
_DRAIN_S = 120.0  # how long closing waits for summaries being written


@dataclass
class _Session:
    id: str
    key_name: str | None
    conversation: Conversation | None = None  # read from its file under the lock, on the session's first turn
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    writing: concurrent.futures.Future[None] | None = None
    pending: tuple[int, int, float] = (0, 0, 0.0)  # summary tokens (in, out) and cost not yet reported
    note: str = ""

    def busy(self) -> bool:
        return self.writing is not None and not self.writing.done()


@dataclass
class Turn:
    """One query's passage through the memory stage: the query as the pipeline runs it (with the
    session's memory as its history) and what the memory gave it (None: no session)."""

    query: Query
    step: MemoryStep | None = None
    record: RunRecord | None = None  # set by the pipeline when the run ends: the turn to remember


class MemoryStage:
    """The sessions of one assistant: their conversations, summaries, recall and saved files.

    Args:
        settings: ``[memory]`` settings.
        summarizer: The model that writes summaries (called once, when the first session opens).
        store: The vector store that holds recall's collections.
        runlog: The run log (a resumed session's turns; a key's summary spend).
        price: What a summary's (prompt, completion) tokens cost.
    """

    def __init__(
        self,
        settings: MemorySettings,
        summarizer: Callable[[], ChatCompletionClient],
        store: Callable[[], VectorStore],
        runlog: Callable[[], RunLog],
        price: Callable[[int, int], float],
    ) -> None:
        self.settings = settings
        self._summarizer, self._store, self._runlog, self._price = summarizer, store, runlog, price
        self._open: OrderedDict[str, _Session] = OrderedDict()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    # ---- sessions ---------------------------------------------------------------------
    def _id(self, session: str, key_name: str | None) -> str:
        return f"{key_name}.{session}" if key_name else session

    def _session(self, session: str, key_name: str | None) -> _Session:
        """The session's entry (made on first use; its conversation loads under its lock, so
        turns keep the order they arrived in)."""
        sid = self._id(session, key_name)
        with self._lock:
            found = self._open.get(sid)
            if found is None:
                found = self._open[sid] = _Session(sid, key_name)
            self._open.move_to_end(sid)
            while len(self._open) > _KEEP:
                old_id, old = next(iter(self._open.items()))
                if old.lock.locked() or old.busy():
                    break
                del self._open[old_id]
            return found

    def _load(self, session: _Session) -> Conversation:
        """The session's conversation, read from its file the first time. Blocking."""
        if session.conversation is None:
            session.conversation = self._conversation(session.id, session.key_name)
        return session.conversation

    def _conversation(self, sid: str, key_name: str | None) -> Conversation:
        conversation = Conversation(session=sid)
        user = (key_name or self.settings.user).replace(".", "_")[:64]  # a key's turns are recalled for it alone
        conversation.give_memory(self._summarizer(), self._store(), self.settings, user=user)
        path = session_file(sid)
        if path.is_file():
            try:
                state = json.loads(path.read_text(encoding="utf-8"))
                self._run(conversation.resume(state, self._runlog())).result()
            except (OSError, ValueError, KeyError) as exc:  # a damaged file: start the conversation afresh
                log.warning("session %s: its saved memory at %s is unreadable (%s); starting afresh", sid, path, exc)
        return conversation

    def conversation(self, session: str, key_name: str | None = None) -> Conversation:
        """A session's conversation, once the summary being written is done (for ``/memory``,
        ``/new`` and ``/forget``; call :meth:`save` after changing it)."""
        found = self._session(session, key_name)
        self.wait(session, key_name)
        return self._load(found)

    def busy(self, session: str, key_name: str | None = None) -> bool:
        """Whether the session's summary is still being written (the next turn will wait for it)."""
        with self._lock:
            found = self._open.get(self._id(session, key_name))
        return found is not None and found.busy()

    def wait(self, session: str, key_name: str | None = None) -> None:
        """Block until the session's summary is written (a failure is reported on the next turn)."""
        with self._lock:
            found = self._open.get(self._id(session, key_name))
        if found is not None and found.writing is not None:
            concurrent.futures.wait([found.writing])

    def run(self, work: Coroutine[Any, Any, Any]) -> Any:
        """Run a coroutine on the stage's loop and return its result (``/memory``, ``/forget``)."""
        return self._run(work).result()

    def save(self, session: str, key_name: str | None = None) -> None:
        """Write the session's memory to its file now."""
        found = self._session(session, key_name)
        save_session(found.id, self.run(self._load(found).save_state()))

    # ---- the stage --------------------------------------------------------------------
    @asynccontextmanager
    async def turn(self, query: Query) -> AsyncIterator[Turn]:
        """Hold the session for one query; remember the run the pipeline sets on ``Turn.record``."""
        if query.session is None:
            yield Turn(query)
            return
        session = self._session(query.session, query.key_name)
        async with session.lock:
            if session.writing is not None:
                await asyncio.shield(asyncio.wrap_future(session.writing))
            conversation = await asyncio.to_thread(self._load, session)
            view = await asyncio.wrap_future(self._run(conversation.memory_for(query.text)))
            history = view.text() if conversation.context else query.history
            prompt, completion, cost = session.pending
            session.pending = (0, 0, 0.0)
            step = MemoryStep(
                session=query.session,
                history_chars=len(history or ""),
                summary_chars=len(view.summary),
                verbatim_turns=len(view.verbatim),
                folded_turns=conversation.memory.folded_turns if conversation.memory is not None else 0,
                recalled=[t.query for t in view.recalled],
                summary_prompt_tokens=prompt,
                summary_completion_tokens=completion,
                summary_cost=cost,
                note=session.note,
            )
            session.note = ""
            turn = Turn(query.but(history=history), step)
            yield turn
            record = turn.record
            if record is not None and not record.cancelled:
                session.writing = self._run(self._remember(session, record, query.replaces))

    async def _remember(self, session: _Session, record: RunRecord, replaces: str | None) -> None:
        """Add the turn, fold older turns into the summary, charge it, save the session."""
        conversation = self._load(session)
        try:
            retry = replaces is not None and bool(conversation.context) and conversation.context[-1].run_id == replaces
            await conversation.add(record, retry=retry)
            memory = conversation.memory
            before = memory.usage if memory is not None else None
            if await conversation.summarize() and memory is not None and before is not None:
                prompt = memory.usage.prompt_tokens - before.prompt_tokens
                completion = memory.usage.completion_tokens - before.completion_tokens
                cost = self._price(prompt, completion)
                p, c, k = session.pending
                session.pending = (p + prompt, c + completion, k + cost)
                if session.key_name is not None:
                    item = f"summary:{session.id}:{record.run_id}"
                    self._runlog().add_spend(session.key_name, item, "summary", prompt + completion, cost)
        except Exception as exc:  # the turns stay verbatim; the next turn still runs, and says so
            log.warning("session %s: the summary failed (%s)", session.id, exc)
            session.note = f"the summary was not updated ({exc}); older turns stay verbatim"
        try:
            await asyncio.to_thread(save_session, session.id, await conversation.save_state())
        except OSError as exc:
            session.note = f"the session was not saved ({exc})"

    # ---- the stage's own loop ------------------------------------------------------------
    def _run(self, work: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        """Run ``work`` on the stage's event loop. Memory outlives any one caller's loop (chat
        runs each turn in ``asyncio.run``), so summaries and the conversations' state live on
        one loop of their own, in a daemon thread started on first use."""
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="ecoagent-memory", daemon=True).start()
                self._loop = loop
            return asyncio.run_coroutine_threadsafe(work, self._loop)

    def drain(self, timeout_s: float = _DRAIN_S) -> None:
        """Wait for the summaries being written (shutdown)."""
        with self._lock:
            writing = [s.writing for s in self._open.values() if s.writing is not None]
        if writing:
            concurrent.futures.wait(writing, timeout=timeout_s)

    def close(self) -> None:
        """Finish the summaries being written and stop the stage's loop."""
        self.drain()
        with self._lock:
            loop, self._loop = self._loop, None
            self._open.clear()
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
