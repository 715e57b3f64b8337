"""The manual: generated references up to date, the site builds strictly, the README's promises hold."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = [
    "./scripts/setup.sh && .venv/bin/ecoagent batch examples/queries.jsonl --out results.jsonl",
    "./scripts/setup.sh && ./scripts/test.sh",
]


def test_the_cli_and_configuration_references_are_generated_from_the_current_code() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_reference.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    cli = (ROOT / "docs" / "reference" / "cli.md").read_text(encoding="utf-8")
    config = (ROOT / "docs" / "reference" / "config.md").read_text(encoding="utf-8")
    assert "## `ecoagent ask`" in cli and "| `--tests` | path |" in cli and "### `ecoagent keys add`" in cli
    assert "## `[judge]`" in config and "| `show_tests` | bool | `false` |" in config


def test_the_site_builds_in_strict_mode(tmp_path: Path) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "site" / "judges" / "index.html").is_file()


def test_every_page_is_in_the_navigation() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = sorted(str(p.relative_to(ROOT / "docs")) for p in (ROOT / "docs").rglob("*.md"))
    assert [p for p in pages if p not in nav] == []


def test_the_readme_starts_with_the_two_commands_and_its_links_resolve() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```sh\n", 1)[1].split("```", 1)[0]
    assert first_block.strip().splitlines() == COMMANDS
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.strip().splitlines()[-1] == COMMANDS[1]  # CI runs the README's test command, exactly
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    missing = [link for link in links if not link.startswith("http") and not (ROOT / link).exists()]
    assert links and missing == []
    assert len(readme.splitlines()) <= 200  # a front page, not the manual
