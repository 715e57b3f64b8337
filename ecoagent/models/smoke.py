"""``python -m ecoagent.models.smoke``: can llama.cpp run the bundled model on this CPU?

Loads the bundled SmolLM2 and decodes a multi-token prompt, the step a llama.cpp built
with the wrong CPU flags crashes in (scripts/setup.sh rebuilds it then). Exit 0 when
it ran; a crash ends the process with the signal, which is the answer.
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> int:
    """Decode a short prompt with the bundled model; print what it wrote."""
    from llama_cpp import Llama

    from ..bundled import smollm2_path

    model = Llama(model_path=str(smollm2_path()), n_ctx=256, verbose=False)
    out = model("The capital of France is a city called", max_tokens=3, temperature=0.0)
    print(f"llama.cpp runs the bundled model: {out['choices'][0]['text']!r}")  # type: ignore[index]
    return 0


if __name__ == "__main__":
    sys.exit(main())
