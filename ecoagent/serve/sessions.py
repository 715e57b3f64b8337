"""Server-side conversations: a ``session`` id gives a client the memory that chat has.

A request that names a session gets, as its history, what ``ecoagent chat`` gives a
follow-up: the running summary of older turns, the last turns verbatim with their code
and output, and earlier turns recalled by similarity. Turns of one session run one at
a time, in order. The summary is written after the answer has been sent (off the
response path, as in chat); the next turn of the session waits for it if it is not
done, and its response counts the summary's tokens in ``usage`` (its key is charged
for them in the run log as soon as they are spent). Sessions are saved where chat
saves them, so ``ecoagent chat --resume ID`` continues a served conversation.

With API keys, a session belongs to its key: another key naming the same id gets a
conversation of its own, and recall searches only the key's own turns.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..conversation import Conversation, save_session, session_file
from ..query import Query

if TYPE_CHECKING:
    from ..assistant import EcoAssistant
    from ..records import RunRecord

__all__ = ["ServerSession", "Sessions"]

log = logging.getLogger("ecoagent.serve")
_KEEP = 512  # sessions held in memory; older ones reload from their file


@dataclass
class ServerSession:
    """One conversation on the server."""

    id: str
    key_name: str | None
    conversation: Conversation
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    summarizing: asyncio.Task[None] | None = None
    turns: int = 0
    pending: tuple[int, int, float] = (0, 0, 0.0)  # summary tokens (in, out) and cost not yet reported

    def take_pending(self) -> tuple[tuple[int, int], float]:
        """The summary spend to report with the next response (and forget)."""
        prompt, completion, cost = self.pending
        self.pending = (0, 0, 0.0)
        return (prompt, completion), cost


class Sessions:
    """The server's conversations, made on first use and saved after every turn.

    Args:
        eco: The assistant (its cheapest rung summarizes; recall lives next to its bank).
    """

    def __init__(self, eco: EcoAssistant) -> None:
        self.eco = eco
        self._open: OrderedDict[str, ServerSession] = OrderedDict()
        self._background: set[asyncio.Task[None]] = set()

    def _internal_id(self, session: str, key_name: str | None) -> str:
        return f"{key_name}.{session}" if key_name else session

    async def get(self, session: str, key_name: str | None) -> ServerSession:
        """The session (loaded from its file when it was saved before)."""
        sid = self._internal_id(session, key_name)
        found = self._open.get(sid)
        if found is not None:
            self._open.move_to_end(sid)
            return found
        made = ServerSession(sid, key_name, await asyncio.to_thread(self._conversation, sid, key_name))
        self._open[sid] = made
        while len(self._open) > _KEEP:
            old_id, old = next(iter(self._open.items()))
            if old.lock.locked() or (old.summarizing and not old.summarizing.done()):
                break
            del self._open[old_id]
        return made

    def _conversation(self, sid: str, key_name: str | None) -> Conversation:
        eco = self.eco
        conversation = Conversation(session=sid)
        user = (key_name or eco.settings.memory.user).replace(".", "_")[:64]  # a key's turns are recalled for it alone
        conversation.give_memory(eco.summarizer()[1], eco.bank, eco.settings.memory, user=user)
        path = session_file(sid)
        if path.is_file():
            try:
                asyncio.run(conversation.resume(json.loads(path.read_text(encoding="utf-8")), eco.runlog))
            except (OSError, ValueError, KeyError) as exc:  # a damaged file: start the conversation afresh
                log.warning("session %s: its saved memory at %s is unreadable (%s); starting afresh", sid, path, exc)
        return conversation

    async def query(self, session: ServerSession, text: str, client_history: str | None) -> str | None:
        """The history the next turn reads: the session's memory once it has turns, else
        what the client sent (a session the server has not seen yet)."""
        if session.summarizing is not None:
            await asyncio.shield(session.summarizing)
        if not session.conversation.context:
            return client_history
        built: Query = await session.conversation.query(text)
        return built.history

    def after(self, session: ServerSession, record: RunRecord) -> None:
        """Remember a finished turn, then summarize and save it in the background."""
        if record.cancelled:
            return
        session.summarizing = asyncio.create_task(self._after(session, record))
        self._background.add(session.summarizing)
        session.summarizing.add_done_callback(self._background.discard)

    async def _after(self, session: ServerSession, record: RunRecord) -> None:
        conversation = session.conversation
        try:
            await conversation.add(record)
            memory = conversation.memory
            before = memory.usage if memory is not None else None
            session.turns += 1
            if await conversation.summarize() and memory is not None and before is not None:
                after = memory.usage
                prompt, completion = (
                    after.prompt_tokens - before.prompt_tokens,
                    after.completion_tokens - before.completion_tokens,
                )
                cost = self.eco.rungs[0].cost(prompt, completion)
                p, c, k = session.pending
                session.pending = (p + prompt, c + completion, k + cost)
                if session.key_name is not None:
                    item = f"summary:{session.id}:{record.run_id}"
                    await asyncio.to_thread(
                        self.eco.runlog.add_spend, session.key_name, item, "summary", prompt + completion, cost
                    )
            state = await conversation.save_state()
            await asyncio.to_thread(save_session, session.id, state)
        except Exception as exc:  # the turns stay verbatim; the next turn still runs
            log.warning("session %s: the summary or the save failed (%s)", session.id, exc)

    async def drain(self) -> None:
        """Finish the summaries being written (shutdown)."""
        if self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
