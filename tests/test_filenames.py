"""Code-block file names cannot leave the workspace; languages map predictably."""

from __future__ import annotations

import pytest

from ecoagent.errors import UnsafeFilenameError
from ecoagent.sandbox import normalize_language, safe_filename


@pytest.mark.parametrize("name", ["a.py", "pkg/mod.py", "./x.sh", "data-1.txt"])
def test_plain_relative_names_pass(name: str) -> None:
    assert safe_filename(name)


@pytest.mark.parametrize("name", ["../x.py", "a/../../x.py", "/etc/passwd", "", "a\x00b", "..\\x", "x/.."])
def test_escaping_names_are_rejected(name: str) -> None:
    with pytest.raises(UnsafeFilenameError):
        safe_filename(name)


def test_languages() -> None:
    assert normalize_language("Python3") == "python"
    assert normalize_language("shell") == "sh"
    assert normalize_language("bash") == "bash"
    with pytest.raises(ValueError, match="python and sh"):
        normalize_language("ruby")
