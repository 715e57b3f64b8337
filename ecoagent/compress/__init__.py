"""Prompt compression: LLMLingua on the prose a paid rung reads, literals and code verbatim.

* :class:`Compressor` compresses one text for one question (question-aware
  LongLLMLingua on the bundled SmolLM2, offline, transformers-5 fix included) and
  says what it did (:class:`Compression`: tokens before and after, seconds, or why
  it skipped).
* :func:`split_blocks` and :func:`restore` are the protection: what never reaches the
  compressor, and how every literal comes back byte for byte.
* :class:`CompressionStage` is the pipeline's stage (each rung's first message,
  compressed for the rungs that compress); :class:`CompressingClient` puts the same
  compressor in front of any AutoGen model client.
"""

from .client import CompressingClient
from .compressor import Compression, Compressor, count_tokens
from .protect import Block, protected_spans, restore, split_blocks
from .stage import CompressionStage, FirstMessages

__all__ = [
    "Block",
    "CompressingClient",
    "Compression",
    "CompressionStage",
    "Compressor",
    "FirstMessages",
    "count_tokens",
    "protected_spans",
    "restore",
    "split_blocks",
]
