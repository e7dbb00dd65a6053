"""Business summary: cash per bank account and in total, owed to us, we owe, overdue both ways, VAT
owed and the last bank reconciliation, for one business; several side by side with a group total.

"Owed to us" and "we owe" are the open items of :mod:`.aged` as at today (unpaid and part-paid
documents less credits and payments on account), checked against the debtors and creditors control
accounts; "VAT owed" is the balance of the VAT control accounts (sales tax, purchase tax and the
VAT liability account) at today: positive means the business owes HMRC.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sage_mcp.money import ZERO, money
from sage_mcp.reports.aged import (
    BEGINNING,
    CREDITORS,
    DEBTORS,
    OpenItems,
    account_of,
    amount_of,
    as_date,
    fetch_open_items,
    find_control,
    ledger_balances,
    link_id,
    link_name,
)
from sage_mcp.reports.fetch import Fetcher


def _owed(data: OpenItems, today: dt.date) -> tuple[Decimal, Decimal]:
    """(total, overdue) of the open items; overdue = everything past its due date, credits and payments on
    account included, exactly as the aged reports count it (their total less the current bucket)."""
    total = sum((i.amount for i in data.items), ZERO)
    overdue = sum((i.amount for i in data.items if i.days_overdue(today) > 0), ZERO)
    return total, overdue


def _last_reconciliations(recs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The latest reconciliation of each bank account (by statement date)."""
    latest: dict[str, Mapping[str, Any]] = {}
    for r in recs:
        key = link_id(r.get("bank_account")) or ""
        when = as_date(r.get("statement_date"))
        if when is None:
            continue
        seen = latest.get(key)
        if seen is None or str(seen.get("statement_date")) < str(r.get("statement_date")):
            latest[key] = r
    out = []
    for r in sorted(latest.values(), key=lambda r: str(r.get("statement_date")), reverse=True):
        out.append(
            {
                "bank_account": link_name(r.get("bank_account")),
                "statement_date": str(r.get("statement_date"))[:10],
                "closing_balance": money(amount_of(r, "closing_balance") or amount_of(r, "statement_end_balance")),
                "status": link_id(r.get("status")) or r.get("status"),
            }
        )
    return out


async def summarise(fetch: Fetcher, today: dt.date) -> dict[str, Any]:
    """One business's figures (without its name: the caller adds it)."""
    banks, debtors, creditors, balances, recs, settings = await asyncio.gather(
        fetch.all("/bank_accounts", {"attributes": "displayed_as,balance,currency,nominal_code,is_active"}),
        fetch_open_items(fetch, DEBTORS, today, today, with_control=False),
        fetch_open_items(fetch, CREDITORS, today, today, with_control=False),
        ledger_balances(fetch, BEGINNING, today.isoformat()),
        fetch.all_or_none(
            "/bank_reconciliations",
            {"attributes": "bank_account,statement_date,closing_balance,statement_end_balance,status"},
        ),
        fetch.one("/financial_settings"),
    )
    accounts = [
        (str(b.get("displayed_as") or b.get("id")), amount_of(b, "balance"))
        for b in banks
        if b.get("is_active") is not False
    ]
    cash = sum((balance for _, balance in accounts), ZERO)
    owed_to_us, overdue_in = _owed(debtors, today)
    we_owe, overdue_out = _owed(creditors, today)
    vat = ZERO
    found_vat = False
    for vat_control in ("SALES_TAX", "PURCHASE_TAX", "VAT_LIABILITY"):
        raw = find_control(balances, vat_control)
        if raw is not None:
            found_vat = True
            vat -= account_of(raw).debit_balance
    checks: dict[str, Any] = {}
    for name, side, value in (("owed_to_us", DEBTORS, owed_to_us), ("we_owe", CREDITORS, we_owe)):
        raw = find_control(balances, side.control)
        if raw is not None:
            control = account_of(raw)
            balance = control.debit_balance * side.sign
            checks[name] = {
                "control_account": control.label,
                "balance": money(balance),
                "difference": money(balance - value),
            }
    currency = link_id(settings.get("base_currency")) if isinstance(settings, Mapping) else None
    out: dict[str, Any] = {
        "currency": currency or "GBP",
        "cash": money(cash),
        "bank_accounts": [{"name": name, "balance": money(balance)} for name, balance in accounts],
        "owed_to_us": money(owed_to_us),
        "owed_to_us_overdue": money(overdue_in),
        "we_owe": money(we_owe),
        "we_owe_overdue": money(overdue_out),
        "vat_owed": money(vat) if found_vat else None,
        "last_reconciliation": next(iter(_last_reconciliations(recs or [])), None),
        "control_checks": checks,
    }
    return out


GROUP_FIELDS = ("cash", "owed_to_us", "owed_to_us_overdue", "we_owe", "we_owe_overdue", "vat_owed")


def group_total(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Sum of the businesses' figures when they share one currency; else a plain statement."""
    ok = [r for r in rows if "error" not in r]
    currencies = sorted({str(r.get("currency")) for r in ok})
    if len(currencies) != 1:
        return {
            "note": "no group total: the businesses report in different currencies ("
            + ", ".join(currencies)
            + "); compare them side by side"
            if currencies
            else "no group total: no business could be read"
        }
    out: dict[str, Any] = {"currency": currencies[0], "businesses": len(ok)}
    for f in GROUP_FIELDS:
        out[f] = money(sum((amount_of(r, f) for r in ok), ZERO))
    if len(ok) < len(rows):
        out["note"] = f"{len(rows) - len(ok)} business(es) could not be read and are not in the total"
    return out
