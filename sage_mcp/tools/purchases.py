"""Purchase invoices (bills) and purchase credit notes: list, read, record, change and delete.

The artefact steps and the line builder are the shared ones (:mod:`sage_mcp.tools._artefacts`) on the
purchase side: supplier contacts, ledger accounts visible in expenses, purchase tax rates, no
line discounts. Sage deletes purchase artefacts (204) where sales ones are voided.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sage_mcp.tools._artefacts import (
    PURCHASE_SIDE,
    Artefact,
    artefact_projection,
    create_artefact,
    credited_invoice,
    get_party,
    header_fields,
    list_artefacts,
    list_invoices,
    parse_lines,
    update_artefact,
)
from sage_mcp.tools._base import ToolContext
from sage_mcp.tools._resource import Resource, get_record

DEFAULT_CREDIT_DAYS = 30
_COMMON = (
    "contact,date,status,reference,vendor_reference,net_amount,tax_amount,total_amount,outstanding_amount,currency"
)

PURCHASE_INVOICES = Resource(
    "purchase_invoices",
    _COMMON + ",due_date",
    artefact_projection("invoice_lines", None, "due_date", extra=("vendor_reference",)),
)
PURCHASE_CREDIT_NOTES = Resource(
    "purchase_credit_notes",
    _COMMON,
    artefact_projection("credit_note_lines", None, extra=("vendor_reference", "original_invoice_date")),
)
INVOICE = Artefact(PURCHASE_INVOICES, "purchase_invoice", "invoice_lines", PURCHASE_SIDE, "purchase invoice")
CREDIT_NOTE = Artefact(
    PURCHASE_CREDIT_NOTES, "purchase_credit_note", "credit_note_lines", PURCHASE_SIDE, "purchase credit note"
)


async def _delete(ctx: ToolContext, kind: Artefact, record_id: str) -> dict[str, Any]:
    await ctx.business.delete(kind.res.item_path(record_id))
    return {"id": record_id, "status": "DELETED", "note": f"Sage deleted the {kind.label}; its postings are reversed."}


# -- purchase invoices ---------------------------------------------------------------------------------


async def list_purchase_invoices(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return await list_invoices(ctx, args, INVOICE, "get_aged_creditors")


async def get_purchase_invoice(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return await get_record(ctx, args, PURCHASE_INVOICES, args["invoice_id"])


async def create_purchase_invoice(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    """Sage needs a due date: without one, the date plus the supplier's credit days (30 when unset)."""
    lines = parse_lines(args["lines"])
    contact = await get_party(ctx.business, args["contact_id"], PURCHASE_SIDE)
    date = args.get("date") or dt.date.today().isoformat()
    fields = header_fields(args, "vendor_reference", "reference", "notes")
    days = contact.get("credit_days")
    fields["due_date"] = (
        args.get("due_date")
        or (
            dt.date.fromisoformat(date) + dt.timedelta(days=DEFAULT_CREDIT_DAYS if days is None else int(days))
        ).isoformat()
    )
    return await create_artefact(ctx, {**args, "date": date}, INVOICE, contact, lines, fields)


async def update_purchase_invoice(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    fields = header_fields(args, "date", "due_date", "vendor_reference", "reference", "notes")
    return await update_artefact(ctx, args, INVOICE, args["invoice_id"], fields)


async def delete_purchase_invoice(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return await _delete(ctx, INVOICE, args["invoice_id"])


# -- purchase credit notes -------------------------------------------------------------------------------


async def list_purchase_credit_notes(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return await list_artefacts(ctx, args, CREDIT_NOTE)


async def get_purchase_credit_note(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return await get_record(ctx, args, PURCHASE_CREDIT_NOTES, args["credit_note_id"])


async def create_purchase_credit_note(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    contact, lines, fields = await credited_invoice(ctx, args, PURCHASE_INVOICES, PURCHASE_SIDE)
    return await create_artefact(ctx, args, CREDIT_NOTE, contact, lines, fields)


async def update_purchase_credit_note(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    fields = header_fields(args, "date", "vendor_reference", "reference", "notes")
    return await update_artefact(ctx, args, CREDIT_NOTE, args["credit_note_id"], fields)


async def delete_purchase_credit_note(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return await _delete(ctx, CREDIT_NOTE, args["credit_note_id"])


HANDLERS = {
    f.__name__: f
    for f in (
        list_purchase_invoices,
        get_purchase_invoice,
        create_purchase_invoice,
        update_purchase_invoice,
        delete_purchase_invoice,
        list_purchase_credit_notes,
        get_purchase_credit_note,
        create_purchase_credit_note,
        update_purchase_credit_note,
        delete_purchase_credit_note,
    )
}
