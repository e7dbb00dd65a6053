"""``/sales_invoices``: list, get, create, update, void (``DELETE``), release.

The artefact engine (:mod:`.artefacts`) does the work: totals, statuses, postings (debit Trade
Debtors 1100 with the total, credit each line's sales account with its net, credit VAT on Sales
2200 with the tax; voiding posts the mirror image).  What is particular to invoices:

* ``due_date`` defaults to the date plus the contact's ``credit_days`` (30 when unset);
* ``original_quote_estimate_id`` (on create only) converts a sales quote or estimate of the same
  customer: it must be ``DRAFT``, ``PENDING`` or ``ACCEPTED``, becomes ``INVOICED`` and links the
  invoice; voiding or deleting the invoice puts the quote back to ``ACCEPTED``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..context import Context
from ..errors import Problems
from .artefacts import SALES, STATUSES, PostedArtefact, quote_status_link, status_link
from .common import blank
from .settlement import generic_link

__all__ = ["STATUSES", "SalesInvoices", "status_link"]

QUOTE_COLLECTIONS = ("sales_quotes", "sales_estimates")
CONVERTIBLE_QUOTE_STATUSES = ("DRAFT", "PENDING", "ACCEPTED")


class SalesInvoices(PostedArtefact):
    name = "sales_invoices"
    definition = "SalesInvoice"
    side = SALES
    lines_key = "invoice_lines"
    number_field = "invoice_number"
    number_prefix = "SI-"
    due_field = "due_date"
    default_due_from_credit_days = True
    sort_fields = ("created_at", "updated_at", "date", "due_date")
    debit_control = True
    voids = True

    def check_extra(
        self, ctx: Context, problems: Problems, record: dict[str, Any], payload: Mapping[str, Any], *, creating: bool
    ) -> None:
        quote_id = payload.get("original_quote_estimate_id")
        if blank(quote_id):
            return
        source = "original_quote_estimate_id"
        if not creating:
            if (record.get("original_quote_estimate") or {}).get("id") == quote_id:
                return
            problems.add(source, "can only be given when the invoice is created")
            return
        found = next(((name, q) for name in QUOTE_COLLECTIONS if (q := ctx.get(name, str(quote_id))) is not None), None)
        if found is None:
            problems.add(source, f"The sales quote or estimate {quote_id!r} was not found.")
            return
        collection, quote = found
        if record.get("contact") and quote["contact"]["id"] != record["contact"]["id"]:
            problems.add(source, f"{quote['displayed_as']} belongs to another contact")
        elif quote["status"]["id"] not in CONVERTIBLE_QUOTE_STATUSES:
            state = quote["status"]["displayed_as"].lower()
            problems.add(source, f"{quote['displayed_as']} is {state} and cannot be invoiced")
        else:
            record["original_quote_estimate"] = generic_link(collection, quote)
            record["_quote"] = collection

    def after_create(self, ctx: Context, record: dict[str, Any]) -> None:
        collection = record.get("_quote")
        if not collection:
            return
        quote = ctx.get(str(collection), record["original_quote_estimate"]["id"])
        if quote is None:  # pragma: no cover - checked a moment ago, in the same transaction
            return
        quote["status"] = quote_status_link("INVOICED")
        quote["invoice"] = generic_link(self.name, record)
        quote["updated_at"] = ctx.now_iso
        ctx.put(str(collection), quote)

    def after_removal(self, ctx: Context, record: dict[str, Any]) -> None:
        collection = record.get("_quote")
        if not collection:
            return
        quote = ctx.get(str(collection), record["original_quote_estimate"]["id"])
        if quote is None or (quote.get("invoice") or {}).get("id") != record["id"]:
            return
        quote["status"] = quote_status_link("ACCEPTED")
        quote["invoice"] = None
        quote["updated_at"] = ctx.now_iso
        ctx.put(str(collection), quote)
