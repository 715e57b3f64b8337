"""The compression stage: each rung's first message, compressed for the rungs that compress.

Only what a rung reads beyond the query is compressed: the demonstrations' text,
the chat history (summary, recalled and recent turns) and the context material; the
query itself never is. A rung compresses when its ``compress`` says so (default: when
its input tokens cost money), so on a ladder that starts free, a query the free rung
solves never pays for a compression. Rungs with the same rate share one compression.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from ..config import CompressSettings, Rung
from ..prompts import demonstrations_text, first_message
from ..query import Query
from ..records import CompressionStep, Demonstration
from .compressor import Compressor

__all__ = ["CompressionStage", "FirstMessages"]


class CompressionStage:
    """Builds :class:`FirstMessages` for each query.

    Args:
        settings: The ``[compress]`` section.
        compressor: Returns the compressor (built on first use: the model loads then).
    """

    def __init__(self, settings: CompressSettings, compressor: Callable[[], Compressor]) -> None:
        self.settings = settings
        self._compressor = compressor

    def applies_to(self, rung: Rung) -> bool:
        """Whether ``rung`` reads compressed text."""
        return self.settings.enabled and rung.compresses

    def for_query(
        self, query: Query, demonstrations: Sequence[Demonstration], *, show_tests: bool = False
    ) -> FirstMessages:
        """The first messages of ``query``'s rung conversations (compressed when a rung first asks);
        with ``show_tests``, the query's tests follow it, never compressed."""
        return FirstMessages(self, query, demonstrations, tests=query.tests if show_tests else None)


class FirstMessages:
    """One query's first message, per rung: plain, or compressed at the rung's rate."""

    def __init__(
        self,
        stage: CompressionStage,
        query: Query,
        demonstrations: Sequence[Demonstration],
        *,
        tests: str | None = None,
    ) -> None:
        self.stage = stage
        self.query = query
        self.tests = tests
        self.parts = {
            name: text
            for name, text in (
                ("demonstrations", demonstrations_text(demonstrations)),
                ("history", query.history),
                ("context", query.context),
            )
            if text
        }
        self.plain = first_message(query.text, self.parts.get("demonstrations"), query.history, query.context, tests)
        self._done: dict[float, tuple[str, CompressionStep]] = {}

    async def for_rung(self, rung: Rung) -> tuple[str, CompressionStep | None]:
        """What ``rung`` reads first, and what compression did (None when it does not compress)."""
        if not self.parts or not self.stage.applies_to(rung):
            return self.plain, None
        rate = rung.compress_rate or self.stage.settings.rate
        if rate in self._done:  # a lower rung already paid for this one: no compressor time counted again
            text, step = self._done[rate]
            return text, step.model_copy(update={"seconds": 0.0, "reused": True})
        self._done[rate] = await asyncio.to_thread(self._compress, rate)
        return self._done[rate]

    def _compress(self, rate: float) -> tuple[str, CompressionStep]:
        compressor = self.stage._compressor()
        done = {name: compressor.compress(text, self.query.text, rate) for name, text in self.parts.items()}
        skipped = [f"{name}: {c.skipped}" for name, c in done.items() if c.skipped]
        step = CompressionStep(
            parts=list(done),
            rate=rate,
            tokens_before=sum(c.tokens_before for c in done.values()),
            tokens_after=sum(c.tokens_after for c in done.values()),
            seconds=sum(c.seconds for c in done.values()),
            skipped="; ".join(skipped) if len(skipped) == len(done) else None,
        )
        text = {name: c.text for name, c in done.items()}
        return first_message(
            self.query.text, text.get("demonstrations"), text.get("history"), text.get("context"), self.tests
        ), step
