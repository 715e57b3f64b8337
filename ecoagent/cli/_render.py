"""Showing a run as it happens, and summing it up: one renderer for chat, ask and batch.

:class:`LiveRun` renders the events of ``EcoAssistant.run_stream``: demonstrations,
each assistant message (code highlighted), execution output (truncated sensibly),
escalations; :func:`footer` sums a run up with rung, tokens and cost. With
``verbose=False`` (``ask``) only rungs and escalations are shown. rich drops colour
by itself when the stream is not a terminal or NO_COLOR is set.
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
from ..costs import CostTally
from ..events import (
    CacheChecked,
    CodeExecuted,
    Compressed,
    DemonstrationsFound,
    Escalated,
    Event,
    MemoryRecalled,
    ModelMessage,
    Routed,
    RungJudged,
    RungStarted,
)
from ..records import CompressionStep, RunRecord, risk_phrase

__all__ = ["LiveRun", "compression_line", "footer", "ladder_line", "money"]

_FENCE = re.compile(r"```[ \t]*(\w+)?[ \t]*\n(.*?)```", re.DOTALL)
_MAX_OUTPUT_LINES = 30


def money(usd: float) -> str:
    """USD with enough precision for per-token prices."""
    return f"${usd:,.4f}" if usd < 100 else f"${usd:,.2f}"


def ladder_line(rungs: Sequence[Rung]) -> str:
    """``smollm2 ($0/$0) → gpt-4o ($2.5/$10 per Mtok)``."""
    return (
        " → ".join(f"{r.name} (${r.input_price_per_mtok:g}/${r.output_price_per_mtok:g})" for r in rungs)
        + " per Mtok in/out"
    )


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


def footer(record: RunRecord, session: CostTally | None = None) -> Text:
    """``✓ smollm2 · 412 tokens · $0.0000 (top-rung estimate $0.0031, saved $0.0031)``."""
    text = Text()
    step = record.first_turn
    if record.served_from_cache and step is not None:
        how = "from the cache" if step.kind == "exact" else "by replaying a confirmed solution"
        text.append(f"✓ answered {how} (no model)", style="bold green")
    elif record.resolved:
        text.append(f"✓ resolved by {record.final_rung}", style="bold green")
        if record.risk_note is not None:
            text.append(f" ({record.risk_note})", style="dim")
    elif record.unverified:
        text.append(
            f"⚠ unverified ({record.final_rung}): {record.risk_note or risk_phrase(record.risk)}", style="bold yellow"
        )
    else:
        text.append("✗ unresolved after every rung", style="bold red")
    text.append(f" · {record.tokens:,} tokens")
    if record.compute_s >= 0.05:
        text.append(f" · {record.compute_s:.1f} s compute")
    text.append(f" · {money(record.total_cost)}")
    text.append(
        f" (top-rung estimate {money(record.top_rung_cost_estimate)}, saved {money(record.saving_estimate)})",
        style="dim",
    )
    if session is not None:
        text.append(f" · session {session.tokens:,} tokens, {money(session.cost)}", style="dim")
    text.append(f" · run {record.run_id}", style="dim")
    return text


def compression_line(rung: Rung, step: CompressionStep) -> Text:
    """``⇣ compressed context: 3,120 → 1,480 tokens (2.1x) in 14.2 s, saves ~$0.0041 per call``."""
    parts = ", ".join(step.parts)
    if step.skipped:
        return Text(f"⇣ not compressed: {step.skipped}", style="dim")
    ratio = step.tokens_before / step.tokens_after if step.tokens_after else 1.0
    per_call = rung.cost(step.saved, 0)
    return Text(
        f"⇣ compressed {parts}: {step.tokens_before:,} → {step.tokens_after:,} tokens ({ratio:.1f}x) "
        f"in {step.seconds:.1f} s, saves {money(per_call)} per {rung.name} call (cl100k estimate)",
        style="cyan",
    )


class LiveRun:
    """Prints a run's events as they happen."""

    def __init__(self, console: Console, *, verbose: bool = True) -> None:
        self.console = console
        self.verbose = verbose

    def __call__(self, event: Event) -> None:
        if isinstance(event, MemoryRecalled):
            if event.step.note:
                self.console.print(Text(event.step.note, style="dim"))
            if self.verbose:
                for question in event.step.recalled:
                    self.console.print(Text(f"↳ recalled an earlier turn: {question}", style="cyan"))
        elif isinstance(event, CacheChecked):
            step = event.step
            if step.served and step.kind == "exact":
                self.console.print(Text(f"⚡ cached answer: {step.reason}", style="cyan"))
            elif step.served:
                self.console.print(Text(f"⚡ replayed ({step.score or 0:.2f}): {step.matched_query}", style="cyan"))
            elif self.verbose:
                self.console.print(Text(f"↳ not replayed ({step.matched_query}): {step.reason}", style="dim"))
            if step.served and self.verbose and step.execution is not None and step.kind == "replay":
                body = _message_body(f"```{step.execution.language}\n{step.execution.code}\n```")
                self.console.print(Panel(body, title="replayed code", title_align="left", border_style="cyan"))
                self.console.print(
                    Panel(
                        Text(_truncated(step.execution.output)),
                        title="executor",
                        title_align="left",
                        border_style="dim",
                    )
                )
        elif isinstance(event, Routed):
            routing = event.routing
            if routing.start > 0 or self.verbose:
                self.console.print(Text(f"↗ starting at {routing.start_rung}: {routing.reason}", style="cyan"))
        elif isinstance(event, DemonstrationsFound):
            if self.verbose:
                for demo in event.demonstrations:
                    self.console.print(Text(f"↳ demonstration ({demo.score:.2f}): {demo.query}", style="cyan"))
        elif isinstance(event, RungStarted):
            sample = f" (sample {event.sample + 1}, to compare)" if event.sample else ""
            self.console.print(Text(f"▸ {event.rung.name}{sample}", style="bold magenta"))
        elif isinstance(event, Compressed):
            self.console.print(compression_line(event.rung, event.step))
        elif isinstance(event, ModelMessage):
            if self.verbose:
                body = _message_body(event.message.content)
                self.console.print(
                    Panel(body, title=f"assistant · {event.rung.name}", title_align="left", border_style="blue")
                )
        elif isinstance(event, CodeExecuted):
            if self.verbose:
                ex = event.execution
                title = "executor" + (
                    " · timed out" if ex.timed_out else f" · exit {ex.exit_code}" if ex.exit_code else ""
                )
                self.console.print(
                    Panel(Text(_truncated(ex.output)), title=title, title_align="left", border_style="dim")
                )
        elif isinstance(event, RungJudged):
            if self.verbose and event.attempt.converged:
                self.console.print(Text("↺ converged: the code reproduced its previous output", style="dim"))
        elif isinstance(event, Escalated):
            self.console.print(
                Text(
                    f"{event.from_rung.name} failed: {event.reason} → escalating to {event.to_rung.name}",
                    style="yellow",
                )
            )
