"""What compression never touches, taken out before it and put back after, byte for byte.

LLMLingua drops tokens by perplexity: it cannot tell filler from a number, a path
or an indented line of code, and its output is rebuilt from tokens (a segment with
``<`` in it can vanish, indentation is lost). So compression here works in two layers:

* **blocks**: fenced code, tracebacks and indented (preformatted) lines are never
  given to the compressor at all; only the prose between them is;
* **literals inside prose**: numbers (any word with a digit: dates, times, amounts,
  versions), quoted strings and inline code, URLs, paths, identifiers, negations and
  table bars are *units* that are always kept whole. After the compressor has
  chosen which words of the prose to keep, :func:`restore` aligns its output with the
  original and rebuilds the text from original units only: every kept word is the
  original word, every literal is back verbatim, and line breaks stay where they were.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..literals import IDENT, NEGATIONS, PATH, QUOTED, URL

__all__ = ["Block", "protected_spans", "restore", "split_blocks"]

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
_TRACEBACK = re.compile(r"^\s*Traceback \(most recent call last\):")
_TRACEBACK_END = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Fault)\b")
_INDENTED = re.compile(r"^(?: {4}|\t)\S")
_WITH_DIGIT = re.compile(r"\S*\d\S*")
_NEGATION_WORD = re.compile(
    r"(?<![\w'])(?:" + "|".join(sorted(map(re.escape, NEGATIONS), key=len, reverse=True)) + r"|\w+n't)(?![\w'])", re.I
)
_BAR = re.compile(r"\|")
_DOTTED = re.compile(r"\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\b")  # module.func, Class.method, host names
_PIECE = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True)
class Block:
    """A run of whole lines: ``protected`` blocks are never compressed."""

    text: str
    protected: bool


def split_blocks(text: str) -> list[Block]:
    """``text`` as alternating prose and protected blocks; joined, they are ``text`` again.

    Protected: fenced code blocks (to their closing fence, or the end), Python
    tracebacks (to their exception line) and indented lines (four spaces or a tab).
    """
    lines = text.splitlines(keepends=True)
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        end = _protected_end(lines, i)
        protected = end > i
        if not protected:
            end = i + 1
            while end < len(lines) and _protected_end(lines, end) == end:
                end += 1
        chunk = "".join(lines[i:end])
        if blocks and blocks[-1].protected == protected:
            blocks[-1] = Block(blocks[-1].text + chunk, protected)
        else:
            blocks.append(Block(chunk, protected))
        i = end
    return blocks


def _protected_end(lines: list[str], i: int) -> int:
    """The end of a protected block starting at line ``i`` (``i`` itself when none starts there)."""
    fence = _FENCE.match(lines[i])
    if fence:
        marker = fence.group(1)
        for j in range(i + 1, len(lines)):
            if lines[j].strip().startswith(marker[0] * len(marker)) and not lines[j].strip().strip(marker[0]):
                return j + 1
        return len(lines)
    if _TRACEBACK.match(lines[i]):
        for j in range(i + 1, len(lines)):
            if _TRACEBACK_END.match(lines[j]):
                return j + 1
            if not lines[j].strip():
                return j
        return len(lines)
    if _INDENTED.match(lines[i]):
        j = i + 1
        while j < len(lines) and _INDENTED.match(lines[j]):
            j += 1
        return j
    return i


def protected_spans(prose: str) -> list[tuple[int, int]]:
    """Character spans of ``prose`` that must come back verbatim, merged and sorted."""
    spans: list[tuple[int, int]] = []
    for pattern in (QUOTED, URL, PATH, IDENT, _DOTTED, _WITH_DIGIT, _NEGATION_WORD, _BAR):
        spans.extend(m.span() for m in pattern.finditer(prose))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


@dataclass
class _Unit:
    start: int
    end: int
    protected: bool
    kept: bool = False


def _units(prose: str) -> list[_Unit]:
    """``prose`` as units: each protected span whole, every other word piece or punctuation mark alone."""
    units: list[_Unit] = []
    pos = 0
    for start, end in [*protected_spans(prose), (len(prose), len(prose))]:
        units.extend(_Unit(m.start() + pos, m.end() + pos, False) for m in _PIECE.finditer(prose[pos:start]))
        if end > start:
            units.append(_Unit(start, end, True, kept=True))
        pos = end
    return units


def restore(prose: str, compressed: str, *, lookahead: int = 64) -> str:
    """The words of ``prose`` that ``compressed`` kept, plus every protected literal.

    ``compressed`` is the compressor's output for ``prose``: a subsequence of its
    tokens, possibly with pieces of words. It is aligned with the original greedily
    (each compressed piece matched to the next equal original piece within
    ``lookahead``); pieces that do not align are ignored. The result holds only
    original text: kept units in their order, separated as they were (nothing
    between adjacent units, a line break where the original had one, else a space).
    """
    units = _units(prose)
    pieces: list[tuple[int, str]] = []  # (unit index, piece text) of every piece, literals included
    for index, unit in enumerate(units):
        pieces.extend((index, m.group()) for m in _PIECE.finditer(prose[unit.start : unit.end]))
    cursor = 0
    for piece in _PIECE.findall(compressed):
        for k in range(cursor, min(cursor + lookahead, len(pieces))):
            if pieces[k][1] == piece:
                units[pieces[k][0]].kept = True
                cursor = k + 1
                break
    lead = prose[: len(prose) - len(prose.lstrip())]
    out: list[str] = [lead[: lead.rfind("\n") + 1]]  # blank lines before the first word stay
    previous: _Unit | None = None
    for unit in units:
        if not unit.kept:
            continue
        if previous is not None:
            gap = prose[previous.end : unit.start]
            if previous.end == unit.start:
                pass
            elif "\n" in gap:
                out.append("\n" * min(gap.count("\n"), 2) + _indent_of(prose, unit.start))
            else:
                out.append(" ")
        else:
            out.append(_indent_of(prose, unit.start))
        out.append(prose[unit.start : unit.end])
        previous = unit
    if previous is not None:
        out.append(prose[len(prose.rstrip()) :])  # and so do the line breaks after the last one
    return "".join(out)


def _indent_of(text: str, pos: int) -> str:
    """The leading whitespace of the line ``pos`` is on, when ``pos`` is its first character."""
    line_start = text.rfind("\n", 0, pos) + 1
    lead = text[line_start:pos]
    return lead if not lead.strip() else ""
