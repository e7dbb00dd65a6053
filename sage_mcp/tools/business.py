"""Businesses the signed-in user can access."""

from __future__ import annotations

from typing import Any

from sage_mcp.sage.client import path_segment
from sage_mcp.sage.errors import NotSignedInError
from sage_mcp.tools._base import ToolContext, compact, link_id, link_name


def _project_business(b: dict[str, Any], *, lead: str | None, pinned: str | None) -> dict[str, Any]:
    subs = [s for s in b.get("subscriptions") or [] if isinstance(s, dict)]
    active = next((s for s in subs if s.get("active")), None)
    return compact(
        {
            "id": b.get("id"),
            "name": b.get("name") or b.get("displayed_as"),
            "country": link_id(b.get("country")),
            "subscription": link_name(active) if active else None,
            "lead": b.get("id") == lead,
            "pinned": b.get("id") == pinned,
        }
    )


async def _pinned(ctx: ToolContext) -> str | None:
    if ctx.settings.business_id:
        return ctx.settings.business_id
    try:
        return (await ctx.sage.tokens.login()).business_id
    except NotSignedInError:
        return None


async def list_businesses(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    businesses = await ctx.sage.list_businesses()
    lead = await ctx.sage.lead_business_id() if businesses else None
    pinned = await _pinned(ctx)
    items = [_project_business(b, lead=lead, pinned=pinned) for b in businesses]
    return {"total": len(items), "items": items}


async def get_business(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    assert ctx.scope is not None
    raw = await ctx.sage.get(f"/businesses/{path_segment(ctx.scope.id)}")
    lead = await ctx.sage.lead_business_id()
    out = _project_business(raw, lead=lead, pinned=await _pinned(ctx))
    address = ", ".join(
        str(raw[k]) for k in ("address_line_1", "address_line_2", "city", "region", "postal_code") if raw.get(k)
    )
    out.update(
        compact(
            {
                "address": address,
                "telephone": raw.get("telephone"),
                "website": raw.get("website"),
                "is_demo": raw.get("is_demo"),
            }
        )
    )
    return out


HANDLERS = {f.__name__: f for f in (list_businesses, get_business)}
