"""Reports toolset: thin handlers over :mod:`sage_mcp.reports` (fetch through the business client,
compute there, project the answer)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from typing import Any

from sage_mcp.reports import aged, periods, summary, vat
from sage_mcp.reports.fetch import Fetcher
from sage_mcp.sage.errors import SageError
from sage_mcp.sage.pagination import PageGetter
from sage_mcp.tools._base import BusinessScope, Handler, ToolContext, ToolError, resolve_businesses

# -- ledger reports: trial balance, profit and loss, balance sheet, account activity ---------------

LEDGER_HANDLERS: dict[str, Handler] = {}

# -- open items, VAT and summaries: aged debtors and creditors, VAT return, business summary --------


def _fetcher(ctx: ToolContext, client: PageGetter | None = None) -> Fetcher:
    return Fetcher(client or ctx.business, ctx.settings.report_concurrency, ctx.report)


def _top(args: Mapping[str, Any], default: int) -> int | None:
    return None if args.get("all_rows") else int(args.get("top") or default)


def _date_arg(args: Mapping[str, Any], name: str) -> dt.date | None:
    value = args.get(name)
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ToolError(f"{name} {str(value)[:40]!r} is not a date (YYYY-MM-DD)") from exc


async def _aged(ctx: ToolContext, args: dict[str, Any], side: aged.Side) -> dict[str, Any]:
    today = dt.date.today()
    as_at = _date_arg(args, "as_at") or today
    try:
        boundaries = aged.check_boundaries(args.get("buckets") or aged.DEFAULT_BOUNDARIES)
    except ValueError as exc:
        raise ToolError(str(exc)) from exc
    contact_id = args.get("contact_id") or None
    fetch = _fetcher(ctx)
    data = await aged.fetch_open_items(
        fetch, side, as_at, today, contact_id=contact_id, with_control=contact_id is None
    )
    out = aged.aged_report(side, data, as_at, boundaries, top=_top(args, 10), contact_id=contact_id)
    if "reconciliation" in out:
        await aged.explain_difference(fetch, side, out["reconciliation"], as_at)
        out["reconciliation"].pop("control_account_id", None)
    out["sage_calls"] = fetch.calls
    return out


async def get_aged_debtors(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return await _aged(ctx, args, aged.DEBTORS)


async def get_aged_creditors(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return await _aged(ctx, args, aged.CREDITORS)


async def prepare_vat_return(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    fetch = _fetcher(ctx)
    settings = await fetch.one("/financial_settings")
    try:
        period = periods.choose(
            dt.date.today(),
            settings,
            from_date=_date_arg(args, "from_date"),
            to_date=_date_arg(args, "to_date"),
            word=args.get("period"),
            default="last_vat_period",
        )
        ret, recon = await vat.prepare(fetch, period.start, period.end, settings)
    except ValueError as exc:
        raise ToolError(str(exc)) from exc
    out = vat.report(ret, recon, top=_top(args, 5), box=args.get("box"))
    out["period"] = period.how
    out["sage_calls"] = fetch.calls
    return out


async def _one_summary(ctx: ToolContext, scope: BusinessScope, today: dt.date) -> dict[str, Any]:
    fetch = _fetcher(ctx, scope.client)
    head = {"id": scope.id, "name": scope.name}
    try:
        row = await summary.summarise(fetch, today)
    except (SageError, ValueError) as exc:
        return {**head, "error": str(exc)[:300]}
    return {**head, **row, "sage_calls": fetch.calls}


async def get_business_summary(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    today = dt.date.today()
    wanted = args.get("businesses") or []
    scopes = await resolve_businesses(ctx, wanted)
    if not wanted:
        row = await _one_summary(ctx, scopes[0], today)
        if "error" in row:
            raise ToolError(row["error"])
        row.pop("id", None)
        row.pop("name", None)
        return {"as_at": today.isoformat(), **row}
    rows = await asyncio.gather(*(_one_summary(ctx, scope, today) for scope in scopes))
    return {"as_at": today.isoformat(), "businesses": list(rows), "group_total": summary.group_total(rows)}


OPEN_ITEM_HANDLERS: dict[str, Handler] = {
    f.__name__: f for f in (get_aged_debtors, get_aged_creditors, prepare_vat_return, get_business_summary)
}

HANDLERS: dict[str, Handler] = {**LEDGER_HANDLERS, **OPEN_ITEM_HANDLERS}
