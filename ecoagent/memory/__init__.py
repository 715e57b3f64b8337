"""Conversation memory: a summary buffer for AutoGen agents and recall of earlier turns.

:class:`SummaryBufferContext` is an AutoGen ``ChatCompletionContext`` (last K turns
verbatim, older ones summarized off the response path); :class:`TurnMemory` keeps
every finished chat turn in Qdrant, per user, and finds the relevant ones again.
"""

from __future__ import annotations

from .recall import RecalledTurn, TurnMemory
from .summary_buffer import SummaryBufferContext, SummaryBufferContextConfig, SummaryBufferState, split_turns

__all__ = [
    "RecalledTurn",
    "SummaryBufferContext",
    "SummaryBufferContextConfig",
    "SummaryBufferState",
    "TurnMemory",
    "split_turns",
]
