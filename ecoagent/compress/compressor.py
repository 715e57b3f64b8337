"""``Compressor``: question-aware LLMLingua on prose, literals and code untouched, skipped where it does not pay.

One call compresses one text (a document, a chat summary, demonstrations) for one
question. It splits off what must stay verbatim (:mod:`.protect`), lets LLMLingua
choose the prose words to keep, conditioned on the question (LongLLMLingua's
contrastive perplexity), and rebuilds the prose from original words plus every
literal. Tokens are counted with OpenAI's cl100k tokenizer before and after, the
same count LLMLingua reports; for other models it is an estimate.

The language model loads on first use (seconds from the cache, about 45 s the very
first time), so a run that never reaches a compressing rung never loads it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..config import CompressSettings
from .protect import Block, protected_spans, restore, split_blocks

__all__ = ["Compression", "Compressor", "count_tokens"]

_MIN_BLOCK_TOKENS = 24  # a shorter prose block between two code blocks is left as it is
_MIN_GAIN = 0.05  # a compression that saves less than this share of the tokens is not used
_MODEL_LOCK = threading.Lock()


@cache
def _encoding() -> Any:
    from .lingua import ensure_tiktoken_files

    ensure_tiktoken_files()
    import tiktoken

    return tiktoken.get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    """Tokens of ``text`` in OpenAI's cl100k encoding (works offline)."""
    return len(_encoding().encode(text, disallowed_special=()))


@dataclass(frozen=True)
class Compression:
    """What compressing one text did.

    ``skipped`` says why the text was left as it was (then ``text`` is the original).
    Token counts are cl100k tokens.
    """

    text: str
    tokens_before: int
    tokens_after: int
    seconds: float = 0.0
    skipped: str | None = None

    @property
    def saved(self) -> int:
        """Tokens the compressed text saves on every model call that reads it."""
        return self.tokens_before - self.tokens_after

    @property
    def ratio(self) -> float:
        """Tokens before over tokens after (1.0 when skipped)."""
        return self.tokens_before / self.tokens_after if self.tokens_after else 1.0


def _compressible(blocks: list[Block]) -> int:
    """Prose tokens of ``blocks``, less the share of characters that are protected literals."""
    total = 0
    for block in blocks:
        if block.protected:
            continue
        prose = block.text
        cut = sum(end - start for start, end in protected_spans(prose))
        total += count_tokens(prose) * max(0, len(prose) - cut) // max(1, len(prose))
    return total


class Compressor:
    """LLMLingua (question-aware) over the prose of a text, on the bundled SmolLM2.

    Args:
        settings: Rate, minimum size, model and precision.
        lingua: An already built ``PromptCompressor`` (tests share one); default: built
            on first use from ``settings.model``.
    """

    def __init__(self, settings: CompressSettings | None = None, *, lingua: Any = None) -> None:
        self.settings = settings or CompressSettings()
        self._lingua = lingua
        self._lock = threading.Lock()

    @property
    def lingua(self) -> Any:
        """The LLMLingua compressor (the language model loads here, once)."""
        with self._lock:
            if self._lingua is None:
                from .lingua import OfflinePromptCompressor, load_compressor_model

                model, tokenizer = load_compressor_model(self.settings.model_path(), dtype=self.settings.dtype)
                self._lingua = OfflinePromptCompressor(model, tokenizer)
            return self._lingua

    def compressible_tokens(self, text: str) -> int:
        """Tokens of ``text`` a compressor could drop: prose, minus code, tracebacks and literals."""
        return _compressible(split_blocks(text))

    def compress(self, text: str, question: str, rate: float | None = None) -> Compression:
        """``text`` compressed for ``question``, or left as it is with the reason.

        Args:
            text: What the model would read besides the question.
            question: The user's query; LLMLingua keeps what bears on it.
            rate: Share of the prose tokens to keep (default ``settings.rate``).

        Raises:
            EcoagentError: The compressor model cannot be loaded.
        """
        rate = self.settings.rate if rate is None else rate
        before = count_tokens(text)
        blocks = split_blocks(text)
        prose_tokens = _compressible(blocks)
        if prose_tokens < self.settings.min_tokens:
            why = f"{prose_tokens} compressible tokens, under the {self.settings.min_tokens} that pay for a compression"
            return Compression(text, before, before, skipped=why)
        t0 = time.perf_counter()
        parts = []
        lingua = self.lingua
        with _MODEL_LOCK:  # one compression at a time: the model is not safe to share between threads
            for block in blocks:
                if block.protected or count_tokens(block.text) < _MIN_BLOCK_TOKENS:
                    parts.append(block.text)
                    continue
                parts.append(restore(block.text, self._compress_block(lingua, block.text, question, rate)))
        out = "".join(parts)
        seconds = time.perf_counter() - t0
        after = count_tokens(out)
        if after > before * (1 - _MIN_GAIN):
            return Compression(text, before, before, seconds, skipped=f"it saved {before - after} of {before} tokens")
        return Compression(out, before, after, seconds)

    def _compress_block(self, lingua: Any, prose: str, question: str, rate: float) -> str:
        target = max(1, int(lingua.get_token_length(prose) * rate))
        aware = self.settings.question_aware and bool(question.strip())
        result = lingua.compress_prompt(
            [prose],
            question=question if aware else "",
            target_token=target,
            use_context_level_filter=False,
            condition_in_question="after" if aware else "none",
            condition_compare=aware,
            rank_method="longllmlingua" if aware else "llmlingua",
            concate_question=False,
        )
        return str(result["compressed_prompt"])
