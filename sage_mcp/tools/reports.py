"""Reports toolset: thin handlers over :mod:`sage_mcp.reports` (fetch through the business client,
compute there, project the answer)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import anyio.to_thread

from sage_mcp.money import ZERO
from sage_mcp.reports import aged, periods, summary, vat
from sage_mcp.reports.activity import activity, fetch_entries
from sage_mcp.reports.fetch import Fetcher
from sage_mcp.reports.ledger import chart, chart_entry, fetch_ledger
from sage_mcp.reports.periods import Period, choose, comparison, financial_year_start
from sage_mcp.reports.statements import (
    BS_SUMMARY,
    PNL_SUMMARY,
    balance_sheet,
    group_total,
    profit_and_loss,
    trial_balance,
)
from sage_mcp.sage.errors import SageError
from sage_mcp.sage.pagination import PageGetter
from sage_mcp.tools._base import BusinessScope, Handler, ToolContext, ToolError, resolve_businesses

# -- ledger reports: trial balance, profit and loss, balance sheet, account activity ---------------


HEX_ID = re.compile(r"[0-9a-f]{32}")


def _ledger_fetcher(ctx: ToolContext, scope: BusinessScope | None = None) -> Fetcher:
    return Fetcher((scope.client if scope else ctx.business), ctx.settings.report_concurrency, ctx.report)


def _ledger_top(args: Mapping[str, Any], default: int) -> int | None:
    """``top`` rows (default ``default``); 0 asks for every row."""
    top = args.get("top")
    return default if top is None else (int(top) or None)


def _ledger_date(args: Mapping[str, Any], name: str) -> dt.date | None:
    value = args.get(name)
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ToolError(f"{name} {str(value)[:40]!r} is not a date (YYYY-MM-DD)") from exc


def _period(args: Mapping[str, Any], settings: Mapping[str, Any], today: dt.date, default: str) -> Period:
    try:
        return choose(
            today,
            settings,
            from_date=_ledger_date(args, "from_date"),
            to_date=_ledger_date(args, "to_date"),
            word=args.get("period"),
            default=default,
        )
    except ValueError as exc:
        raise ToolError(str(exc)) from exc


def _currency(settings: Any) -> str:
    base = settings.get("base_currency") if isinstance(settings, Mapping) else None
    value = base.get("id") if isinstance(base, Mapping) else base
    return str(value or "GBP")


async def _settings(fetch: Fetcher) -> dict[str, Any]:
    raw = await fetch.one("/financial_settings")
    return dict(raw) if isinstance(raw, Mapping) else {}


async def get_trial_balance(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    fetch = _ledger_fetcher(ctx)
    today = dt.date.today()
    with_period = bool(args.get("period") or args.get("from_date"))
    if with_period:
        # financial settings only for a period word; dates need none
        settings = await _settings(fetch) if args.get("period") else {}
        given = {"to_date": today.isoformat(), **args} if args.get("from_date") else args
        period = _period(given, settings, today, "this_month")
    else:
        # closing balances do not depend on where the window starts: a one-day window is enough
        end = _ledger_date(args, "to_date") or today
        period = Period(end, end)
    ledger = await fetch_ledger(fetch, period.start, period.end)
    out = trial_balance(ledger, with_period=with_period, top=_ledger_top(args, 25))
    if with_period:
        out = {"period": period.echo(), **out}
    out["sage_calls"] = fetch.calls
    return out


def _pnl_compare(args: Mapping[str, Any], period: Period) -> Period | None:
    """The comparison period: ``previous_period``, ``same_period_last_year`` or ``FROM/TO`` dates."""
    how = str(args.get("compare") or "")
    if not how:
        return None
    try:
        if "/" in how:
            start, end = (dt.date.fromisoformat(d) for d in how.split("/"))
            return Period(start, end, "comparison dates given")
        return comparison(period, how)
    except ValueError as exc:
        raise ToolError(f"compare: {exc}") from exc


async def _one_pnl(ctx: ToolContext, scope: BusinessScope, args: Mapping[str, Any], top: int | None) -> dict[str, Any]:
    fetch = _ledger_fetcher(ctx, scope)
    settings = await _settings(fetch)
    period = _period(args, settings, dt.date.today(), "year_to_date")
    other = _pnl_compare(args, period)
    if other is None:
        now, then = await fetch_ledger(fetch, period.start, period.end, opening=False), None
    else:
        now, then = await asyncio.gather(
            fetch_ledger(fetch, period.start, period.end, opening=False),
            fetch_ledger(fetch, other.start, other.end, opening=False),
        )
    out: dict[str, Any] = {"period": period.echo()}
    if other is not None:
        out["compare_period"] = other.echo()
    out["currency"] = _currency(settings)
    out.update(profit_and_loss(now, then, top=top))
    out["sage_calls"] = fetch.calls
    return out


async def _one_balance_sheet(ctx: ToolContext, scope: BusinessScope, as_at: dt.date, top: int | None) -> dict[str, Any]:
    fetch = _ledger_fetcher(ctx, scope)
    settings = await _settings(fetch)
    start = financial_year_start(as_at, settings)
    ledger = await fetch_ledger(fetch, start, as_at)
    out: dict[str, Any] = {
        "as_at": as_at.isoformat(),
        "financial_year_from": start.isoformat(),
        "currency": _currency(settings),
    }
    out.update(balance_sheet(ledger, top=top))
    out["sage_calls"] = fetch.calls
    return out


async def _side_by_side(
    ctx: ToolContext,
    args: Mapping[str, Any],
    one: Callable[[BusinessScope], Awaitable[dict[str, Any]]],
    fields: tuple[str, ...],
    keep: tuple[str, ...],
) -> dict[str, Any] | None:
    """Several businesses' reports (``businesses``), each cut to ``keep``, with a group total; ``None``
    when the call names no businesses."""
    wanted = args.get("businesses") or []
    if not wanted:
        return None
    scopes = await resolve_businesses(ctx, wanted)

    async def row(scope: BusinessScope) -> dict[str, Any]:
        head = {"id": scope.id, "name": scope.name}
        try:
            full = await one(scope)
        except (SageError, ToolError, ValueError) as exc:
            return {**head, "error": str(exc)[:300]}
        return {**head, **{k: full[k] for k in keep if k in full}}

    rows = list(await asyncio.gather(*(row(s) for s in scopes)))
    errors = {r.get("error") for r in rows}
    if len(errors) == 1 and None not in errors:
        raise ToolError(str(rows[0]["error"]))  # the same problem everywhere: the arguments, not a business
    out: dict[str, Any] = {"businesses": rows, "group_total": group_total(rows, fields)}
    if "compare_summary" in keep and any("compare_summary" in r for r in rows):
        out["group_compare_total"] = group_total(rows, fields, key="compare_summary")
    return out


async def get_profit_and_loss(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    top = _ledger_top(args, 8)
    keep = ("period", "compare_period", "currency", "summary", "compare_summary", "change", "sage_calls")
    group = await _side_by_side(ctx, args, lambda s: _one_pnl(ctx, s, args, top), PNL_SUMMARY, keep)
    if group is not None:
        return group
    if ctx.scope is None:
        raise RuntimeError("get_profit_and_loss is business-scoped")
    return await _one_pnl(ctx, ctx.scope, args, top)


async def get_balance_sheet(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    top = _ledger_top(args, 8)
    as_at = _ledger_date(args, "as_at") or dt.date.today()
    keep = ("as_at", "financial_year_from", "currency", "balanced", "difference", "summary", "sage_calls")
    group = await _side_by_side(ctx, args, lambda s: _one_balance_sheet(ctx, s, as_at, top), BS_SUMMARY, keep)
    if group is not None:
        return group
    if ctx.scope is None:
        raise RuntimeError("get_balance_sheet is business-scoped")
    return await _one_balance_sheet(ctx, ctx.scope, as_at, top)


async def get_account_activity(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    ref = str(args["ledger_account_id"]).strip()
    # a ledger account's id (32 hex), else its nominal code
    account_id, code = (ref, None) if HEX_ID.fullmatch(ref) else (None, ref)
    fetch = _ledger_fetcher(ctx)
    settings = await _settings(fetch)
    period = _period(args, settings, dt.date.today(), "this_month")
    if code:
        found = [a for a in map(chart_entry, await chart(fetch)) if a.code == str(code)]
        if not found:
            raise ToolError(
                f"ledger_account_id: no ledger account has the id or nominal code {str(code)[:40]!r} in this business"
            )
        account_id = found[0].id
    ledger, raws = await asyncio.gather(
        fetch_ledger(fetch, period.start, period.end),
        fetch_entries(fetch, str(account_id), period.start, period.end),
    )
    line = ledger.by_id(str(account_id))
    if line is None:
        raw = await fetch.one(f"/ledger_accounts/{account_id}", {"attributes": "nominal_code,name,ledger_account_type"})
        meta = chart_entry(raw if isinstance(raw, Mapping) else {"id": account_id})
    else:
        meta = line
    out: dict[str, Any] = {
        "account": {"id": str(account_id), "code": meta.code, "name": meta.name, "type": meta.type},
        "period": period.echo(),
    }
    top = _ledger_top(args, 20)
    # a big account has tens of thousands of entries: sort and total them off the event loop
    out.update(
        await anyio.to_thread.run_sync(lambda: activity(line, raws, opening=line.opening if line else ZERO, top=top))
    )
    out["sage_calls"] = fetch.calls
    return out


LEDGER_HANDLERS: dict[str, Handler] = {
    f.__name__: f for f in (get_trial_balance, get_profit_and_loss, get_balance_sheet, get_account_activity)
}

# -- open items, VAT and summaries: aged debtors and creditors, VAT return, business summary --------


def _fetcher(ctx: ToolContext, client: PageGetter | None = None) -> Fetcher:
    return Fetcher(client or ctx.business, ctx.settings.report_concurrency, ctx.report)


def _top(args: Mapping[str, Any], default: int) -> int | None:
    """``top`` rows (default ``default``); 0 asks for every row."""
    return _ledger_top(args, default)


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
    out = await asyncio.to_thread(
        aged.aged_report, side, data, as_at, boundaries, top=_top(args, 10), contact_id=contact_id
    )
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
