"""Sales and purchase documents as one family: invoices, credit notes, quotes and estimates, chosen by
``type`` (default ``sales_invoice``). List, read, create (a credit note from an invoice, an invoice from a
quote, a bill with its receipt attached), update (and release a draft), void.

Sage voids sales invoices and credit notes (they stay, marked VOID) but deletes purchase documents,
quotes and estimates (and drafts): ``void_invoice`` says which it did. The artefact machinery is in
:mod:`sage_mcp.tools._artefacts`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sage_mcp.sage.errors import SageNotFoundError, SageValidationError
from sage_mcp.tools import _artefacts
from sage_mcp.tools._artefacts import (
    PURCHASE_SIDE,
    SALES_SIDE,
    Artefact,
    artefact_projection,
    create_artefact,
    credited_invoice,
    get_party,
    header_fields,
    lines_from,
    parse_lines,
    update_artefact,
)
from sage_mcp.tools._attachments import attach_to_new, attachment_arg
from sage_mcp.tools._base import ToolContext, ToolError, idempotency_id, link_id
from sage_mcp.tools._duplicates import repeated_invoice
from sage_mcp.tools._resource import Resource, get_record

DEFAULT_CREDIT_DAYS = 30
QUOTE_VALID_DAYS = 30
CONVERTIBLE = ("DRAFT", "PENDING", "ACCEPTED")

# -- the six document types ---------------------------------------------------------------------------------

_SALES_INVOICE_ATTRIBUTES = (
    "invoice_number,contact,date,due_date,status,reference,net_amount,tax_amount,total_amount,"
    "outstanding_amount,currency"
)
_CREDIT_NOTE_ATTRIBUTES = (
    "credit_note_number,contact,date,status,reference,net_amount,tax_amount,total_amount,outstanding_amount,currency"
)
_PURCHASE_ATTRIBUTES = (
    "contact,date,status,reference,vendor_reference,net_amount,tax_amount,total_amount,outstanding_amount,currency"
)


def _quote_resource(collection: str, number_key: str) -> Resource:
    attributes = (
        f"{number_key},contact,date,expiry_date,status,reference,net_amount,tax_amount,total_amount,currency,invoice"
    )
    project = artefact_projection(f"{number_key.split('_')[0]}_lines", number_key, "expiry_date")

    def with_invoice(raw: dict[str, Any], full: bool = False) -> dict[str, Any]:
        out = project(raw, full)
        invoice_id = link_id(raw.get("invoice"))
        return {**out, "invoice_id": invoice_id} if invoice_id else out

    return Resource(collection, attributes, with_invoice)


@dataclass(frozen=True)
class DocType:
    """One ``type``: its artefact and what Sage lets it do."""

    kind: Artefact
    report: str  # the report that answers open-item questions over every record
    posted: bool  # posts to the ledger (can be released, paid, credited)
    voids: bool  # Sage voids it (sales) rather than deleting it


SALES_INVOICES = Resource(
    "sales_invoices", _SALES_INVOICE_ATTRIBUTES, artefact_projection("invoice_lines", "invoice_number", "due_date")
)
PURCHASE_INVOICES = Resource(
    "purchase_invoices",
    _PURCHASE_ATTRIBUTES + ",due_date",
    artefact_projection("invoice_lines", None, "due_date", extra=("vendor_reference",)),
)
TYPES: dict[str, DocType] = {
    "sales_invoice": DocType(
        Artefact(SALES_INVOICES, "sales_invoice", "invoice_lines", SALES_SIDE, "sales invoice"),
        "get_aged_debtors",
        posted=True,
        voids=True,
    ),
    "sales_credit_note": DocType(
        Artefact(
            Resource(
                "sales_credit_notes",
                _CREDIT_NOTE_ATTRIBUTES,
                artefact_projection("credit_note_lines", "credit_note_number", extra=("original_invoice_date",)),
            ),
            "sales_credit_note",
            "credit_note_lines",
            SALES_SIDE,
            "sales credit note",
        ),
        "get_aged_debtors",
        posted=True,
        voids=True,
    ),
    "sales_quote": DocType(
        Artefact(_quote_resource("sales_quotes", "quote_number"), "sales_quote", "quote_lines", SALES_SIDE, "quote"),
        "get_aged_debtors",
        posted=False,
        voids=False,
    ),
    # Sage's /sales_estimates list takes no sort parameter (newest first is its order anyway).
    "sales_estimate": DocType(
        Artefact(
            _quote_resource("sales_estimates", "estimate_number"),
            "sales_estimate",
            "estimate_lines",
            SALES_SIDE,
            "estimate",
            sortable=False,
        ),
        "get_aged_debtors",
        posted=False,
        voids=False,
    ),
    "purchase_invoice": DocType(
        Artefact(PURCHASE_INVOICES, "purchase_invoice", "invoice_lines", PURCHASE_SIDE, "bill"),
        "get_aged_creditors",
        posted=True,
        voids=False,
    ),
    "purchase_credit_note": DocType(
        Artefact(
            Resource(
                "purchase_credit_notes",
                _PURCHASE_ATTRIBUTES,
                artefact_projection("credit_note_lines", None, extra=("vendor_reference", "original_invoice_date")),
            ),
            "purchase_credit_note",
            "credit_note_lines",
            PURCHASE_SIDE,
            "purchase credit note",
        ),
        "get_aged_creditors",
        posted=True,
        voids=False,
    ),
}


def doc_type(args: Mapping[str, Any]) -> tuple[str, DocType]:
    name = str(args.get("type") or "sales_invoice")
    return name, TYPES[name]


def _no_discounts(args: Mapping[str, Any], kind: Artefact) -> None:
    """Sage's purchase lines take no discount: refused naming the line, before anything is sent."""
    if kind.side.discounts:
        return
    for i, line in enumerate(args.get("lines") or []):
        if line.get("discount_amount") not in (None, "", "0", "0.00"):
            raise ToolError(
                f"lines[{i}].discount_amount: a {kind.label} line takes no discount in Sage; "
                "put the net price in unit_price. Nothing was sent to Sage."
            )


def _refuse(given: Mapping[str, Any], fields: tuple[str, ...], type_name: str, why: str) -> None:
    used = [f for f in fields if given.get(f) not in (None, "", [], False)]
    if used:
        raise ToolError(f"{used[0]}: not for type {type_name} ({why}). Nothing was sent to Sage.")


def _not_this_type(name: str, record_id: str) -> ToolError:
    others = ", ".join(t for t in TYPES if t != name)
    return ToolError(
        f"id {record_id!r} is not a {name} of this business. If it is another kind of document, give its type "
        f"({others}); list_invoices with that type shows the ids."
    )


# -- reads ----------------------------------------------------------------------------------------------------


async def list_invoices(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    """A page of documents of one type; with ``id``, that document alone, with its lines."""
    _, t = doc_type(args)
    if args.get("id"):
        filters = [k for k in args if k not in ("id", "type", "business_id", "detail")]
        if filters:
            raise ToolError(f"{filters[0]}: not with id (id reads one document). Nothing was read.")
        try:
            found = await get_record(ctx, args, t.kind.res, args["id"])
        except SageNotFoundError:
            raise _not_this_type(doc_type(args)[0], args["id"]) from None
        return {"total": 1, "page": 1, "next_page": None, "items": [found]}
    return await _artefacts.list_invoices(ctx, args, t.kind, t.report)


# -- create ---------------------------------------------------------------------------------------------------


async def _from_quote(ctx: ToolContext, args: dict[str, Any], invoice: Artefact) -> dict[str, Any]:
    """A posted sales invoice with the quote's (or estimate's) customer and lines; Sage marks it INVOICED.

    A quote that cannot be invoiced is refused before anything is sent, unless an idempotency key is
    given: then Sage answers (a repeat of the conversion returns the invoice it made).
    """
    _refuse(args, ("contact_id", "lines"), "sales_invoice with quote_id", "they come from the quote")
    quote: dict[str, Any] | None = None
    source = TYPES["sales_quote"].kind
    for name in ("sales_quote", "sales_estimate"):
        try:
            quote = await ctx.business.get(TYPES[name].kind.res.item_path(args["quote_id"]))
        except SageNotFoundError:  # not a quote: try the estimates
            continue
        source = TYPES[name].kind
        break
    if quote is None:
        raise ToolError(
            f"quote_id {args['quote_id']!r} is not a quote or estimate of this business; "
            "list_invoices with type sales_quote or sales_estimate shows them."
        )
    status = link_id(quote.get("status"))
    refusal = None
    if status not in CONVERTIBLE:
        made = link_id(quote.get("invoice"))
        refusal = ToolError(
            f"quote_id {args['quote_id']!r} ({quote.get('displayed_as')}) is {status} and cannot be invoiced"
            + (f"; its invoice is {made}." if made else ".")
        )
        if not args.get("idempotency_key"):
            raise refusal
    fields = {
        "due_date": args.get("due_date"),
        "reference": args.get("reference") or quote.get("reference") or quote.get("displayed_as"),
        "notes": args.get("notes") or quote.get("notes"),
        "original_quote_estimate_id": quote["id"],
    }
    lines = lines_from(quote.get(source.lines_key) or [])
    # The quote's lines name their ledger accounts and tax rates: no contact defaults are needed.
    try:
        out = await create_artefact(ctx, args, invoice, {"id": link_id(quote.get("contact"))}, lines, fields)
    except SageValidationError:
        if refusal is not None:
            raise refusal from None
        raise
    return {**out, "quote_id": quote["id"]}


async def create_invoice(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    name, t = doc_type(args)
    kind = t.kind
    purchase = kind.side is PURCHASE_SIDE
    credit = name.endswith("credit_note")
    quote = name in ("sales_quote", "sales_estimate")
    if not purchase:
        _refuse(args, ("vendor_reference",), name, "sales documents have reference only")
    _no_discounts(args, kind)
    if name != "sales_invoice":
        _refuse(args, ("quote_id", "status"), name, "only a sales invoice is made from a quote or saved as a draft")
    if not credit:
        _refuse(args, ("invoice_id",), name, "invoice_id is the invoice a credit note credits")
    file = await attachment_arg(ctx, args, name)
    if args.get("quote_id"):
        return await attach_to_new(ctx, await _from_quote(ctx, args, kind), name, file)
    if credit:
        contact, lines, fields = await credited_invoice(
            ctx, args, TYPES[name.replace("credit_note", "invoice")].kind.res, kind.side
        )
        out = await create_artefact(ctx, args, kind, contact, lines, fields)
        return await attach_to_new(ctx, out, name, file)
    if not args.get("contact_id"):
        raise ToolError(f"contact_id: required for a new {kind.label} (a {kind.side.party}; list_contacts shows them).")
    if not args.get("lines"):
        raise ToolError(f"lines: required for a new {kind.label}.")
    lines = parse_lines(args["lines"])
    contact = await get_party(ctx.business, args["contact_id"], kind.side)
    date = args.get("date") or dt.date.today().isoformat()
    fields = header_fields(args, "reference", "notes", *(("vendor_reference",) if purchase else ()))
    if quote:
        fields["expiry_date"] = (
            args.get("due_date") or (dt.date.fromisoformat(date) + dt.timedelta(days=QUOTE_VALID_DAYS)).isoformat()
        )
    elif purchase:
        days = contact.get("credit_days")
        fields["due_date"] = (
            args.get("due_date")
            or (
                dt.date.fromisoformat(date) + dt.timedelta(days=DEFAULT_CREDIT_DAYS if days is None else int(days))
            ).isoformat()
        )
    elif args.get("due_date"):
        fields["due_date"] = args["due_date"]
    if args.get("status"):
        fields["status_id"] = args["status"]
    if name == "sales_invoice" and not args.get("allow_duplicate"):
        repeated = await repeated_invoice(ctx, args, contact, lines, kind.project)
        if repeated is not None:
            return repeated
    out = await create_artefact(ctx, {**args, "date": date}, kind, contact, lines, fields)
    return await attach_to_new(ctx, out, name, file)


# -- update, release, void -------------------------------------------------------------------------------------


async def _release(
    ctx: ToolContext, args: Mapping[str, Any], t: DocType, keyed: bool, updated: bool = False
) -> dict[str, Any]:
    """Post a draft. Sage's release takes no idempotency id; with a key (or after an update in the same
    call), a document that is no longer a draft is returned instead of Sage's "only a draft can be
    released" refusal."""
    path = t.kind.res.item_path(args["id"])
    if keyed or updated:
        current = await ctx.business.get(path)
        if link_id(current.get("status")) != "DRAFT":
            out = t.kind.project(current)
            done = "updated, not released" if updated else "nothing changed"
            return {**out, "note": f"not a draft (status {out.get('status')}); {done}"}
    resp = await ctx.business.post(f"{path}/release", None)
    return t.kind.project(resp.body)


async def update_invoice(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    """Only what is given changes; ``lines`` replace every line; ``release`` posts a draft after the changes."""
    try:
        return await _update(ctx, args)
    except SageNotFoundError:
        raise _not_this_type(doc_type(args)[0], args["id"]) from None


async def _update(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    name, t = doc_type(args)
    purchase = t.kind.side is PURCHASE_SIDE
    quote = not t.posted
    if not purchase:
        _refuse(args, ("vendor_reference",), name, "sales documents have reference only")
    _no_discounts(args, t.kind)
    if quote:
        _refuse(args, ("release",), name, "a quote posts nothing; create a sales_invoice with quote_id")
    else:
        _refuse(args, ("status",), name, "only a quote's or estimate's status is set by hand")
    fields = header_fields(args, "date", "reference", "notes", *(("vendor_reference",) if purchase else ()))
    if args.get("due_date"):
        fields["expiry_date" if quote else "due_date"] = args["due_date"]
    if args.get("status"):
        fields["status_id"] = args["status"]
    changes = bool(fields or args.get("lines"))
    if not changes and not args.get("release"):
        raise ToolError(f"nothing to update: give at least one field of the {t.kind.label} to change, or release.")
    out: dict[str, Any] = {}
    if changes:
        out = await update_artefact(ctx, args, t.kind, args["id"], fields)
    if args.get("release"):
        key = out.get("idempotency_id") or idempotency_id(ctx, args.get("idempotency_key"), record=args["id"])
        released = await _release(ctx, args, t, bool(args.get("idempotency_key")), updated=changes)
        out = {**released, "idempotency_id": key}
    return out


async def void_invoice(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    try:
        return await _void(ctx, args)
    except SageNotFoundError:
        raise _not_this_type(doc_type(args)[0], args["id"]) from None


async def _void(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    name, t = doc_type(args)
    record_id = args["id"]
    if t.voids:
        resp = await ctx.business.delete(t.kind.res.item_path(record_id), {"void_reason": args["reason"]})
        if resp.status == 204 or not resp.body:
            return {
                "id": record_id,
                "status": "DELETED",
                "note": f"The {t.kind.label} was a draft, so Sage deleted it.",
            }
        return t.kind.project(resp.body)
    await ctx.business.delete(t.kind.res.item_path(record_id))
    reversed_note = "; its postings are reversed" if t.posted else ""
    return {
        "id": record_id,
        "status": "DELETED",
        "note": f"Sage cannot void a {t.kind.label} ({name}): it deleted it{reversed_note}. "
        f"Reason given: {args['reason']}",
    }


HANDLERS = {f.__name__: f for f in (list_invoices, create_invoice, update_invoice, void_invoice)}
