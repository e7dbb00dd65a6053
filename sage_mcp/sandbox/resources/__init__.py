"""The Sage resources the sandbox emulates, one :class:`~.base.Collection` each."""

from __future__ import annotations

from .base import OPERATIONS, Collection
from .books import book_collections
from .contacts import Contacts
from .ledger_accounts import LedgerAccounts, TaxRates
from .payments import ContactAllocations, ContactPayments
from .purchases import PurchaseCreditNotes, PurchaseInvoices
from .quotes import SalesEstimates, SalesQuotes
from .reports import TrialBalance, UnallocatedArtefacts
from .sales_credit_notes import SalesCreditNotes
from .sales_invoices import SalesInvoices
from .transactions import Transactions

__all__ = ["OPERATIONS", "Collection", "build_registry"]


def build_registry() -> dict[str, Collection]:
    """Path segment -> collection, for every resource the sandbox serves."""
    collections: list[Collection] = [Contacts(), SalesInvoices(), LedgerAccounts(), TaxRates(), Transactions()]
    collections += [SalesCreditNotes(), SalesQuotes(), SalesEstimates(), PurchaseInvoices(), PurchaseCreditNotes()]
    collections += [ContactPayments(), ContactAllocations(), UnallocatedArtefacts(), TrialBalance()]
    collections += book_collections()
    return {c.name: c for c in collections}
