"""The image recipe: content hash and the apt mirror the offline builder reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecoagent.errors import SandboxError
from ecoagent.paths import shipped_dir
from ecoagent.sandbox.image import apt_mirror, dockerfile_base, sandbox_hash


def test_hash_is_stable_and_tracks_content(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    first = sandbox_hash(tmp_path)
    assert first == sandbox_hash(tmp_path)
    (tmp_path / "requirements.txt").write_text("numpy\n")
    assert sandbox_hash(tmp_path) != first


def test_shipped_recipe_is_complete() -> None:
    folder = shipped_dir("sandbox")
    for name in ("Dockerfile", "requirements.txt", "bootstrap.sh"):
        assert (folder / name).is_file()
    assert dockerfile_base().startswith("python:")
    assert "USER 1000:1000" in (folder / "Dockerfile").read_text()


def test_mirror_from_deb822_sources(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\n"
        "Components: main\n\nTypes: deb\nURIs: http://security.example/debian-security\n"
        "Suites: bookworm-security\nComponents: main\n"
    )
    assert apt_mirror("bookworm", tmp_path) == "http://mirror.example/debian"


def test_mirror_from_one_line_sources(tmp_path: Path) -> None:
    (tmp_path / "sources.list").write_text(
        "# comment\ndeb http://security.example/ bookworm-security main\n"
        "deb [arch=amd64] http://mirror.example/debian bookworm main contrib\n"
    )
    assert apt_mirror("bookworm", tmp_path) == "http://mirror.example/debian"


def test_no_mirror_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SandboxError) as info:
        apt_mirror("bookworm", tmp_path)
    assert "no apt source" in info.value.message and "Dockerfile" in (info.value.hint or "")
