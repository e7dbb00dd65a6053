"""Who has paid what: allocations of payments and credits to artefacts, and contact balances.

Every posted artefact (sales/purchase invoice or credit note) and every payment on account keeps
the list of what was allocated to it in the private ``_allocations`` key: one entry per payment or
contact allocation, ``{"source", "source_id", "amount", "discount", "date", ...}``, amounts positive
(what reduces the outstanding amount).  :func:`settle` derives everything else from that list, so
adding, changing or deleting a payment never has to patch totals incrementally:

* ``total_paid`` = sum of amounts and discounts; ``outstanding_amount`` = ``total_amount`` - ``total_paid``;
* status: ``PAID`` when nothing is outstanding, ``PART_PAID`` when something was allocated,
  ``UNPAID`` otherwise (``DRAFT`` and ``VOID`` never change here);
* ``last_paid`` = the latest allocation date; ``payments_allocations`` rendered from the entries.

Payments on account (the unallocated part of a receipt or supplier payment) are records of the
private ``payments_on_account`` resource (not routed; shown inside their ``contact_payment``).

This module imports no other resource module, so ``contacts`` can use it for balances.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sage_mcp.money import ZERO, money, to_decimal, total

from ..context import Context, link

#: collection -> (contact type, sign in a contact allocation: debits positive, credits negative)
ARTEFACT_KINDS: dict[str, tuple[str, int]] = {
    "sales_invoices": ("CUSTOMER", 1),
    "sales_credit_notes": ("CUSTOMER", -1),
    "purchase_invoices": ("VENDOR", 1),
    "purchase_credit_notes": ("VENDOR", -1),
}
PAYMENTS_ON_ACCOUNT = "payments_on_account"
OPEN_STATUSES = ("UNPAID", "PART_PAID")
STATUSES = {
    "DRAFT": "Draft",
    "UNPAID": "Unpaid",
    "PART_PAID": "Part Paid",
    "PAID": "Paid",
    "VOID": "Void",
}
#: Resources whose records tie a contact to its history (it can then not be deleted).
_CONTACT_HISTORY = ("contact_payments", "contact_allocations", "sales_quotes", "sales_estimates")


def status_link(status_id: str) -> dict[str, Any]:
    return link("artefact_statuses", status_id, STATUSES[status_id])


def generic_link(collection: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """A ``Generic`` reference to an artefact (``id``, ``displayed_as``, ``$path``, ``links``)."""
    return {
        "id": record["id"],
        "displayed_as": record.get("displayed_as") or "",
        "$path": record.get("$path") or f"/{collection}/{record['id']}",
        "links": [],
    }


def find_artefact(ctx: Context, artefact_id: str) -> tuple[str, dict[str, Any]] | None:
    """``(collection, record)`` of a live artefact or payment on account with this id."""
    for name in (*ARTEFACT_KINDS, PAYMENTS_ON_ACCOUNT):
        record = ctx.get(name, artefact_id)
        if record is not None and not record.get("deleted_at"):
            return name, record
    return None


def kind_of(collection: str, record: Mapping[str, Any]) -> tuple[str, int]:
    """Contact type and allocation sign of an artefact (payments on account are credits)."""
    if collection == PAYMENTS_ON_ACCOUNT:
        return str(record["_contact_type"]), -1
    return ARTEFACT_KINDS[collection]


def settle(record: dict[str, Any]) -> None:
    """Recompute paid/outstanding/status of an artefact from its ``_allocations``."""
    entries = record.get("_allocations") or []
    amount = total(to_decimal(e["amount"]) for e in entries)
    discount = total(to_decimal(e["discount"]) for e in entries)
    paid = amount + discount
    gross = to_decimal(record["total_amount"])
    status_id = record["status"]["id"]
    if status_id == "VOID":
        outstanding = ZERO
    elif status_id == "DRAFT":
        outstanding = gross
    else:
        outstanding = gross - paid
        new_status = "PAID" if outstanding == ZERO else "PART_PAID" if paid > ZERO else "UNPAID"
        if new_status != status_id:
            record["status"] = status_link(new_status)
    record["total_paid"] = money(paid)
    record["payments_allocations_total_amount"] = money(amount)
    record["payments_allocations_total_discount"] = money(discount)
    record["outstanding_amount"] = money(outstanding)
    record["base_currency_outstanding_amount"] = money(outstanding)
    record["last_paid"] = max((str(e["date"]) for e in entries), default=None)


def add_entry(record: dict[str, Any], entry: dict[str, Any]) -> None:
    record.setdefault("_allocations", []).append(entry)
    settle(record)


def remove_entries(record: dict[str, Any], source_id: str) -> None:
    record["_allocations"] = [e for e in record.get("_allocations") or [] if e["source_id"] != source_id]
    settle(record)


def make_entry(
    *,
    source: str,
    source_record: Mapping[str, Any],
    type_id: str,
    type_name: str,
    date: str,
    amount: Decimal,
    discount: Decimal = ZERO,
    counterpart: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "source": source,
        "source_id": source_record["id"],
        "source_displayed_as": source_record.get("displayed_as") or "",
        "reference": source_record.get("reference"),
        "type_id": type_id,
        "type_name": type_name,
        "date": date,
        "amount": money(amount),
        "discount": money(discount),
        "counterpart": counterpart,
    }


def payments_allocations(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``PaymentAllocation`` objects of an artefact (``show_payments_allocations=true``)."""
    result = []
    for e in record.get("_allocations") or []:
        source_link = link(str(e["source"]), str(e["source_id"]), str(e["source_displayed_as"]))
        result.append(
            {
                "links": [],
                "date": e["date"],
                "type": e["type_name"],
                "reference": e.get("reference"),
                "amount": e["amount"],
                "discount": e["discount"],
                "stripe_transaction_id": None,
                "contact_allocation": source_link if e["source"] == "contact_allocations" else None,
                "artefact": e.get("counterpart"),
                "contact_payment": source_link if e["source"] == "contact_payments" else None,
                "displayed_as": e["source_displayed_as"],
                "negative_payment": False,
            }
        )
    return result


def _live(rows: Iterable[tuple[Any, ...]]) -> Iterable[tuple[Any, ...]]:
    return (row for row in rows if not row[-1])


def contact_balances(ctx: Context, contact_ids: Iterable[str] | None = None) -> tuple[dict[str, Decimal], set[str]]:
    """What each contact owes or is owed, and the contacts that have any history (only for
    ``contact_ids`` when given: then only their records are read).

    A customer's balance is what it owes us: open sales invoices less open sales credit notes less
    unallocated receipts.  A supplier's balance is what we owe it: open purchase invoices less open
    purchase credit notes less unallocated payments.  Summed over customers it equals the Trade
    Debtors balance; over suppliers, the Trade Creditors balance.
    """
    store, business_id = ctx.store, ctx.business_id
    wanted = None if contact_ids is None else list(contact_ids)

    def rows(resource: str, *paths: str) -> list[tuple[Any, ...]]:
        if wanted is None:
            return store.fields(business_id, resource, *paths)
        return store.fields_of_contacts(business_id, resource, wanted, *paths)

    balances: dict[str, Decimal] = {}
    active: set[str] = set()
    for collection, (_, sign) in ARTEFACT_KINDS.items():
        found = rows(collection, "$.contact.id", "$.status.id", "$.outstanding_amount", "$.deleted_at")
        for contact_id, status_id, outstanding, _deleted in _live(found):
            active.add(contact_id)
            if status_id in OPEN_STATUSES:
                balances[contact_id] = balances.get(contact_id, ZERO) + sign * to_decimal(outstanding)
    for contact_id, outstanding in rows(PAYMENTS_ON_ACCOUNT, "$.contact.id", "$.outstanding_amount"):
        balances[contact_id] = balances.get(contact_id, ZERO) - to_decimal(outstanding)
    for collection in _CONTACT_HISTORY:
        active.update(row[0] for row in _live(rows(collection, "$.contact.id", "$.deleted_at")))
    return balances, active
