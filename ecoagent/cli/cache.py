"""``ecoagent cache``: what the first-turn stage has served, and a way to empty it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from ._common import handle_errors, out, settings_from

if TYPE_CHECKING:
    from ..cache import AnswerCache

__all__ = ["cache_app"]

cache_app = typer.Typer(help="The first-turn cache: exact repeats and verified replays.", no_args_is_help=True)


@contextmanager
def _cache(ctx: typer.Context) -> Iterator[AnswerCache]:
    from ..cache import AnswerCache

    settings = settings_from(ctx).cache
    cache = AnswerCache(settings.file(), ttl_s=settings.ttl_s)
    try:
        yield cache
    finally:
        cache.close()


@cache_app.command("stats")
@handle_errors
def stats(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False
) -> None:
    """Entries, hits, replays served and rejected, guard refusals, evictions."""
    with _cache(ctx) as cache:
        counts = cache.stats()
        where = cache.path
    if as_json:
        out.print_json(json.dumps({"path": str(where), **counts}))
        return
    lookups = counts["exact_hits"] + counts["exact_misses"]
    rate = f" ({counts['exact_hits'] / lookups:.0%} of {lookups} lookups)" if lookups else ""
    out.print(f"cache: {where}")
    out.print(f"exact entries: {counts['entries']} · hits {counts['exact_hits']}{rate} · stored {counts['stores']}")
    out.print(
        f"replays: served {counts['replays_served']} · rejected by the judge {counts['replays_rejected']} "
        f"· refused by the guard {counts['guard_refusals']}"
    )
    out.print(
        f"evictions (thumbs-down): {counts['evictions']} · query/solution pairs never replayed again: {counts['refused_pairs']}"
    )


@cache_app.command("list")
@handle_errors
def list_(ctx: typer.Context, n: Annotated[int, typer.Option("-n", min=1, help="At most this many.")] = 20) -> None:
    """The newest exact entries: query, answer, the run that produced it, hits."""
    with _cache(ctx) as cache:
        entries = cache.entries(n)
    if not entries:
        out.print("the cache is empty")
        return
    for e in entries:
        out.print(
            f"{e.created_at:%Y-%m-%d %H:%M} · run {e.run_id} · {e.rung or '-'} · judge {e.judge or '-'} · hits {e.hits}"
        )
        out.print(f"    {e.query}", markup=False)
        out.print(f"    → {e.answer.strip()[:200]}", markup=False)


@cache_app.command("clear")
@handle_errors
def clear(ctx: typer.Context) -> None:
    """Delete every cached answer and replay refusal (the bank is not touched; counters stay)."""
    with _cache(ctx) as cache:
        gone = cache.clear()
    out.print(f"cleared {gone} cached answer(s)")
