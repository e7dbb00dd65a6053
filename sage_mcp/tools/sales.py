"""Sales invoices: list, read, raise and void."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sage_mcp.money import format_amount, format_decimal, round_money, to_decimal
from sage_mcp.sage.client import BusinessClient, path_segment
from sage_mcp.sage.pagination import MAX_ITEMS_PER_PAGE, Page
from sage_mcp.tools._base import (
    ToolContext,
    ToolError,
    amount,
    compact,
    idempotency_id,
    link_id,
    link_name,
)
from sage_mcp.tools._resource import Resource, get_record, list_records, query_from_args

LIST_ATTRIBUTES = (
    "invoice_number,contact,date,due_date,status,reference,net_amount,tax_amount,total_amount,"
    "outstanding_amount,currency"
)


def _project_line(raw: dict[str, Any]) -> dict[str, Any]:
    return compact(
        {
            "description": raw.get("description"),
            "quantity": format_decimal(raw.get("quantity")),
            "unit_price": amount(raw, "unit_price"),
            "discount": amount(raw, "discount_amount"),
            "ledger_account_id": link_id(raw.get("ledger_account")),
            "tax_rate_id": link_id(raw.get("tax_rate")),
            "net": amount(raw, "net_amount"),
            "tax": amount(raw, "tax_amount"),
            "total": amount(raw, "total_amount"),
        }
    )


def project_invoice(raw: dict[str, Any], full: bool = False) -> dict[str, Any]:
    status = link_id(raw.get("status"))
    outstanding = amount(raw, "outstanding_amount")
    due = raw.get("due_date")
    overdue = None
    if due and outstanding and status in {"UNPAID", "PART_PAID"}:
        overdue = str(due) < dt.date.today().isoformat() and Decimal(outstanding) > 0
    out: dict[str, Any] = {
        "id": raw.get("id"),
        "number": raw.get("invoice_number") or raw.get("displayed_as"),
        "contact_id": link_id(raw.get("contact")),
        "contact_name": link_name(raw.get("contact")) or raw.get("contact_name"),
        "date": raw.get("date"),
        "due_date": due,
        "status": status,
        "overdue": overdue or None,
        "reference": raw.get("reference"),
        "currency": link_id(raw.get("currency")),
        "net": amount(raw, "net_amount"),
        "tax": amount(raw, "tax_amount"),
        "total": amount(raw, "total_amount"),
        "outstanding": outstanding,
    }
    if full:
        out.update(
            {
                "void_reason": raw.get("void_reason"),
                "notes": raw.get("notes"),
                "lines": [_project_line(x) for x in raw.get("invoice_lines") or [] if isinstance(x, dict)],
            }
        )
    return compact(out)


SALES_INVOICES = Resource("sales_invoices", LIST_ATTRIBUTES, project_invoice)
ARTEFACT_FILTERS = {
    "status": "status_id",
    "contact_id": "contact_id",
    "from_date": "from_date",
    "to_date": "to_date",
    "search": "search",
}


async def list_sales_invoices(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    query = {"sort": "date:desc", **query_from_args(args, ARTEFACT_FILTERS)}
    return await list_records(ctx, args, SALES_INVOICES, query)


async def get_sales_invoice(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return await get_record(ctx, args, SALES_INVOICES, args["invoice_id"])


async def _sales_ledger_accounts(biz: BusinessClient) -> list[dict[str, Any]]:
    page = await biz.get(
        "/ledger_accounts",
        {
            "visible_in": "sales",
            "attributes": "nominal_code,name,tax_rate",
            "items_per_page": MAX_ITEMS_PER_PAGE,
        },
    )
    return Page.from_envelope(page).items


async def _tax_rates(biz: BusinessClient) -> dict[str, dict[str, Any]]:
    page = await biz.get(
        "/tax_rates",
        {"usage": "sales", "attributes": "name,percentage", "items_per_page": MAX_ITEMS_PER_PAGE},
    )
    return {str(r["id"]): r for r in Page.from_envelope(page).items}


async def create_sales_invoice(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    biz = ctx.business
    key = idempotency_id(ctx, args.get("idempotency_key"))
    lines_in: list[dict[str, Any]] = args["lines"]

    contact = await biz.get(f"/contacts/{path_segment(args['contact_id'])}")
    if not any(link_id(t) == "CUSTOMER" for t in contact.get("contact_types") or []):
        raise ToolError(
            f"contact_id {args['contact_id']!r} ({contact.get('name')}) is not a customer; "
            "sales invoices need a customer. Use list_contacts with contact_type 'customer'."
        )
    accounts = await _sales_ledger_accounts(biz)
    by_code = {str(a.get("nominal_code")): a for a in accounts}
    by_id = {str(a.get("id")): a for a in accounts}
    default_account = link_id(contact.get("default_sales_ledger_account"))
    if default_account is None and accounts:
        default_account = str(min(accounts, key=lambda a: int(a.get("nominal_code") or 99999))["id"])
    rates = await _tax_rates(biz)

    sage_lines: list[dict[str, Any]] = []
    expected_total = Decimal(0)
    for i, line in enumerate(lines_in):
        where = f"lines[{i}]"
        account_ref = str(line.get("ledger_account_id") or default_account or "")
        account = by_id.get(account_ref) or by_code.get(account_ref)
        if account is None:
            known = ", ".join(f"{a.get('nominal_code')} {a.get('name')}" for a in accounts[:15])
            raise ToolError(
                f"{where}.ledger_account_id {account_ref!r} is not a sales ledger account of this business. "
                f"Give a ledger account id or nominal code, e.g. {known}."
            )
        rate_id = (
            line.get("tax_rate_id")
            or link_id(account.get("tax_rate"))
            or link_id(contact.get("default_sales_tax_rate"))
        )
        if not rate_id or rate_id not in rates:
            valid = ", ".join(f"{r} ({format_decimal(v.get('percentage'))}%)" for r, v in rates.items())
            raise ToolError(
                f"{where}.tax_rate_id {rate_id!r} is not a sales tax rate of this business. Valid: {valid}."
            )
        quantity = to_decimal(line.get("quantity", "1"), field=f"{where}.quantity")
        unit_price = to_decimal(line["unit_price"], field=f"{where}.unit_price")
        discount = to_decimal(line.get("discount_amount", "0"), field=f"{where}.discount_amount")
        net = round_money(quantity * unit_price - discount)
        tax = round_money(net * to_decimal(rates[rate_id].get("percentage") or 0) / 100)
        expected_total += net + tax
        sage_line: dict[str, Any] = {
            "description": line["description"],
            "ledger_account_id": str(account["id"]),
            "tax_rate_id": rate_id,
            "quantity": quantity,
            "unit_price": unit_price,
            "net_amount": net,
            "tax_amount": tax,
            "total_amount": net + tax,
        }
        if discount:
            sage_line["discount_amount"] = discount
        sage_lines.append(sage_line)

    invoice: dict[str, Any] = {
        "contact_id": args["contact_id"],
        "date": args.get("date") or dt.date.today().isoformat(),
        "invoice_lines": sage_lines,
        "idempotency_id": key,
    }
    for field in ("due_date", "reference", "notes"):
        if args.get(field):
            invoice[field] = args[field]
    resp = await biz.post("/sales_invoices", {"sales_invoice": invoice})
    out = project_invoice(resp.body, True)
    if out.get("total") is not None and to_decimal(out["total"]) != expected_total:
        out["warning"] = (
            f"Sage's total {out['total']} differs from the {format_amount(expected_total)} computed from the lines; "
            "check the invoice in Sage."
        )
    return {**out, "idempotency_id": key}


async def void_sales_invoice(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    invoice_id = args["invoice_id"]
    resp = await ctx.business.delete(f"/sales_invoices/{path_segment(invoice_id)}", {"void_reason": args["reason"]})
    if resp.status == 204 or not resp.body:
        return {"id": invoice_id, "status": "DELETED", "note": "The invoice was a draft, so Sage deleted it."}
    return project_invoice(resp.body, True)


HANDLERS = {f.__name__: f for f in (list_sales_invoices, get_sales_invoice, create_sales_invoice, void_sales_invoice)}
