"""`ecoagent chat` in a real terminal (tmux), on the bundled SmolLM2 and the real sandbox.

A person's session: a query on the bundled model, /good, Ctrl-C during a long-running
query (back to the prompt, session alive), Ctrl-D (exit code 0).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.docker

ECOAGENT = str(Path(sys.executable).with_name("ecoagent"))


class Tmux:
    def __init__(self, name: str) -> None:
        self.name = name

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def screen(self) -> str:
        return subprocess.run(
            ["tmux", "capture-pane", "-p", "-J", "-S", "-2000", "-t", self.name],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def wait_for(self, predicate: str, timeout: float, after: int = 0) -> str:
        """Wait until ``predicate`` appears in the screen text after offset ``after``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.screen()
            if predicate in text[after:]:
                return text
            time.sleep(0.25)
        raise AssertionError(f"{predicate!r} did not appear within {timeout} s; screen:\n{self.screen()[-3000:]}")


@pytest.fixture
def tmux(tmp_path: Path, sandbox_image: str) -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed: run scripts/setup.sh (it installs tmux)")
    name = f"ecoagent-{uuid.uuid4().hex[:8]}"
    cfg = tmp_path / "ecoagent.toml"
    # the offline default ladder: the bundled SmolLM2; the auto judge keeps a turn to one rung (what
    # is tested is the terminal; the evidence judge's chat transcript is in tests/test_unverified.py)
    cfg.write_text('[run]\nmax_turns = 4\njudge = "auto"\n')
    env = f"ECOAGENT_HOME={tmp_path / 'home'} NO_COLOR=1 HF_HUB_OFFLINE=1"
    command = f"cd {tmp_path} && env {env} {ECOAGENT} chat; echo EXIT=$?; sleep 60"
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", name, "-x", "160", "-y", "50", command],
        check=True,
        env={**os.environ, "TERM": "xterm"},
    )
    session = Tmux(name)
    try:
        yield session
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], check=False)


def test_chat_in_a_real_terminal(tmux: Tmux) -> None:
    screen = tmux.wait_for("Ctrl-D or /exit to leave", timeout=60)
    assert "smollm2" in screen and "bank: " in screen

    tmux.keys("Write Python code to print 17 * 23.", "Enter")
    screen = tmux.wait_for(" · run ", timeout=120)  # the footer closes the turn
    assert "assistant · smollm2" in screen and "executor" in screen and "tokens" in screen
    assert "✓ resolved by smollm2-eco" in screen
    mark = len(screen)

    tmux.keys("/good", "Enter")
    screen = tmux.wait_for("👍", timeout=30, after=mark - 200)
    assert "banked solution" in screen or "not banked" in screen
    mark = len(screen)

    tmux.keys("Write a very long story about a dragon who learns to code, with many chapters.", "Enter")
    tmux.wait_for("▸ smollm2", timeout=30, after=mark - 50)  # the rung has started: the query is running
    tmux.keys("C-c")
    screen = tmux.wait_for("cancelled", timeout=60, after=mark - 50)
    tmux.wait_for("› ", timeout=10, after=screen.index("cancelled"))  # back at the prompt

    tmux.keys("/history", "Enter")  # the session is alive and remembers the first turn
    tmux.wait_for("1. ", timeout=15, after=screen.index("cancelled"))

    tmux.keys("C-d")
    screen = tmux.wait_for("EXIT=", timeout=30)
    assert "bye" in screen and "EXIT=0" in screen
