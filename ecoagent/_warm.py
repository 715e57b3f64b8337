"""``python -m ecoagent._warm``: pay once, in setup, what any first use would pay.

The embedding model's ONNX export (a few seconds), the compressor's dequantized
weights (the bundled GGUF read by transformers: about 45 s) and the bundled Qwen2.5-Coder
GGUF joined from its chunk packages (about 5 s) go into the rebuildable cache
(:func:`ecoagent.paths.cache_dir`), so neither the first query nor the first test waits
for them. Quick when all are there: nothing is loaded then.
"""

from __future__ import annotations

import sys

from .paths import cache_dir

__all__ = ["main"]


def main() -> int:
    from .bundled import qwen_coder_joined, qwen_coder_path
    from .compress.lingua import compressor_cache, load_compressor_model

    if not qwen_coder_joined():
        print("[setup] joining the bundled Qwen2.5-Coder model from its chunk packages once (about 5 s)", flush=True)
        qwen_coder_path()

    if not (compressor_cache() / "config.json").is_file():
        print("[setup] dequantizing the bundled model once for the compressor (about 45 s)", flush=True)
        load_compressor_model()
    if not any((cache_dir() / "onnx").glob("*.onnx")):
        print("[setup] exporting the embedding model to ONNX once", flush=True)
        from .config import BankSettings
        from .embed import Embedder

        bank = BankSettings()
        Embedder(bank.embedding_model, bank.embedding_backend).vectors(["warm"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
