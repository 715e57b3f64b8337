"""ecoagent: make an LLM assistant cheaper without making it worse.

After EcoAssistant (Zhang et al. 2023), on Microsoft AutoGen: queries climb a ladder
of models from the cheapest up, confirmed solutions come back as demonstrations, and
the assistant's code runs in a hardened Docker sandbox.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ecoagent")
except PackageNotFoundError:  # running from a checkout without installing
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
