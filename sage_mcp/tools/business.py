"""Businesses the signed-in user can access, the user, and each business's settings and currencies."""

from __future__ import annotations

import asyncio
from typing import Any

from sage_mcp.money import format_decimal
from sage_mcp.sage.client import path_segment
from sage_mcp.sage.errors import NotSignedInError
from sage_mcp.sage.pagination import fetch_pages
from sage_mcp.tools._base import ToolContext, compact, link_id, link_name
from sage_mcp.tools._resource import ALL_PAGES_CAP


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
    wanted = args.get("settings") or []
    if wanted:
        readers = {"financial": financial_settings, "invoice": invoice_settings}
        found = await asyncio.gather(*(readers[w](ctx, {}) for w in wanted))
        for name, settings in zip(wanted, found, strict=True):
            out[f"{name}_settings"] = {k: v for k, v in settings.items() if k != "id"}
    return out


async def get_user(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    raw = await ctx.sage.get_user()
    full_name = " ".join(str(raw[k]) for k in ("first_name", "last_name") if raw.get(k))
    return compact(
        {
            "id": raw.get("id"),
            "name": full_name or raw.get("displayed_as"),
            "email": raw.get("email"),
            "locale": raw.get("locale"),
        }
    )


def _settings(raw: dict[str, Any], args: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    if args.get("detail") == "full":
        return {k: v for k, v in raw.items() if k != "$path"}
    return compact(fields)


async def financial_settings(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    raw = await ctx.business.get("/financial_settings")
    return _settings(
        raw,
        args,
        {
            "year_end_date": raw.get("year_end_date"),
            "lockdown_date": raw.get("year_end_lockdown_date"),
            "accounts_start_date": raw.get("accounts_start_date"),
            "accounting_type": raw.get("accounting_type"),
            "base_currency": link_id(raw.get("base_currency")),
            "multi_currency": raw.get("multi_currency_enabled"),
            "tax_number": raw.get("tax_number"),
            "tax_scheme": link_id(raw.get("tax_scheme")),
            "tax_return_frequency": link_id(raw.get("tax_return_frequency")),
            "sales_tax_calculation": raw.get("sales_tax_calculation"),
            "purchase_tax_calculation": raw.get("purchase_tax_calculation"),
            "flat_rate_percentage": format_decimal(raw.get("flat_rate_tax_percentage")),
            "mtd_connected": raw.get("mtd_connected"),
        },
    )


async def invoice_settings(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    raw = await ctx.business.get("/invoice_settings")
    return _settings(
        raw,
        args,
        {
            "invoice_prefix": raw.get("sales_invoice_number_prefix"),
            "next_invoice_number": raw.get("next_invoice_number"),
            "credit_note_prefix": raw.get("sales_credit_note_number_prefix"),
            "next_credit_note_number": raw.get("next_credit_note_number"),
            "quote_prefix": raw.get("quote_number_prefix"),
            "next_quote_number": raw.get("next_quote_number"),
            "quote_days_to_expiry": raw.get("quote_default_days_to_expiry"),
            "customer_credit_days": raw.get("customer_credit_days"),
            "customer_credit_terms": raw.get("customer_credit_terms"),
            "supplier_credit_days": raw.get("vendor_credit_days"),
            "supplier_credit_terms": raw.get("vendor_credit_terms"),
            "terms_and_conditions": raw.get("invoice_terms_and_conditions"),
            "default_note": raw.get("default_note_on_invoice"),
            "payment_bank_account": link_name(raw.get("payment_bank_account")),
        },
    )


async def _reference_list(
    ctx: ToolContext, path: str, attributes: str | None = None
) -> tuple[list[dict[str, Any]], int]:
    params = {"attributes": attributes} if attributes else {}
    return await fetch_pages(ctx.business, path, params, max_items=ALL_PAGES_CAP)


async def list_currencies(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    raw, total = await _reference_list(ctx, "/currencies")
    items = [{"id": c.get("id"), "name": c.get("displayed_as")} for c in raw]
    if args.get("search"):
        wanted = args["search"].casefold()
        items = [c for c in items if wanted in f"{c['id']} {c['name']}".casefold()]
        total = len(items)
    return {"total": total, "items": items}


def _project_rate(r: dict[str, Any]) -> dict[str, Any]:
    return compact(
        {
            "currency": link_id(r.get("currency")) or r.get("id"),
            "rate": format_decimal(r.get("rate")),
            "inverse_rate": format_decimal(r.get("inverse_rate")),
            "base_currency": link_id(r.get("base_currency")),
        }
    )


async def list_exchange_rates(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    if args.get("currency"):
        one = await ctx.business.get(f"/exchange_rates/{path_segment(args['currency'].upper())}")
        return {"total": 1, "items": [_project_rate(one)]}
    raw, total = await _reference_list(ctx, "/exchange_rates", "rate,inverse_rate,base_currency,currency")
    return {"total": total, "items": [_project_rate(r) for r in raw]}


HANDLERS = {
    f.__name__: f
    for f in (
        list_businesses,
        get_business,
        get_user,
        list_currencies,
        list_exchange_rates,
    )
}
