"""Fine-tuning examples read back and tokenized with a loss mask.

The file is the one ``ecoagent finetune export`` writes (or any chat JSONL in
OpenAI's format). The model is trained on exactly the text llama.cpp will show it
at inference: the model's own chat template, applied by its tokenizer. Only the
tokens of assistant turns with ``weight`` 1 (the default for assistant turns) carry
loss; the system prompt, the task and the executor's output are context.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import EcoagentError

__all__ = ["Example", "Tokenized", "load_examples", "tokenize"]

_ROLES = {"system", "user", "assistant"}


@dataclass(frozen=True)
class Example:
    """One conversation, where it came from, and its split."""

    messages: list[dict[str, Any]]
    split: str
    line: int


@dataclass(frozen=True)
class Tokenized:
    """Token ids and labels (-100 where no loss is taken)."""

    input_ids: list[int]
    labels: list[int]
    truncated: bool

    @property
    def trained_tokens(self) -> int:
        """Tokens that carry loss."""
        return sum(1 for x in self.labels if x != -100)


def load_examples(path: Path) -> tuple[list[Example], list[str], str]:
    """The file's examples, its problems (``file:line: what``; those lines are left out)
    and a digest of its bytes (a resumed training checks it trains on the same data).

    Raises:
        EcoagentError: The file cannot be read, or holds no usable example.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise EcoagentError(
            f"cannot read {path}: {exc.strerror}", "write it with: ecoagent finetune export --out FILE", exit_code=2
        ) from exc
    examples: list[Example] = []
    problems: list[str] = []
    for n, line in enumerate(raw.decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{n}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        try:
            examples.append(_example(row, n))
        except (ValueError, TypeError) as exc:
            problems.append(f"{path}:{n}: {exc}")
    if not examples:
        raise EcoagentError(
            f"{path} holds no usable example"
            + (f" ({problems[0]}{' …' if len(problems) > 1 else ''})" if problems else ""),
            "export confirmed runs first: ecoagent finetune export --out FILE",
            exit_code=2,
        )
    return examples, problems, hashlib.sha256(raw).hexdigest()[:16]


def _example(row: Any, n: int) -> Example:
    if not isinstance(row, dict):
        raise TypeError("not a JSON object")
    messages = row.get("messages")
    if not isinstance(messages, list) or not messages:
        raise TypeError("'messages' must be a non-empty list")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in _ROLES or not isinstance(m.get("content"), str):
            raise TypeError(f"messages[{i}] needs a role (system, user, assistant) and a string content")
        if "weight" in m and m["weight"] not in (0, 1):
            raise ValueError(f"messages[{i}].weight must be 0 or 1")
    if not any(m["role"] == "assistant" and m.get("weight", 1) == 1 for m in messages):
        raise ValueError("no assistant message with weight 1 (nothing to learn)")
    split = row.get("split", "train")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    return Example(
        [{"role": m["role"], "content": m["content"], "weight": m.get("weight", 1)} for m in messages], split, n
    )


def tokenize(example: Example, tokenizer: Any, max_tokens: int) -> Tokenized:
    """Ids of the whole conversation in the model's chat template, labels on weighted
    assistant turns (their text and end-of-turn token, not the role header).

    Raises:
        ValueError: The chat template renders a conversation's start differently once
            it goes on (a template this masking cannot work with).
    """
    plain = [{"role": m["role"], "content": m["content"]} for m in example.messages]

    def ids(messages: list[dict[str, str]], prompt: bool = False) -> list[int]:
        out = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=prompt, return_dict=False)
        return list(out)

    full = ids(plain)
    labels = [-100] * len(full)
    for i, m in enumerate(example.messages):
        if m["role"] != "assistant" or m["weight"] != 1:
            continue
        head = ids(plain[:i], prompt=True)
        upto = ids(plain[: i + 1])
        if full[: len(upto)] != upto or upto[: len(head)] != head:
            raise ValueError("the chat template does not render conversations prefix by prefix")
        labels[len(head) : len(upto)] = full[len(head) : len(upto)]
    truncated = len(full) > max_tokens
    return Tokenized(full[:max_tokens], labels[:max_tokens], truncated)
