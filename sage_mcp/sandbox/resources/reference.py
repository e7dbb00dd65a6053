"""Fixed reference lists (list, get): contact, address and person types, countries, currencies,
exchange rates, artefact statuses, payment methods, bank account types, ledger account types,
transaction types, journal code types, tax schemes, tax types, tax return frequencies, catalogue
item types and business types.

They are computed from constants (one :class:`Table` each), not stored, and are the same for every
business.  Their ids are Sage's symbolic upper-case ids (``CUSTOMER``, ``GB``, ``GBP``,
``BANK_TRANSFER`` ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from sage_mcp.money import decimal_str, to_decimal

from ..context import COUNTRIES, CURRENCIES, Context, link
from ..errors import not_found
from ..ledger import TRANSACTION_TYPES
from ..reference_data import LEDGER_ACCOUNT_TYPES
from .base import Collection
from .common import ADDRESS_TYPES, CONTACT_PERSON_TYPES
from .contacts import CONTACT_TYPES
from .sales_invoices import STATUSES

#: Currencies the sandbox knows (only GBP is a business's base currency).
CURRENCY_NAMES: dict[str, str] = {**CURRENCIES, "EUR": "Euro (EUR)", "USD": "US Dollar (USD)"}
#: Fixed illustrative rates: units of the currency per 1 GBP.
EXCHANGE_RATES: dict[str, str] = {"EUR": "1.1650", "USD": "1.2700"}
ARTEFACT_STATUSES: dict[str, str] = {"PRO_FORMA": "Pro-Forma", **STATUSES}
PAYMENT_METHODS: dict[str, str] = {
    "BANK_TRANSFER": "Bank Transfer",
    "CASH": "Cash",
    "CHEQUE": "Cheque",
    "CREDIT_DEBIT": "Credit/Debit Card",
    "ALTERNATIVE_PAYMENT": "Alternative Payment",
}
BANK_ACCOUNT_TYPES: dict[str, str] = {
    "CHECKING": "Current",
    "SAVINGS": "Savings",
    "CREDIT_CARD": "Credit Card",
    "CASH_IN_HAND": "Cash in Hand",
    "LOAN": "Loan",
    "OTHER": "Other",
}
JOURNAL_CODE_TYPES: dict[str, str] = {
    "SALES": "Sales",
    "PURCHASES": "Purchases",
    "BANK": "Bank",
    "CASH": "Cash",
    "OTHER": "Other Operations",
}
TAX_SCHEMES: dict[str, str] = {
    "STANDARD": "Standard",
    "CASH": "Cash Accounting",
    "FLAT_RATE_INVOICE": "Flat Rate - Invoice Based",
    "FLAT_RATE_CASH": "Flat Rate - Cash Based",
    "NOT_REGISTERED": "Not Registered",
}
TAX_RETURN_FREQUENCIES: dict[str, str] = {"MONTHLY": "Monthly", "QUARTERLY": "Quarterly", "ANNUALLY": "Annually"}
TAX_TYPES: dict[str, str] = {"GB_VAT": "UK VAT"}
CATALOG_ITEM_TYPES: dict[str, str] = {
    "STOCK_ITEM": "Stock",
    "NON_STOCK_ITEM": "Non-stock",
    "SERVICE": "Service",
}
BUSINESS_TYPES: dict[str, str] = {
    "SOLE_TRADER": "Sole Trader",
    "PARTNERSHIP": "Partnership",
    "LIMITED_COMPANY": "Limited Company",
}


def business_type_object(type_id: str) -> dict[str, Any]:
    """A ``BusinessType`` (a link with ``name`` and ``description``)."""
    name = BUSINESS_TYPES[type_id]
    return {**link("business_types", type_id, name), "name": name, "description": None}


class Table(Collection):
    """A read-only list of ``{id, displayed_as, $path}`` objects built from a fixed ``id -> displayed_as``
    table (:meth:`build` may add fields)."""

    table: ClassVar[Mapping[str, str]]

    def build(self, ctx: Context, key: str, name: str) -> dict[str, Any]:
        del ctx
        return link(self.name, key, name)

    def records(self, ctx: Context) -> list[dict[str, Any]]:
        return [self.build(ctx, key, name) for key, name in self.table.items()]

    def load(self, ctx: Context, key: str) -> dict[str, Any]:
        if key not in self.table:
            raise not_found(f"The {self.label} {key!r} was not found.")
        return self.build(ctx, key, self.table[key])


class ContactTypes(Table):
    name = "contact_types"
    definition = "Base"
    label = "contact type"
    table = CONTACT_TYPES


class ContactPersonTypes(Table):
    name = "contact_person_types"
    definition = "ContactPersonType"
    label = "contact person type"
    table = CONTACT_PERSON_TYPES


class AddressTypes(Table):
    name = "address_types"
    definition = "Base"
    label = "address type"
    table = ADDRESS_TYPES


class Countries(Table):
    name = "countries"
    definition = "Base"
    label = "country"
    table = COUNTRIES


class Currencies(Table):
    name = "currencies"
    definition = "Base"
    label = "currency"
    table = CURRENCY_NAMES


class ExchangeRates(Table):
    name = "exchange_rates"
    definition = "ExchangeRate"
    label = "exchange rate"
    table: ClassVar[Mapping[str, str]] = {c: CURRENCY_NAMES[c] for c in EXCHANGE_RATES}

    def build(self, ctx: Context, key: str, name: str) -> dict[str, Any]:
        rate = to_decimal(EXCHANGE_RATES[key])
        stamp = ctx.business.get("created_at")
        return {
            **link(self.name, key, name),
            "created_at": stamp,
            "updated_at": stamp,
            "rate": decimal_str(rate, 4),
            "inverse_rate": decimal_str((1 / rate).quantize(Decimal("0.0001")), 4),
            "base_currency": link("currencies", "GBP", CURRENCY_NAMES["GBP"]),
            "currency": link("currencies", key, name),
        }


class ArtefactStatuses(Table):
    name = "artefact_statuses"
    definition = "Base"
    label = "artefact status"
    table = ARTEFACT_STATUSES


class PaymentMethods(Table):
    name = "payment_methods"
    definition = "Base"
    label = "payment method"
    table = PAYMENT_METHODS


class BankAccountTypes(Table):
    name = "bank_account_types"
    definition = "Base"
    label = "bank account type"
    table = BANK_ACCOUNT_TYPES


class LedgerAccountTypes(Table):
    name = "ledger_account_types"
    definition = "Base"
    label = "ledger account type"
    table: ClassVar[Mapping[str, str]] = {key: value[0] for key, value in LEDGER_ACCOUNT_TYPES.items()}


class TransactionTypes(Table):
    """Every transaction type some posting of the sandbox uses."""

    name = "transaction_types"
    definition = "Base"
    label = "transaction type"
    table = TRANSACTION_TYPES


class JournalCodeTypes(Table):
    name = "journal_code_types"
    definition = "JournalCodeType"
    label = "journal code type"
    table = JOURNAL_CODE_TYPES


class TaxSchemes(Table):
    name = "tax_schemes"
    definition = "TaxScheme"
    label = "tax scheme"
    table = TAX_SCHEMES


class TaxReturnFrequencies(Table):
    name = "tax_return_frequencies"
    definition = "Base"
    label = "tax return frequency"
    table = TAX_RETURN_FREQUENCIES


class TaxTypes(Table):
    name = "tax_types"
    definition = "TaxType"
    label = "tax type"
    table = TAX_TYPES

    def build(self, ctx: Context, key: str, name: str) -> dict[str, Any]:
        rates = ctx.by_id("tax_rates")
        return {
            **link(self.name, key, name),
            "federal_tax": False,
            "country": link("countries", "GB", COUNTRIES["GB"]),
            "address_regions": [],
            "tax_rates": [link("tax_rates", r["id"], str(r["displayed_as"])) for r in rates.values()],
        }


class CatalogItemTypes(Table):
    name = "catalog_item_types"
    definition = "Base"
    label = "catalogue item type"
    table = CATALOG_ITEM_TYPES


class BusinessTypes(Table):
    name = "business_types"
    definition = "BusinessType"
    label = "business type"
    table = BUSINESS_TYPES

    def build(self, ctx: Context, key: str, name: str) -> dict[str, Any]:
        del ctx, name
        return business_type_object(key)


def reference_collections() -> list[Collection]:
    return [
        ContactTypes(),
        ContactPersonTypes(),
        AddressTypes(),
        Countries(),
        Currencies(),
        ExchangeRates(),
        ArtefactStatuses(),
        PaymentMethods(),
        BankAccountTypes(),
        LedgerAccountTypes(),
        TransactionTypes(),
        JournalCodeTypes(),
        TaxSchemes(),
        TaxReturnFrequencies(),
        TaxTypes(),
        CatalogItemTypes(),
        BusinessTypes(),
    ]
