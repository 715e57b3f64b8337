"""First-turn caching: an exact answer cache and verified replay of banked code.

:class:`FirstTurnStage` is the pipeline's first stage; :class:`AnswerCache` its
SQLite store; :mod:`.guard` decides whether a similar query may be served.
"""

from __future__ import annotations

from .guard import mismatch, normalize
from .stage import FirstTurnStage, eligible, ladder_scope
from .store import COUNTERS, AnswerCache, CachedAnswer

__all__ = [
    "COUNTERS",
    "AnswerCache",
    "CachedAnswer",
    "FirstTurnStage",
    "eligible",
    "ladder_scope",
    "mismatch",
    "normalize",
]
