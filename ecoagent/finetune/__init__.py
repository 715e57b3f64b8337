"""Fine-tuning the cheap rung on confirmed interactions (the article's fourth technique).

``export`` turns confirmed runs into chat fine-tuning JSONL (OpenAI's format, usable
with any provider); ``train`` fits a LoRA adapter to the bundled model on CPU and
converts it for llama.cpp; the registry lets a ladder rung name it
(``adapter = "smollm2-ft"``). torch, peft and transformers load only when training.
"""

from .data import Example, Tokenized, load_examples, tokenize
from .export import CONFIRMING_JUDGES, ExportFilter, ExportReport, conversation, export_examples, write_examples
from .registry import (
    Adapter,
    adapter_dir,
    adapters_root,
    list_adapters,
    resolve_adapter,
    shipped_adapters,
    verify_adapter,
)
from .scrub import REDACTED, scrub_secrets
from .train import TARGET_MODULES, TrainConfig, TrainResult, cpu_has_bf16, train_adapter

__all__ = [
    "CONFIRMING_JUDGES",
    "REDACTED",
    "TARGET_MODULES",
    "Adapter",
    "Example",
    "ExportFilter",
    "ExportReport",
    "Tokenized",
    "TrainConfig",
    "TrainResult",
    "adapter_dir",
    "adapters_root",
    "conversation",
    "cpu_has_bf16",
    "export_examples",
    "list_adapters",
    "load_examples",
    "resolve_adapter",
    "scrub_secrets",
    "shipped_adapters",
    "tokenize",
    "train_adapter",
    "verify_adapter",
    "write_examples",
]
