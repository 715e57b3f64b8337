"""Test doubles that ship with ecoagent, for its tests and for yours.

:class:`ScriptedChatCompletionClient` is AutoGen's ``ReplayChatCompletionClient``
that can also *fail* on cue: put an exception in the script where a model call
should raise (e.g. :class:`~ecoagent.models.TransientModelError` for a 429). That
is all a ladder test needs to drive escalation deterministically.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from autogen_core import CancellationToken
from autogen_core.models import CreateResult, LLMMessage, ModelInfo
from autogen_core.tools import Tool, ToolSchema
from autogen_ext.models.replay import ReplayChatCompletionClient

__all__ = ["SCRIPTED_MODEL_INFO", "ScriptedChatCompletionClient", "write_scripted_config"]

SCRIPTED_MODEL_INFO: ModelInfo = {
    "vision": False,
    "function_calling": False,
    "json_output": False,
    "family": "unknown",
    "structured_output": False,
}


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
            messages, tools=tools, tool_choice=tool_choice, json_output=json_output,
            extra_create_args=extra_create_args, cancellation_token=cancellation_token,
        )  # fmt: skip

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
    """
    prices = prices or {}
    lines = [f"[sandbox]\ntimeout_s = {sandbox_timeout_s}"]
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
