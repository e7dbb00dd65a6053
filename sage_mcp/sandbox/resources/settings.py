"""Settings: the singletons ``/financial_settings``, ``/invoice_settings``, ``/business_settings``
(GET and PUT on the collection path itself, not paginated) and ``/tax_profiles`` (list, get, update).

* The UK VAT tax profile (``tax_type`` ``GB_VAT``) holds the VAT number, ``collect_tax`` and the
  return frequency; ``/financial_settings`` shows the same ``tax_number`` and ``tax_return_frequency``
  and a PUT of either one changes both.  A VAT number must look like ``GB123456789`` (9 or 12 digits,
  ``GB`` optional); ``collect_tax: true`` needs one.
* ``base_currency_id`` must stay GBP and ``multi_currency_enabled`` false (no foreign currencies).
  ``year_end_lockdown_date`` closes the books: postings of bank transfers, deposits, other payments
  and journals dated on or before it are refused (422 ``date``).
* ``next_invoice_number`` / ``next_credit_note_number`` / ``next_quote_number`` are the sandbox's
  numbering sequences (a PUT may move them forward, not back); the number prefixes are fixed
  (``SI-``, ``SCN-``, ``SQ-``, ``SE-``): a PUT may only repeat them.  The other invoice settings
  are stored and answered.
* ``default_ledger_accounts`` ids must name existing ledger accounts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from sage_mcp.money import decimal_str, to_decimal

from ..context import Context, link, link_to, public
from ..errors import Problems
from .base import Collection
from .common import blank, check_lengths, max_lengths, pick
from .lifecycle import SETTINGS_KEY
from .reference import (
    BUSINESS_TYPES,
    CURRENCY_NAMES,
    TAX_RETURN_FREQUENCIES,
    TAX_SCHEMES,
    TAX_TYPES,
    business_type_object,
)

_VAT_NUMBER = re.compile(r"^(GB)?([0-9]{9}|[0-9]{12})$")
COUNTRIES_OF_REGISTRATION = {
    "GB-ENG": "England and Wales",
    "GB-SCT": "Scotland",
    "GB-NIR": "Northern Ireland",
}
#: sequence name -> invoice settings field
_SEQUENCES = {
    "next_invoice_number": "sales_invoice_number",
    "next_credit_note_number": "sales_credit_note_number",
    "next_quote_number": "sales_quote_number",
}
_FIXED_PREFIXES = {
    "sales_invoice_number_prefix": "SI-",
    "sales_credit_note_number_prefix": "SCN-",
    "quote_number_prefix": "SQ-",
    "estimate_number_prefix": "SE-",
}
#: default ledger account field -> nominal code
_DEFAULT_LEDGER_ACCOUNTS = {
    "bank_charges_ledger_account": 7900,
    "bank_interest_received_ledger_account": 4900,
    "bank_interest_charges_paid_ledger_account": 7900,
    "exchange_rate_gains_ledger_account": 4900,
    "exchange_rate_losses_ledger_account": 7900,
    "sales_ledger_account": 4000,
    "sales_discount_ledger_account": 4009,
    "purchase_ledger_account": 5000,
    "purchase_discount_ledger_account": 5009,
    "product_sales_ledger_account": 4000,
    "product_purchase_ledger_account": 5000,
    "service_sales_ledger_account": 4000,
    "service_purchase_ledger_account": 5000,
    "stock_purchase_ledger_account": 5000,
    "other_receipt_ledger_account": 4900,
    "other_payment_ledger_account": 7500,
    "customer_receipt_discount_ledger_account": 4009,
    "vendor_payment_discount_ledger_account": 5009,
    "carriage_ledger_account": 4905,
}


def _vat_registered(ctx: Context) -> bool:
    return bool(ctx.business.get("_vat_registered"))


def next_year_end(today: dt.date) -> dt.date:
    """The first 31 March on or after ``today`` (the sandbox businesses' year end)."""
    candidate = dt.date(today.year, 3, 31)
    return candidate if candidate >= today else dt.date(today.year + 1, 3, 31)


def _account_link(ctx: Context, nominal_code: int) -> dict[str, Any] | None:
    for account in ctx.by_id("ledger_accounts").values():
        if account.get("nominal_code") == nominal_code:
            return link_to("ledger_accounts", account)
    return None


# ---------------------------------------------------------------------------------------------- tax profiles


def vat_profile(ctx: Context) -> dict[str, Any]:
    """The business's UK VAT tax profile (created on first use)."""
    for profile in ctx.store.all(ctx.business_id, "tax_profiles"):
        if profile["tax_type"]["id"] == "GB_VAT":
            return profile
    profile_id = ctx.new_id("tax_profile")
    registered = _vat_registered(ctx)
    profile = {
        "id": profile_id,
        "displayed_as": TAX_TYPES["GB_VAT"],
        "$path": f"/tax_profiles/{profile_id}",
        "created_at": ctx.now_iso,
        "updated_at": ctx.now_iso,
        "tax_type": link("tax_types", "GB_VAT", TAX_TYPES["GB_VAT"]),
        "tax_number": ctx.business.get("_vat_number") if registered else None,
        "tax_number_suffix": None,
        "collect_tax": registered,
        "tax_return_frequency": link("tax_return_frequencies", "QUARTERLY", "Quarterly") if registered else None,
        "address_region": None,
    }
    ctx.store.insert(ctx.business_id, "tax_profiles", profile)
    return profile


def _apply_tax_fields(problems: Problems, profile: dict[str, Any], payload: Mapping[str, Any]) -> None:
    if "tax_number" in payload:
        number = None if blank(payload["tax_number"]) else re.sub(r"\s", "", str(payload["tax_number"])).upper()
        if number and not _VAT_NUMBER.match(number):
            problems.add("tax_number", f"is not a UK VAT number (GB followed by 9 digits): {payload['tax_number']!r}")
        profile["tax_number"] = number
    frequency = pick(problems, payload, "tax_return_frequency_id", TAX_RETURN_FREQUENCIES, "tax_return_frequencies")
    if frequency is not None:
        profile["tax_return_frequency"] = frequency


class TaxProfiles(Collection):
    name = "tax_profiles"
    definition = "TaxProfile"
    root_key = "tax_profile"
    label = "tax profile"
    operations = frozenset({"list", "get", "update"})

    def records(self, ctx: Context) -> list[dict[str, Any]]:
        vat_profile(ctx)
        return super().records(ctx)

    def update(self, ctx: Context, record: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        problems = Problems()
        check_lengths(problems, "TaxProfile", payload)
        wanted = payload.get("tax_type_id")
        if not blank(wanted) and wanted != record["tax_type"]["id"]:
            problems.add("tax_type_id", "cannot be changed")
        if payload.get("address_region") is not None:
            problems.add("address_region", "address regions are Canada only")
        if isinstance(payload.get("collect_tax"), bool):
            record["collect_tax"] = payload["collect_tax"]
        if "tax_number_suffix" in payload:
            record["tax_number_suffix"] = None if blank(payload["tax_number_suffix"]) else payload["tax_number_suffix"]
        _apply_tax_fields(problems, record, payload)
        if record.get("collect_tax") and not record.get("tax_number"):
            problems.add("tax_number", "is required when collect_tax is true")
        problems.raise_if_any()
        record["updated_at"] = ctx.now_iso
        ctx.put(self.name, record)
        return record


# ---------------------------------------------------------------------------------------------- singletons


class Singleton(Collection):
    """A settings object of the business: ``GET`` and ``PUT`` on ``/<name>`` itself."""

    singleton: ClassVar[bool] = True
    operations = frozenset({"get", "update"})

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if "name" in cls.__dict__:
            cls.root_key = cls.name
            cls.label = cls.name.replace("_", " ")
        super().__init_subclass__(**kwargs)

    def defaults(self, ctx: Context) -> dict[str, Any]:
        raise NotImplementedError

    def records(self, ctx: Context) -> list[dict[str, Any]]:
        return [self.load(ctx, "")]

    def load(self, ctx: Context, key: str) -> dict[str, Any]:
        del key
        record = ctx.store.get(ctx.business_id, self.name, SETTINGS_KEY)
        if record is None:
            record = {"id": SETTINGS_KEY, "$path": f"/{self.name}", "updated_at": ctx.now_iso, **self.defaults(ctx)}
            ctx.store.insert(ctx.business_id, self.name, record)
        return record

    def render_many(self, ctx: Context, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        result = []
        for record in records:
            obj = public(record)
            obj.pop("id", None)
            result.append(self.decorate(ctx, obj))
        return result

    def decorate(self, ctx: Context, obj: dict[str, Any]) -> dict[str, Any]:
        """Fields computed at read time (from other records)."""
        del ctx
        return obj

    def update(self, ctx: Context, record: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        problems = Problems()
        check_lengths(problems, self.definition, payload)
        self.apply(ctx, problems, record, payload)
        problems.raise_if_any()
        record["updated_at"] = ctx.now_iso
        ctx.put(self.name, record)
        return record

    def apply(self, ctx: Context, problems: Problems, record: dict[str, Any], payload: Mapping[str, Any]) -> None:
        raise NotImplementedError


class FinancialSettings(Singleton):
    name = "financial_settings"
    definition = "FinancialSettings"

    def defaults(self, ctx: Context) -> dict[str, Any]:
        registered = _vat_registered(ctx)
        started = str(ctx.business.get("created_at") or ctx.now_iso)[:10]
        scheme = str(ctx.business.get("_tax_scheme") or ("STANDARD" if registered else "NOT_REGISTERED"))
        on_cash = scheme in ("CASH", "FLAT_RATE_CASH")
        flat_rate = ctx.business.get("_flat_rate_percentage") if scheme.startswith("FLAT_RATE") else None
        # the flat rate business files its returns outside Sage: not connected to HMRC's Making Tax Digital
        mtd = registered and not scheme.startswith("FLAT_RATE")
        return {
            "year_end_date": next_year_end(ctx.today).isoformat(),
            "year_end_lockdown_date": None,
            "accounting_type": "accrual" if registered else "cash",
            "accounts_start_date": started,
            "base_currency": link("currencies", "GBP", CURRENCY_NAMES["GBP"]),
            "multi_currency_enabled": False,
            "use_live_exchange_rates": False,
            "mtd_activation_status": "active" if mtd else "not_active",
            "mtd_connected": mtd,
            "mtd_authenticated_date": started if mtd else None,
            "tax_scheme": link("tax_schemes", scheme, TAX_SCHEMES[scheme]),
            "general_tax_number": None,
            "tax_office": None,
            "default_irpf_rate": None,
            "flat_rate_tax_percentage": flat_rate,
            "recoverable_percentage": None,
            "sales_tax_calculation": "cash" if on_cash else "invoice",
            "purchase_tax_calculation": "cash" if on_cash else "invoice",
            "postponed_accounting": False,
            "destination_vat": False,
        }

    def decorate(self, ctx: Context, obj: dict[str, Any]) -> dict[str, Any]:
        profile = vat_profile(ctx)
        obj["tax_number"] = profile.get("tax_number")
        obj["tax_return_frequency"] = profile.get("tax_return_frequency")
        return obj

    def apply(self, ctx: Context, problems: Problems, record: dict[str, Any], payload: Mapping[str, Any]) -> None:
        if not blank(payload.get("base_currency_id")) and payload["base_currency_id"] != "GBP":
            problems.add("base_currency_id", "cannot be changed: the business's base currency is GBP")
        if payload.get("multi_currency_enabled") is True:
            problems.add("multi_currency_enabled", "foreign currencies are not emulated by the sandbox")
        for name, allowed in (
            ("accounting_type", ("accrual", "cash")),
            ("sales_tax_calculation", ("invoice", "cash")),
            ("purchase_tax_calculation", ("invoice", "cash")),
        ):
            if not blank(payload.get(name)):
                if payload[name] not in allowed:
                    problems.add(name, "must be one of " + ", ".join(allowed))
                else:
                    record[name] = payload[name]
        scheme = pick(problems, payload, "tax_scheme_id", TAX_SCHEMES, "tax_schemes")
        if scheme is not None:
            record["tax_scheme"] = scheme
        for name in ("year_end_date", "year_end_lockdown_date", "accounts_start_date", "mtd_authenticated_date"):
            if name in payload:
                if blank(payload[name]) and name in ("year_end_date", "accounts_start_date"):
                    problems.add(name, "can't be blank")
                else:
                    record[name] = None if blank(payload[name]) else str(payload[name])
        lockdown, year_end = record.get("year_end_lockdown_date"), record.get("year_end_date")
        if lockdown and year_end and lockdown > year_end:
            problems.add("year_end_lockdown_date", "must be on or before the year end date")
        for name in ("flat_rate_tax_percentage", "recoverable_percentage", "default_irpf_rate"):
            if name in payload:
                value = payload[name]
                if value is not None and not 0 <= to_decimal(value) <= 100:
                    problems.add(name, "must be between 0 and 100")
                record[name] = None if value is None else decimal_str(to_decimal(value))
        for name in ("use_live_exchange_rates", "mtd_connected", "postponed_accounting", "destination_vat"):
            if isinstance(payload.get(name), bool):
                record[name] = payload[name]
        for name in ("mtd_activation_status", "general_tax_number"):
            if name in payload:
                record[name] = payload[name]
        if not blank(payload.get("tax_office_id")):
            problems.add("tax_office_id", "tax offices are Spain only")
        if "tax_number" in payload or "tax_return_frequency_id" in payload:
            profile = vat_profile(ctx)
            _apply_tax_fields(problems, profile, payload)
            if profile.get("collect_tax") and not profile.get("tax_number"):
                problems.add("tax_number", "is required while VAT is collected")
            if not problems:
                profile["updated_at"] = ctx.now_iso
                ctx.put("tax_profiles", profile)


class InvoiceSettings(Singleton):
    name = "invoice_settings"
    definition = "InvoiceSettings"

    def defaults(self, ctx: Context) -> dict[str, Any]:
        del ctx
        texts = dict.fromkeys(
            (
                "invoice_terms_and_conditions",
                "default_note_on_invoice",
                "default_note_on_credit_note",
                "default_note_on_estimate",
                "default_note_on_quote",
                "quote_terms_and_conditions",
                "estimate_terms_and_conditions",
                "delivery_note_terms_and_conditions",
                "insurance_area",
                "insurance_type",
                "insurance_text",
            )
        )
        return {
            **texts,
            "invoice_terms_and_conditions": "Payment is due within 30 days of the invoice date.",
            "separate_invoice_credit_note_numbering": True,
            **_FIXED_PREFIXES,
            "quote_default_days_to_expiry": 30,
            "estimate_default_days_to_expiry": 30,
            "delivery_note_show_signature": True,
            "delivery_note_show_picked": False,
            "delivery_note_show_notes": True,
            "delivery_note_show_contact_details": True,
            "quick_entry_prefix": "QE-",
            "late_payment_percentage": None,
            "prompt_payment_percentage": None,
            "show_auto_entrepreneur": False,
            "show_insurance": False,
            "insurer": None,
            "payment_bank_account": None,
            "sales_corrective_invoice_number_prefix": "SCI-",
            "next_sales_corrective_invoice_number": 1,
            "document_headings": {
                "sales_invoice": "Sales Invoice",
                "sales_credit_note": "Credit Note",
                "sales_corrective_invoice": "Corrective Invoice",
                "sales_quote": "Quote",
                "sales_estimate": "Estimate",
                "pro_forma": "Pro-Forma Invoice",
                "remittance_advice": "Remittance Advice",
                "statement": "Statement",
                "delivery_note": "Delivery Note",
            },
            "line_item_titles": {
                "description": "Description",
                "unit_price": "Unit Price",
                "quantity": "Qty",
                "discount": "Discount",
            },
            "footer_details": {"column_1": None, "column_2": None, "column_3": None},
            "print_contact_details": {
                "business_name": True,
                "website": True,
                "telephone": True,
                "mobile": False,
                "email_address": True,
                "due_date": True,
                "default_delivery_address": "INVOICE_ADDRESS",
            },
            "print_statements": {"days_overdue": True, "table_of_balances": True},
            "customer_credit_days": 30,
            "vendor_credit_days": 30,
            "customer_credit_terms": "date_from_invoice",
            "vendor_credit_terms": "date_from_payment",
        }

    def decorate(self, ctx: Context, obj: dict[str, Any]) -> dict[str, Any]:
        for field, sequence in _SEQUENCES.items():
            obj[field] = ctx.store.peek_value(ctx.business_id, sequence) + 1
        return obj

    def apply(self, ctx: Context, problems: Problems, record: dict[str, Any], payload: Mapping[str, Any]) -> None:
        for field, sequence in _SEQUENCES.items():
            wanted = payload.get(field)
            if wanted is None:
                continue
            used = ctx.store.peek_value(ctx.business_id, sequence)
            if int(wanted) <= used:
                problems.add(field, f"must be greater than {used}, the last number used")
            elif not problems:
                ctx.store.execute(
                    "INSERT OR REPLACE INTO sequences (business_id, name, value) VALUES (?, ?, ?)",
                    (ctx.business_id, sequence, int(wanted) - 1),
                )
        for field, prefix in _FIXED_PREFIXES.items():
            if field in payload and payload[field] != prefix:
                problems.add(field, f"is fixed at {prefix!r} in the sandbox")
        limits = max_lengths("InvoiceSettings")
        for field, value in payload.items():
            if field in _SEQUENCES or field in _FIXED_PREFIXES or field in ("insurer_id", "payment_bank_account_id"):
                continue
            if isinstance(value, Mapping):
                merged = dict(record.get(field) or {})
                merged.update(value)
                record[field] = merged
            elif field in limits or field in record:
                record[field] = value
        if "insurer_id" in payload:
            insurer = None if blank(payload["insurer_id"]) else ctx.get("contacts", str(payload["insurer_id"]))
            if not blank(payload["insurer_id"]) and insurer is None:
                problems.add("insurer_id", f"The contact {payload['insurer_id']!r} was not found.")
            record["insurer"] = link_to("contacts", insurer) if insurer else None
        if "payment_bank_account_id" in payload:
            wanted_id = payload["payment_bank_account_id"]
            bank = None if blank(wanted_id) else ctx.get("bank_accounts", str(wanted_id))
            if not blank(wanted_id) and bank is None:
                problems.add("payment_bank_account_id", f"The bank account {wanted_id!r} was not found.")
            record["payment_bank_account"] = link_to("bank_accounts", bank) if bank else None
        for field in ("customer_credit_days", "vendor_credit_days"):
            value = record.get(field)
            if value is not None and not 0 <= int(value) <= 365:
                problems.add(field, "must be between 0 and 365")


class BusinessSettings(Singleton):
    name = "business_settings"
    definition = "BusinessSettings"

    def defaults(self, ctx: Context) -> dict[str, Any]:
        business_type = "LIMITED_COMPANY" if str(ctx.business.get("name", "")).endswith("Ltd") else "SOLE_TRADER"
        return {
            "siret": None,
            "management_centre_member": False,
            "rcs_number": None,
            "share_capital": "100.00" if business_type == "LIMITED_COMPANY" else None,
            "business_activity_type": None,
            "legal_form_type": None,
            "auxiliary_accounts_visible": False,
            "default_ledger_accounts": {
                field: _account_link(ctx, code) for field, code in _DEFAULT_LEDGER_ACCOUNTS.items()
            },
            "business_type": business_type_object(business_type),
            "country_of_registration": link("countries_of_registration", "GB-ENG", COUNTRIES_OF_REGISTRATION["GB-ENG"]),
            "business_created_at": ctx.business.get("created_at"),
            "wizard_complete": True,
        }

    def apply(self, ctx: Context, problems: Problems, record: dict[str, Any], payload: Mapping[str, Any]) -> None:
        for name in ("siret", "rcs_number"):
            if name in payload:
                record[name] = None if blank(payload[name]) else str(payload[name])
        for name in ("management_centre_member", "auxiliary_accounts_visible", "wizard_complete"):
            if isinstance(payload.get(name), bool):
                record[name] = payload[name]
        if "share_capital" in payload:
            value = payload["share_capital"]
            record["share_capital"] = None if value is None else decimal_str(to_decimal(value))
        for name in ("business_activity_type_id", "legal_form_type_id"):
            if not blank(payload.get(name)):
                problems.add(name, "is France and Spain only")
        business_type = pick(problems, payload, "business_type_id", BUSINESS_TYPES, "business_types")
        if business_type is not None:
            record["business_type"] = business_type_object(business_type["id"])
        country = pick(
            problems, payload, "country_of_registration_id", COUNTRIES_OF_REGISTRATION, "countries_of_registration"
        )
        if country is not None:
            record["country_of_registration"] = country
        defaults = payload.get("default_ledger_accounts")
        if isinstance(defaults, Mapping):
            current = dict(record.get("default_ledger_accounts") or {})
            for key, account_id in defaults.items():
                field = key.removesuffix("_id")
                if blank(account_id):
                    current[field] = None
                    continue
                account = ctx.get("ledger_accounts", str(account_id))
                if account is None:
                    problems.add(f"default_ledger_accounts.{key}", f"The ledger account {account_id!r} was not found.")
                else:
                    current[field] = link_to("ledger_accounts", account)
            record["default_ledger_accounts"] = current


def settings_collections() -> list[Collection]:
    return [FinancialSettings(), InvoiceSettings(), BusinessSettings(), TaxProfiles()]
