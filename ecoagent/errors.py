"""Errors that tell the user what went wrong *and what to do next*.

Every failure a person can fix (Docker not running, image missing, bad config line)
is raised as an :class:`EcoagentError` carrying a ``hint``. The CLI prints the message
and the hint and exits with the error's ``exit_code``; library users can read both.
"""

from __future__ import annotations

__all__ = [
    "DockerUnavailableError",
    "EcoagentError",
    "SandboxError",
    "SandboxImageMissingError",
    "UnsafeFilenameError",
]


class EcoagentError(Exception):
    """Base class for errors a user can act on.

    Args:
        message: What went wrong, naming the thing (file, key, rung, image).
        hint: What to do about it, as a runnable command where possible.
        exit_code: Process exit code the CLI uses (1 failure, 2 usage).
    """

    exit_code: int = 1

    def __init__(self, message: str, hint: str | None = None, *, exit_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class SandboxError(EcoagentError):
    """The sandbox could not run code (engine, image or container trouble)."""


class DockerUnavailableError(SandboxError):
    """The Docker engine does not answer."""


class SandboxImageMissingError(SandboxError):
    """The sandbox image is not present in the local engine."""


class UnsafeFilenameError(SandboxError):
    """A code block asked for a filename outside the sandbox workspace."""
