"""Sage's list envelope (``$items``, ``$total``, ``$next`` …) and a page iterator that follows ``$next``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

MAX_ITEMS_PER_PAGE = 200


class PageGetter(Protocol):
    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any: ...


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    page: int
    items_per_page: int
    next_path: str | None
    back_path: str | None

    @classmethod
    def from_envelope(cls, raw: Any) -> Page:
        """Read Sage's envelope; a bare array (as the spec declares lists) is accepted as one page."""
        if isinstance(raw, list):
            items = [dict(x) for x in raw if isinstance(x, Mapping)]
            return cls(items, len(items), 1, len(items), None, None)
        if not isinstance(raw, Mapping):
            raise ValueError("Sage returned something that is not a list page")
        items = [dict(x) for x in raw.get("$items") or [] if isinstance(x, Mapping)]
        per_page = raw.get("$itemsPerPage", raw.get("$items_per_page", len(items)))
        return cls(
            items=items,
            total=int(raw.get("$total", len(items)) or 0),
            page=int(raw.get("$page", 1) or 1),
            items_per_page=int(per_page or 0),
            next_path=raw.get("$next") or None,
            back_path=raw.get("$back") or None,
        )


async def iter_pages(
    client: PageGetter,
    path: str,
    params: Mapping[str, Any] | None = None,
    *,
    max_pages: int | None = None,
) -> AsyncIterator[Page]:
    """Yield pages, following ``$next`` (a path relative to the API base that keeps the query)."""
    next_path: str | None = path
    next_params = params
    count = 0
    while next_path:
        page = Page.from_envelope(await client.get(next_path, next_params))
        yield page
        count += 1
        if max_pages is not None and count >= max_pages:
            return
        next_path, next_params = page.next_path, None


async def fetch_pages(
    client: PageGetter,
    path: str,
    params: Mapping[str, Any] | None = None,
    *,
    max_items: int,
    concurrency: int = 4,
    on_page: Callable[[int, int], Awaitable[None]] | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Every item of a list, up to ``max_items``: page 1 first, then the rest ``concurrency`` at a time.

    Returns the items and Sage's ``$total``. ``on_page(items_so_far, total)`` is awaited after each page.
    """
    base = {k: v for k, v in (params or {}).items() if k != "page"}
    base["items_per_page"] = MAX_ITEMS_PER_PAGE
    first = Page.from_envelope(await client.get(path, {**base, "page": 1}))
    items = list(first.items)
    total = first.total
    if on_page:
        await on_page(len(items), total)
    wanted = min(total, max_items)
    last_page = -(-wanted // MAX_ITEMS_PER_PAGE)
    if first.next_path is None or last_page <= 1:
        return items[:max_items], total
    semaphore = asyncio.Semaphore(max(1, concurrency))
    pages: dict[int, list[dict[str, Any]]] = {}

    async def fetch(number: int) -> None:
        async with semaphore:
            page = Page.from_envelope(await client.get(path, {**base, "page": number}))
        pages[number] = page.items
        if on_page:
            await on_page(len(items) + sum(len(p) for p in pages.values()), total)

    async with asyncio.TaskGroup() as group:
        for number in range(2, last_page + 1):
            group.create_task(fetch(number))
    for number in sorted(pages):
        items.extend(pages[number])
    return items[:max_items], total
