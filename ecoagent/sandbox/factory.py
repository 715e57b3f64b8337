"""What makes a sandbox: the one type the ladder, the judges and the cache's replay share."""

from __future__ import annotations

from collections.abc import Callable

from autogen_core.code_executor import CodeExecutor

from ..config import SandboxSettings

__all__ = ["ExecutorFactory"]

ExecutorFactory = Callable[[SandboxSettings], CodeExecutor]
"""Makes the sandbox for one attempt, test run or probe (used as ``async with``): the hardened
:class:`~ecoagent.sandbox.DockerSandboxExecutor`, or any AutoGen ``CodeExecutor``."""
