"""ecoagent: make an LLM assistant cheaper without making it worse.

After EcoAssistant (Zhang et al. 2023), on Microsoft AutoGen: queries climb a ladder
of models from the cheapest up, confirmed solutions come back as demonstrations, and
the assistant's code runs in a hardened Docker sandbox.

    from ecoagent import EcoAssistant
    eco = EcoAssistant()
    record = eco.run_sync("What is the sum of the primes below 100?")
    eco.feedback(record.run_id, good=True)

The heavy parts (AutoGen, Qdrant, torch) load on first use of these names, so the
command line starts fast.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("ecoagent")
except PackageNotFoundError:  # running from a checkout without installing
    __version__ = "0.0.0+unknown"

if TYPE_CHECKING:
    from .assistant import EcoAssistant, FeedbackResult
    from .bank import BankedSolution, SolutionBank
    from .config import Rung, Settings, load_settings
    from .executor import DockerSandboxExecutor, SandboxResult
    from .memory import QdrantMemory
    from .records import RunRecord

__all__ = [
    "BankedSolution",
    "DockerSandboxExecutor",
    "EcoAssistant",
    "FeedbackResult",
    "QdrantMemory",
    "Rung",
    "RunRecord",
    "SandboxResult",
    "Settings",
    "SolutionBank",
    "__version__",
    "load_settings",
]

_LAZY = {
    "EcoAssistant": "assistant", "FeedbackResult": "assistant",
    "BankedSolution": "bank", "SolutionBank": "bank",
    "Rung": "config", "Settings": "config", "load_settings": "config",
    "DockerSandboxExecutor": "executor", "SandboxResult": "executor",
    "QdrantMemory": "memory", "RunRecord": "records",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'ecoagent' has no attribute {name!r}")
