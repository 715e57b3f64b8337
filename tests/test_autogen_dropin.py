"""The executor drops into AutoGen's CodeExecutorAgent like AutoGen's own."""

from __future__ import annotations

import asyncio

import pytest
from autogen_agentchat.agents import CodeExecutorAgent
from autogen_agentchat.messages import TextMessage
from autogen_core import CancellationToken

from ecoagent.config import SandboxSettings
from ecoagent.sandbox import DockerSandboxExecutor

pytestmark = pytest.mark.docker


def test_code_executor_agent_runs_a_fenced_block(sandbox_settings: SandboxSettings) -> None:
    async def go() -> str:
        async with DockerSandboxExecutor(sandbox_settings) as executor:
            agent = CodeExecutorAgent("executor", code_executor=executor)
            msg = TextMessage(content="Here:\n```python\nprint(sum(range(101)))\n```\n", source="assistant")
            response = await agent.on_messages([msg], CancellationToken())
            return str(response.chat_message.content)

    assert "5050" in asyncio.run(go())


def test_component_config_round_trips(sandbox_settings: SandboxSettings) -> None:
    executor = DockerSandboxExecutor(sandbox_settings)
    model = executor.dump_component()
    assert model.provider == "ecoagent.sandbox.DockerSandboxExecutor"
    again = DockerSandboxExecutor.load_component(model)
    assert isinstance(again, DockerSandboxExecutor) and again.settings == sandbox_settings
