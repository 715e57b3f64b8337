"""The solution bank: confirmed query → code pairs in Qdrant, returned as demonstrations.

* :mod:`.store` — :class:`SolutionBank` (embedded on disk or a Qdrant server);
* :mod:`.adapter` — :class:`SolutionMemory`, the bank as an AutoGen ``Memory``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr

if TYPE_CHECKING:
    from .adapter import SolutionMemory
    from .store import BankedSolution, SolutionBank

__all__ = ["BankedSolution", "SolutionBank", "SolutionMemory"]

__getattr__ = lazy_getattr(__name__, {"BankedSolution": "store", "SolutionBank": "store", "SolutionMemory": "adapter"})
