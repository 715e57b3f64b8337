"""ecoagent: make an LLM assistant cheaper without making it worse.

After EcoAssistant (Zhang et al. 2023), on Microsoft AutoGen: queries climb a ladder
of models from the cheapest up, confirmed solutions come back as demonstrations, and
the assistant's code runs in a hardened Docker sandbox.

    from ecoagent import EcoAssistant
    eco = EcoAssistant()
    record = eco.run_sync("What is the sum of the primes below 100?")
    eco.feedback(record.run_id, good=True)

    async for event in eco.run_stream(Query("What is 17 * 23?", expected="391")):
        print(event)          # typed events (ecoagent.events), then the RunRecord

The heavy parts (AutoGen, Qdrant, torch) load on first use of these names, so the
command line starts fast.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from ._lazy import lazy_getattr

try:
    __version__ = version("ecoagent")
except PackageNotFoundError:  # running from a checkout without installing
    __version__ = "0.0.0+unknown"

if TYPE_CHECKING:
    from .assistant import EcoAssistant, FeedbackResult
    from .bank import BankedSolution, SolutionBank, SolutionMemory
    from .batch import BatchResult, BatchSummary, run_batch
    from .config import Rung, Settings, load_settings
    from .query import Query
    from .records import RunRecord
    from .sandbox import DockerSandboxExecutor, SandboxResult

__all__ = [
    "BankedSolution",
    "BatchResult",
    "BatchSummary",
    "DockerSandboxExecutor",
    "EcoAssistant",
    "FeedbackResult",
    "Query",
    "Rung",
    "RunRecord",
    "SandboxResult",
    "Settings",
    "SolutionBank",
    "SolutionMemory",
    "__version__",
    "load_settings",
    "run_batch",
]

__getattr__ = lazy_getattr(
    __name__,
    {
        "EcoAssistant": "assistant",
        "FeedbackResult": "assistant",
        "BankedSolution": "bank",
        "SolutionBank": "bank",
        "SolutionMemory": "bank",
        "BatchResult": "batch",
        "BatchSummary": "batch",
        "run_batch": "batch",
        "Rung": "config",
        "Settings": "config",
        "load_settings": "config",
        "Query": "query",
        "RunRecord": "records",
        "DockerSandboxExecutor": "sandbox",
        "SandboxResult": "sandbox",
    },
)
