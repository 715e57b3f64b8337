"""Compression's protection, without a model: what never reaches LLMLingua, and what always comes back."""

from __future__ import annotations

import random
import re

import pytest

from ecoagent.compress import protected_spans, restore, split_blocks

DOC = """Incident notes for the checkout outage

The checkout service did not recover after the deploy at 14:05 on 2024-05-14, and the
on-call engineer rolled back to version 3.12.1. Requests to /api/v2/cart failed with
"connection reset by peer" while max_retries was 3, and the error rate peaked at 41.5%.

```python
def retry(call, max_retries=3):
    for attempt in range(max_retries):
        if call() < 2:   # a '<' LLMLingua would drop
            return attempt
```

Traceback (most recent call last):
  File "/srv/checkout/app.py", line 88, in handle
    cart = load(cart_id)
ConnectionResetError: [Errno 104] Connection reset by peer

| service | errors |
|---|---|
| checkout | 1,204 |

    indented preformatted line with  two  spaces
The team agreed that nothing should be deployed without a canary, and OrderService.submit
must never retry a payment. See https://status.example.com/incidents/812 for the timeline.
"""


def test_blocks_join_back_into_the_text_and_code_tracebacks_indented_lines_are_protected() -> None:
    blocks = split_blocks(DOC)
    assert "".join(b.text for b in blocks) == DOC
    protected = "".join(b.text for b in blocks if b.protected)
    assert "def retry(call, max_retries=3):\n" in protected and "```\n" in protected
    assert "ConnectionResetError: [Errno 104] Connection reset by peer\n" in protected
    assert "    indented preformatted line with  two  spaces\n" in protected
    prose = "".join(b.text for b in blocks if not b.protected)
    assert "def retry" not in prose and "Traceback" not in prose and "The team agreed" in prose


def test_an_unclosed_fence_protects_to_the_end() -> None:
    blocks = split_blocks("Some words here.\n```python\nprint(1)\nno closing fence\n")
    assert [b.protected for b in blocks] == [False, True]
    assert blocks[1].text.endswith("no closing fence\n")


@pytest.mark.parametrize(
    "literal",
    [
        "14:05",
        "2024-05-14",
        "3.12.1",
        "/api/v2/cart",
        '"connection reset by peer"',
        "max_retries",
        "41.5%",
        "1,204",
        "OrderService.submit",
        "https://status.example.com/incidents/812",
        "not",
        "never",
        "without",
        "|",
    ],
)
def test_numbers_paths_quotes_identifiers_urls_and_negations_are_protected(literal: str) -> None:
    prose = "".join(b.text for b in split_blocks(DOC) if not b.protected)
    spans = [prose[s:e] for s, e in protected_spans(prose)]
    assert any(literal == span or literal in span for span in spans), spans


def test_restore_brings_back_every_literal_byte_for_byte_whatever_the_compressor_dropped() -> None:
    prose = "".join(b.text for b in split_blocks(DOC) if not b.protected)
    literals = [prose[s:e] for s, e in protected_spans(prose)]
    pieces = re.findall(r"\w+|[^\w\s]", prose)
    rng = random.Random(7)
    for keep in (0.0, 0.3, 0.6, 1.0):  # the compressor kept a random subsequence of the pieces
        kept = [p for p in pieces if rng.random() < keep]
        out = restore(prose, " ".join(kept))
        for literal in literals:
            assert literal in out, (keep, literal)
        words = set(re.findall(r"\S+", prose))
        assert all(any(w in original for original in words) for w in re.findall(r"\S+", out))  # only original text


def test_restore_keeps_line_breaks_and_drops_what_was_not_kept() -> None:
    prose = "\nThe quick brown fox jumps.\n  Over the lazy dog, not the cat.\n"
    assert restore(prose, "quick fox jumps . Over dog") == "\nquick fox jumps.\n  Over dog not\n"


def test_an_unwritable_tiktoken_folder_is_a_clear_error(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ecoagent.compress.lingua import ensure_tiktoken_files
    from ecoagent.errors import EcoagentError

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(blocker / "tiktoken"))
    with pytest.raises(EcoagentError, match="cannot place tiktoken's cl100k file") as info:
        ensure_tiktoken_files()
    assert "TIKTOKEN_CACHE_DIR" in (info.value.hint or "")
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "ok"))
    ensure_tiktoken_files()
    assert len(list((tmp_path / "ok").iterdir())) == 1  # the file tiktoken looks for, named by its URL's sha1
