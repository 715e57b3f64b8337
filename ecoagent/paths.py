"""Where ecoagent keeps user data, and where it finds its own data files.

User data (config, solution bank, run log, chat history) lives in XDG directories,
all of which move together under one directory when ``ECOAGENT_HOME`` is set, so a
test, a CI job or a user with several projects can isolate everything with one
variable. Shipped data (``agents/`` prompts and ladders, ``sandbox/`` image recipe)
is found next to the package in a source checkout and under ``ecoagent/_data`` in
an installed wheel.

The cache (``$ECOAGENT_CACHE_DIR``, else ``$XDG_CACHE_HOME/ecoagent``) holds only
files ecoagent rebuilds on its own, such as the ONNX export of the embedding model.
``ECOAGENT_HOME`` does not move it, so projects and test runs share one copy.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = [
    "CACHE_ENV",
    "HOME_ENV",
    "cache_dir",
    "config_dir",
    "data_dir",
    "running_server",
    "server_file",
    "shipped_dir",
    "state_dir",
]

HOME_ENV = "ECOAGENT_HOME"
CACHE_ENV = "ECOAGENT_CACHE_DIR"

_PACKAGE_DIR = Path(__file__).resolve().parent


def _xdg_base(var: str, default: str) -> Path:
    """``$var/ecoagent``, else ``~/default/ecoagent`` (the XDG rule)."""
    base = os.environ.get(var) or str(Path.home() / default)
    return Path(base).expanduser() / "ecoagent"


def _xdg(var: str, default: str, sub: str) -> Path:
    home = os.environ.get(HOME_ENV)
    if home:
        return Path(home).expanduser() / sub
    return _xdg_base(var, default)


def config_dir() -> Path:
    """User configuration directory (``$XDG_CONFIG_HOME/ecoagent``)."""
    return _xdg("XDG_CONFIG_HOME", ".config", "config")


def data_dir() -> Path:
    """User data directory: solution bank, run log (``$XDG_DATA_HOME/ecoagent``)."""
    return _xdg("XDG_DATA_HOME", ".local/share", "data")


def state_dir() -> Path:
    """State directory: input history, logs (``$XDG_STATE_HOME/ecoagent``)."""
    return _xdg("XDG_STATE_HOME", ".local/state", "state")


def cache_dir() -> Path:
    """Rebuildable files, e.g. the embedding model's ONNX export (``$XDG_CACHE_HOME/ecoagent``)."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    return _xdg_base("XDG_CACHE_HOME", ".cache")


def shipped_dir(name: str) -> Path:
    """Locate a shipped data folder (``agents`` or ``sandbox``).

    Args:
        name: Top-level data folder name.

    Raises:
        FileNotFoundError: Neither the installed copy nor the checkout copy exists.
    """
    for candidate in (_PACKAGE_DIR / "_data" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"ecoagent's data folder {name!r} is missing; reinstall ecoagent (pip install ecoagent)")


def server_file() -> Path:
    """Where a running ``ecoagent serve`` says where it listens (it writes the file, the CLI and
    the bank read it to point a user at it)."""
    return state_dir() / "server.json"


def running_server() -> str | None:
    """The URL of a server running on this machine for this data dir, if one is."""
    try:
        data = json.loads(server_file().read_text(encoding="utf-8"))
        os.kill(int(data["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return str(data["url"])
