"""Contact payments (customer receipts, supplier payments) and credit note allocations: the machinery
shared by the payment tools and the workflows that take or allocate money.

Everything a payment or allocation says is checked before anything is sent: amounts, that each
invoice belongs to the contact, is unpaid or part paid and has enough outstanding. Errors name the
argument (``allocations[1].amount``). One exception keeps retries safe: when an ``idempotency_key``
is given, an invoice that already looks paid may have been paid by the first attempt, so the call
goes to Sage, which replays the original payment (or refuses, and the local error is reported).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sage_mcp.money import ZERO, money, to_decimal, total
from sage_mcp.sage.client import BusinessClient, path_segment
from sage_mcp.sage.errors import SageError, SageNotFoundError, SageValidationError
from sage_mcp.sage.pagination import fetch_pages
from sage_mcp.tools._banking import bank_account_or_default, positive_money, today
from sage_mcp.tools._base import (
    ToolContext,
    ToolError,
    amount,
    compact,
    idempotency_id,
    link_id,
    link_name,
)
from sage_mcp.tools._resource import ALL_PAGES_CAP, Resource

OPEN_STATUSES = ("UNPAID", "PART_PAID")
PAYMENT_TYPES = {
    "customer_receipt": "CUSTOMER_RECEIPT",
    "supplier_payment": "VENDOR_PAYMENT",
    "customer_refund": "CUSTOMER_REFUND",
    "supplier_refund": "VENDOR_REFUND",
}
TYPE_NAMES = {v: k for k, v in PAYMENT_TYPES.items()}
ALLOCATION_TYPES = {"CUSTOMER_ALLOCATION": "customer_allocation", "VENDOR_ALLOCATION": "supplier_allocation"}
LIST_ATTRIBUTES = (
    "transaction_type,contact,bank_account,date,reference,total_amount,allocated_artefacts,payment_on_account"
)


@dataclass(frozen=True)
class Side:
    """Sales or purchases: the contact type, the collections and the words used in messages."""

    contact_type: str  # CUSTOMER / VENDOR
    party: str  # customer / supplier
    invoices: str  # sales_invoices / purchase_invoices
    invoice_word: str  # sales invoice / bill
    credit_notes: str
    list_tool: str
    payment_type: str
    allocation_type: str


SALES = Side(
    "CUSTOMER",
    "customer",
    "sales_invoices",
    "sales invoice",
    "sales_credit_notes",
    "list_invoices",
    "CUSTOMER_RECEIPT",
    "CUSTOMER_ALLOCATION",
)
PURCHASES = Side(
    "VENDOR",
    "supplier",
    "purchase_invoices",
    "bill",
    "purchase_credit_notes",
    "list_invoices (type purchase_invoice)",
    "VENDOR_PAYMENT",
    "VENDOR_ALLOCATION",
)
#: Refunds are allocated to credit notes: money back to a customer, or back from a supplier.
CUSTOMER_REFUND = replace(
    SALES,
    invoices="sales_credit_notes",
    invoice_word="sales credit note",
    list_tool="list_invoices (type sales_credit_note)",
    payment_type="CUSTOMER_REFUND",
)
SUPPLIER_REFUND = replace(
    PURCHASES,
    invoices="purchase_credit_notes",
    invoice_word="purchase credit note",
    list_tool="list_invoices (type purchase_credit_note)",
    payment_type="VENDOR_REFUND",
)
#: record_payment's contact payment types
CONTACT_SIDES = {
    "customer_receipt": SALES,
    "supplier_payment": PURCHASES,
    "customer_refund": CUSTOMER_REFUND,
    "supplier_refund": SUPPLIER_REFUND,
}


# -- projections ------------------------------------------------------------------------------------------


def _number(raw: Mapping[str, Any]) -> str | None:
    value = raw.get("invoice_number") or raw.get("credit_note_number") or raw.get("displayed_as")
    return str(value) if value else None


def _allocated(raw: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for item in raw.get("allocated_artefacts") or []:
        if isinstance(item, Mapping):
            artefact = item.get("artefact")
            rows.append(
                compact(
                    {
                        "id": link_id(artefact),
                        "number": link_name(artefact),
                        "amount": amount(item, "amount"),
                        "discount": amount(item, "discount") if to_decimal(item.get("discount") or 0) else None,
                    }
                )
            )
    return rows


def project_payment(raw: dict[str, Any], full: bool = False) -> dict[str, Any]:
    on_account = raw.get("payment_on_account")
    out: dict[str, Any] = {
        "id": raw.get("id"),
        "type": TYPE_NAMES.get(str(link_id(raw.get("transaction_type")))),
        "date": raw.get("date"),
        "contact_id": link_id(raw.get("contact")),
        "contact_name": link_name(raw.get("contact")),
        "bank_account": link_name(raw.get("bank_account")),
        "reference": raw.get("reference"),
        "total": amount(raw, "total_amount"),
    }
    allocated = _allocated(raw)
    if full:
        out["bank_account_id"] = link_id(raw.get("bank_account"))
        out["payment_method"] = link_id(raw.get("payment_method"))
        out["transaction_id"] = link_id(raw.get("transaction"))
        out["allocations"] = allocated
    else:
        out["paid"] = ", ".join(str(a.get("number") or a.get("id")) for a in allocated) or None
    if isinstance(on_account, Mapping):
        out["on_account"] = amount(on_account, "outstanding_amount") or amount(on_account, "total_amount")
    return compact(out)


PAYMENTS = Resource("contact_payments", LIST_ATTRIBUTES, project_payment)


def project_allocation(raw: dict[str, Any], full: bool = False) -> dict[str, Any]:
    return compact(
        {
            "id": raw.get("id"),
            "type": ALLOCATION_TYPES.get(str(link_id(raw.get("transaction_type")))),
            "date": raw.get("date"),
            "contact_id": link_id(raw.get("contact")),
            "contact_name": link_name(raw.get("contact")),
            "allocations": _allocated(raw),
        }
    )


# -- checks ------------------------------------------------------------------------------------------------


class Problems:
    """Local findings in argument order. ``state`` ones (already paid, not enough outstanding) may be the
    effect of the first attempt of a retried call, which Sage would replay; the others stop the call."""

    def __init__(self) -> None:
        self.found: list[tuple[str, bool]] = []

    def fatal(self, message: str) -> None:
        self.found.append((message, False))

    def state(self, message: str) -> None:
        self.found.append((message, True))

    @property
    def any_fatal(self) -> bool:
        return any(not is_state for _, is_state in self.found)

    def message(self) -> str:
        return "; ".join(message for message, _ in self.found)


async def _contact(biz: BusinessClient, contact_id: str, side: Side) -> dict[str, Any]:
    try:
        contact: dict[str, Any] = await biz.get(f"/contacts/{path_segment(contact_id)}")
    except SageNotFoundError:
        raise ToolError(
            f"contact_id {contact_id!r} is not a contact of this business; ids from list_contacts."
        ) from None
    if not any(link_id(t) == side.contact_type for t in contact.get("contact_types") or []):
        raise ToolError(
            f"contact_id {contact_id!r} ({contact.get('name')}) is not a {side.party}. "
            f"Use list_contacts with contact_type {side.party!r}."
        )
    return contact


async def _get_many(biz: BusinessClient, collection: str, ids: list[str]) -> list[dict[str, Any] | None]:
    """Each record, or ``None`` where Sage has none with that id."""

    async def one(key: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = await biz.get(f"/{collection}/{path_segment(key)}")
        except SageNotFoundError:
            return None
        return found

    return list(await asyncio.gather(*(one(k) for k in ids)))


def _parse_allocations(items: list[dict[str, Any]], *, discounts: bool) -> list[tuple[str, Decimal, Decimal]]:
    parsed: list[tuple[str, Decimal, Decimal]] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"allocations[{i}]"
        key = "invoice_id" if "invoice_id" in item else "id"
        invoice_id = str(item[key])
        if invoice_id in seen:
            raise ToolError(f"{where}.{key}: {invoice_id!r} appears twice; give one amount per document")
        seen.add(invoice_id)
        value = positive_money(item["amount"], f"{where}.amount")
        discount = ZERO
        if discounts and item.get("discount") is not None:
            discount = positive_money(item["discount"], f"{where}.discount", allow_zero=True)
        parsed.append((invoice_id, value, discount))
    return parsed


def _check_invoices(
    problems: Problems,
    side: Side,
    contact: Mapping[str, Any],
    wanted: list[tuple[str, Decimal, Decimal]],
    found: list[dict[str, Any] | None],
    field: str = "invoice_id",
) -> None:
    for i, ((invoice_id, value, discount), invoice) in enumerate(zip(wanted, found, strict=True)):
        where = f"allocations[{i}].{field}"
        if invoice is None:
            problems.fatal(
                f"{where}: no {side.invoice_word} {invoice_id!r} in this business; ids from {side.list_tool}"
            )
            continue
        number = _number(invoice) or invoice_id
        if link_id(invoice.get("contact")) != contact.get("id"):
            problems.fatal(
                f"{where}: {number} belongs to {link_name(invoice.get('contact'))}, not {contact.get('name')}"
            )
            continue
        status = link_id(invoice.get("status"))
        outstanding = to_decimal(invoice.get("outstanding_amount") or 0)
        if status not in OPEN_STATUSES:
            problems.state(f"{where}: {number} is {status}; only UNPAID or PART_PAID can be paid")
        elif value + discount > outstanding:
            with_discount = f" plus discount {money(discount)}" if discount else ""
            problems.state(
                f"allocations[{i}].amount: {money(value)}{with_discount} is more than the "
                f"{money(outstanding)} outstanding on {number}"
            )


async def _send(ctx: ToolContext, args: Mapping[str, Any], problems: Problems, path: str, body: Any) -> Any:
    """POST unless the checks failed; state-only problems with a key go to Sage (a retry is replayed)."""
    if problems.any_fatal or (problems.found and not args.get("idempotency_key")):
        raise ToolError(problems.message() + ". Nothing was sent to Sage.")
    try:
        return (await ctx.business.post(path, body)).body
    except SageValidationError:
        if problems.found:
            raise ToolError(problems.message() + ". Sage refused it too; nothing was recorded.") from None
        raise


async def _after(biz: BusinessClient, collection: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The documents as they are after the write, by id (none if Sage cannot be read: the write stands)."""
    try:
        found = await _get_many(biz, collection, ids)
    except SageError:
        return {}
    return {str(x["id"]): x for x in found if x}


def _enrich(rows: list[dict[str, Any]], after: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        now = after.get(str(row.get("id")))
        if now:
            row["status"] = link_id(now.get("status"))
            row["outstanding"] = amount(now, "outstanding_amount")
    return rows


# -- payments -----------------------------------------------------------------------------------------------


async def record_contact_payment(ctx: ToolContext, args: dict[str, Any], side: Side) -> dict[str, Any]:
    biz = ctx.business
    key = idempotency_id(ctx, args.get("idempotency_key"))
    wanted = _parse_allocations(args.get("allocations") or [], discounts=True)
    allocated = total(v for _, v, _ in wanted)
    if args.get("total_amount") is not None:
        payment_total = positive_money(args["total_amount"], "total_amount")
        if payment_total < allocated:
            raise ToolError(
                f"total_amount {money(payment_total)} is less than the {money(allocated)} allocated "
                "(allocations[].amount); lower the allocations or raise the total"
            )
    elif wanted:
        payment_total = allocated
    else:
        raise ToolError("total_amount is required when there are no allocations (the whole payment is on account)")

    contact = await _contact(biz, args["contact_id"], side)
    found = await _get_many(biz, side.invoices, [w[0] for w in wanted])
    problems = Problems()
    _check_invoices(problems, side, contact, wanted, found, "id")
    bank = await bank_account_or_default(ctx, args.get("bank_account_id"))

    payment: dict[str, Any] = {
        "transaction_type_id": side.payment_type,
        "contact_id": args["contact_id"],
        "bank_account_id": bank,
        "date": args.get("date") or today(),
        "total_amount": payment_total,
        "allocated_artefacts": [
            {"artefact_id": invoice_id, "amount": value, **({"discount": discount} if discount else {})}
            for invoice_id, value, discount in wanted
        ],
        "idempotency_id": key,
    }
    if args.get("reference"):
        payment["reference"] = args["reference"]
    body = await _send(ctx, args, problems, "/contact_payments", {"contact_payment": payment})
    out = project_payment(body, True)
    _enrich(out.get("allocations") or [], await _after(biz, side.invoices, [w[0] for w in wanted]))
    remainder = to_decimal(body.get("total_amount") or payment_total) - total(
        to_decimal(a.get("amount") or 0) for a in body.get("allocated_artefacts") or []
    )
    if remainder > ZERO:
        out["on_account"] = money(remainder)
        out["note"] = (
            f"{money(remainder)} was not allocated to any {side.invoice_word}: Sage holds it as a payment on account "
            f"of {contact.get('name')}, to be allocated later."
        )
    return {**out, "idempotency_id": key}


async def oldest_first(ctx: ToolContext, side: Side, contact_id: str, amount: Decimal) -> list[dict[str, Any]]:
    """Allocations of ``amount`` over the contact's open items (unpaid and part paid invoices, or credit
    notes for a refund), oldest due first (then oldest dated), each paid in full until the money runs out."""
    biz = ctx.business
    pages = await asyncio.gather(
        *(
            fetch_pages(
                biz,
                f"/{side.invoices}",
                {"contact_id": contact_id, "status_id": status, "attributes": "date,due_date,outstanding_amount"},
                max_items=ALL_PAGES_CAP,
            )
            for status in OPEN_STATUSES
        )
    )
    items = [item for found, _ in pages for item in found]
    items.sort(key=lambda x: (str(x.get("due_date") or x.get("date") or ""), str(x.get("date") or ""), str(x["id"])))
    left = amount
    allocations = []
    for item in items:
        if left <= ZERO:
            break
        share = min(left, to_decimal(item.get("outstanding_amount") or 0))
        if share > ZERO:
            allocations.append({"id": str(item["id"]), "amount": money(share)})
            left -= share
    return allocations


# -- credit note allocations ------------------------------------------------------------------------------------


async def _credit_note(biz: BusinessClient, credit_note_id: str) -> tuple[Side, dict[str, Any]]:
    sales, purchases = await asyncio.gather(
        _get_many(biz, SALES.credit_notes, [credit_note_id]), _get_many(biz, PURCHASES.credit_notes, [credit_note_id])
    )
    if sales[0] is not None:
        return SALES, sales[0]
    if purchases[0] is not None:
        return PURCHASES, purchases[0]
    raise ToolError(
        f"credit_note_id {credit_note_id!r} is neither a sales nor a purchase credit note of this business; "
        "ids from list_invoices (type sales_credit_note or purchase_credit_note)."
    )


async def allocate_credit(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    biz = ctx.business
    key = idempotency_id(ctx, args.get("idempotency_key"))
    wanted = _parse_allocations(args["allocations"], discounts=False)
    side, credit_note = await _credit_note(biz, args["credit_note_id"])
    contact = {"id": link_id(credit_note.get("contact")), "name": link_name(credit_note.get("contact"))}
    found = await _get_many(biz, side.invoices, [w[0] for w in wanted])
    problems = Problems()
    _check_invoices(problems, side, contact, wanted, found)
    settled = total(v for _, v, _ in wanted)
    status = link_id(credit_note.get("status"))
    outstanding = to_decimal(credit_note.get("outstanding_amount") or 0)
    number = _number(credit_note)
    if status not in OPEN_STATUSES:
        problems.state(
            f"credit_note_id: {number} is {status}; only an UNPAID or PART_PAID credit note can be allocated"
        )
    elif settled > outstanding:
        problems.state(
            f"allocations[].amount: they add up to {money(settled)}, "
            f"more than the {money(outstanding)} left on {number}"
        )

    allocation: dict[str, Any] = {
        "transaction_type_id": side.allocation_type,
        "contact_id": contact["id"],
        "date": args.get("date") or today(),
        "allocated_artefacts": [
            *({"artefact_id": invoice_id, "amount": value} for invoice_id, value, _ in wanted),
            {"artefact_id": args["credit_note_id"], "amount": -settled},
        ],
        "idempotency_id": key,
    }
    body = await _send(ctx, args, problems, "/contact_allocations", {"contact_allocation": allocation})
    out = project_allocation(body, True)
    after = await _after(biz, side.invoices, [w[0] for w in wanted])
    after.update(await _after(biz, side.credit_notes, [args["credit_note_id"]]))
    _enrich(out.get("allocations") or [], after)
    return {**out, "idempotency_id": key}
