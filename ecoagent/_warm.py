"""``python -m ecoagent._warm``: pay once, in setup, what any first use would pay.

The embedding model's ONNX export (a few seconds) and the compressor's dequantized
weights (the bundled GGUF read by transformers: about 45 s) go into the rebuildable
cache (:func:`ecoagent.paths.cache_dir`), so neither the first query nor the first
test waits for them. Quick when both are there: nothing is loaded then.
"""

from __future__ import annotations

import sys

from .paths import cache_dir

__all__ = ["main"]


def main() -> int:
    from .compress.lingua import compressor_cache, load_compressor_model

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
