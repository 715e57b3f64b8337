"""Showing a run as it happens, and summing it up: one renderer for chat, ask and batch.

:class:`LiveRun` is a :class:`~ecoagent.ladder.LadderObserver`: it prints
demonstrations, each agent's message under its name (code highlighted), execution
output (truncated sensibly), escalations and a footer with rung, tokens and cost.
With ``verbose=False`` (``ask``) it prints only the escalations and the footer.
rich drops colour by itself when the stream is not a terminal or NO_COLOR is set.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.console import Console, Group
from rich.markdown import Markdown
from rich.panel import Panel
from rich.syntax import Syntax
from rich.text import Text

from ..config import Rung
from ..records import Demonstration, Message, RungAttempt, RunRecord

__all__ = ["LiveRun", "SessionCost", "footer", "ladder_line", "money"]

_FENCE = re.compile(r"```[ \t]*(\w+)?[ \t]*\n(.*?)```", re.DOTALL)
_MAX_OUTPUT_LINES = 30


def money(usd: float) -> str:
    """USD with enough precision for per-token prices."""
    return f"${usd:,.4f}" if usd < 100 else f"${usd:,.2f}"


def ladder_line(rungs: Sequence[Rung]) -> str:
    """``smollm2 ($0/$0) → gpt-4o ($2.5/$10 per Mtok)``."""
    return " → ".join(f"{r.name} (${r.input_price_per_mtok:g}/${r.output_price_per_mtok:g})" for r in rungs) + " per Mtok in/out"


def _message_body(content: str) -> Group:
    parts: list[Markdown | Syntax | Text] = []
    last = 0
    for match in _FENCE.finditer(content):
        before = content[last : match.start()].strip()
        if before:
            parts.append(Markdown(before))
        parts.append(Syntax(match.group(2).rstrip(), match.group(1) or "python", theme="ansi_dark", word_wrap=True))
        last = match.end()
    rest = content[last:].strip()
    if rest:
        parts.append(Markdown(rest))
    return Group(*parts)


def _truncated(output: str) -> str:
    lines = output.rstrip("\n").splitlines()
    if len(lines) <= _MAX_OUTPUT_LINES:
        return "\n".join(lines)
    head, tail = lines[: _MAX_OUTPUT_LINES // 2], lines[-_MAX_OUTPUT_LINES // 2 :]
    return "\n".join([*head, f"… {len(lines) - len(head) - len(tail)} more lines …", *tail])


class SessionCost:
    """Tokens and cost per rung over a session (chat) or a batch."""

    def __init__(self) -> None:
        self.per_rung: dict[str, dict[str, float]] = {}
        self.cost = 0.0
        self.estimate = 0.0
        self.tokens = 0

    def add(self, record: RunRecord) -> None:
        for attempt in record.attempts:
            row = self.per_rung.setdefault(attempt.rung, {"attempts": 0, "solved": 0, "tokens": 0, "cost": 0.0})
            row["attempts"] += 1
            row["solved"] += 1 if attempt.verdict and attempt.verdict.ok else 0
            row["tokens"] += attempt.tokens
            row["cost"] += attempt.cost
            verdict = attempt.verdict
            if verdict and (verdict.prompt_tokens or verdict.completion_tokens):
                judged = self.per_rung.setdefault(f"{verdict.judge} judge", {"attempts": 0, "solved": 0, "tokens": 0, "cost": 0.0})
                judged["attempts"] += 1
                judged["solved"] += 1 if verdict.ok else 0
                judged["tokens"] += verdict.prompt_tokens + verdict.completion_tokens
                judged["cost"] += verdict.cost
        self.cost += record.total_cost
        self.estimate += record.top_rung_cost_estimate
        self.tokens += record.tokens


def footer(record: RunRecord, session: SessionCost | None = None) -> Text:
    """``✓ smollm2 · 412 tokens · $0.0000 (top-rung estimate $0.0031, saved $0.0031)``."""
    text = Text()
    if record.resolved:
        text.append(f"✓ resolved by {record.final_rung}", style="bold green")
    else:
        text.append("✗ unresolved after every rung", style="bold red")
    text.append(f" · {record.tokens:,} tokens · {money(record.total_cost)}")
    text.append(f" (top-rung estimate {money(record.top_rung_cost_estimate)}, saved {money(record.saving_estimate)})", style="dim")
    if session is not None:
        text.append(f" · session {session.tokens:,} tokens, {money(session.cost)}", style="dim")
    text.append(f" · run {record.run_id}", style="dim")
    return text


class LiveRun:
    """Prints a run as it happens (a ``LadderObserver``)."""

    def __init__(self, console: Console, *, verbose: bool = True) -> None:
        self.console = console
        self.verbose = verbose

    def on_demonstrations(self, demos: Sequence[Demonstration]) -> None:
        if not self.verbose:
            return
        for demo in demos:
            self.console.print(Text(f"↳ demonstration ({demo.score:.2f}): {demo.query}", style="cyan"))

    def on_rung_start(self, rung: Rung, index: int) -> None:
        self.console.print(Text(f"▸ {rung.name}", style="bold magenta"))

    def on_message(self, rung: Rung, message: Message) -> None:
        if not self.verbose or message.source == "user":
            return
        if message.source == "executor":
            self.console.print(Panel(Text(_truncated(message.content)), title="executor", title_align="left", border_style="dim"))
        else:
            self.console.print(Panel(_message_body(message.content), title=f"{message.source} · {rung.name}", title_align="left", border_style="blue"))

    def on_rung_end(self, rung: Rung, attempt: RungAttempt) -> None:
        return None

    def on_escalate(self, from_rung: Rung, to_rung: Rung, reason: str) -> None:
        self.console.print(Text(f"{from_rung.name} failed: {reason} → escalating to {to_rung.name}", style="yellow"))
