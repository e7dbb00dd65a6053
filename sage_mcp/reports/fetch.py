"""Fetching what a report needs: every page of several Sage lists at once, within one concurrency cap.

A :class:`Fetcher` wraps one business's client. All its requests (first pages, later pages, single
GETs) share one semaphore of ``width`` slots (default :data:`DEFAULT_CONCURRENCY`, at most Sage's
:data:`SAGE_MAX_CONCURRENCY` per app), progress is reported across every list it is fetching, and
``calls`` counts the requests made so a result can say what it cost. Nothing is truncated: a list
whose ``$total`` is larger than what its pages gave is an error, never a short answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sage_mcp.sage.errors import SageNotFoundError
from sage_mcp.sage.pagination import PageGetter, fetch_pages

Progress = Callable[[float, float | None, str], Awaitable[None]]

DEFAULT_CONCURRENCY = 8
#: Sage allows 150 concurrent requests per app.
SAGE_MAX_CONCURRENCY = 150
#: Anything a report fetches is capped here (far above any book Sage serves); reaching it is an error.
MAX_ITEMS = 5_000_000


def clamp_width(width: int | None) -> int:
    """A concurrency setting within 1 .. Sage's 150 (``None``/0: the default)."""
    return max(1, min(int(width or DEFAULT_CONCURRENCY), SAGE_MAX_CONCURRENCY))


class IncompleteFetchError(RuntimeError):
    """Sage said there were more records than its pages returned."""


class Fetcher:
    """Fetch every page of several Sage lists at once, at most ``width`` requests in flight in all,
    reporting progress across all of them. ``calls`` counts the requests made."""

    def __init__(self, client: PageGetter, width: int | None = None, progress: Progress | None = None) -> None:
        self.client = client
        self.width = clamp_width(width)
        self._semaphore = asyncio.Semaphore(self.width)
        self.progress = progress
        self.calls = 0
        self._lists: dict[int, tuple[int, int]] = {}

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """One GET, inside the concurrency cap."""
        async with self._semaphore:
            self.calls += 1
            return await self.client.get(path, params)

    one = get

    async def one_or_none(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """As :meth:`get`, or ``None`` when Sage answers 404 (an endpoint it does not serve)."""
        try:
            return await self.get(path, params)
        except SageNotFoundError:
            return None

    async def all(self, path: str, params: Mapping[str, Any] | None = None, *, label: str = "") -> list[dict[str, Any]]:
        """Every item of the list at ``path`` (page 1, then the other pages concurrently)."""
        key = len(self._lists)
        self._lists[key] = (0, 0)
        what = label or "records"

        async def on_page(done: int, total: int) -> None:
            self._lists[key] = (done, total)
            if self.progress is not None:
                got = sum(d for d, _ in self._lists.values())
                want = sum(t for _, t in self._lists.values())
                await self.progress(got, want or None, f"fetched {got} of {want} {what}")

        items, total = await fetch_pages(
            self, path, params, max_items=MAX_ITEMS, concurrency=self.width, on_page=on_page
        )
        if total > len(items):
            raise IncompleteFetchError(f"{path}: Sage reports {total} records but its pages gave {len(items)}")
        return items

    async def all_or_none(self, path: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]] | None:
        """As :meth:`all`, or ``None`` when Sage does not serve ``path`` (404)."""
        try:
            return await self.all(path, params)
        except SageNotFoundError:
            return None


__all__ = [
    "DEFAULT_CONCURRENCY",
    "MAX_ITEMS",
    "SAGE_MAX_CONCURRENCY",
    "Fetcher",
    "IncompleteFetchError",
    "Progress",
    "clamp_width",
]
