"""Test doubles that ship with ecoagent, for its tests and for yours.

:class:`FakeExecutor` is a ``CodeExecutor`` that answers from a function instead of
running anything, so ladder logic can be tested without Docker.

:class:`ScriptedChatCompletionClient` is AutoGen's ``ReplayChatCompletionClient``
that can also *fail* on cue: put an exception in the script where a model call
should raise (e.g. :class:`~ecoagent.models.TransientModelError` for a 429). That
is all a ladder test needs to drive escalation deterministically.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from autogen_core import CancellationToken
from autogen_core.code_executor import CodeBlock, CodeExecutor, CodeResult
from autogen_core.models import CreateResult, LLMMessage
from autogen_core.tools import Tool, ToolSchema
from autogen_ext.models.replay import ReplayChatCompletionClient

from .models.base import GENERIC_MODEL_INFO

__all__ = ["SCRIPTED_MODEL_INFO", "FakeExecutor", "LiveServer", "ScriptedChatCompletionClient", "write_scripted_config"]

SCRIPTED_MODEL_INFO = GENERIC_MODEL_INFO


class ScriptedChatCompletionClient(ReplayChatCompletionClient):
    """Replays a script of replies; an exception in the script is raised instead.

    Args:
        script: Replies in order: strings, ``CreateResult`` objects or exceptions.
    """

    def __init__(self, script: Sequence[str | CreateResult | BaseException]) -> None:
        self._script = list(script)
        super().__init__([x for x in self._script if not isinstance(x, BaseException)], model_info=SCRIPTED_MODEL_INFO)
        self._position = 0
        self.calls: list[Sequence[LLMMessage]] = []

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Any = "auto",
        json_output: Any = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        self.calls.append(list(messages))
        if self._position >= len(self._script):
            raise ValueError("the script has no more replies")
        item = self._script[self._position]
        self._position += 1
        if isinstance(item, BaseException):
            raise item
        return await super().create(
            messages,
            tools=tools,
            tool_choice=tool_choice,
            json_output=json_output,
            extra_create_args=extra_create_args,
            cancellation_token=cancellation_token,
        )

    @property
    def remaining(self) -> int:
        """Script items not used yet."""
        return len(self._script) - self._position


def write_scripted_config(
    folder: Path,
    scripts: Mapping[str, Sequence[object]],
    *,
    prices: Mapping[str, tuple[float, float]] | None = None,
    sandbox_timeout_s: float = 10.0,
    judge: str | None = None,
) -> Path:
    """Write an ``ecoagent.toml`` whose ladder is scripted rungs, cheapest first.

    Each rung replays its script (see :func:`ecoagent.models.scripted_client`), so
    ``ecoagent --config FILE ...`` runs deterministically: for tests, demos, and
    dry runs of a ladder's escalation. Returns the config file.

    Args:
        folder: Where the config and the script files go.
        scripts: Rung name → replies, in ladder order.
        prices: Rung name → (USD per million input tokens, per million output tokens).
        sandbox_timeout_s: Per-block timeout of the real sandbox.
        judge: ``[run] judge`` for queries without a key (default: the configured default,
            the evidence judge, which returns a scripted rung's lone answer unverified).
    """
    prices = prices or {}
    lines = [f"[sandbox]\ntimeout_s = {sandbox_timeout_s}"]
    if judge is not None:
        lines.append(f'[run]\njudge = "{judge}"')
    for name, script in scripts.items():
        path = folder / f"{name}.json"
        path.write_text(json.dumps(list(script)), encoding="utf-8")
        price_in, price_out = prices.get(name, (0.0, 0.0))
        lines.append(
            f'[[ladder.rungs]]\nname = "{name}"\nprovider = "scripted"\nmodel = "{path}"\n'
            f"input_price_per_mtok = {price_in}\noutput_price_per_mtok = {price_out}"
        )
    config = folder / "ecoagent.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


class FakeExecutor(CodeExecutor):
    """A ``CodeExecutor`` for tests without Docker: replies from a function of the code.

    ``reply(code)`` returns ``(exit_code, output)``; the default answers every block
    with exit 0 and the text of its ``print(...)`` arguments evaluated as Python
    arithmetic, which covers what scripted ladders print (``print(17 * 23)`` → "391").
    Exit code 124 stands for a timeout, as in the real sandbox. ``started``,
    ``stopped`` and ``ran`` record what the ladder did with it.

    Args:
        settings: Ignored (accepted so it drops in as an ``executor_factory``).
        reply: Maps the code of a block to its exit code and output.
    """

    instances: list[FakeExecutor] = []

    def __init__(self, settings: object = None, reply: Callable[[str], tuple[int, str]] | None = None) -> None:
        self.reply = reply or _print_arithmetic
        self.started = self.stopped = False
        self.ran: list[str] = []
        FakeExecutor.instances.append(self)

    async def execute_code_blocks(
        self, code_blocks: list[CodeBlock], cancellation_token: CancellationToken
    ) -> CodeResult:
        code = "\n\n".join(b.code.strip("\n") for b in code_blocks)
        self.ran.append(code)
        exit_code, output = self.reply(code)
        return CodeResult(exit_code=exit_code, output=output)

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def restart(self) -> None:
        pass


_PRINT = re.compile(r"print\((.*)\)\s*$")


def _print_arithmetic(code: str) -> tuple[int, str]:
    """``print(<arithmetic>)`` lines → their values; anything else is a syntax error."""
    lines = []
    for raw in code.strip().splitlines():
        match = _PRINT.match(raw.strip())
        if not match or not re.fullmatch(r"[\d\s+\-*/().]+", match.group(1)):
            return 1, f"SyntaxError: cannot run {raw.strip()!r} here\n"
        try:
            value = eval(match.group(1), {"__builtins__": {}})  # noqa: S307 - digits and operators only
        except Exception as exc:  # e.g. "17 * 23 +" or a division by zero
            return 1, f"{type(exc).__name__}: {exc}\n"
        lines.append(f"{value}\n")
    return 0, "".join(lines)


class LiveServer:
    """An ASGI app (``ecoagent.serve.create_app(...)``) served by uvicorn on 127.0.0.1, in a thread.

    A real HTTP server on a free port, for tests and demos that point real clients
    (the ``openai`` SDK, AutoGen's ``OpenAIChatCompletionClient``) at it::

        with LiveServer(create_app(eco)) as server:
            OpenAI(base_url=server.url + "/v1", api_key="none")

    Args:
        app: The ASGI app.
        startup_timeout_s: How long the app's startup (lifespan) may take.
    """

    def __init__(self, app: Any, *, startup_timeout_s: float = 120.0) -> None:
        import uvicorn

        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False, timeout_graceful_shutdown=5)
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self._sock]}, daemon=True)
        self._timeout = startup_timeout_s

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + self._timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start (see its log above)")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=60)
        self._sock.close()
