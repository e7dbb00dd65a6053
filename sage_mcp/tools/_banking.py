"""Money arguments, bank account look-ups and other payments/receipts (money in or out without an
invoice), shared by the banking, payment and workflow tools."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sage_mcp.money import ZERO, format_decimal, money, round_money, tax_within, to_decimal, total
from sage_mcp.sage.client import BusinessClient
from sage_mcp.sage.pagination import fetch_pages
from sage_mcp.tools._base import ToolContext, ToolError, amount, compact, idempotency_id, link_id, link_name
from sage_mcp.tools._resource import ALL_PAGES_CAP

CURRENT_ACCOUNT = "CHECKING"
CASH_IN_HAND = "CASH_IN_HAND"
BANK_ACCOUNT_ATTRIBUTES = "bank_account_details,bank_account_type,nominal_code,balance,is_active,ledger_account"


# -- amounts --------------------------------------------------------------------------------------------


def positive_money(value: Any, field: str, *, allow_zero: bool = False) -> Decimal:
    """An amount argument: a decimal string with at most two decimals, above zero (or zero when allowed)."""
    number = to_decimal(value, field=field)
    if round_money(number) != number:
        raise ToolError(f'{field}: {value!r} has more than two decimals; amounts are in pennies, e.g. "12.50"')
    if number < ZERO or (number == ZERO and not allow_zero):
        raise ToolError(f"{field}: {value!r} must be greater than 0")
    return number


def today() -> str:
    return dt.date.today().isoformat()


# -- bank accounts ---------------------------------------------------------------------------------------


def account_name(raw: Mapping[str, Any]) -> str | None:
    details = raw.get("bank_account_details")
    name = details.get("account_name") if isinstance(details, Mapping) else None
    return str(name) if name else (str(raw["displayed_as"]) if raw.get("displayed_as") else None)


async def bank_accounts(ctx: ToolContext) -> list[dict[str, Any]]:
    """Every bank account of the business (cached for the call)."""
    cached = ctx.cache.get("bank_accounts")
    if cached is None:
        cached, _ = await fetch_pages(
            ctx.business, "/bank_accounts", {"attributes": BANK_ACCOUNT_ATTRIBUTES}, max_items=ALL_PAGES_CAP
        )
        ctx.cache["bank_accounts"] = cached
    return list(cached)


def _listing(accounts: list[dict[str, Any]]) -> str:
    return (
        "; ".join(f"{a.get('id')} ({account_name(a)}, {link_id(a.get('bank_account_type'))})" for a in accounts)
        or "none"
    )


async def bank_account_or_default(
    ctx: ToolContext, given: str | None, *, field: str = "bank_account_id", account_type: str = CURRENT_ACCOUNT
) -> str:
    """``given``, or the business's only active account of ``account_type`` (its main current account).

    With none or several such accounts the caller must choose: the error lists every bank account.
    """
    if given:
        return given
    accounts = await bank_accounts(ctx)
    candidates = [
        a for a in accounts if link_id(a.get("bank_account_type")) == account_type and a.get("is_active") is not False
    ]
    if len(candidates) == 1:
        return str(candidates[0]["id"])
    kind = "cash in hand" if account_type == CASH_IN_HAND else "current"
    raise ToolError(
        f"{field} is required: this business has {len(candidates) or 'no'} active {kind} accounts, so there is "
        f"no default. Bank accounts: {_listing(accounts)}."
    )


# -- other payments and receipts ---------------------------------------------------------------------------

OTHER_TYPES = {
    "OTHER_PAYMENT": "other_payment",
    "OTHER_RECEIPT": "other_receipt",
    "OTHER_PAYMENT_REFUND": "other_payment_refund",
    "OTHER_RECEIPT_REFUND": "other_receipt_refund",
}


def _project_payment_line(raw: dict[str, Any]) -> dict[str, Any]:
    return compact(
        {
            "ledger_account_id": link_id(raw.get("ledger_account")),
            "ledger_account": link_name(raw.get("ledger_account")),
            "details": raw.get("details"),
            "tax_rate_id": link_id(raw.get("tax_rate")),
            "net": amount(raw, "net_amount"),
            "tax": amount(raw, "tax_amount"),
            "total": amount(raw, "total_amount"),
        }
    )


def project_other_payment(raw: dict[str, Any], full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": raw.get("id"),
        "type": OTHER_TYPES.get(str(link_id(raw.get("transaction_type")))),
        "date": raw.get("date"),
        "reference": raw.get("reference"),
        "contact_id": link_id(raw.get("contact")),
        "contact_name": link_name(raw.get("contact")),
        "bank_account_id": link_id(raw.get("bank_account")),
        "bank_account": link_name(raw.get("bank_account")),
        "net": amount(raw, "net_amount"),
        "tax": amount(raw, "tax_amount"),
        "total": amount(raw, "total_amount"),
    }
    if full:
        out["transaction_id"] = link_id(raw.get("transaction"))
        out["lines"] = [_project_payment_line(x) for x in raw.get("payment_lines") or [] if isinstance(x, dict)]
    return compact(out)


async def _ledger_accounts(biz: BusinessClient, scope: str) -> list[dict[str, Any]]:
    items, _ = await fetch_pages(
        biz,
        "/ledger_accounts",
        {"visible_in": scope, "attributes": "nominal_code,name,tax_rate"},
        max_items=ALL_PAGES_CAP,
    )
    return items


async def _tax_rates(biz: BusinessClient, usage: str) -> dict[str, dict[str, Any]]:
    items, _ = await fetch_pages(
        biz, "/tax_rates", {"usage": usage, "attributes": "name,percentage"}, max_items=ALL_PAGES_CAP
    )
    return {str(r["id"]): r for r in items}


async def record_other(ctx: ToolContext, args: dict[str, Any], type_id: str) -> dict[str, Any]:
    """An other payment (money out) or other receipt (money in); line amounts are gross, VAT taken out per line."""
    biz = ctx.business
    key = idempotency_id(ctx, args.get("idempotency_key"))
    receipt = type_id == "OTHER_RECEIPT"
    scope = "other_receipts" if receipt else "other_payments"
    bank = await bank_account_or_default(ctx, args.get("bank_account_id"))
    accounts = await _ledger_accounts(biz, scope)
    by_id = {str(a.get("id")): a for a in accounts}
    by_code = {str(a.get("nominal_code")): a for a in accounts}
    rates = await _tax_rates(biz, "sales" if receipt else "purchase")

    lines: list[dict[str, Any]] = []
    for i, line in enumerate(args["lines"]):
        where = f"lines[{i}]"
        ref = str(line["ledger_account_id"])
        account = by_id.get(ref) or by_code.get(ref)
        if account is None:
            known = ", ".join(f"{a.get('nominal_code')} {a.get('name')}" for a in accounts[:20])
            raise ToolError(
                f"{where}.ledger_account_id {ref!r} is not a ledger account Sage allows on {scope.replace('_', ' ')}. "
                f"Give an id or nominal code, e.g. {known}."
            )
        rate_id = line.get("tax_rate_id") or link_id(account.get("tax_rate"))
        if not rate_id or rate_id not in rates:
            valid = ", ".join(f"{r} ({format_decimal(v.get('percentage'))}%)" for r, v in rates.items())
            raise ToolError(f"{where}.tax_rate_id {rate_id!r} is not a tax rate of this business. Valid: {valid}.")
        gross = positive_money(line["total_amount"], f"{where}.total_amount")
        tax = tax_within(gross, to_decimal(rates[rate_id].get("percentage") or 0))
        sage_line: dict[str, Any] = {
            "ledger_account_id": str(account["id"]),
            "tax_rate_id": rate_id,
            "net_amount": gross - tax,
            "tax_amount": tax,
            "total_amount": gross,
        }
        if line.get("details"):
            sage_line["details"] = line["details"]
        lines.append(sage_line)

    net = total(x["net_amount"] for x in lines)
    tax = total(x["tax_amount"] for x in lines)
    payment: dict[str, Any] = {
        "transaction_type_id": type_id,
        "date": args.get("date") or today(),
        "bank_account_id": bank,
        "net_amount": net,
        "tax_amount": tax,
        "total_amount": net + tax,
        "payment_lines": lines,
        "idempotency_id": key,
    }
    for name in ("contact_id", "reference"):
        if args.get(name):
            payment[name] = args[name]
    resp = await biz.post("/other_payments", {"other_payment": payment})
    out = project_other_payment(resp.body, True)
    if out.get("total") is not None and to_decimal(out["total"]) != net + tax:
        out["warning"] = (
            f"Sage's total {out['total']} differs from the {money(net + tax)} computed from the lines; "
            "check it in Sage."
        )
    return {**out, "idempotency_id": key}
