"""Every collection of banking, journals, the ledger, the catalogue, contacts' children,
attachments, settings and reference lists (registered by :func:`.build_registry`)."""

from __future__ import annotations

from .attachments import AttachmentContextTypes, Attachments
from .banking import BankAccounts, BankDeposits, BankReconciliations, BankTransfers
from .base import Collection
from .contact_details import Addresses, ContactPersons
from .journals import JournalCodes, Journals
from .ledger_entries import LedgerEntries
from .long_tail import long_tail_collections
from .other_payments import OtherPayments
from .products import Products, Services
from .reference import reference_collections
from .settings import settings_collections


def book_collections() -> list[Collection]:
    collections: list[Collection] = [
        BankAccounts(),
        BankTransfers(),
        BankDeposits(),
        BankReconciliations(),
        OtherPayments(),
        Journals(),
        JournalCodes(),
        LedgerEntries(),
        Products(),
        Services(),
        Addresses(),
        ContactPersons(),
        Attachments(),
        AttachmentContextTypes(),
    ]
    return collections + long_tail_collections() + reference_collections() + settings_collections()
