"""What reports read: ``GET /trial_balance`` (Sage's Reporting API) and ``/unallocated_artefacts``.

**Trial balance** (``GET /trial_balance?from_date=YYYY-MM-DD&to_date=YYYY-MM-DD``; both required, plain
dates or date-times, ``to_date`` not before ``from_date``, else a 422 naming the parameter).  Not paginated,
business-scoped by ``X-Business`` like every other endpoint.  The answer, in the shape of Sage's published
example (announcement 2020-05-20)::

    {"from_date": "2025-04-01", "to_date": "2025-06-30",
     "ledger_accounts": [
        {"id": "...", "displayed_as": "Trade Debtors (1100)", "$path": "/ledger_accounts/...",
         "nominal_code": 1100,                                   # sandbox extension
         "opening_balance": {"debit": "444.00", "credit": "0"},  # balance before from_date
         "debit": "333.00", "credit": "0",                       # posted from from_date to to_date
         "closing_balance": {"debit": "777.00", "credit": "0"}}, # balance at the end of to_date
        ...],
     "totals": {"opening_balance": {"debit", "credit"}, "debit", "credit",   # sandbox extension
                "closing_balance": {"debit", "credit"}}}

* A balance is net, on one side, the other side ``"0"``: debit when debits exceed credits.  Opening is
  every entry dated before ``from_date`` (all earlier years too: no year-end roll into retained
  earnings, as Sage's report shows by default); closing = opening + debit - credit.
* Amounts are decimal strings with two decimals, zero written ``"0"`` (Sage's example mixes ``"444.00"``
  and ``"0"``): parse them as decimals.
* One row per ledger account with a non-zero opening or closing balance or any movement in the period,
  ordered by nominal code.  Entries of voided or deleted transactions are left out (their mirror entries
  are dated on the original date, so they net to nothing in every period); to get identical debits and
  credits from ``/ledger_accounts?show_balance_details=true&from_date&to_date``, add
  ``exclude_deleted_entries=true`` (without it the period columns also carry both halves of each void,
  the balances are the same).
* ``nominal_code`` and ``totals`` are **sandbox extensions**, not in Sage's example: real Sage may not send
  them (the nominal code is also in ``displayed_as``; totals are the column sums).  The answer is declared
  in our supplement to the shipped spec (``sage/openapi/sage-accounting-v3.1-reporting-supplement
  .openapi.json``), so the generic tools can call it and the conformance recorder checks it.

**Unallocated artefacts** (``GET /unallocated_artefacts``, ``GET /unallocated_artefacts/{key}``): the
money on account of customers and suppliers - payments on account (the unallocated part of a customer
receipt or supplier payment) and sales and purchase credit notes, each while something of it is still
unallocated (``outstanding_amount`` > 0; drafts and voids never).  Filters as the spec lists them:
``contact_id``, ``search`` (contact name or reference, the artefact's reference or number; case-insensitive),
``attributes`` and paging; newest first (date, then id).  The spec's ``UnallocatedArtefact`` declares only
``id``, ``displayed_as``, ``$path`` and ``links``; with ``attributes`` (``all`` or names) the sandbox also
answers, as Sage's ``PaymentOnAccount`` names them: ``created_at``, ``updated_at``, ``contact`` (link),
``contact_name``, ``contact_reference``, ``date``, ``reference``, ``net_amount``, ``tax_amount``,
``total_amount``, ``outstanding_amount`` (what is still unallocated, positive), ``currency``,
``exchange_rate``, ``base_currency_total_amount``, ``base_currency_outstanding_amount``, and
``transaction_type`` (link: ``CUSTOMER_RECEIPT`` or ``VENDOR_PAYMENT`` for a payment on account,
``SALES_CREDIT_NOTE`` or ``PURCHASE_CREDIT_NOTE`` for a credit note: customer side or supplier side).
``$path`` is ``/unallocated_artefacts/{id}`` for a payment on account and the credit note's own path
(``/sales_credit_notes/{id}``) for a credit note; ``/unallocated_artefacts/{id}`` answers both.  These
extra fields are the sandbox's choice (the spec names none): a client should fall back to the linked
document where they are absent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from sage_mcp.money import ZERO, money, to_decimal

from ..context import Context, link
from ..errors import Problems, invalid, not_found
from ..ledger import TRANSACTION_TYPES
from .base import Collection, Query, link_condition, query_date, sort_key
from .ledger_accounts import ledger_totals
from .settlement import OPEN_STATUSES, PAYMENTS_ON_ACCOUNT

#: Fields of an unallocated artefact besides the spec's base (``id``, ``displayed_as``, ``$path``, ``links``).
UNALLOCATED_FIELDS = (
    "created_at",
    "updated_at",
    "transaction_type",
    "contact",
    "contact_name",
    "contact_reference",
    "date",
    "reference",
    "net_amount",
    "tax_amount",
    "total_amount",
    "outstanding_amount",
    "currency",
    "exchange_rate",
    "base_currency_total_amount",
    "base_currency_outstanding_amount",
)
#: credit note collection -> transaction type of the unallocated artefact
_CREDIT_NOTES = {"sales_credit_notes": "SALES_CREDIT_NOTE", "purchase_credit_notes": "PURCHASE_CREDIT_NOTE"}
#: contact type of a payment on account -> transaction type of the payment it came from
_PAYMENT_TYPES = {"CUSTOMER": "CUSTOMER_RECEIPT", "VENDOR": "VENDOR_PAYMENT"}


def report_amount(value: Decimal) -> str:
    """An amount as Sage's trial balance writes it: ``"444.00"``, zero as ``"0"``."""
    return "0" if value == ZERO else money(value)


def _sides(net: Decimal) -> dict[str, str]:
    """A net balance (debits minus credits) on its side, the other side ``"0"``."""
    return {"debit": report_amount(max(net, ZERO)), "credit": report_amount(max(-net, ZERO))}


def trial_balance_window(query: Query) -> tuple[str, str]:
    """``(from_date, to_date)`` of a trial balance request; both are required (422 otherwise)."""
    problems = Problems()
    bounds: list[str] = []
    for name in ("from_date", "to_date"):
        if not (query.get(name) or "").strip():
            problems.add(name, "is required (YYYY-MM-DD)")
            bounds.append("")
        else:
            bounds.append(query_date(query, name) or "")
    problems.raise_if_any()
    if bounds[1] < bounds[0]:
        raise invalid("to_date", "must be on or after from_date")
    return bounds[0], bounds[1]


def build_trial_balance(ctx: Context, from_date: str, to_date: str) -> dict[str, Any]:
    """The ``TrialBalance`` answer for the window (see the module docstring)."""
    before = _day_before(from_date)
    opening = ledger_totals(ctx, to_date=before, exclude_deleted=True) if before else {}
    period = ledger_totals(ctx, from_date=from_date, to_date=to_date, exclude_deleted=True)
    accounts = sorted(ctx.by_id("ledger_accounts").values(), key=lambda a: (int(a["nominal_code"]), a["id"]))
    rows = []
    sums = {"opening_debit": ZERO, "opening_credit": ZERO, "debit": ZERO, "credit": ZERO}
    sums.update({"closing_debit": ZERO, "closing_credit": ZERO})
    for account in accounts:
        opened_d, opened_c = opening.get(account["id"], (ZERO, ZERO))
        debit, credit = period.get(account["id"], (ZERO, ZERO))
        opening_net = opened_d - opened_c
        closing_net = opening_net + debit - credit
        if opening_net == ZERO and closing_net == ZERO and debit == ZERO and credit == ZERO:
            continue
        sums["opening_debit"] += max(opening_net, ZERO)
        sums["opening_credit"] += max(-opening_net, ZERO)
        sums["debit"] += debit
        sums["credit"] += credit
        sums["closing_debit"] += max(closing_net, ZERO)
        sums["closing_credit"] += max(-closing_net, ZERO)
        rows.append(
            {
                **link("ledger_accounts", str(account["id"]), str(account["displayed_as"])),
                "nominal_code": int(account["nominal_code"]),
                "opening_balance": _sides(opening_net),
                "debit": report_amount(debit),
                "credit": report_amount(credit),
                "closing_balance": _sides(closing_net),
            }
        )
    return {
        "from_date": from_date,
        "to_date": to_date,
        "ledger_accounts": rows,
        "totals": {
            "opening_balance": {
                "debit": report_amount(sums["opening_debit"]),
                "credit": report_amount(sums["opening_credit"]),
            },
            "debit": report_amount(sums["debit"]),
            "credit": report_amount(sums["credit"]),
            "closing_balance": {
                "debit": report_amount(sums["closing_debit"]),
                "credit": report_amount(sums["closing_credit"]),
            },
        },
    }


def _day_before(iso_date: str) -> str | None:
    day = dt.date.fromisoformat(iso_date)
    return None if day == dt.date.min else (day - dt.timedelta(days=1)).isoformat()


class TrialBalance(Collection):
    """``GET /trial_balance``: computed on every request from the ledger entries (nothing is stored)."""

    name = "trial_balance"
    definition = "TrialBalance"
    label = "trial balance"
    singleton: ClassVar[bool] = True
    operations = frozenset({"get"})

    def load(self, ctx: Context, key: str) -> dict[str, Any]:
        del key
        from_date, to_date = trial_balance_window(ctx.query)
        return build_trial_balance(ctx, from_date, to_date)

    def records(self, ctx: Context) -> list[dict[str, Any]]:
        return [self.load(ctx, "")]

    def render_many(self, ctx: Context, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        del ctx
        return [dict(r) for r in records]


# ---------------------------------------------------------------------------------------------- on account


def _unallocated(collection: str, record: Mapping[str, Any]) -> dict[str, Any]:
    if collection == PAYMENTS_ON_ACCOUNT:
        type_id = _PAYMENT_TYPES[str(record["_contact_type"])]
        path = f"/unallocated_artefacts/{record['id']}"
    else:
        type_id = _CREDIT_NOTES[collection]
        path = f"/{collection}/{record['id']}"
    obj: dict[str, Any] = {
        "id": record["id"],
        "displayed_as": record.get("displayed_as") or "",
        "$path": path,
        "links": [],
        "transaction_type": link("transaction_types", type_id, TRANSACTION_TYPES[type_id]),
    }
    for field in UNALLOCATED_FIELDS:
        if field != "transaction_type":
            obj[field] = record.get(field)
    if obj.get("base_currency_total_amount") is None:
        obj["base_currency_total_amount"] = record.get("total_amount")
    obj["base_currency_outstanding_amount"] = record.get("outstanding_amount")
    obj["_order"] = sort_key(str(record.get("date") or ""), str(record["id"]))
    obj["_search"] = " ".join(
        str(record.get(f) or "")
        for f in ("contact_name", "contact_reference", "reference", "displayed_as", "vendor_reference")
    ).casefold()
    return obj


def unallocated_artefacts(ctx: Context) -> list[dict[str, Any]]:
    """Every payment on account and credit note with something still unallocated (rendered objects)."""
    found = []
    for record in ctx.store.all(ctx.business_id, PAYMENTS_ON_ACCOUNT):
        if not record.get("deleted_at") and to_decimal(record["outstanding_amount"]) > ZERO:
            found.append(_unallocated(PAYMENTS_ON_ACCOUNT, record))
    for collection in _CREDIT_NOTES:
        for record in ctx.store.all(ctx.business_id, collection):
            if record["status"]["id"] in OPEN_STATUSES and to_decimal(record["outstanding_amount"]) > ZERO:
                found.append(_unallocated(collection, record))
    return found


class UnallocatedArtefacts(Collection):
    """``/unallocated_artefacts`` (list, get): payments on account and credit notes not yet used up."""

    name = "unallocated_artefacts"
    definition = "UnallocatedArtefact"
    label = "unallocated artefact"
    order_descending = True

    def records(self, ctx: Context) -> list[dict[str, Any]]:
        return unallocated_artefacts(ctx)

    def load(self, ctx: Context, key: str) -> dict[str, Any]:
        for record in self.records(ctx):
            if record["id"] == key:
                return record
        raise not_found(f"The {self.label} {key!r} was not found.")

    def filter(self, ctx: Context, items: list[dict[str, Any]], query: Query) -> list[dict[str, Any]]:
        items = super().filter(ctx, items, query)
        contact = link_condition(query, "contact_id", "contact")
        if contact is not None:
            items = [i for i in items if contact.keep(i)]
        needle = (query.get("search") or "").strip().casefold()
        if needle:
            items = [i for i in items if needle in i["_search"]]
        return items

    def order_key(self, record: Mapping[str, Any]) -> bytes:
        return bytes(record["_order"])
