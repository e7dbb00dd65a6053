"""Bank accounts and the money that moves through them: transfers, deposits, other payments and
receipts, one signed list of an account's movements, and bank reconciliations."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from sage_mcp.money import ZERO, money, round_money, to_decimal
from sage_mcp.sage.client import path_segment
from sage_mcp.sage.pagination import fetch_pages
from sage_mcp.tools._banking import (
    BANK_ACCOUNT_ATTRIBUTES,
    CASH_IN_HAND,
    account_name,
    bank_account_or_default,
    bank_accounts,
    positive_money,
    today,
)
from sage_mcp.tools._base import (
    ToolContext,
    ToolError,
    amount,
    compact,
    idempotency_id,
    link_id,
    link_name,
)
from sage_mcp.tools._resource import ALL_PAGES_CAP, Resource, get_record, list_records, query_from_args

# -- bank accounts ---------------------------------------------------------------------------------------


def project_bank_account(raw: dict[str, Any], full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": raw.get("id"),
        "name": account_name(raw),
        "type": link_id(raw.get("bank_account_type")),
        "nominal_code": raw.get("nominal_code"),
        "balance": amount(raw, "balance"),
        "inactive": True if raw.get("is_active") is False else None,
    }
    if full:
        details = raw.get("bank_account_details") if isinstance(raw.get("bank_account_details"), Mapping) else {}
        out.update(
            {
                "ledger_account_id": link_id(raw.get("ledger_account")),
                "account_number": (details or {}).get("account_number"),
                "sort_code": (details or {}).get("sort_code"),
                "iban": (details or {}).get("iban"),
                "bic": (details or {}).get("bic"),
                "currency": link_id(raw.get("currency")),
                "default_payment_method": link_id(raw.get("default_payment_method")),
            }
        )
    return compact(out)


BANK_ACCOUNTS = Resource("bank_accounts", BANK_ACCOUNT_ATTRIBUTES, project_bank_account)


async def list_bank_accounts(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    accounts = await bank_accounts(ctx)
    return {"total": len(accounts), "items": [project_bank_account(a) for a in accounts]}


async def get_bank_account(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return await get_record(ctx, args, BANK_ACCOUNTS, args["bank_account_id"])


async def create_bank_account(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    """A bank, card, cash, loan or clearing account with its own ledger account (Sage picks the next free
    nominal code of its range unless one is given). An active account of the same name is refused with its
    id, unless the call repeats an idempotency key (then Sage returns the account the first call made)."""
    name = str(args["name"]).strip()
    type_id = args.get("type") or "CHECKING"
    same = [
        a
        for a in await bank_accounts(ctx)
        if (account_name(a) or "").strip().casefold() == name.casefold() and a.get("is_active") is not False
    ]
    if same and not args.get("idempotency_key"):
        raise ToolError(
            f"name: bank account {name!r} already exists (id {same[0].get('id')}, "
            f"{link_id(same[0].get('bank_account_type'))}); use it, or choose another name. Nothing was sent."
        )
    key = idempotency_id(ctx, args.get("idempotency_key"))
    details: dict[str, Any] = {"account_name": name}
    for field in ("account_number", "sort_code"):
        if args.get(field):
            details[field] = args[field]
    account: dict[str, Any] = {
        "bank_account_type_id": type_id,
        "bank_account_details": details,
        "idempotency_id": key,
    }
    if args.get("nominal_code"):
        account["nominal_code"] = int(args["nominal_code"])
    resp = await ctx.business.post("/bank_accounts", {"bank_account": account})
    ctx.cache.pop("bank_accounts", None)
    return {**project_bank_account(resp.body, True), "idempotency_id": key}


# -- transfers and deposits ------------------------------------------------------------------------------


def project_transfer(raw: dict[str, Any], full: bool = False) -> dict[str, Any]:
    return compact(
        {
            "id": raw.get("id"),
            "date": raw.get("date"),
            "from_bank_account_id": link_id(raw.get("from_bank_account")),
            "from": link_name(raw.get("from_bank_account")),
            "to_bank_account_id": link_id(raw.get("to_bank_account")),
            "to": link_name(raw.get("to_bank_account")),
            "amount": amount(raw, "amount"),
            "cash": amount(raw, "cash_amount"),
            "cheque": amount(raw, "cheque_amount"),
            "total": amount(raw, "total_amount"),
            "reference": raw.get("reference"),
            "description": raw.get("description"),
            "transaction_id": link_id(raw.get("transaction")) if full else None,
        }
    )


def _different_accounts(source: str, target: str, what: str) -> None:
    if source == target:
        raise ToolError(
            f"to_bank_account_id: {target!r} is also the from account; a {what} needs two different accounts"
        )


async def create_bank_transfer(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    key = idempotency_id(ctx, args.get("idempotency_key"))
    value = positive_money(args["amount"], "amount")
    _different_accounts(args["from_bank_account_id"], args["to_bank_account_id"], "transfer")
    transfer: dict[str, Any] = {
        "from_bank_account_id": args["from_bank_account_id"],
        "to_bank_account_id": args["to_bank_account_id"],
        "date": args.get("date") or today(),
        "amount": value,
        "idempotency_id": key,
    }
    for name in ("reference", "description"):
        if args.get(name):
            transfer[name] = args[name]
    resp = await ctx.business.post("/bank_transfers", {"bank_transfer": transfer})
    return {**project_transfer(resp.body, True), "idempotency_id": key}


async def create_bank_deposit(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    key = idempotency_id(ctx, args.get("idempotency_key"))
    cash = positive_money(args.get("cash_amount", "0"), "cash_amount", allow_zero=True)
    cheque = positive_money(args.get("cheque_amount", "0"), "cheque_amount", allow_zero=True)
    if cash + cheque == ZERO:
        raise ToolError("cash_amount: give cash_amount and/or cheque_amount; the deposit must be more than 0")
    source = await bank_account_or_default(
        ctx, args.get("from_bank_account_id"), field="from_bank_account_id", account_type=CASH_IN_HAND
    )
    target = await bank_account_or_default(ctx, args.get("to_bank_account_id"), field="to_bank_account_id")
    _different_accounts(source, target, "deposit")
    deposit: dict[str, Any] = {
        "from_bank_account_id": source,
        "to_bank_account_id": target,
        "date": args.get("date") or today(),
        "reference": args["reference"],
        "cash_amount": cash,
        "cheque_amount": cheque,
        "total_amount": cash + cheque,
        "idempotency_id": key,
    }
    resp = await ctx.business.post("/bank_deposits", {"bank_deposit": deposit})
    return {**project_transfer(resp.body, True), "idempotency_id": key}


# -- other payments and receipts ---------------------------------------------------------------------------


# -- one account's movements -------------------------------------------------------------------------------

#: Sage transaction type -> (row type, money comes into the account)
CONTACT_PAYMENT_TYPES: dict[str, tuple[str, bool]] = {
    "CUSTOMER_RECEIPT": ("customer_receipt", True),
    "VENDOR_PAYMENT": ("supplier_payment", False),
    "CUSTOMER_REFUND": ("customer_refund", False),
    "VENDOR_REFUND": ("supplier_refund", True),
}
OTHER_PAYMENT_TYPES: dict[str, tuple[str, bool]] = {
    "OTHER_RECEIPT": ("other_receipt", True),
    "OTHER_PAYMENT": ("other_payment", False),
    "OTHER_PAYMENT_REFUND": ("other_payment_refund", True),
    "OTHER_RECEIPT_REFUND": ("other_receipt_refund", False),
}
_PAYMENT_ATTRIBUTES = "transaction_type,contact,date,reference,total_amount"
_MOVEMENT_ATTRIBUTES = "from_bank_account,to_bank_account,date,reference,description,amount,total_amount"


def _row(raw: Mapping[str, Any], kind: str, money_in: bool, value: Any, **extra: Any) -> dict[str, Any]:
    gross = to_decimal(value or 0)
    return compact(
        {
            "date": raw.get("date"),
            "type": kind,
            "amount": money(gross if money_in else -gross),
            "id": raw.get("id"),
            "reference": raw.get("reference") or raw.get("description"),
            **extra,
        }
    )


def _payment_rows(items: list[dict[str, Any]], types: Mapping[str, tuple[str, bool]]) -> list[dict[str, Any]]:
    rows = []
    for raw in items:
        kind, money_in = types.get(str(link_id(raw.get("transaction_type"))), ("unknown", True))
        contact = raw.get("contact")
        rows.append(
            _row(raw, kind, money_in, raw.get("total_amount"), contact_id=link_id(contact), party=link_name(contact))
        )
    return rows


def _movement_rows(items: list[dict[str, Any]], account_id: str, kind: str, field: str) -> list[dict[str, Any]]:
    rows = []
    for raw in items:
        source, target = link_id(raw.get("from_bank_account")), link_id(raw.get("to_bank_account"))
        if account_id not in (source, target) or source == target:
            continue
        money_in = target == account_id
        other = raw.get("from_bank_account") if money_in else raw.get("to_bank_account")
        rows.append(
            _row(
                raw,
                f"{kind}_{'in' if money_in else 'out'}",
                money_in,
                raw.get(field),
                other_bank_account_id=link_id(other),
                party=link_name(other),
            )
        )
    return rows


async def list_bank_transactions(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    """Receipts, payments, refunds, other payments, transfers and deposits of one account, newest first.

    Contact and other payments are fetched filtered by the account (only as many as the requested page
    needs, each collection newest first); transfers and deposits (Sage cannot filter them by account) are
    fetched for the date range and filtered here. The merge keeps each collection's order, so page N is
    always the Nth slice of one consistent list.
    """
    biz = ctx.business
    account_id = await bank_account_or_default(ctx, args.get("bank_account_id"))
    account = await biz.get(f"/bank_accounts/{path_segment(account_id)}")
    per_page = int(args.get("items_per_page", 20))
    page_number = 1 if args.get("all_pages") else int(args.get("page", 1))
    wanted = ALL_PAGES_CAP if args.get("all_pages") else page_number * per_page
    dates = query_from_args(args, {"from_date": "from_date", "to_date": "to_date"})
    by_account = {**dates, "bank_account_id": account_id, "sort": "date:desc", "attributes": _PAYMENT_ATTRIBUTES}
    movements = {**dates, "sort": "date:desc", "attributes": _MOVEMENT_ATTRIBUTES}

    fetched = 0

    async def fetch(path: str, params: Mapping[str, Any], cap: int) -> tuple[list[dict[str, Any]], int]:
        nonlocal fetched
        items, count = await fetch_pages(biz, path, params, max_items=cap)
        fetched += len(items)
        await ctx.report(fetched, None, f"fetched {fetched} rows")
        return items, count

    (
        (contact_payments, contact_total),
        (other_payments, other_total),
        (transfers, transfers_total),
        (deposits, deposits_total),
    ) = await asyncio.gather(
        fetch("/contact_payments", by_account, wanted),
        fetch("/other_payments", by_account, wanted),
        fetch("/bank_transfers", movements, ALL_PAGES_CAP),
        fetch("/bank_deposits", movements, ALL_PAGES_CAP),
    )

    transfer_rows = _movement_rows(transfers, account_id, "transfer", "amount")
    deposit_rows = _movement_rows(deposits, account_id, "deposit", "total_amount")
    rows = [
        *_payment_rows(contact_payments, CONTACT_PAYMENT_TYPES),
        *_payment_rows(other_payments, OTHER_PAYMENT_TYPES),
        *transfer_rows,
        *deposit_rows,
    ]
    rows.sort(key=lambda r: str(r.get("date") or ""), reverse=True)  # stable: keeps each collection's order
    count = contact_total + other_total + len(transfer_rows) + len(deposit_rows)
    start = (page_number - 1) * per_page
    items = rows[:ALL_PAGES_CAP] if args.get("all_pages") else rows[start : start + per_page]
    out: dict[str, Any] = {
        "bank_account": {"id": account_id, "name": account_name(account), "balance": amount(account, "balance")},
        "total": count,
        "page": page_number,
        "next_page": None if args.get("all_pages") or start + per_page >= count else page_number + 1,
        "items": items,
    }
    if args.get("all_pages") and count > len(items):
        out["truncated"] = f"only the first {len(items)} of {count} rows; narrow the dates"
    elif max(transfers_total, deposits_total) > ALL_PAGES_CAP:
        out["truncated"] = f"more than {ALL_PAGES_CAP} transfers or deposits in range; narrow the dates"
    return out


# -- reconciliations --------------------------------------------------------------------------------------

RECONCILIATION_ATTRIBUTES = (
    "bank_account,statement_date,statement_end_balance,reference,status,starting_balance,total_received,"
    "total_paid,closing_balance,balance_difference"
)


def project_reconciliation(raw: dict[str, Any], full: bool = False) -> dict[str, Any]:
    return compact(
        {
            "id": raw.get("id"),
            "bank_account_id": link_id(raw.get("bank_account")),
            "bank_account": link_name(raw.get("bank_account")),
            "statement_date": raw.get("statement_date"),
            "reference": raw.get("reference"),
            "status": link_id(raw.get("status")),
            "statement_end_balance": amount(raw, "statement_end_balance"),
            "starting_balance": amount(raw, "starting_balance"),
            "received": amount(raw, "total_received"),
            "paid": amount(raw, "total_paid"),
            "closing_balance": amount(raw, "closing_balance"),
            "difference": amount(raw, "balance_difference"),
        }
    )


RECONCILIATIONS = Resource("bank_reconciliations", RECONCILIATION_ATTRIBUTES, project_reconciliation)


async def list_bank_reconciliations(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    query = query_from_args(args, {"bank_account_id": "bank_account_id"})
    return await list_records(ctx, {**args, "all_pages": True}, RECONCILIATIONS, query)


async def create_bank_reconciliation(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    key = idempotency_id(ctx, args.get("idempotency_key"))
    balance = to_decimal(args["statement_end_balance"], field="statement_end_balance")
    if round_money(balance) != balance:
        raise ToolError('statement_end_balance: at most two decimals, e.g. "1520.40"')
    reconciliation: dict[str, Any] = {
        "bank_account_id": await bank_account_or_default(ctx, args.get("bank_account_id")),
        "statement_date": args["statement_date"],
        "statement_end_balance": balance,
        "status_id": "RECONCILED" if args.get("reconcile") else "DRAFT",
        "idempotency_id": key,
    }
    if args.get("reference"):
        reconciliation["reference"] = args["reference"]
    resp = await ctx.business.post("/bank_reconciliations", {"bank_reconciliation": reconciliation})
    return {**project_reconciliation(resp.body, True), "idempotency_id": key}


HANDLERS = {
    f.__name__: f
    for f in (
        list_bank_accounts,
        get_bank_account,
        list_bank_transactions,
        create_bank_transfer,
        create_bank_deposit,
        create_bank_account,
        list_bank_reconciliations,
        create_bank_reconciliation,
    )
}
