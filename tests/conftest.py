"""Shared fixtures and guards.

* Every test gets its own ECOAGENT_HOME (config, bank, run log, history) in a tmp dir,
  so nothing reads or writes the user's real data. The rebuildable cache (the ONNX
  export of the embedding model, the compressor's weights) is one tmp dir per session,
  seeded with a copy of what setup built, so it is built at most once.
* Tests that need the sandbox use the ``sandbox_settings`` fixture; when the engine or
  the image is missing it *fails* with the command that fixes it (a skipped sandbox
  test would prove nothing). scripts/setup.sh provides both.
* Nothing here opens a connection beyond 127.0.0.1 and the local Docker socket.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecoagent.config import SandboxSettings
from ecoagent.errors import EcoagentError
from ecoagent.paths import cache_dir
from ecoagent.sandbox.engine import connect
from ecoagent.sandbox.image import image_status

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def cache_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One rebuildable cache for the session, seeded with a copy of what setup already built
    (the compressor's dequantized weights, the ONNX export: named by content, so any copy of
    them is right), so no test pays a first use that setup paid. A copy, not a link: nothing a
    test does can touch the user's own cache."""
    root = tmp_path_factory.mktemp("ecoagent-cache")
    real = cache_dir()  # before any test's environment points it elsewhere
    for part in ("compressor", "onnx"):
        if (real / part).is_dir() and real.resolve() != root.resolve():
            shutil.copytree(real / part, root / part)
    return root


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, cache_root: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("ecoagent-home")
    for key in list(os.environ):
        if key.startswith("ECOAGENT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ECOAGENT_HOME", str(home))
    monkeypatch.setenv("ECOAGENT_CACHE_DIR", str(cache_root))
    yield home


@pytest.fixture(scope="session")
def docker_client():  # type: ignore[no-untyped-def]
    try:
        return connect(timeout=30)
    except EcoagentError as exc:
        pytest.fail(f"{exc}\n(the sandbox tests need the real engine: run scripts/setup.sh)")


@pytest.fixture(scope="session")
def sandbox_image(docker_client) -> str:  # type: ignore[no-untyped-def]
    image = SandboxSettings().image
    status = image_status(docker_client, image)
    if not status.current:
        pytest.fail(f"sandbox image {image} is missing or stale: run `ecoagent sandbox build` or scripts/setup.sh")
    return image


@pytest.fixture
def sandbox_settings(sandbox_image: str) -> SandboxSettings:
    """Tight, fast limits for tests (short timeouts keep the suite quick)."""
    return SandboxSettings(image=sandbox_image, timeout_s=10, kill_grace_s=1, host_grace_s=3, output_cap_bytes=4096)


_DOCKER_FIXTURES = {"docker_client", "sandbox_image", "sandbox_settings"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that takes a Docker fixture is a ``docker`` test, marked or not, so
    ``-m "not docker"`` is a run without Docker by construction (tests that reach the engine
    another way, through the CLI or the real executor, carry the mark themselves)."""
    for item in items:
        if _DOCKER_FIXTURES & set(getattr(item, "fixturenames", ())) and item.get_closest_marker("docker") is None:
            item.add_marker(pytest.mark.docker)
