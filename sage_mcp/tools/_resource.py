"""Reading any Sage collection the same way: one page or all pages, compact or in full.

A :class:`Resource` names the collection, the attributes its compact list rows need, and the
projection that turns Sage's object into the compact form. Handlers then reduce to picking
query parameters.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sage_mcp.excerpt import excerpt
from sage_mcp.sage.client import path_segment
from sage_mcp.sage.pagination import Page, fetch_pages
from sage_mcp.tools._base import ToolContext, list_result, paging_params, words

#: ``all_pages`` stops here; the result says so (``truncated``) and how to narrow the query.
ALL_PAGES_CAP = 1000

Projection = Callable[[dict[str, Any], bool], dict[str, Any]]


@dataclass(frozen=True)
class Resource:
    collection: str  # URL segment, e.g. "sales_invoices"
    list_attributes: str  # attributes the compact list rows need
    project: Projection  # (raw, full) -> compact dict
    nested: str | None = None
    """``nested_attributes`` the full form needs: Sage answers nested records (addresses, people) as
    links ``{id, displayed_as, $path}`` unless asked for them."""

    @property
    def path(self) -> str:
        return f"/{self.collection}"

    def item_path(self, key: str) -> str:
        return f"/{self.collection}/{path_segment(key)}"


def query_from_args(args: Mapping[str, Any], mapping: Mapping[str, str]) -> dict[str, Any]:
    """Sage query parameters from tool arguments (``{"status": "status_id"}`` …); unset ones are left out."""
    return {param: args[arg] for arg, param in mapping.items() if args.get(arg) not in (None, "")}


async def list_records(
    ctx: ToolContext, args: Mapping[str, Any], res: Resource, query: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A compact page (or, with ``all_pages``, every page up to :data:`ALL_PAGES_CAP`, reporting progress)."""
    full = args.get("detail") == "full"
    params: dict[str, Any] = {"attributes": "all" if full else res.list_attributes, **(query or {})}
    if full and res.nested:
        params["nested_attributes"] = res.nested
    if args.get("all_pages"):

        async def progress(done: int, total: int) -> None:
            await ctx.report(done, min(total, ALL_PAGES_CAP), f"fetched {done} of {total} {res.collection}")

        raw, total = await fetch_pages(ctx.business, res.path, params, max_items=ALL_PAGES_CAP, on_page=progress)
        out: dict[str, Any] = {
            "total": total,
            "page": 1,
            "next_page": None,
            "items": [x if full else res.project(x, False) for x in raw],
        }
        if total > len(raw):
            out["truncated"] = (
                f"only the first {len(raw)} of {total} were fetched; narrow the query (dates, status, contact)"
            )
        return out
    page = Page.from_envelope(await ctx.business.get(res.path, {**params, **paging_params(args)}))
    return list_result(page, [x if full else res.project(x, False) for x in page.items])


async def get_record(ctx: ToolContext, args: Mapping[str, Any], res: Resource, key: str) -> dict[str, Any]:
    raw = await ctx.business.get(res.item_path(key), {"nested_attributes": res.nested} if res.nested else None)
    return dict(raw) if args.get("detail") == "full" else res.project(raw, True)


async def or_closest(
    out: dict[str, Any],
    args: Mapping[str, Any],
    find: Callable[[str], Awaitable[dict[str, Any]]],
    hint: str,
) -> dict[str, Any]:
    """A list page ``out``, or, when its ``search`` text matched nothing on the first page, the closest
    records ``find(search)`` ranks (typos, other wording), marked ``fuzzy`` with ``hint`` as the note."""
    search = str(args.get("search") or "")
    if out["items"] or not words(search) or int(args.get("page", 1)) > 1:
        return out
    found = await find(search)
    return {
        "total": found["total"],
        "page": 1,
        "next_page": None,
        "items": found["items"],
        "fuzzy": True,
        "note": f"Nothing contains {excerpt(search)}; " + (found.get("note") or hint),
    }
