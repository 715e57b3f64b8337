"""Chat's terminal plumbing: the assistant loaded behind the prompt, line editing and history,
reading lines, and the sessions saved for ``--resume``."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from ..config import Settings
from ..paths import state_dir

if TYPE_CHECKING:
    from ..assistant import EcoAssistant

__all__ = ["Loader", "read_line", "saved_sessions", "setup_history", "warm_assistant"]


class Loader:
    """Builds the assistant in a background thread, so the prompt shows at once.

    Importing AutoGen, loading the embedder, opening the bank and starting the
    cheapest rung's model take seconds; a person typing their first question
    should not wait for them. Whoever needs the assistant first waits, with a
    spinner, for what is left.
    """

    def __init__(self, build: Callable[[], EcoAssistant], console: Console) -> None:
        self._console = console
        self._eco: EcoAssistant | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(build,), name="ecoagent-loader", daemon=True)
        self._thread.start()

    def _run(self, build: Callable[[], EcoAssistant]) -> None:
        try:
            self._eco = build()
        except BaseException as exc:  # handed to whoever asks for the assistant
            self._error = exc

    @property
    def ready(self) -> bool:
        """Whether loading has finished (successfully or not)."""
        return not self._thread.is_alive()

    def get(self) -> EcoAssistant:
        """The assistant, once loaded.

        Raises:
            EcoagentError: What kept it from loading (a locked bank, a missing key).
        """
        if self._thread.is_alive():
            with self._console.status("loading the models and the solution bank…"):
                self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._eco is not None
        return self._eco


def warm_assistant(settings: Settings) -> EcoAssistant:
    """An assistant with everything the first query needs already loaded."""
    from ..assistant import EcoAssistant

    eco = EcoAssistant(settings)
    eco.warm()
    return eco


def setup_history() -> Callable[[], None]:
    """Line editing and input history persisted in the state dir (terminals only)."""
    try:
        import readline
    except ImportError:  # pragma: no cover - not on every platform
        return lambda: None
    path: Path = state_dir() / "chat_history"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        readline.read_history_file(path)
    except OSError:
        pass
    readline.set_history_length(1000)
    return lambda: readline.write_history_file(path)


def saved_sessions() -> list[str]:
    """The saved chat sessions' ids, newest first."""
    folder = state_dir() / "sessions"
    files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True) if folder.is_dir() else []
    return [p.stem for p in files]


def read_line() -> str:
    """One line of standard input.

    Raises:
        EOFError: At the end of the input.
    """
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line
