"""Chat's memory plumbing: attach it once the models load, summarize after each answer, save the session.

The summary is written while the person reads the answer and types the next
question (a background thread), and the next turn waits for it only if it is not
done yet. Each finished turn saves the session to ``<state dir>/sessions/ID.json``
so ``ecoagent chat --resume ID`` continues it.
"""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from ..config import MemorySettings
from ..conversation import Conversation, save_session, session_file
from ..errors import EcoagentError
from ..paths import state_dir

if TYPE_CHECKING:
    from ..assistant import EcoAssistant

__all__ = ["ChatMemory", "session_file"]


def _saved_sessions() -> list[str]:
    folder = state_dir() / "sessions"
    files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True) if folder.is_dir() else []
    return [p.stem for p in files]


class ChatMemory:
    """The conversation's summary buffer and recall, wired to the loaded assistant.

    Args:
        conversation: The chat's conversation.
        settings: ``[memory]`` settings.
        resume: A saved session to continue.

    Raises:
        EcoagentError: ``resume`` names no saved session (exit code 2; lists the saved ones).
    """

    def __init__(self, conversation: Conversation, settings: MemorySettings, resume: str | None = None) -> None:
        self.conversation = conversation
        self.settings = settings
        self._resume: dict[str, Any] | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self.summarizer = ""
        if resume is not None:
            path = session_file(resume)
            try:
                self._resume = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                known = ", ".join(_saved_sessions()[:5]) or "none yet"
                raise EcoagentError(
                    f"no saved chat session {resume!r} ({exc.__class__.__name__})",
                    f"saved sessions, newest first: {known}",
                    exit_code=2,
                ) from exc
            conversation.session = resume

    def attach(self, eco: EcoAssistant) -> None:
        """Give the conversation its memory (once; the cheapest rung's model summarizes)."""
        if self.conversation.memory is not None:
            return
        self.summarizer, client = eco.summarizer()
        self.conversation.give_memory(client, eco.bank, self.settings)
        if self._resume is not None:
            asyncio.run(self.conversation.resume(self._resume, eco.runlog))
            self._resume = None

    def wait(self, console: Console) -> None:
        """Wait for the summary being written, if any; say so if writing it failed."""
        if self._thread is not None:
            if self._thread.is_alive():
                with console.status("updating the conversation summary…"):
                    self._thread.join()
            self._thread = None
        if self._error is not None:
            console.print(f"the summary was not updated ({self._error}); older turns stay verbatim", style="dim")
            self._error = None

    def after_turn(self) -> None:
        """Summarize and save in the background, while the person reads the answer."""

        def work() -> None:
            try:
                asyncio.run(self.conversation.summarize())
            except Exception as exc:  # the turns stay verbatim; the next turn says so
                self._error = exc
            try:
                self.save()
            except OSError as exc:
                self._error = exc

        self._thread = threading.Thread(target=work, name="ecoagent-summary", daemon=True)
        self._thread.start()

    def save(self) -> Path:
        """Write the session's memory for ``--resume``."""
        return save_session(self.conversation.session, asyncio.run(self.conversation.save_state()))
