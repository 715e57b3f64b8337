"""Everything the model reads that ecoagent writes: prompts, demonstrations, the first message.

The system prompts live in ``agents/*.md`` (data users edit, not code). The first
message of a rung's conversation is built here and only here, so the stages that
change what a rung reads (demonstrations now; memory and compression later) meet in
one function instead of each patching a string somewhere else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from .paths import shipped_dir
from .records import Demonstration
from .sandbox.languages import FENCE_LANGUAGES

__all__ = [
    "DONE_WORD",
    "demonstrations_text",
    "first_message",
    "format_demonstration",
    "has_code_block",
    "load_prompt",
    "strip_done_word",
]

DONE_WORD = "TERMINATE"
"""What the assistant writes, in a message without code, when it is done."""

_CODE_BLOCK = re.compile(r"```[ \t]*(?:" + "|".join(map(re.escape, FENCE_LANGUAGES)) + r")[ \t]*\n", re.IGNORECASE)


@cache
def load_prompt(name: str) -> str:
    """A prompt from ``agents/<name>.md`` (read once per process)."""
    return (shipped_dir("agents") / f"{name}.md").read_text(encoding="utf-8").strip()


def has_code_block(text: str) -> bool:
    """Whether ``text`` holds a fenced block the executor would run."""
    return bool(_CODE_BLOCK.search(text))


def strip_done_word(text: str) -> str:
    """The message without the done word: what a person should read."""
    return text.replace(DONE_WORD, "").strip()


def format_demonstration(query: str, code: str) -> str:
    """One confirmed solution as a model reads it (first message and AutoGen memory alike)."""
    return f"Query: {query}\nCode:\n```python\n{code.strip()}\n```"


def demonstrations_text(demonstrations: Sequence[Demonstration]) -> str | None:
    """The demonstrations as the first message shows them, or None when there are none.

    Ordered so the most similar one sits nearest the query: a small model tends to
    copy the example it read last (observed with SmolLM2 and k = 2, which printed
    the second, less similar example's answer).
    """
    if not demonstrations:
        return None
    ordered = sorted(demonstrations, key=lambda d: d.score)  # least similar first
    parts = ["Here are similar queries that were solved before, with the code that solved them:"]
    for i, demo in enumerate(ordered, 1):
        parts.append(f"Example {i}\n{format_demonstration(demo.query, demo.code)}")
    return "\n\n".join(parts)


def first_message(
    query: str,
    demonstrations: Sequence[Demonstration] | str | None = (),
    history: str | None = None,
    context: str | None = None,
    tests: str | None = None,
) -> str:
    """The task a rung's fresh conversation starts from.

    Demonstrations come first (a list, or their text as :func:`demonstrations_text`
    wrote it and compression shortened it), then earlier turns of a chat
    (``history``), then the material the question is about (``context``), then the
    query, last, so the model reads the question after everything it is about.
    ``tests`` (only when ``[judge] show_tests`` is on) follow the query, verbatim.
    Nothing here is repeated on later turns: the team's conversation carries it
    from the first message.
    """
    demos = (
        demonstrations
        if isinstance(demonstrations, str) or demonstrations is None
        else demonstrations_text(demonstrations)
    )
    if tests:
        query = f"{query}\n\nYour code will be checked with these tests:\n```python\n{tests.strip()}\n```"
    if context:
        query = f"Use this material to answer:\n<material>\n{context.strip()}\n</material>\n\nQuestion: {query}"
    if history:
        query = f"Earlier in this conversation:\n{history.strip()}\n\nNow: {query}"
    if not demos:
        return query
    return f"{demos}\n\nNow solve this query in the same way:\n{query}"
