"""Package ``__init__`` helper: export names that load their module on first use.

The command line imports packages for their light parts (``ecoagent.sandbox.engine``
for ``doctor``, ``ecoagent.bank`` for settings); importing AutoGen, docker or torch
only when a name that needs them is used keeps ``ecoagent chat`` quick to start.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_getattr"]


def lazy_getattr(package: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``package.<names[name]>`` on first use."""

    def __getattr__(name: str) -> Any:
        if name in names:
            return getattr(import_module(f"{package}.{names[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
