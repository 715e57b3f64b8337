"""The child process that holds a llama.cpp model: ``python -m ecoagent.models._llama_worker``.

It reads requests from stdin and writes replies to the original stdout, as
length-prefixed pickles (see :mod:`ecoagent.models.llama`), and runs AutoGen's own
``LlamaCppChatCompletionClient``. Anything llama.cpp prints goes to stderr, so it can
never corrupt a reply. The parent owns this process: when the parent goes away its
pipe closes and this process exits (at once, even mid-generation: the kernel kills it
when its parent dies); when a call must stop (timeout, Ctrl-C) the
parent kills it, so no generation ever outlives the call that asked for it.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import struct
import sys
from typing import IO, Any

__all__ = ["read_frame", "write_frame"]

_HEADER = struct.Struct("!Q")


def write_frame(stream: IO[bytes], obj: object) -> None:
    """Write one length-prefixed pickle and flush."""
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def read_exactly(stream: IO[bytes], n: int) -> bytes:
    """``n`` bytes, or EOFError when the other end closed first."""
    chunks = []
    while n:
        chunk = stream.read(n)
        if not chunk:
            raise EOFError("the pipe closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(stream: IO[bytes]) -> Any:
    """Read one length-prefixed pickle (only ever from our own parent or child)."""
    (size,) = _HEADER.unpack(read_exactly(stream, _HEADER.size))
    return pickle.loads(read_exactly(stream, size))  # noqa: S301 - our own process on the other end


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (a parent killed by SIGTERM or
    SIGKILL never gets to kill it, and the closed pipe is only read between generations)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):  # not Linux: the closed pipe still ends it
        return
    if os.getppid() == 1:  # the parent was already gone before the request took effect
        os._exit(0)


def main() -> int:
    _die_with_parent()
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # llama.cpp's own prints go to stderr, never into a reply
    requests = sys.stdin.buffer
    config = read_frame(requests)
    try:
        from autogen_ext.models.llama_cpp import LlamaCppChatCompletionClient

        client = LlamaCppChatCompletionClient(
            model_info=config["model_info"],
            model_path=config["model_path"],
            n_ctx=config["n_ctx"],
            verbose=False,
            seed=config.get("seed", 0),
            **({"lora_path": config["lora_path"]} if config.get("lora_path") else {}),
        )
    except Exception as exc:
        write_frame(replies, ("error", (type(exc).__name__, str(exc))))
        return 1
    write_frame(replies, ("ready", os.getpid()))
    loop = asyncio.new_event_loop()
    while True:
        try:
            op, payload = read_frame(requests)
        except EOFError:
            return 0
        try:
            if op == "create":
                messages, args = payload
                # llama.cpp reuses the previous call's KV cache for a shared prefix; which
                # prefix depends on what ran before, and that changes float rounding enough
                # to change greedy output. Starting clean makes every call depend only on
                # its own messages: same query, same answer, in any order or concurrency.
                client.llm.reset()  # type: ignore[no-untyped-call]
                result: Any = loop.run_until_complete(client.create(messages, extra_create_args=args))
            elif op == "count_tokens":
                result = client.count_tokens(payload)
            else:
                raise ValueError(f"unknown request {op!r}")
        except Exception as exc:
            write_frame(replies, ("error", (type(exc).__name__, str(exc))))
            continue
        write_frame(replies, ("ok", result))


if __name__ == "__main__":
    sys.exit(main())
