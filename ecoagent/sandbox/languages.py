"""The code languages the sandbox runs, and the fence names that mean them.

One table for everything that asks "is this runnable code?": the executor (which
interpreter), the team (which fenced blocks the executor agent picks up) and the
prompts (whether a message holds code).
"""

from __future__ import annotations

__all__ = ["FENCE_LANGUAGES", "LANGUAGE_ALIASES", "normalize_language"]

LANGUAGE_ALIASES: dict[str, str] = {
    "python": "python",
    "py": "python",
    "python3": "python",
    "sh": "sh",
    "shell": "sh",
    "bash": "bash",
    "console": "sh",
}
"""Fence name → interpreter (``python``, ``sh`` or ``bash``)."""

FENCE_LANGUAGES: list[str] = list(LANGUAGE_ALIASES)
"""Fence names whose blocks the executor agent runs."""


def normalize_language(lang: str) -> str:
    """Map a code fence language to ``python``, ``sh`` or ``bash``.

    Raises:
        ValueError: The language cannot run in the sandbox.
    """
    key = (lang or "python").strip().lower()
    if key not in LANGUAGE_ALIASES:
        raise ValueError(f"unsupported language {lang!r}: the sandbox runs python and sh/bash")
    return LANGUAGE_ALIASES[key]
