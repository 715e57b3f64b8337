"""A conversation's turns: what a chat remembers between queries, and what the model reads of it.

A follow-up's first message carries the conversation's memory, built by
:meth:`Conversation.memory_for`:

* with a :class:`~ecoagent.memory.SummaryBufferContext`: a running summary of older
  turns (written by the cheapest rung, off the response path) and the last few turns
  verbatim, each with its code and what the code printed;
* with a :class:`~ecoagent.memory.TurnMemory`: the few earlier turns, from this
  session or earlier ones, most similar to the new question;
* with neither (a plain ``Conversation()``): the last ``context_turns`` turns raw.

Retrieval, caching, the run log and banking stay keyed on the new question alone.
``/new`` starts a fresh context (history and cost stay); ``/forget`` also deletes the
session's turns from recall.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .costs import CostTally
from .paths import state_dir
from .query import Query
from .records import RunRecord

if TYPE_CHECKING:  # AutoGen and qdrant-client load in chat's background loader, not before its prompt
    from autogen_core.models import ChatCompletionClient

    from .config import MemorySettings
    from .memory import RecalledTurn, SummaryBufferContext, TurnMemory
    from .runlog import RunLog
    from .vectors import VectorStore

__all__ = ["Conversation", "MemoryView", "save_session", "session_file"]

_OUTPUT_CHARS = 400
SUMMARY_PREFIX = "Summary of the earlier conversation:"


def session_file(session: str) -> Path:
    """Where a conversation's memory is saved (chat's sessions and the server's alike,
    so ``ecoagent chat --resume ID`` continues either)."""
    return state_dir() / "sessions" / f"{session}.json"


def save_session(session: str, state: dict[str, Any]) -> Path:
    """Write a conversation's saved state (:meth:`Conversation.save_state`) to its file, whole or not at all."""
    path = session_file(session)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, default=str), encoding="utf-8")
    tmp.replace(path)
    return path


@dataclass
class MemoryView:
    """Exactly what a follow-up's first message carries of the conversation."""

    summary: str = ""
    verbatim: list[str] = field(default_factory=list)
    recalled: list[RecalledTurn] = field(default_factory=list)

    def text(self) -> str | None:
        """The context block of the first message (None when there is nothing to carry)."""
        parts = []
        if self.summary:
            parts.append(f"{SUMMARY_PREFIX}\n{self.summary}")
        if self.recalled:
            parts.append("Related earlier turns:\n" + "\n".join(t.text() for t in self.recalled))
        if self.verbatim:
            parts.append("\n".join(self.verbatim))
        return "\n\n".join(parts) or None


def _turn_messages(record: RunRecord) -> list[Any]:
    """A finished turn as chat messages: question, code, what it printed, answer."""
    from autogen_core.models import AssistantMessage, UserMessage

    messages: list[Any] = [UserMessage(content=record.query, source="user")]
    found = record.answer_execution  # the code behind the answer, not a later rung's that was not served
    code, output = (found[1].code, found[1].output) if found else (record.final_code or "", "")
    if record.served_from_cache and record.first_turn and record.first_turn.execution:
        code, output = record.first_turn.execution.code, record.first_turn.execution.output
    if code:
        messages.append(AssistantMessage(content=f"```python\n{code.strip()}\n```", source="assistant"))
        messages.append(UserMessage(content=output.strip()[:_OUTPUT_CHARS], source="executor"))
    messages.append(AssistantMessage(content=record.final_answer or "(unresolved)", source="assistant"))
    return messages


def _render_turn(turn: list[Any], *, with_code: bool = True) -> str:
    from autogen_core.models import UserMessage

    lines = []
    for m in turn:
        text = str(m.content).strip()
        if isinstance(m, UserMessage) and m.source == "executor":
            lines.append(f"Output: {text}")
        elif isinstance(m, UserMessage):
            lines.append(f"Q: {text}")
        elif text.startswith("```"):
            if with_code:
                lines.append(f"Code:\n{text}")
        else:
            lines.append(f"A: {text}")
    return "\n".join(lines)


@dataclass
class Conversation:
    """Turns, memory and cost of one chat session.

    Args:
        context_turns: Without a summary buffer, the earlier turns shown raw on a follow-up.
        memory: The summary buffer (chat passes one whose summarizer is the cheapest rung).
        recall: Earlier turns by similarity, across sessions.
    """

    context_turns: int = 3
    session: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    turns: list[RunRecord] = field(default_factory=list)
    context: list[RunRecord] = field(default_factory=list)
    cost: CostTally = field(default_factory=CostTally)
    memory: SummaryBufferContext | None = None
    recall: TurnMemory | None = None
    _recall_ids: dict[str, str] = field(default_factory=dict)

    def give_memory(
        self, summarizer: ChatCompletionClient, store: VectorStore, settings: MemorySettings, *, user: str | None = None
    ) -> None:
        """Give the conversation chat's memory: a summary buffer that ``summarizer`` writes, and
        recall of ``user``'s earlier turns (default: ``settings.user``) from a collection of ``store``."""
        from .memory import SummaryBufferContext, TurnMemory

        self.memory = SummaryBufferContext(
            summarizer, keep_turns=settings.keep_turns, summary_words=settings.summary_words
        )
        if settings.recall and settings.recall_k > 0:
            self.recall = TurnMemory(
                store, user or settings.user, threshold=settings.recall_threshold, k=settings.recall_k
            )

    async def memory_for(self, text: str | None) -> MemoryView:
        """What a follow-up asking ``text`` will read of the conversation (None: leave recall out)."""
        from .memory import split_turns

        view = MemoryView()
        if self.memory is not None:
            view.summary = self.memory.summary
            turns = split_turns(await self.memory.get_messages())
            # Code is for building on: only the newest turn's is shown, older turns keep their results.
            view.verbatim = [_render_turn(t, with_code=i == len(turns) - 1) for i, t in enumerate(turns)]
        else:
            recent = self.context[-self.context_turns :] if self.context_turns else []
            view.verbatim = [f"Q: {r.query}\nA: {r.final_answer or '(unresolved)'}" for r in recent]
        if text and self.recall is not None and self.context:  # a follow-up: a first turn stays cacheable
            # Turns shown verbatim need no recall; summarized ones may: a summary keeps the gist, not every figure.
            verbatim = self.context[-len(view.verbatim) :] if view.verbatim else []
            shown = {self._recall_ids[r.run_id] for r in verbatim if r.run_id in self._recall_ids}
            view.recalled = self.recall.search(text, exclude=shown) if self.recall.count() else []
        return view

    async def query(self, text: str, *, start_rung: int = 0, cache: bool = True) -> Query:
        """The next turn's query, with this conversation's memory and session."""
        view = await self.memory_for(text)
        return Query(text, start_rung=start_rung, history=view.text(), session=self.session, cache=cache)

    async def add(self, record: RunRecord, *, retry: bool = False) -> None:
        """Count a finished turn and remember it; a retry replaces the turn it retried."""
        self.turns.append(record)
        self.cost.add(record)
        from .memory import RecalledTurn, split_turns

        if retry and self.context:
            replaced = self.context[-1]
            self.context[-1] = record
            if self.recall is not None and replaced.run_id in self._recall_ids:  # its answer was rejected
                self.recall.remove(self._recall_ids.pop(replaced.run_id))
            if self.memory is not None:  # the retried turn is the buffer's last one
                kept = split_turns(await self.memory.get_messages())[:-1]
                state = dict(await self.memory.save_state())
                state["messages"] = [m for turn in kept for m in turn]
                await self.memory.load_state(state)
        else:
            self.context.append(record)
        if self.memory is not None:
            for message in _turn_messages(record):
                await self.memory.add_message(message)
        if self.recall is not None:
            found = record.answer_execution
            output = found[1].output if found else ""
            turn = RecalledTurn(
                session=self.session,
                query=record.query,
                answer=record.final_answer or "",
                output=output,
                run_id=record.run_id,
            )
            self._recall_ids[record.run_id] = self.recall.add(turn)

    async def summarize(self) -> bool:
        """Fold older turns into the summary (call when nobody waits for an answer)."""
        return await self.memory.summarize() if self.memory is not None else False

    @property
    def last(self) -> RunRecord | None:
        """The latest turn, if any."""
        return self.turns[-1] if self.turns else None

    async def new(self) -> None:
        """Start a fresh context: the buffer and summary go; history, cost and recall stay."""
        self.context.clear()
        if self.memory is not None:
            await self.memory.clear()

    async def forget(self, everything: bool = False) -> int:
        """:meth:`new`, and delete this session's turns (or, with ``everything``, all of this
        user's turns) from recall; returns how many recalled turns went."""
        await self.new()
        if self.recall is None:
            return 0
        self._recall_ids.clear()
        return self.recall.forget(None if everything else self.session)

    async def save_state(self) -> dict[str, Any]:
        """What ``chat --resume`` needs: the session id, the memory, the turns' run ids."""
        memory = dict(await self.memory.save_state()) if self.memory is not None else None
        return {
            "session": self.session,
            "memory": memory,
            "run_ids": [r.run_id for r in self.context],
            "recall_ids": self._recall_ids,
        }

    async def resume(self, state: dict[str, Any], runlog: RunLog) -> None:
        """:meth:`load_state` with the saved turns' records read from ``runlog`` (those still there)."""
        records = [r for r in (runlog.get(i) for i in state.get("run_ids", [])) if r is not None]
        await self.load_state(state, records)

    async def load_state(self, state: dict[str, Any], records: list[RunRecord]) -> None:
        """Continue a saved session: its id, memory and context (``records``: its runs, from the run log)."""
        self.session = str(state["session"])
        if self.memory is not None and state.get("memory"):
            await self.memory.load_state(state["memory"])
        self.context = list(records)
        self._recall_ids = dict(state.get("recall_ids") or {})
