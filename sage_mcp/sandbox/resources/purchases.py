"""``/purchase_invoices`` and ``/purchase_credit_notes``: list, get, create, update, delete (204), release.

Contacts must be suppliers (422 ``$source: contact_id``, "can't find supplier").  Lines need a
``quantity`` and a ledger account visible in expenses; there are no line discounts on purchases.
Purchase invoices need a ``due_date``.  Posting a purchase invoice debits each line's account with
its net and VAT on Purchases (2201) with the tax, and credits Trade Creditors (2100) with the total;
a purchase credit note posts the mirror image.  ``DELETE`` removes a draft or an unpaid artefact
(its entries are reversed on the original date) and keeps it as a tombstone for ``deleted_since``;
one with payments or allocations is refused.  ``displayed_as`` is the ``vendor_reference``, else
the ``reference``, else ``PI-<n>``/``PCN-<n>`` (the sandbox's own sequence).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .artefacts import PURCHASES, PostedArtefact


class _Purchases(PostedArtefact):
    side = PURCHASES
    quantity_required = True

    def displayed_as(self, record: Mapping[str, Any]) -> str:
        return str(
            record.get("vendor_reference") or record.get("reference") or f"{self.number_prefix}{record['_number']}"
        )


class PurchaseInvoices(_Purchases):
    name = "purchase_invoices"
    definition = "PurchaseInvoice"
    lines_key = "invoice_lines"
    number_prefix = "PI-"
    due_field = "due_date"
    sort_fields = ("created_at", "updated_at", "date", "due_date")
    debit_control = False


class PurchaseCreditNotes(_Purchases):
    name = "purchase_credit_notes"
    definition = "PurchaseCreditNote"
    lines_key = "credit_note_lines"
    number_prefix = "PCN-"
    sort_fields = ("created_at", "updated_at", "date")
    debit_control = True
