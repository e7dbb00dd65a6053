"""Tax rates, the business's tax profiles and the tax schemes Sage knows."""

from __future__ import annotations

import asyncio
from typing import Any

from sage_mcp.money import format_decimal
from sage_mcp.sage.client import path_segment
from sage_mcp.sage.errors import SageNotFoundError
from sage_mcp.sage.pagination import fetch_pages
from sage_mcp.tools._base import ToolContext, ToolError, compact, link_id, link_name
from sage_mcp.tools._resource import ALL_PAGES_CAP


async def list_tax_rates(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {"attributes": "name,percentage,is_visible"}
    if args.get("usage"):
        params["usage"] = args["usage"]
    if args.get("date"):
        params["date"] = args["date"]
    raw, total = await fetch_pages(ctx.business, "/tax_rates", params, max_items=ALL_PAGES_CAP)
    items = [
        compact(
            {
                "id": r.get("id"),
                "name": r.get("name") or r.get("displayed_as"),
                "percentage": format_decimal(r.get("percentage")),
                "hidden": True if r.get("is_visible") is False else None,
            }
        )
        for r in raw
    ]
    return {"total": total, "items": items}


def project_profile(raw: dict[str, Any]) -> dict[str, Any]:
    return compact(
        {
            "id": raw.get("id"),
            "tax_type": link_id(raw.get("tax_type")),
            "name": link_name(raw.get("tax_type")) or raw.get("displayed_as"),
            "tax_number": raw.get("tax_number"),
            "collect_tax": raw.get("collect_tax"),
            "return_frequency": link_id(raw.get("tax_return_frequency")),
        }
    )


async def get_tax_profile(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    full = args.get("detail") == "full"
    if args.get("tax_profile_id"):
        try:
            raw = await ctx.business.get(f"/tax_profiles/{path_segment(args['tax_profile_id'])}")
        except SageNotFoundError as exc:
            raise ToolError(
                f"tax_profile_id {args['tax_profile_id']!r} is not a tax profile of this business; "
                "leave it out to get the business's profile."
            ) from exc
        return dict(raw) if full else project_profile(raw)
    profiles, _ = await fetch_pages(ctx.business, "/tax_profiles", {"attributes": "all"}, max_items=ALL_PAGES_CAP)
    if not profiles:
        raise ToolError("this business has no tax profile (it is not set up to collect tax)")
    first, others = profiles[0], profiles[1:]
    out = dict(first) if full else project_profile(first)
    if others:
        out["others"] = [project_profile(p) for p in others]
    return out


async def list_tax_schemes(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    (schemes, total), settings = await asyncio.gather(
        fetch_pages(ctx.business, "/tax_schemes", {}, max_items=ALL_PAGES_CAP),
        ctx.business.get("/financial_settings"),
    )
    current = link_id(settings.get("tax_scheme"))
    items = [
        compact({"id": s.get("id"), "name": s.get("displayed_as"), "current": True if s.get("id") == current else None})
        for s in schemes
    ]
    return {"total": total, "items": items}


HANDLERS = {f.__name__: f for f in (list_tax_rates, get_tax_profile, list_tax_schemes)}
