"""``/contacts``: list, get, create, update (partial), delete (only without transactions)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sage_mcp.money import ZERO, money, to_decimal

from ..context import Context, currency_link, link, public
from ..errors import Problems, invalid
from ..store import INDEX_SEPARATOR
from .base import Collection, Condition, Query, Record, sort_key
from .common import (
    BANK_DETAIL_FIELDS,
    CONTACT_PERSON_TYPES,
    PERSON_TEXT_FIELDS,
    apply_person,
    blank,
    build_address,
    check_lengths,
    merge_object,
    require,
    taken,
    vat_number_problem,
)
from .settlement import contact_balances

__all__ = ["CONTACT_PERSON_TYPES", "CONTACT_TYPES", "Contacts", "contact_displayed_as", "contact_type_ids"]

CONTACT_TYPES = {"CUSTOMER": "Customer", "VENDOR": "Supplier"}
_TEXT_FIELDS = (
    "tax_number",
    "notes",
    "locale",
    "credit_terms",
    "credit_terms_and_conditions",
    "source_guid",
    "aux_reference",
    "registered_number",
    "tax_calculation",
    "auxiliary_account",
)
_TAX_TREATMENT_FIELDS = ("home_tax", "eu_tax_registered", "eu_not_tax_registered", "rest_of_world_tax", "is_importer")


def contact_displayed_as(name: str, reference: str | None) -> str:
    return f"{name} ({reference})" if reference else name


def contact_type_ids(contact: Mapping[str, Any]) -> list[str]:
    return [str(t["id"]) for t in contact.get("contact_types") or []]


def _person(
    ctx: Context, problems: Problems, payload: Mapping[str, Any], existing: Mapping[str, Any] | None
) -> dict[str, Any]:
    person: dict[str, Any] = dict(existing) if existing else {}
    if not person:
        person_id = ctx.new_id("contact_person")
        person.update(
            {
                "id": person_id,
                "$path": f"/contact_persons/{person_id}",
                "created_at": ctx.now_iso,
                "deleted_at": None,
                "contact_person_types": [link("contact_person_types", "ACCOUNTS", "Accounts")],
                "is_main_contact": True,
                "is_preferred_contact": False,
                "address": None,
            }
        )
        for name in PERSON_TEXT_FIELDS:
            person[name] = None
    apply_person(problems, person, payload, "main_contact_person.")
    person["updated_at"] = ctx.now_iso
    person["displayed_as"] = person.get("name") or ""
    return person


class Contacts(Collection):
    name = "contacts"
    definition = "Contact"
    root_key = "contact"
    label = "contact"
    operations = frozenset({"list", "get", "create", "update", "delete"})
    #: ``search`` also looks in the e-mail addresses (:meth:`search_parts`)
    search_fields = ("name", "reference")
    sql_lists = True

    # ------------------------------------------------------------------ reading

    def conditions(self, ctx: Context, query: Query) -> list[Condition]:
        result = super().conditions(ctx, query)
        type_id = (query.get("contact_type_id") or "").strip().upper()
        if type_id:
            sql = None if INDEX_SEPARATOR in type_id else "instr(kind, ?) > 0"
            param = INDEX_SEPARATOR + type_id + INDEX_SEPARATOR
            result.append(Condition(lambda c: type_id in contact_type_ids(c), sql, (param,)))
        email = (query.get("email") or "").strip().casefold()
        if email:
            result.append(Condition(lambda c: email in _emails(c)))
        return result

    def search_parts(self, record: Record) -> list[str]:
        return [*super().search_parts(record), *(e.casefold() for e in sorted(_emails(record)))]

    def order_key(self, record: Record) -> bytes:
        """By name (case-insensitive), then id."""
        return sort_key(str(record.get("name") or "").casefold(), record["id"])

    def render_many(self, ctx: Context, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        balances, with_invoices = contact_balances(ctx, [r["id"] for r in records])
        result = []
        for record in records:
            obj = public(record)
            obj["balance"] = money(balances.get(record["id"], ZERO))
            obj["deletable"] = record["id"] not in with_invoices
            result.append(obj)
        return result

    # ------------------------------------------------------------------ writing

    def create(self, ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
        contact_id = ctx.new_id("contact")
        record: dict[str, Any] = {
            "id": contact_id,
            "displayed_as": "",
            "$path": f"/contacts/{contact_id}",
            "created_at": ctx.now_iso,
            "updated_at": ctx.now_iso,
            "deleted_at": None,
            "contact_types": [],
            "name": "",
            "reference": None,
            "default_sales_ledger_account": None,
            "default_sales_tax_rate": None,
            "default_purchase_ledger_account": None,
            "main_address": None,
            "delivery_address": None,
            "main_contact_person": None,
            "bank_account_details": None,
            "credit_limit": money(ZERO),
            "credit_days": None,
            "product_sales_price_type": None,
            "currency": currency_link("GBP"),
            "tax_treatment": {
                "home_tax": True,
                "eu_tax_registered": False,
                "eu_not_tax_registered": False,
                "rest_of_world_tax": False,
                "is_importer": False,
            },
            "email": None,
            "gdpr_obfuscated": False,
            "system": False,
            "has_unfinished_recurring_invoices": False,
            "cis_registered": False,
            "ni_based": False,
            "is_active": True,
            "gb_based": True,
            "cis_settings": None,
            "destination_vat_blocking": False,
        }
        for name in _TEXT_FIELDS:
            record[name] = None
        problems = Problems()
        require(problems, payload, ("name", "contact_type_ids"), creating=True)
        self._apply(ctx, problems, record, payload)
        problems.raise_if_any()
        ctx.put_new(self.name, record)
        return record

    def update(self, ctx: Context, record: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        problems = Problems()
        require(problems, payload, ("name", "contact_type_ids"), creating=False)
        before = contact_type_ids(record)
        self._apply(ctx, problems, record, payload)
        if before != contact_type_ids(record) and _has_invoices(ctx, record["id"]):
            problems.add("contact_type_ids", "cannot be changed: the contact has transactions")
        problems.raise_if_any()
        record["updated_at"] = ctx.now_iso
        ctx.put(self.name, record)
        return record

    def check_delete(self, ctx: Context, record: Mapping[str, Any]) -> None:
        if _has_invoices(ctx, record["id"]):
            raise invalid("base", "This contact has transactions and cannot be deleted.")

    def _apply(self, ctx: Context, problems: Problems, record: dict[str, Any], payload: Mapping[str, Any]) -> None:
        check_lengths(problems, "Contact", payload)
        if not blank(payload.get("name")):
            record["name"] = str(payload["name"]).strip()
        if not blank(payload.get("contact_type_ids")):
            ids = [str(t).upper() for t in payload["contact_type_ids"]]
            if len(ids) != 1 or ids[0] not in CONTACT_TYPES:
                problems.add("contact_type_ids", "must be exactly one of CUSTOMER or VENDOR")
            else:
                record["contact_types"] = [link("contact_types", ids[0], CONTACT_TYPES[ids[0]])]
        if "reference" in payload:
            reference = None if blank(payload["reference"]) else str(payload["reference"]).strip()
            if reference and taken(ctx, "contacts", "reference", reference, record["id"]):
                problems.add("reference", "has already been taken")
            record["reference"] = reference
        for name in _TEXT_FIELDS:
            if name in payload:
                record[name] = None if blank(payload[name]) else str(payload[name])
        if ctx.config.strict and "tax_number" in payload and not blank(payload["tax_number"]):
            why = vat_number_problem(str(payload["tax_number"]))
            if why:
                problems.add("tax_number", why)
        if "credit_days" in payload:
            days = payload["credit_days"]
            if days is not None and not 0 <= int(days) <= 365:
                problems.add("credit_days", "must be between 0 and 365")
            record["credit_days"] = days
        if "credit_limit" in payload:
            limit = ZERO if payload["credit_limit"] is None else to_decimal(payload["credit_limit"])
            if limit < ZERO:
                problems.add("credit_limit", "must be greater than or equal to 0")
            record["credit_limit"] = money(limit)
        if not blank(payload.get("currency_id")) and payload["currency_id"] != "GBP":
            problems.add("currency_id", "must be GBP (the sandbox has no foreign currencies yet)")
        if isinstance(payload.get("destination_vat_blocking"), bool):
            record["destination_vat_blocking"] = payload["destination_vat_blocking"]
        for field, resource, label in (
            ("default_sales_ledger_account_id", "ledger_accounts", "ledger account"),
            ("default_purchase_ledger_account_id", "ledger_accounts", "ledger account"),
            ("default_sales_tax_rate_id", "tax_rates", "tax rate"),
        ):
            if field not in payload:
                continue
            target = field.removesuffix("_id")
            if blank(payload[field]):
                record[target] = None
                continue
            found = ctx.get(resource, str(payload[field]))
            if found is None:
                problems.add(field, f"The {label} {payload[field]!r} was not found.")
            else:
                record[target] = link(resource, found["id"], found["displayed_as"])
        owner = link("contacts", record["id"], record["name"])
        for field, default_type, is_main in (
            ("main_address", "ACCOUNTS", True),
            ("delivery_address", "DELIVERY", False),
        ):
            if field in payload:
                value = payload[field]
                record[field] = (
                    None
                    if value is None
                    else build_address(
                        ctx,
                        problems,
                        field,
                        value,
                        record.get(field),
                        default_type=default_type,
                        is_main=is_main,
                        owner=owner,
                    )
                )
        if "main_contact_person" in payload:
            value = payload["main_contact_person"]
            record["main_contact_person"] = (
                None if value is None else _person(ctx, problems, value, record.get("main_contact_person"))
            )
        merge_object(record, payload, "bank_account_details", BANK_DETAIL_FIELDS)
        if isinstance(payload.get("tax_treatment"), Mapping):
            treatment = dict(record.get("tax_treatment") or {})
            treatment.update(
                {k: v for k, v in payload["tax_treatment"].items() if k in _TAX_TREATMENT_FIELDS and v is not None}
            )
            record["tax_treatment"] = treatment
        person = record.get("main_contact_person")
        record["email"] = person.get("email") if person else None
        address = record.get("main_address")
        record["gb_based"] = not address or address.get("country", {}).get("id") == "GB"
        record["displayed_as"] = contact_displayed_as(record["name"], record.get("reference"))


def _emails(contact: Mapping[str, Any]) -> set[str]:
    found = {str(contact.get("email") or "").casefold()}
    person = contact.get("main_contact_person") or {}
    found.add(str(person.get("email") or "").casefold())
    found.discard("")
    return found


def _has_invoices(ctx: Context, contact_id: str) -> bool:
    """Whether the contact has artefacts, payments or allocations (see :mod:`.settlement`)."""
    return contact_id in contact_balances(ctx, [contact_id])[1]
