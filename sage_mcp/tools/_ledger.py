"""Ledger account look-ups shared by the ledger and product tools."""

from __future__ import annotations

from typing import Any

from sage_mcp.sage.pagination import fetch_pages
from sage_mcp.tools._base import ToolContext, ToolError
from sage_mcp.tools._resource import ALL_PAGES_CAP


async def ledger_accounts(ctx: ToolContext, visible_in: str | None = None) -> list[dict[str, Any]]:
    """Every ledger account (optionally only those visible in one area), cached for this call."""
    cache_key = f"ledger_accounts:{visible_in}"
    if cache_key not in ctx.cache:
        params: dict[str, Any] = {"attributes": "nominal_code,name,display_name,ledger_account_type,tax_rate"}
        if visible_in:
            params["visible_in"] = visible_in
        ctx.cache[cache_key], _ = await fetch_pages(ctx.business, "/ledger_accounts", params, max_items=ALL_PAGES_CAP)
    accounts: list[dict[str, Any]] = ctx.cache[cache_key]
    return accounts


def match_ledger_account(accounts: list[dict[str, Any]], ref: str) -> dict[str, Any] | None:
    """The account whose id or nominal code is ``ref``."""
    ref = ref.strip()
    return next((a for a in accounts if str(a.get("id")) == ref or str(a.get("nominal_code")) == ref), None)


async def resolve_ledger_account(
    ctx: ToolContext, ref: str, field: str, visible_in: str | None = None
) -> dict[str, Any]:
    """A ledger account from its id or nominal code; a ToolError naming ``field`` when there is none."""
    found = match_ledger_account(await ledger_accounts(ctx, visible_in), ref)
    if found is None:
        where = f" usable in {visible_in}" if visible_in else ""
        raise ToolError(
            f"{field}: {ref!r} is not the id or nominal code of a ledger account{where} of this business. "
            "find_ledger_account or list_ledger_accounts shows them."
        )
    return found
