"""A PEFT LoRA adapter to a GGUF adapter llama.cpp applies to the quantized base.

The conversion is llama.cpp's own ``convert_lora_to_gguf.py``: the same llama.cpp
that llama-cpp-python compiled defines the adapter format it reads, so the
converter must come from the same release. It is not on PyPI as a package; it sits
in llama-cpp-python's source distribution (``vendor/llama.cpp``, with its own
``gguf-py`` and ``conversion/`` package). :func:`install_converter` fetches that
sdist from the package index once, for the installed version, and keeps only the
converter (about 2 MB) under ``<venv>/share/ecoagent/``; ``scripts/setup.sh`` calls
it, so nothing is downloaded when a user trains.

The converter runs in a child process with its own ``gguf-py`` first on the path,
so it never mixes with the ``gguf`` package ecoagent imports for reading models.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from ..errors import EcoagentError

__all__ = ["adapter_state_from_gguf", "converter_dir", "convert_adapter", "install_converter", "write_base_config"]

_KEEP = ("convert_lora_to_gguf.py", "convert_hf_to_gguf.py", "conversion/", "gguf-py/", "LICENSE")


def _llama_cpp_version() -> str:
    try:
        return importlib.metadata.version("llama_cpp_python")
    except importlib.metadata.PackageNotFoundError as exc:
        raise EcoagentError("llama-cpp-python is not installed", "run ./scripts/setup.sh") from exc


def converter_dir() -> Path:
    """Where the converter for the installed llama-cpp-python lives (may not exist yet)."""
    return Path(sys.prefix) / "share" / "ecoagent" / f"llama-convert-{_llama_cpp_version()}"


def install_converter(force: bool = False) -> Path:
    """Fetch llama.cpp's LoRA converter from llama-cpp-python's sdist (once per version).

    Raises:
        EcoagentError: The sdist could not be downloaded or holds no converter.
    """
    dest = converter_dir()
    if (dest / "convert_lora_to_gguf.py").is_file() and not force:
        return dest
    version = _llama_cpp_version()
    with tempfile.TemporaryDirectory(prefix="ecoagent-sdist-") as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            f"llama-cpp-python=={version}",
            "--no-binary",
            "llama-cpp-python",
            "--no-deps",
            "-q",
            "-d",
            tmp,
        ]
        done = subprocess.run(cmd, capture_output=True, text=True)
        archives = list(Path(tmp).glob("llama_cpp_python-*.tar.gz"))
        if not archives:
            raise EcoagentError(
                f"could not download llama-cpp-python {version}'s source to get llama.cpp's LoRA converter: "
                f"{(done.stderr or done.stdout).strip()[-300:]}",
                "check that the package index is reachable, then run ./scripts/setup.sh again",
            )
        staging = Path(tempfile.mkdtemp(prefix=".llama-convert-", dir=_mkdir(dest.parent)))
        prefix = f"llama_cpp_python-{version}/vendor/llama.cpp/"
        with tarfile.open(archives[0]) as tar:
            members = [
                m
                for m in tar.getmembers()
                if m.name.startswith(prefix) and m.name[len(prefix) :].startswith(_KEEP) and (m.isfile() or m.isdir())
            ]
            for member in members:
                member.name = member.name[len(prefix) :]
            tar.extractall(staging, members=members, filter="data")
    if not (staging / "convert_lora_to_gguf.py").is_file():
        shutil.rmtree(staging, ignore_errors=True)
        raise EcoagentError(
            f"llama-cpp-python {version}'s source has no convert_lora_to_gguf.py",
            "pin llama-cpp-python to a release that vendors llama.cpp's converters",
        )
    shutil.rmtree(dest, ignore_errors=True)
    staging.rename(dest)
    return dest


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


# transformers' model_type of a model loaded from GGUF → the class name llama.cpp's
# converter looks its model up by (Llama-architecture models need no entry)
_ARCHITECTURES = {
    "gemma3_text": "Gemma3ForCausalLM",
    "gemma3": "Gemma3ForCausalLM",
    "gemma2": "Gemma2ForCausalLM",
    "qwen2": "Qwen2ForCausalLM",
    "qwen3": "Qwen3ForCausalLM",
}


def write_base_config(model_config: dict[str, object], folder: Path) -> Path:
    """The base model folder the converter reads: only its ``config.json`` is needed.

    A model loaded from a GGUF file carries no ``architectures`` (the converter picks
    its model class by that key) and says it is GGUF-quantized, which the converter
    would try to undo; the adapter itself is plain float weights.
    """
    folder.mkdir(parents=True, exist_ok=True)
    config = {k: v for k, v in model_config.items() if k != "quantization_config"}
    if not config.get("architectures"):
        config["architectures"] = [_ARCHITECTURES.get(str(config.get("model_type")), "LlamaForCausalLM")]
    (folder / "config.json").write_text(json.dumps(config, indent=1, default=str), encoding="utf-8")
    return folder


def convert_adapter(peft_dir: Path, base_dir: Path, out_file: Path) -> Path:
    """Run llama.cpp's converter on a saved PEFT adapter; the GGUF lands in ``out_file``.

    Raises:
        EcoagentError: The converter is missing or failed (its last lines are quoted).
    """
    tool = converter_dir()
    script = tool / "convert_lora_to_gguf.py"
    if not script.is_file():
        raise EcoagentError(f"llama.cpp's LoRA converter is not installed ({script})", "run ./scripts/setup.sh")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tool), str(tool / "gguf-py")]), "HF_HUB_OFFLINE": "1"}
    env.pop("NO_LOCAL_GGUF", None)
    tmp = out_file.with_name(out_file.name + ".part")
    cmd = [
        sys.executable,
        str(script),
        "--base",
        str(base_dir),
        "--outtype",
        "f32",
        "--outfile",
        str(tmp),
        str(peft_dir),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tool)
    if done.returncode != 0 or not tmp.is_file():
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise EcoagentError(
            f"converting the adapter to GGUF failed:\n{tail}", f"the PEFT adapter is kept in {peft_dir}"
        )
    tmp.replace(out_file)
    return out_file


_GGUF_MODULES = {
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
}


def adapter_state_from_gguf(gguf_file: Path, n_head: int, n_kv_head: int) -> tuple[dict[str, object], int, float]:
    """A llama.cpp LoRA adapter read back as a PEFT state dict: (tensors, rank, alpha).

    What lets a user's training start from a shipped adapter, which ships as GGUF only.
    The converter stores PEFT's ``lora_A``/``lora_B`` as they are, except that llama.cpp
    orders the rows of the query and key projections for its RoPE, so ``lora_B`` of
    those two is permuted; this undoes it (the inverse of llama.cpp's ``permute``).

    Raises:
        EcoagentError: The file is not a LoRA adapter for a llama-architecture model.
    """
    import numpy as np
    import torch
    from gguf import GGUFReader

    try:
        reader = GGUFReader(str(gguf_file))
    except (OSError, ValueError) as exc:
        raise EcoagentError(
            f"cannot read the adapter {gguf_file}: {exc}", "point --from-adapter at an adapter GGUF file"
        ) from exc
    alpha_field = reader.fields.get("adapter.lora.alpha")
    if alpha_field is None:
        raise EcoagentError(
            f"{gguf_file} is not a LoRA adapter (no adapter.lora.alpha)", "point --from-adapter at an adapter GGUF file"
        )
    alpha = float(alpha_field.parts[alpha_field.data[0]][0])
    state: dict[str, object] = {}
    rank = 0
    for tensor in reader.tensors:
        parts = tensor.name.split(".")  # blk.<i>.<module>.weight.lora_(a|b)
        if len(parts) != 5 or parts[0] != "blk" or parts[2] not in _GGUF_MODULES:
            raise EcoagentError(
                f"{gguf_file}: unexpected tensor {tensor.name}",
                "only llama-architecture LoRA adapters can be read back",
            )
        value = torch.from_numpy(
            np.array(tensor.data, dtype=np.float32).reshape([int(d) for d in reversed(tensor.shape)])
        )
        side = parts[4][-1].upper()
        if side == "B" and parts[2] in ("attn_q", "attn_k"):
            heads = n_head if parts[2] == "attn_q" else n_kv_head
            rows = value.shape[0]
            value = value.reshape(heads, rows // heads // 2, 2, *value.shape[1:]).swapaxes(1, 2).reshape(value.shape)
        if side == "A":
            rank = int(value.shape[0])
        key = f"base_model.model.model.layers.{parts[1]}.{_GGUF_MODULES[parts[2]]}.lora_{side}.weight"
        state[key] = value.contiguous()
    return state, rank, alpha


if __name__ == "__main__":  # scripts/setup.sh: python -m ecoagent.finetune.convert
    try:
        print(install_converter())
    except EcoagentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
