"""Chat's commands for material the questions are about: ``/context FILE`` and ``/paste``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from ..config import MAX_CONTEXT_CHARS
from ..errors import EcoagentError
from ._common import fail, read_context

__all__ = ["ContextCommands"]


class ContextCommands:
    """``/context`` and ``/paste``: what they attach goes with every next question as its context."""

    console: Console
    material: str | None
    read_line: Callable[[], str]

    def cmd_context(self, arg: str) -> None:
        """Material the next questions are about: /context FILE attaches it, /context clear drops it."""
        arg = arg.strip()
        if arg == "clear":
            self.material = None
            self.console.print("context cleared")
        elif arg:
            try:
                self._attach(read_context(Path(arg).expanduser()), arg)
            except EcoagentError as exc:
                fail(exc)
        elif self.material is None:
            self.console.print("no context attached: /context FILE or /paste attaches one")
        else:
            first = self.material.strip().splitlines()[0][:70]
            self.console.print(f"context: {len(self.material):,} characters, starting {first!r}", markup=False)

    def cmd_paste(self, arg: str) -> None:
        """Paste material the next questions are about; end it with a line holding only /end."""
        self.console.print("paste the text, then a line with only /end", style="dim")
        lines: list[str] = []
        while True:
            try:
                line = self.read_line()
            except EOFError:
                break
            if line.strip() == "/end":
                break
            lines.append(line.rstrip("\n"))
        text = "\n".join(lines)
        if not text.strip():
            self.console.print("nothing pasted; the context is unchanged")
            return
        self._attach(text + "\n", "pasted text")

    def _attach(self, text: str, where: str) -> None:
        if len(text) > MAX_CONTEXT_CHARS:
            self.console.print(
                f"{where} is {len(text):,} characters, over the {MAX_CONTEXT_CHARS:,} limit: "
                "attach only the part your questions are about",
                markup=False,
            )
            return
        self.material = text
        self.console.print(
            f"attached {where} ({len(text):,} characters) to the next questions; /context clear drops it", markup=False
        )
