"""``/sales_credit_notes``: list, get, create, update, void (``DELETE``), release.

The mirror image of a sales invoice: posting credits Trade Debtors (1100) with the total and debits
each line's sales account and VAT on Sales (2200).  Numbers are ``SCN-<n>``.  A credit note is
settled by allocating it against invoices (``/contact_allocations``) or by a customer refund
(``/contact_payments``); its ``outstanding_amount`` is what is still to be used.
"""

from __future__ import annotations

from .artefacts import SALES, PostedArtefact


class SalesCreditNotes(PostedArtefact):
    name = "sales_credit_notes"
    definition = "SalesCreditNote"
    side = SALES
    lines_key = "credit_note_lines"
    number_field = "credit_note_number"
    number_prefix = "SCN-"
    sort_fields = ("created_at", "updated_at", "date")
    debit_control = False
    voids = True
