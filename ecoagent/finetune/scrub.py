"""Secrets out of fine-tuning data: what leaves the machine must carry no keys.

An exported file goes to a provider's fine-tuning API or into a model's weights,
where a key would be memorised and could be recited. Queries and code pasted in a
chat do hold keys (``export OPENAI_API_KEY=sk-...``, a database URL with its
password). The patterns cover the common key formats and ``name = value``
assignments of secret-looking names; the values of this process's own secret
environment variables are replaced wherever they appear, whatever their format.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

__all__ = ["REDACTED", "scrub_secrets"]

REDACTED = "[REDACTED]"

_PATTERNS = [
    re.compile(p)
    for p in (
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----",
        r"\bsk-[A-Za-z0-9_-]{20,}",  # OpenAI, Anthropic
        r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",  # AWS access key id
        r"\bgh[pousr]_[A-Za-z0-9]{30,}\b",  # GitHub tokens
        r"\bgithub_pat_[A-Za-z0-9_]{22,}\b",
        r"\bxox[abprs]-[A-Za-z0-9-]{10,}",  # Slack
        r"\bAIza[0-9A-Za-z_-]{35}\b",  # Google API key
        r"\bhf_[A-Za-z0-9]{30,}\b",  # Hugging Face
        r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",  # JWT
    )
]
# The value only: the name stays, so the example still reads as code.
_ASSIGNED = re.compile(
    r"(?i)\b([A-Za-z_]*(?:api[_-]?key|secret|token|passw(?:or)?d|pwd)[A-Za-z_]*)(\s*[:=]\s*)"
    r"(?:([\"'])([^\s\"']{6,})\3|((?=[A-Za-z0-9_+/=-]*\d)(?=[A-Za-z0-9_+/=-]*[A-Za-z])[A-Za-z0-9_+/=-]{8,}))"
)
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/-]{16,}=*")
_URL_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@")
_SECRET_NAME = re.compile(r"(?i)(key|token|secret|passw|pwd|credential)")


def scrub_secrets(text: str, environ: Mapping[str, str] | None = None) -> tuple[str, int]:
    """``text`` with secrets replaced by ``[REDACTED]``, and how many were replaced."""
    env = os.environ if environ is None else environ
    count = 0
    for name, value in env.items():
        if len(value) >= 8 and _SECRET_NAME.search(name) and value in text:
            count += text.count(value)
            text = text.replace(value, REDACTED)
    for pattern in _PATTERNS:
        text, n = pattern.subn(REDACTED, text)
        count += n
    text, n = _URL_CREDENTIALS.subn(lambda m: m.group(1) + REDACTED + "@", text)
    count += n
    text, n = _BEARER.subn(lambda m: m.group(1) + REDACTED, text)
    count += n

    def assigned(m: re.Match[str]) -> str:
        nonlocal count
        quote = m.group(3) or ""
        if REDACTED in (m.group(4) or m.group(5) or ""):
            return m.group(0)
        count += 1
        return f"{m.group(1)}{m.group(2)}{quote}{REDACTED}{quote}"

    return _ASSIGNED.sub(assigned, text), count
