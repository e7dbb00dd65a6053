"""The chart of accounts, journals, ledger entries and transactions."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from decimal import Decimal
from typing import Any

from sage_mcp.excerpt import excerpt
from sage_mcp.money import ZERO, format_amount, money, round_money, to_decimal, total
from sage_mcp.sage.client import path_segment
from sage_mcp.sage.errors import SageError
from sage_mcp.sage.pagination import fetch_pages
from sage_mcp.tools._base import (
    ToolContext,
    ToolError,
    amount,
    compact,
    idempotency_id,
    link_id,
    link_name,
    rank,
    similarity,
    words,
)
from sage_mcp.tools._ledger import ledger_accounts, match_ledger_account, resolve_ledger_account
from sage_mcp.tools._resource import ALL_PAGES_CAP, Resource, list_records, or_closest, query_from_args

VISIBILITY_SCOPES = ("sales", "banking", "expenses", "other_payments", "other_receipts", "journals", "reporting")
#: Where a new ledger account shows besides journals and reporting, by type, when visible_in is not given.
DEFAULT_SCOPES: dict[str, tuple[str, ...]] = {
    "SALES": ("sales", "other_receipts"),
    "OTHER_INCOME": ("sales", "other_receipts"),
    "DIRECT_EXPENSES": ("expenses", "other_payments"),
    "OVERHEADS": ("expenses", "other_payments"),
    "DEPRECIATION": ("expenses", "other_payments"),
    "FIXED_ASSETS": ("expenses", "other_payments"),
    "BANK": ("banking",),
}
#: ``from_date`` of a balance window when only ``to_date`` is given: everything up to it.
BEGINNING = "1900-01-01"
NOMINAL_CODE = re.compile(r"^\d{1,8}$")


async def check_type_id(ctx: ToolContext, lookup: str, value: str, field: str) -> str:
    """``value`` upper-cased when it is an id of Sage's lookup list ``lookup`` (``/transaction_types`` …);
    otherwise a ToolError naming ``field`` and the valid ids."""
    wanted = value.strip().upper()
    cache_key = f"lookup:{lookup}"
    if cache_key not in ctx.cache:
        items, _ = await fetch_pages(ctx.business, lookup, {}, max_items=ALL_PAGES_CAP)
        ctx.cache[cache_key] = sorted(str(t.get("id")) for t in items)
    valid: list[str] = ctx.cache[cache_key]
    if wanted not in valid:
        raise ToolError(f"{field}: {value!r} is not one of Sage's ids. Valid: {', '.join(valid)}.")
    return wanted


def check_window(args: dict[str, Any]) -> None:
    start, end = args.get("from_date"), args.get("to_date")
    if start and end and end < start:
        raise ToolError(f"to_date: {end} is before from_date {start}")


# -- ledger accounts ---------------------------------------------------------------------------------


def project_ledger_account(raw: dict[str, Any], full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": raw.get("id"),
        "nominal_code": raw.get("nominal_code"),
        "name": raw.get("name") or raw.get("displayed_as"),
        "type": link_id(raw.get("ledger_account_type")),
    }
    details = raw.get("balance_details")
    if isinstance(details, dict):
        debits, credits = to_decimal(details.get("debits") or 0), to_decimal(details.get("credits") or 0)
        out.update({"debits": money(debits), "credits": money(credits), "balance": money(debits - credits)})
    if full:
        out.update(
            {
                "display_name": raw.get("display_name"),
                "tax_rate_id": link_id(raw.get("tax_rate")),
                "visible_in": raw.get("visible_scopes"),
                "control_account": raw.get("control_name"),
            }
        )
    return compact(out)


LEDGER_ACCOUNTS = Resource(
    "ledger_accounts", "nominal_code,name,ledger_account_type,balance_details", project_ledger_account
)


def _balance_window(args: dict[str, Any]) -> dict[str, Any]:
    if not (args.get("from_date") or args.get("to_date")):
        return {}
    return {
        "show_balance_details": True,
        "from_date": args.get("from_date") or BEGINNING,
        "to_date": args.get("to_date") or dt.date.today().isoformat(),
    }


async def list_ledger_accounts(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    check_window(args)
    query = query_from_args(args, {"visible_in": "visible_in", "search": "search"})
    if args.get("type"):
        query["ledger_account_type_id"] = await check_type_id(ctx, "/ledger_account_types", args["type"], "type")
    out = await list_records(ctx, args, LEDGER_ACCOUNTS, {**query, **_balance_window(args)})
    if args.get("type"):
        return out
    # nothing contains the text: the closest accounts by name or nominal code (typos, other wording)
    return await or_closest(
        out,
        args,
        lambda search: find_ledger_account(ctx, {"query": search, "visible_in": args.get("visible_in")}),
        "these are the closest matches (score 1 = same).",
    )


def _score_account(query: str, raw: dict[str, Any]) -> tuple[float, str]:
    wanted = query.strip()
    code = str(raw.get("nominal_code") or "")
    if code and code == wanted:
        return 1.0, "nominal_code"
    if NOMINAL_CODE.match(wanted):
        return (round(0.6 + 0.3 * len(wanted) / len(code), 3), "nominal_code") if code.startswith(wanted) else (0.0, "")
    names = {str(raw.get(k) or "") for k in ("name", "display_name")} - {""}
    return max(((similarity(query, n), "name") for n in names), default=(0.0, ""))


async def find_ledger_account(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    query = args["query"].strip()
    if not words(query):
        raise ToolError("query: give a nominal code or a ledger account name to look for")
    accounts = await ledger_accounts(ctx, args.get("visible_in"))
    return await rank(
        query,
        accounts,
        _score_account,
        project_ledger_account,
        tie_key=lambda a: int(a.get("nominal_code") or 0),
        not_found=f"No ledger account resembles {excerpt(query)}. Browse with list_ledger_accounts.",
        ambiguous="Several ledger accounts match about equally well: pick by nominal code.",
        weak="No close match; these are the nearest.",
    )


async def create_ledger_account(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    type_id = await check_type_id(ctx, "/ledger_account_types", args["type"], "type")
    scopes = set(args.get("visible_in") or (*DEFAULT_SCOPES.get(type_id, ()), "journals", "reporting"))
    key = idempotency_id(ctx, args.get("idempotency_key"))
    account: dict[str, Any] = {
        "ledger_account_type_id": type_id,
        "included_in_chart": args.get("included_in_chart", True),
        "name": args["name"],
        "display_name": args.get("display_name") or args["name"],
        "nominal_code": args["nominal_code"],
        **{f"visible_in_{scope}": scope in scopes for scope in VISIBILITY_SCOPES},
        "idempotency_id": key,
    }
    if args.get("tax_rate_id"):
        account["tax_rate_id"] = args["tax_rate_id"]
    resp = await ctx.business.post("/ledger_accounts", {"ledger_account": account})
    return {**project_ledger_account(resp.body, True), "idempotency_id": key}


# -- journals ----------------------------------------------------------------------------------------


def _side(raw: dict[str, Any]) -> dict[str, Any]:
    """Only the non-zero side of a debit/credit pair."""
    return {side: value for side in ("debit", "credit") if (value := amount(raw, side)) and to_decimal(value) != ZERO}


def project_journal(raw: dict[str, Any], full: bool = False) -> dict[str, Any]:
    lines = [
        compact({"account": link_name(x.get("ledger_account")), **_side(x), "details": x.get("details")})
        for x in raw.get("journal_lines") or []
        if isinstance(x, dict)
    ]
    out = {
        "id": raw.get("id"),
        "date": raw.get("date"),
        "reference": raw.get("reference"),
        "description": raw.get("description"),
        "total": amount(raw, "total"),
        "lines": lines,
        "transaction_id": link_id(raw.get("transaction")) if full else None,
    }
    return compact(out)


JOURNALS = Resource("journals", "date,reference,description,total,journal_lines", project_journal)


def _since(day: str) -> str:
    """A date as the timestamp Sage's ``updated_or_created_since`` takes."""
    return f"{day}T00:00:00Z"


async def list_journals(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    query = {"updated_or_created_since": _since(args["updated_since"])} if args.get("updated_since") else {}
    check_window(args)
    start, end = args.get("from_date"), args.get("to_date")
    if not (start or end):
        return await list_records(ctx, args, JOURNALS, query)
    # Sage's /journals has no date filter: read them all and keep the window.
    params = {"attributes": JOURNALS.list_attributes, **query}
    raw, seen = await fetch_pages(ctx.business, "/journals", params, max_items=ALL_PAGES_CAP)
    kept = [j for j in raw if (not start or str(j.get("date")) >= start) and (not end or str(j.get("date")) <= end)]
    kept.sort(key=lambda j: str(j.get("date")), reverse=True)
    out: dict[str, Any] = {
        "total": len(kept),
        "page": 1,
        "next_page": None,
        "items": [project_journal(j) for j in kept],
    }
    if seen > len(raw):
        out["truncated"] = f"only the first {len(raw)} of {seen} journals were searched; add updated_since"
    return out


def _check_lines(lines: list[dict[str, Any]]) -> tuple[list[tuple[Decimal, Decimal]], list[str]]:
    """Each line's (debit, credit) and every problem with them, without asking Sage."""
    amounts: list[tuple[Decimal, Decimal]] = []
    problems: list[str] = []
    for i, line in enumerate(lines):
        sides = {}
        for side in ("debit", "credit"):
            value = to_decimal(line.get(side, "0"), field=f"lines[{i}].{side}")
            if value < ZERO:
                problems.append(f"lines[{i}].{side}: {line[side]} is negative; put the amount on the other side")
            elif round_money(value) != value:
                problems.append(f"lines[{i}].{side}: {line[side]} has more than two decimals")
            sides[side] = value
        if sides["debit"] and sides["credit"]:
            problems.append(f"lines[{i}]: give a debit or a credit, not both (use two lines)")
        elif not sides["debit"] and not sides["credit"]:
            problems.append(f"lines[{i}]: needs a debit or a credit above 0")
        amounts.append((sides["debit"], sides["credit"]))
    return amounts, problems


async def create_journal(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    lines: list[dict[str, Any]] = args["lines"]
    amounts, problems = _check_lines(lines)
    if problems:
        raise ToolError("Journal not sent: " + "; ".join(problems) + ".")
    debits, credits = total(d for d, _ in amounts), total(c for _, c in amounts)
    if debits != credits:
        raise ToolError(
            f"Journal not sent: it does not balance. Total debits {money(debits)}, total credits {money(credits)} "
            f"(difference {money(abs(debits - credits))}). Make the two totals equal."
        )
    accounts = await ledger_accounts(ctx, "journals")
    sage_lines = []
    unknown = []
    for i, (line, (debit, credit)) in enumerate(zip(lines, amounts, strict=True)):
        account = match_ledger_account(accounts, line["ledger_account_id"])
        if account is None:
            unknown.append(f"lines[{i}].ledger_account_id {line['ledger_account_id']!r}")
            continue
        sage_line: dict[str, Any] = {"ledger_account_id": str(account["id"]), "debit": debit, "credit": credit}
        if line.get("details"):
            sage_line["details"] = line["details"]
        sage_lines.append(sage_line)
    if unknown:
        raise ToolError(
            f"Journal not sent: {', '.join(unknown)} is not the id or nominal code of a ledger account usable on "
            "journals. find_ledger_account shows them."
        )
    key = idempotency_id(ctx, args.get("idempotency_key"))
    journal: dict[str, Any] = {
        "date": args["date"],
        "reference": args["reference"],
        "journal_lines": sage_lines,
        "idempotency_id": key,
    }
    if args.get("description"):
        journal["description"] = args["description"]
    resp = await ctx.business.post("/journals", {"journal": journal})
    out = {**project_journal(resp.body, True), "idempotency_id": key}
    if args.get("reverse"):
        out["reversal"] = await _post_reversal(ctx, journal, key)
    return out


def first_of_next_month(date: str) -> str:
    day = dt.date.fromisoformat(date)
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1).isoformat()


async def _post_reversal(ctx: ToolContext, journal: dict[str, Any], key: str) -> dict[str, Any]:
    """The journal's mirror (debits and credits swapped) on the first day of the next month (accruals,
    prepayments). Its idempotency id is derived from the journal's, so repeating the call with the same
    key posts neither twice; if Sage refuses the reversal, the journal stands and the answer says so."""
    reversal = {
        "date": first_of_next_month(journal["date"]),
        "reference": f"REV {journal['reference']}"[:255],
        "description": f"Reversal of {journal['reference']} of {journal['date']}"[:200],
        "journal_lines": [
            {**line, "debit": line["credit"], "credit": line["debit"]} for line in journal["journal_lines"]
        ],
        "idempotency_id": hashlib.sha256(f"{key}:reversal".encode()).hexdigest()[:32],
    }
    try:
        resp = await ctx.business.post("/journals", {"journal": reversal})
    except SageError as exc:
        return {
            "error": f"the journal was posted but its reversal was not: {exc}. Repeat the call with "
            f"idempotency_key {key!r}: the journal is not posted again, and the reversal is."
        }
    return project_journal(resp.body, True)


async def reissue_journal(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    journal_id = args["journal_id"]
    resp = await ctx.business.post(f"/journals/{path_segment(journal_id)}/reissue", None)
    return {**project_journal(resp.body, True), "replaces": journal_id}


# -- ledger entries and transactions -----------------------------------------------------------------


def project_entry(raw: dict[str, Any], full: bool = False) -> dict[str, Any]:
    del full
    return compact(
        {
            "date": raw.get("date"),
            "account": link_name(raw.get("ledger_account")),
            **_side(raw),
            "details": raw.get("description") or raw.get("displayed_as"),
            "contact": link_name(raw.get("contact")),
            "transaction_id": link_id(raw.get("transaction")),
            "deleted": True if raw.get("deleted") else None,
        }
    )


LEDGER_ENTRIES = Resource(
    "ledger_entries", "date,ledger_account,debit,credit,description,contact,transaction,deleted", project_entry
)
DATE_FILTERS = {"from_date": "from_date", "to_date": "to_date"}


async def list_ledger_entries(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    check_window(args)
    query = query_from_args(args, {"transaction_id": "transaction_id", **DATE_FILTERS})
    if args.get("type"):
        query["transaction_type_id"] = await check_type_id(ctx, "/transaction_types", args["type"], "type")
    ref = args.get("ledger_account_id")
    if ref:
        if NOMINAL_CODE.match(ref.strip()):
            query["ledger_account_id"] = str((await resolve_ledger_account(ctx, ref, "ledger_account_id"))["id"])
        else:
            account = await ctx.business.get(f"/ledger_accounts/{path_segment(ref)}", {"attributes": "id"})
            query["ledger_account_id"] = str(account["id"])
    return await list_records(ctx, args, LEDGER_ENTRIES, query)


def project_transaction(raw: dict[str, Any], full: bool = False) -> dict[str, Any]:
    del full
    origin = raw.get("origin")
    return compact(
        {
            "id": raw.get("id"),
            "date": raw.get("date"),
            "type": link_id(raw.get("transaction_type")),
            "reference": raw.get("reference") or raw.get("displayed_as"),
            "contact": link_name(raw.get("contact")),
            "total": format_amount(raw.get("total")),
            "origin": origin.get("$path") if isinstance(origin, dict) else None,
            "deleted": True if raw.get("deleted") else None,
        }
    )


TRANSACTIONS = Resource(
    "transactions", "date,transaction_type,reference,contact,total,origin,deleted", project_transaction
)


async def list_transactions(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    check_window(args)
    query = query_from_args(args, DATE_FILTERS)
    if args.get("type"):
        query["transaction_type_id"] = await check_type_id(ctx, "/transaction_types", args["type"], "type")
    if args.get("updated_since"):
        query["updated_or_created_since"] = _since(args["updated_since"])
    return await list_records(ctx, args, TRANSACTIONS, query)


HANDLERS = {
    f.__name__: f
    for f in (
        list_ledger_accounts,
        find_ledger_account,
        create_ledger_account,
        list_journals,
        create_journal,
        reissue_journal,
        list_ledger_entries,
        list_transactions,
    )
}
