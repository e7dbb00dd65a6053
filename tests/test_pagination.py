"""Paging through Sage lists: every row exactly once and in order, no page beyond what is asked for, and never
more requests in flight than the limit (Sage allows 150 concurrent requests per app)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sage_mcp.sage.pagination import MAX_ITEMS_PER_PAGE, Page, fetch_pages, iter_pages

PROPERTY = settings(max_examples=60, deadline=None, derandomize=True, database=None)


class FakeSage:
    """A list endpoint shaped like Sage's: ``$items``, ``$total``, ``$page``, ``$itemsPerPage``, ``$next``."""

    def __init__(self, total: int, *, per_page_cap: int = MAX_ITEMS_PER_PAGE) -> None:
        self.rows = [{"id": f"r{i}"} for i in range(total)]
        self.per_page_cap = per_page_cap
        self.requests: list[tuple[str, dict[str, Any] | None]] = []
        self.in_flight = 0
        self.most_in_flight = 0

    def envelope(self, page: int, per_page: int) -> dict[str, Any]:
        start = (page - 1) * per_page
        more = start + per_page < len(self.rows)
        return {
            "$total": len(self.rows),
            "$page": page,
            "$itemsPerPage": per_page,
            "$next": f"/contacts?page={page + 1}&items_per_page={per_page}" if more else None,
            "$back": f"/contacts?page={page - 1}&items_per_page={per_page}" if page > 1 else None,
            "$items": self.rows[start : start + per_page],
        }

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        self.requests.append((path, dict(params) if params is not None else None))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            for _ in range(3):
                await asyncio.sleep(0)
            if params is None:  # a $next path carries its own query
                query = dict(part.split("=") for part in path.split("?", 1)[1].split("&"))
                page, per_page = int(query["page"]), int(query["items_per_page"])
            else:
                page = int(params.get("page", 1))
                per_page = min(int(params.get("items_per_page", 20)), self.per_page_cap)
            return self.envelope(page, per_page)
        finally:
            self.in_flight -= 1


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return [r["id"] for r in rows]


@given(
    total=st.integers(min_value=0, max_value=2_500),
    max_items=st.integers(min_value=1, max_value=3_000),
    concurrency=st.integers(min_value=0, max_value=12),
)
@PROPERTY
def test_every_row_comes_once_in_order_and_in_flight_stays_within_the_limit(
    total: int, max_items: int, concurrency: int
) -> None:
    sage = FakeSage(total)
    progress: list[tuple[int, int]] = []

    async def on_page(done: int, of: int) -> None:
        progress.append((done, of))

    items, reported = asyncio.run(
        fetch_pages(sage, "/contacts", {"search": "a"}, max_items=max_items, concurrency=concurrency, on_page=on_page)
    )
    wanted = min(total, max_items)
    assert ids(items) == [f"r{i}" for i in range(wanted)]
    assert reported == total
    pages_needed = max(1, -(-wanted // MAX_ITEMS_PER_PAGE))
    assert sorted(p["page"] for _, p in sage.requests if p) == list(range(1, pages_needed + 1))
    assert sage.most_in_flight <= max(1, concurrency)
    assert len(progress) == pages_needed
    assert all(of == total for _, of in progress)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    assert progress[-1][0] == min(total, pages_needed * MAX_ITEMS_PER_PAGE)


@pytest.mark.parametrize(("concurrency", "expected"), [(1, 1), (3, 3), (4, 4), (50, 9)])
def test_the_rest_of_the_pages_go_concurrency_at_a_time(concurrency: int, expected: int) -> None:
    sage = FakeSage(2_000)  # 10 pages: the first alone, then 9 more
    items, _ = asyncio.run(fetch_pages(sage, "/contacts", max_items=10_000, concurrency=concurrency))
    assert len(items) == 2_000
    assert sage.most_in_flight == expected


def test_the_default_is_four_pages_at_a_time() -> None:
    sage = FakeSage(2_000)
    asyncio.run(fetch_pages(sage, "/contacts", max_items=10_000))
    assert sage.most_in_flight == 4


def test_every_request_asks_for_full_pages_and_keeps_the_callers_filters() -> None:
    sage = FakeSage(450)
    asyncio.run(fetch_pages(sage, "/contacts", {"search": "acme", "page": 7}, max_items=1_000))
    assert [path for path, _ in sage.requests] == ["/contacts"] * 3
    assert [p for _, p in sage.requests] == [{"search": "acme", "items_per_page": 200, "page": n} for n in (1, 2, 3)]


def test_a_list_that_ends_early_is_not_read_past_its_last_page() -> None:
    sage = FakeSage(150)
    items, total = asyncio.run(fetch_pages(sage, "/contacts", max_items=1_000))
    assert (len(items), total, len(sage.requests)) == (150, 150, 1)


def test_one_page_is_all_when_sage_gives_no_next_link_whatever_the_total_says() -> None:
    class Stingy(FakeSage):
        def envelope(self, page: int, per_page: int) -> dict[str, Any]:
            return {**super().envelope(page, per_page), "$next": None}

    sage = Stingy(1_000)
    items, total = asyncio.run(fetch_pages(sage, "/contacts", max_items=1_000))
    assert (len(items), total, len(sage.requests)) == (200, 1_000, 1)


def test_the_cap_stops_paging_at_the_page_that_holds_the_last_wanted_row() -> None:
    sage = FakeSage(5_000)
    items, total = asyncio.run(fetch_pages(sage, "/contacts", max_items=401))
    assert ids(items) == [f"r{i}" for i in range(401)]
    assert total == 5_000
    assert [p["page"] for _, p in sage.requests if p] == [1, 2, 3]


# -- following $next -----------------------------------------------------------------------------------------


@given(total=st.integers(min_value=0, max_value=120), per_page=st.integers(min_value=1, max_value=25))
@PROPERTY
def test_following_next_yields_every_row_once(total: int, per_page: int) -> None:
    sage = FakeSage(total)

    async def walk() -> list[Page]:
        return [page async for page in iter_pages(sage, "/contacts", {"items_per_page": per_page})]

    pages = asyncio.run(walk())
    assert ids([row for page in pages for row in page.items]) == [f"r{i}" for i in range(total)]
    assert [page.page for page in pages] == list(range(1, len(pages) + 1))
    assert len(pages) == max(1, -(-total // per_page))
    assert sage.requests[0] == ("/contacts", {"items_per_page": per_page})
    assert all(params is None for _, params in sage.requests[1:]), "a $next path already carries the query"


@pytest.mark.parametrize("max_pages", [1, 2, 5])
def test_max_pages_stops_after_that_many(max_pages: int) -> None:
    sage = FakeSage(100)

    async def walk() -> list[Page]:
        return [page async for page in iter_pages(sage, "/contacts", {"items_per_page": 10}, max_pages=max_pages)]

    assert len(asyncio.run(walk())) == max_pages
    assert len(sage.requests) == max_pages


# -- the envelope --------------------------------------------------------------------------------------------


def test_the_envelope_is_read_field_by_field() -> None:
    page = Page.from_envelope(
        {
            "$total": 45,
            "$page": 2,
            "$itemsPerPage": 20,
            "$next": "/contacts?page=3",
            "$back": "/contacts?page=1",
            "$items": [{"id": "a"}, "not an object", {"id": "b"}],
        }
    )
    assert page == Page([{"id": "a"}, {"id": "b"}], 45, 2, 20, "/contacts?page=3", "/contacts?page=1")


def test_the_snake_case_page_size_is_read_too() -> None:
    assert Page.from_envelope({"$items": [], "$items_per_page": 50}).items_per_page == 50


def test_missing_envelope_fields_default_to_one_page_of_what_came() -> None:
    page = Page.from_envelope({"$items": [{"id": "a"}, {"id": "b"}]})
    assert page == Page([{"id": "a"}, {"id": "b"}], 2, 1, 2, None, None)


def test_null_and_empty_envelope_fields_are_read_as_absent() -> None:
    page = Page.from_envelope(
        {"$items": None, "$total": None, "$page": None, "$itemsPerPage": None, "$next": "", "$back": ""}
    )
    assert page == Page([], 0, 1, 0, None, None)


def test_a_bare_array_is_one_whole_page() -> None:
    page = Page.from_envelope([{"id": "a"}, 3, {"id": "b"}])
    assert page == Page([{"id": "a"}, {"id": "b"}], 2, 1, 2, None, None)


@pytest.mark.parametrize("raw", ["text", 3, None])
def test_an_answer_that_is_not_a_list_page_is_refused(raw: Any) -> None:
    with pytest.raises(ValueError, match=r"^Sage returned something that is not a list page$"):
        Page.from_envelope(raw)
