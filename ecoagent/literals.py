"""The parts of a text that state something exactly: quoted strings, URLs, paths,
identifiers, numbers and negations.

Two stages must treat them alike, so their patterns live here once: the first-turn
guard (two queries may share an answer only if they state the same literals) and
prompt compression (a compressor may drop filler words, never one of these).
"""

from __future__ import annotations

import re

__all__ = ["IDENT", "NEGATIONS", "PATH", "QUOTED", "URL"]

QUOTED = re.compile(r"\"([^\"]+)\"|“([^”]+)”|‘([^’]+)’|(?<![\w])'([^']+)'(?![\w])|`([^`]+)`")
"""A quoted string or inline code; the groups hold the text between the quotes."""

URL = re.compile(r"\b(?:https?|ftp)://\S+|\b[\w.+-]+@[\w-]+\.[\w.-]+")
"""A URL or an e-mail address."""

PATH = re.compile(
    r"(?:~|\.{1,2})?/[\w.-]+(?:/[\w.-]+)*|\b[A-Za-z]:\\\S+|\b[\w-]+\.(?:py|txt|csv|json|md|log|toml|yaml|yml|xml|html|sh|jsonl|tsv|xlsx?)\b"
)
"""A file path (absolute, relative, Windows) or a file name with a common extension."""

IDENT = re.compile(
    r"\b(?:[A-Za-z_]\w*_\w+|[a-z]+[A-Z]\w*|[A-Z][a-z]+[A-Z]\w*|[A-Z]{2,}[A-Z0-9]*|[A-Za-z]\w*(?:\.[A-Za-z]\w*)+|\w*\d[A-Za-z]\w*)\b"
)
"""An identifier: snake_case, camelCase, CamelCase, ALLCAPS, dotted.names, or letters mixed with digits."""

NEGATIONS = frozenset(
    "not no never without except excluding exclude excludes nor neither none cannot can't don't doesn't "
    "isn't aren't won't shouldn't non un".split()
)
"""Words that turn a statement around; any word ending in n't counts too."""
