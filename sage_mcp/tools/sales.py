"""Sales: invoices, credit notes, quotes and estimates (the artefact machinery is in ``_artefacts``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sage_mcp.sage.errors import SageNotFoundError, SageValidationError
from sage_mcp.tools._artefacts import (
    SALES_SIDE,
    Artefact,
    artefact_projection,
    create_artefact,
    credited_invoice,
    get_party,
    header_fields,
    lines_from,
    list_artefacts,
    list_invoices,
    parse_lines,
    update_artefact,
)
from sage_mcp.tools._base import ToolContext, ToolError, idempotency_id, link_id
from sage_mcp.tools._resource import Resource, get_record

# -- sales invoices --------------------------------------------------------------------------------------

LIST_ATTRIBUTES = (
    "invoice_number,contact,date,due_date,status,reference,net_amount,tax_amount,total_amount,"
    "outstanding_amount,currency"
)
project_invoice = artefact_projection("invoice_lines", "invoice_number", "due_date")
SALES_INVOICES = Resource("sales_invoices", LIST_ATTRIBUTES, project_invoice)
INVOICE = Artefact(SALES_INVOICES, "sales_invoice", "invoice_lines", SALES_SIDE, "sales invoice")


async def list_sales_invoices(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return await list_invoices(ctx, args, INVOICE, "get_aged_debtors")


async def get_sales_invoice(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return await get_record(ctx, args, SALES_INVOICES, args["invoice_id"])


async def create_sales_invoice(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    lines = parse_lines(args["lines"])
    contact = await get_party(ctx.business, args["contact_id"], SALES_SIDE)
    fields = header_fields(args, "due_date", "reference", "notes")
    if args.get("status"):
        fields["status_id"] = args["status"]
    return await create_artefact(ctx, args, INVOICE, contact, lines, fields)


async def update_sales_invoice(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    fields = header_fields(args, "date", "due_date", "reference", "notes")
    return await update_artefact(ctx, args, INVOICE, args["invoice_id"], fields)


async def release_sales_invoice(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    """Post a draft. Sage's release takes no idempotency id; with a key, a repeat on a posted invoice
    returns it instead of Sage's "only a draft can be released" refusal."""
    keyed = bool(args.get("idempotency_key"))
    key = idempotency_id(ctx, args.get("idempotency_key"))
    path = SALES_INVOICES.item_path(args["invoice_id"])
    if keyed:
        current = await ctx.business.get(path)
        if link_id(current.get("status")) != "DRAFT":
            out = INVOICE.project(current)
            return {**out, "note": f"not a draft (status {out.get('status')}); nothing changed", "idempotency_id": key}
    resp = await ctx.business.post(f"{path}/release", None)
    return {**INVOICE.project(resp.body), "idempotency_id": key}


async def _void(ctx: ToolContext, kind: Artefact, record_id: str, reason: str) -> dict[str, Any]:
    resp = await ctx.business.delete(kind.res.item_path(record_id), {"void_reason": reason})
    if resp.status == 204 or not resp.body:
        return {"id": record_id, "status": "DELETED", "note": f"The {kind.label} was a draft, so Sage deleted it."}
    return kind.project(resp.body)


async def void_sales_invoice(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return await _void(ctx, INVOICE, args["invoice_id"], args["reason"])


# -- sales credit notes ----------------------------------------------------------------------------------

CREDIT_NOTE_ATTRIBUTES = (
    "credit_note_number,contact,date,status,reference,net_amount,tax_amount,total_amount,outstanding_amount,currency"
)
SALES_CREDIT_NOTES = Resource(
    "sales_credit_notes",
    CREDIT_NOTE_ATTRIBUTES,
    artefact_projection("credit_note_lines", "credit_note_number", extra=("original_invoice_date",)),
)
CREDIT_NOTE = Artefact(SALES_CREDIT_NOTES, "sales_credit_note", "credit_note_lines", SALES_SIDE, "sales credit note")


async def list_sales_credit_notes(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return await list_artefacts(ctx, args, CREDIT_NOTE)


async def get_sales_credit_note(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return await get_record(ctx, args, SALES_CREDIT_NOTES, args["credit_note_id"])


async def create_sales_credit_note(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    contact, lines, fields = await credited_invoice(ctx, args, SALES_INVOICES, SALES_SIDE)
    return await create_artefact(ctx, args, CREDIT_NOTE, contact, lines, fields)


async def void_sales_credit_note(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return await _void(ctx, CREDIT_NOTE, args["credit_note_id"], args["reason"])


# -- sales quotes and estimates -----------------------------------------------------------------------------


def _quote_kind(collection: str, root: str, lines_key: str, number_key: str, label: str) -> Artefact:
    attributes = f"{number_key},contact,date,expiry_date,status,reference,net_amount,tax_amount,total_amount,currency"
    project = artefact_projection(lines_key, number_key, "expiry_date")

    def with_invoice(raw: dict[str, Any], full: bool = False) -> dict[str, Any]:
        out = project(raw, full)
        invoice_id = link_id(raw.get("invoice"))
        return {**out, "invoice_id": invoice_id} if invoice_id else out

    # Sage's /sales_estimates list takes no sort parameter (newest first is its order anyway).
    return Artefact(
        Resource(collection, attributes + ",invoice", with_invoice),
        root,
        lines_key,
        SALES_SIDE,
        label,
        sortable=collection == "sales_quotes",
    )


QUOTE_KINDS = {
    "quote": _quote_kind("sales_quotes", "sales_quote", "quote_lines", "quote_number", "sales quote"),
    "estimate": _quote_kind("sales_estimates", "sales_estimate", "estimate_lines", "estimate_number", "sales estimate"),
}
CONVERTIBLE = ("DRAFT", "PENDING", "ACCEPTED")
QUOTE_VALID_DAYS = 30


async def find_quote(ctx: ToolContext, args: Mapping[str, Any]) -> tuple[Artefact, dict[str, Any]]:
    """The quote or estimate ``quote_id``: /sales_quotes is asked first, then /sales_estimates."""
    quote_id = args["quote_id"]
    kinds = list(QUOTE_KINDS)
    for name in kinds:
        kind = QUOTE_KINDS[name]
        try:
            return kind, await ctx.business.get(kind.res.item_path(quote_id))
        except SageNotFoundError:
            continue
    what = " or ".join(QUOTE_KINDS[k].label for k in kinds)
    raise ToolError(
        f"quote_id {quote_id!r} is not a {what} of this business. Check the id; list_sales_quotes shows them."
    )


async def list_sales_quotes(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    return await list_artefacts(ctx, args, QUOTE_KINDS[args.get("kind") or "quote"])


async def get_sales_quote(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    kind, raw = await find_quote(ctx, args)
    return dict(raw) if args.get("detail") == "full" else kind.project(raw)


async def create_sales_quote(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    kind = QUOTE_KINDS[args.get("kind") or "quote"]
    lines = parse_lines(args["lines"])
    contact = await get_party(ctx.business, args["contact_id"], SALES_SIDE)
    date = args.get("date") or dt.date.today().isoformat()
    fields = header_fields(args, "reference", "notes")
    fields["expiry_date"] = (
        args.get("expiry_date") or (dt.date.fromisoformat(date) + dt.timedelta(days=QUOTE_VALID_DAYS)).isoformat()
    )
    return await create_artefact(ctx, {**args, "date": date}, kind, contact, lines, fields)


async def update_sales_quote(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    kind, current = await find_quote(ctx, args)
    fields = header_fields(args, "date", "expiry_date", "reference", "notes")
    if args.get("status"):
        fields["status_id"] = args["status"]
    return await update_artefact(ctx, args, kind, args["quote_id"], fields, current)


async def convert_quote_to_invoice(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    """A posted sales invoice with the quote's customer and lines; Sage marks the quote INVOICED.

    A quote that cannot be invoiced is refused before anything is sent, unless an idempotency key
    is given: then Sage answers (a repeat of the conversion returns the invoice it made).
    """
    kind, quote = await find_quote(ctx, args)
    status = link_id(quote.get("status"))
    refusal = None
    if status not in CONVERTIBLE:
        invoice = link_id(quote.get("invoice"))
        refusal = ToolError(
            f"quote_id {args['quote_id']!r} ({quote.get('displayed_as')}) is {status} and cannot be invoiced"
            + (f"; its invoice is {invoice} (get_sales_invoice)." if invoice else ".")
        )
        if not args.get("idempotency_key"):
            raise refusal
    # The quote's lines name their ledger accounts and tax rates: no contact defaults are needed.
    contact = {"id": link_id(quote.get("contact"))}
    fields = {
        "due_date": args.get("due_date"),
        "reference": quote.get("reference") or quote.get("displayed_as"),
        "notes": quote.get("notes"),
        "original_quote_estimate_id": quote["id"],
    }
    lines = lines_from(quote.get(kind.lines_key) or [])
    try:
        out = await create_artefact(ctx, args, INVOICE, contact, lines, fields)
    except SageValidationError:
        if refusal is not None:
            raise refusal from None
        raise
    return {**out, "quote_id": quote["id"]}


HANDLERS = {
    f.__name__: f
    for f in (
        list_sales_invoices,
        get_sales_invoice,
        create_sales_invoice,
        update_sales_invoice,
        release_sales_invoice,
        void_sales_invoice,
        list_sales_credit_notes,
        get_sales_credit_note,
        create_sales_credit_note,
        void_sales_credit_note,
        list_sales_quotes,
        get_sales_quote,
        create_sales_quote,
        update_sales_quote,
        convert_quote_to_invoice,
    )
}
