"""``/contact_payments`` and ``/contact_allocations``: list, get, create, update, delete (204).

Contact payments (``transaction_type_id``):

* ``CUSTOMER_RECEIPT`` - allocated to sales invoices; posts Dr bank / Dr Discounts Allowed (4009)
  with the discounts / Cr Trade Debtors (1100) with total plus discounts.
* ``VENDOR_PAYMENT`` - allocated to purchase invoices; Dr Trade Creditors (2100) with total plus
  discounts / Cr bank / Cr Discounts Taken (5009) with the discounts.
* ``CUSTOMER_REFUND`` - money back to a customer, allocated to sales credit notes or payments on
  account: Dr Trade Debtors / Cr bank.  ``VENDOR_REFUND`` - money back from a supplier, allocated to
  purchase credit notes or payments on account: Dr bank / Cr Trade Creditors.

``allocated_artefacts[]`` are ``{artefact_id, amount, discount}`` with positive amounts; each
artefact must belong to the payment's contact (422 otherwise), be unpaid or part paid ("You can
only pay unpaid or part-paid invoices."), and ``amount + discount`` may not exceed what is
outstanding on it.  ``total_amount`` may not be less than the sum allocated; the excess of a
receipt or supplier payment becomes a *payment on account* (refused on Accounting Start), shown in
``payment_on_account`` and usable in allocations and refunds by its id.  A refund must be allocated
in full.  A payment whose payment on account has been used cannot be edited or deleted (422).

Contact allocations (``CUSTOMER_ALLOCATION`` / ``VENDOR_ALLOCATION``) settle invoices against
credit notes and payments on account of one contact: invoices positive, credits negative, the sum
zero.  They move nothing between ledger accounts: the transaction debits and credits the control
account (1100 or 2100) with the same amount.

``bank_account_id`` is a ``/bank_accounts`` record (its ledger account is posted to) or, while a
business has no bank account records, a ledger account of type ``BANK`` (e.g. nominal 1200).
Deleting a payment or allocation un-allocates its artefacts, posts the mirror entries on the
original date and keeps the record as a tombstone for ``deleted_since``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from sage_mcp.money import ZERO, money, round_money, to_decimal, total

from ..context import Context, currency_link, link, public
from ..errors import Problems, invalid
from ..ledger import (
    CREDITORS_CONTROL,
    DEBTORS_CONTROL,
    Posting,
    account_by_nominal,
    post_transaction,
    replace_postings,
)
from .artefacts import dated_number_key, shaped
from .base import Collection, Condition, Query, Record, link_condition
from .common import blank, check_lengths
from .contacts import contact_type_ids
from .lifecycle import check_lockdown
from .reference import PAYMENT_METHODS
from .settlement import (
    OPEN_STATUSES,
    PAYMENTS_ON_ACCOUNT,
    add_entry,
    find_artefact,
    generic_link,
    kind_of,
    make_entry,
    remove_entries,
    settle,
    status_link,
)

DISCOUNTS_ALLOWED = 4009
DISCOUNTS_TAKEN = 5009
DEFAULT_PAYMENT_METHOD = "BANK_TRANSFER"


@dataclass(frozen=True)
class PaymentType:
    name: str
    contact_type: str
    targets: frozenset[str]
    refund: bool


PAYMENT_TYPES: dict[str, PaymentType] = {
    "CUSTOMER_RECEIPT": PaymentType("Customer Receipt", "CUSTOMER", frozenset({"sales_invoices"}), refund=False),
    "CUSTOMER_REFUND": PaymentType(
        "Customer Refund", "CUSTOMER", frozenset({"sales_credit_notes", PAYMENTS_ON_ACCOUNT}), refund=True
    ),
    "VENDOR_PAYMENT": PaymentType("Supplier Payment", "VENDOR", frozenset({"purchase_invoices"}), refund=False),
    "VENDOR_REFUND": PaymentType(
        "Supplier Refund", "VENDOR", frozenset({"purchase_credit_notes", PAYMENTS_ON_ACCOUNT}), refund=True
    ),
}
ALLOCATION_TYPES: dict[str, tuple[str, str, frozenset[str]]] = {
    "CUSTOMER_ALLOCATION": (
        "Customer Allocation",
        "CUSTOMER",
        frozenset({"sales_invoices", "sales_credit_notes", PAYMENTS_ON_ACCOUNT}),
    ),
    "VENDOR_ALLOCATION": (
        "Supplier Allocation",
        "VENDOR",
        frozenset({"purchase_invoices", "purchase_credit_notes", PAYMENTS_ON_ACCOUNT}),
    ),
}
_PARTY = {"CUSTOMER": "customer", "VENDOR": "supplier"}
_CONTROL = {"CUSTOMER": DEBTORS_CONTROL, "VENDOR": CREDITORS_CONTROL}
_SOURCE_ID = "allocated_artefacts.artefact_id"


def default_bank_account(ctx: Context) -> dict[str, Any]:
    """The bank account receipts go to by default: the ``bank_accounts`` record of nominal 1200 (or the
    first bank account), else the 1200 ledger account itself."""
    current = account_by_nominal(ctx, 1200)
    accounts = ctx.store.all(ctx.business_id, "bank_accounts")
    for account in accounts:
        if (account.get("ledger_account") or {}).get("id") == current["id"]:
            return account
    return accounts[0] if accounts else current


def resolve_bank_account(ctx: Context, bank_account_id: str) -> tuple[dict[str, Any], str] | None:
    """``(bank_account link, ledger account id to post to)`` or ``None`` when unknown."""
    record = ctx.get("bank_accounts", bank_account_id)
    if record is not None and (record.get("ledger_account") or {}).get("id"):
        return link("bank_accounts", record["id"], str(record["displayed_as"])), str(record["ledger_account"]["id"])
    if ctx.store.count(ctx.business_id, "bank_accounts"):
        return None
    account = ctx.get("ledger_accounts", bank_account_id)
    if account is not None and account["ledger_account_type"]["id"] == "BANK":
        return link("bank_accounts", account["id"], str(account["displayed_as"])), str(account["id"])
    return None


@dataclass
class _Line:
    collection: str
    artefact: dict[str, Any]
    amount: Decimal  # positive: what is taken off the artefact's outstanding amount
    discount: Decimal
    signed_amount: Decimal


def _check_lines(
    ctx: Context,
    problems: Problems,
    lines: list[Mapping[str, Any]],
    *,
    contact_id: str | None,
    allowed: frozenset[str],
    what: str,
    allow_discount: bool,
    signed: bool,
) -> list[_Line]:
    """Validate ``allocated_artefacts``; every problem names the item."""
    result: list[_Line] = []
    seen: set[str] = set()
    for index, line in enumerate(lines):
        where = f" (allocated_artefacts item {index + 1})"
        artefact_id = line.get("artefact_id")
        if blank(artefact_id):
            problems.add(_SOURCE_ID, "This field is required." + where)
            continue
        found = find_artefact(ctx, str(artefact_id))
        if found is None:
            problems.add(_SOURCE_ID, f"The artefact {artefact_id!r} was not found." + where)
            continue
        collection, artefact = found
        shown = str(artefact.get("displayed_as") or artefact["id"])
        if collection not in allowed:
            problems.add(_SOURCE_ID, f"{shown} cannot be allocated by a {what}" + where)
            continue
        if contact_id is not None and artefact["contact"]["id"] != contact_id:
            problems.add(_SOURCE_ID, f"{shown} belongs to another contact" + where)
            continue
        if artefact["id"] in seen:
            problems.add(_SOURCE_ID, f"{shown} appears more than once" + where)
            continue
        seen.add(artefact["id"])
        if artefact["status"]["id"] not in OPEN_STATUSES:
            problems.add(_SOURCE_ID, "You can only pay unpaid or part-paid invoices." + where)
            continue
        if line.get("amount") is None:
            problems.add("allocated_artefacts.amount", "This field is required." + where)
            continue
        amount = to_decimal(line["amount"])
        discount = to_decimal(line.get("discount") or 0)
        if round_money(amount) != amount or round_money(discount) != discount:
            problems.add("allocated_artefacts.amount", "must have at most two decimals" + where)
            continue
        if discount != ZERO and not allow_discount:
            problems.add("allocated_artefacts.discount", f"a {what} cannot take a discount" + where)
            continue
        if discount < ZERO:
            problems.add("allocated_artefacts.discount", "must be greater than or equal to 0" + where)
            continue
        sign = kind_of(collection, artefact)[1]
        if signed:
            if amount == ZERO or (amount > ZERO) != (sign > 0):
                problems.add(
                    "allocated_artefacts.amount",
                    "must be positive for an invoice and negative for a credit note or payment on account" + where,
                )
                continue
        elif amount <= ZERO:
            problems.add("allocated_artefacts.amount", "must be greater than 0" + where)
            continue
        magnitude = abs(amount)
        outstanding = to_decimal(artefact["outstanding_amount"])
        if magnitude + discount > outstanding:
            problems.add(
                "allocated_artefacts.amount",
                f"is more than the outstanding amount of {shown} ({money(outstanding)})" + where,
            )
            continue
        result.append(_Line(collection, artefact, magnitude, discount, amount))
    return result


def _contact(ctx: Context, problems: Problems, contact_id: object, contact_type: str | None) -> dict[str, Any] | None:
    if blank(contact_id):
        problems.add("contact_id", "This field is required.")
        return None
    contact = ctx.get("contacts", str(contact_id))
    if contact_type is None:
        return contact
    party = _PARTY[contact_type]
    if contact is None or contact_type not in contact_type_ids(contact):
        what = "does not exist" if contact is None else f"is not a {party}"
        problems.add("contact_id", f"can't find {party}: the contact {contact_id!r} {what}")
        return None
    return contact


def _type_id(problems: Problems, payload: Mapping[str, Any], types: Mapping[str, Any]) -> str:
    """The body's ``transaction_type_id`` (upper-case); a problem when it is missing or not one of ``types``."""
    type_id = str(payload.get("transaction_type_id") or "").upper()
    if type_id not in types:
        if blank(payload.get("transaction_type_id")):
            problems.add("transaction_type_id", "This field is required.")
        else:
            problems.add("transaction_type_id", f"must be one of {', '.join(types)}")
    return type_id


def _unapply(ctx: Context, record: Mapping[str, Any]) -> None:
    """Take a payment's or allocation's entries off its artefacts."""
    for line in record.get("allocated_artefacts") or []:
        found = find_artefact(ctx, str(line["artefact"]["id"]))
        if found is None:  # pragma: no cover - artefacts with allocations cannot be voided or deleted
            continue
        collection, artefact = found
        remove_entries(artefact, str(record["id"]))
        ctx.put(collection, artefact)


def _apply(ctx: Context, source: str, record: dict[str, Any], lines: list[_Line], type_id: str, type_name: str) -> None:
    """Record ``lines`` on the artefacts and as the record's ``allocated_artefacts``."""
    stored = []
    for line in lines:
        opposite = [other for other in lines if (other.signed_amount > ZERO) != (line.signed_amount > ZERO)]
        counterpart = generic_link(opposite[0].collection, opposite[0].artefact) if len(opposite) == 1 else None
        entry = make_entry(
            source=source,
            source_record=record,
            type_id=type_id,
            type_name=type_name,
            date=str(record["date"]),
            amount=line.amount,
            discount=line.discount,
            counterpart=counterpart,
        )
        add_entry(line.artefact, entry)
        ctx.put(line.collection, line.artefact)
        item: dict[str, Any] = {
            "id": ctx.new_id("allocated_artefact"),
            "artefact": generic_link(line.collection, line.artefact),
            "amount": money(line.signed_amount),
        }
        if source == "contact_payments":
            item["discount"] = money(line.discount)
        stored.append(item)
    record["allocated_artefacts"] = stored


def _check_money_options(problems: Problems, payload: Mapping[str, Any]) -> None:
    if not blank(payload.get("currency_id")) and payload["currency_id"] != "GBP":
        problems.add("currency_id", "must be GBP (the sandbox has no foreign currencies yet)")
    rate = payload.get("exchange_rate")
    if rate is not None and to_decimal(rate) != Decimal(1):
        problems.add("exchange_rate", "must be 1 (the sandbox has no foreign currencies yet)")
    charge = payload.get("base_currency_currency_charge")
    if charge is not None and to_decimal(charge) != ZERO:
        problems.add("base_currency_currency_charge", "must be 0 (the sandbox has no foreign currencies yet)")


class _Allocating(Collection):
    """What payments and allocations share: list filters and order, and the create / update / delete
    cycle (a plan checked from the body, a transaction, entries on the artefacts allocated)."""

    operations = frozenset({"list", "get", "create", "update", "delete"})
    sort_fields = ("created_at", "updated_at", "date")
    type_ids: ClassVar[tuple[str, ...]]
    sql_lists = True
    order_descending = True

    def conditions(self, ctx: Context, query: Query) -> list[Condition]:
        result = super().conditions(ctx, query)
        contact = link_condition(query, "contact_id", "contact")
        if contact is not None:
            result.append(contact)
        type_id = (query.get("transaction_type_id") or "").strip().upper()
        if type_id:
            if type_id not in self.type_ids:
                raise invalid("transaction_type_id", f"must be one of {', '.join(self.type_ids)}")
            result.append(Condition(lambda i: i["transaction_type"]["id"] == type_id, "kind = ?", (type_id,)))
        return result

    def order_key(self, record: Record) -> bytes:
        return dated_number_key(record)

    def new_record(self, ctx: Context) -> dict[str, Any]:
        record_id = ctx.new_id(self.root_key or self.name)
        return shaped(
            self.definition,
            {
                "id": record_id,
                "displayed_as": "",
                "$path": f"/{self.name}/{record_id}",
                "created_at": ctx.now_iso,
                "updated_at": ctx.now_iso,
            },
        )

    # ------------------------------------------------------------------ writing

    def create(self, ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
        problems = Problems()
        record = self.new_record(ctx)
        plan = self._plan(ctx, problems, payload)
        check_lockdown(ctx, problems, str(payload.get("date") or ""))
        problems.raise_if_any()
        record["_number"] = ctx.store.next_value(ctx.business_id, f"{self.root_key}_number")
        self._fill(record, plan)
        record["transaction"] = post_transaction(
            ctx,
            transaction_type_id=plan["type_id"],
            date=record["date"],
            reference=record["displayed_as"],
            postings=self._postings(ctx, record, plan),
            contact=record["contact"],
            origin=(self.name, record["id"], record["displayed_as"]),
        )
        self._allocate(ctx, record, plan)
        ctx.put_new(self.name, record)
        return record

    def update(self, ctx: Context, record: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        self._check_changeable(ctx, record)
        problems = Problems()
        check_lockdown(ctx, problems, str(record.get("date") or ""))
        requested = payload.get("transaction_type_id")
        if requested is not None and str(requested).upper() != record["transaction_type"]["id"]:
            noun = self.label.rsplit(" ", 1)[-1]
            problems.add("transaction_type_id", f"cannot be changed: delete the {noun} and create another")
        self._detach(ctx, record)
        merged = self._as_payload(record)
        merged.update(payload)
        plan = self._plan(ctx, problems, merged)
        check_lockdown(ctx, problems, str(merged.get("date") or ""))
        problems.raise_if_any()
        self._fill(record, plan)
        record["updated_at"] = ctx.now_iso
        replace_postings(
            ctx, record["transaction"]["id"], self._postings(ctx, record, plan), record["date"], record["displayed_as"]
        )
        self._allocate(ctx, record, plan)
        ctx.put(self.name, record)
        return record

    def delete(self, ctx: Context, record: dict[str, Any], query: Query) -> dict[str, Any] | None:
        del query
        self._check_changeable(ctx, record)
        closed = Problems()
        check_lockdown(ctx, closed, str(record.get("date") or ""))
        closed.raise_if_any()
        self._detach(ctx, record)
        self.bury_posted(ctx, record)
        return None

    # ------------------------------------------------------------------ hooks

    def _plan(self, ctx: Context, problems: Problems, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Everything a body means, checked (``type_id``, ``type_name``, ``lines`` ...); problems are collected."""
        raise NotImplementedError

    def _fill(self, record: dict[str, Any], plan: Mapping[str, Any]) -> None:
        raise NotImplementedError

    def _postings(self, ctx: Context, record: Mapping[str, Any], plan: Mapping[str, Any]) -> list[Posting]:
        raise NotImplementedError

    def _as_payload(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The body that would create ``record`` as it is (a PUT body is merged over it)."""
        raise NotImplementedError

    def _check_changeable(self, ctx: Context, record: Mapping[str, Any]) -> None:
        """Refuse an update or delete before anything is changed."""

    def _detach(self, ctx: Context, record: dict[str, Any]) -> None:
        """Take the record's entries off its artefacts (before it is re-applied or deleted)."""
        _unapply(ctx, record)

    def _allocate(self, ctx: Context, record: dict[str, Any], plan: Mapping[str, Any]) -> None:
        _apply(ctx, self.name, record, plan["lines"], plan["type_id"], plan["type_name"])


class ContactPayments(_Allocating):
    name = "contact_payments"
    definition = "ContactPayment"
    root_key = "contact_payment"
    label = "contact payment"
    type_ids = tuple(PAYMENT_TYPES)
    date_field = "date"

    # ------------------------------------------------------------------ reading

    def conditions(self, ctx: Context, query: Query) -> list[Condition]:
        result = super().conditions(ctx, query)
        bank = link_condition(query, "bank_account_id", "bank_account")
        return result if bank is None else [*result, bank]

    def render_many(self, ctx: Context, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        result = []
        for record in records:
            obj = public(record)
            poa = ctx.get(PAYMENTS_ON_ACCOUNT, str(record.get("_poa_id") or ""))
            obj["payment_on_account"] = shaped("PaymentOnAccount", public(poa)) if poa else None
            obj["editable"] = not record.get("deleted_at") and not (poa and poa.get("_allocations"))
            result.append(obj)
        return result

    # ------------------------------------------------------------------ hooks

    def _check_changeable(self, ctx: Context, record: Mapping[str, Any]) -> None:
        poa = ctx.get(PAYMENTS_ON_ACCOUNT, str(record.get("_poa_id") or ""))
        if poa and poa.get("_allocations"):
            raise invalid(
                "base",
                "The payment on account of this payment has been allocated or refunded: remove those first.",
            )

    def _detach(self, ctx: Context, record: dict[str, Any]) -> None:
        _unapply(ctx, record)
        if record.get("_poa_id"):
            ctx.store.delete(ctx.business_id, PAYMENTS_ON_ACCOUNT, str(record["_poa_id"]))
            record["_poa_id"] = None

    def _as_payload(self, record: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "transaction_type_id": record["transaction_type"]["id"],
            "contact_id": record["contact"]["id"],
            "bank_account_id": record["bank_account"]["id"],
            "date": record["date"],
            "total_amount": record["total_amount"],
            "payment_method_id": (record.get("payment_method") or {}).get("id"),
            "reference": record.get("reference"),
            "tax_rate_id": (record.get("tax_rate") or {}).get("id"),
            "allocated_artefacts": [
                {"artefact_id": a["artefact"]["id"], "amount": a["amount"], "discount": a.get("discount")}
                for a in record.get("allocated_artefacts") or []
            ],
        }

    def _plan(self, ctx: Context, problems: Problems, payload: Mapping[str, Any]) -> dict[str, Any]:
        check_lengths(problems, self.definition, payload)
        type_id = _type_id(problems, payload, PAYMENT_TYPES)
        kind = PAYMENT_TYPES.get(type_id)
        contact = _contact(ctx, problems, payload.get("contact_id"), kind.contact_type if kind else None)
        bank = None
        if blank(payload.get("bank_account_id")):
            problems.add("bank_account_id", "This field is required.")
        else:
            bank = resolve_bank_account(ctx, str(payload["bank_account_id"]))
            if bank is None:
                problems.add("bank_account_id", f"The bank account {payload['bank_account_id']!r} was not found.")
        if blank(payload.get("date")):
            problems.add("date", "This field is required.")
        amount = ZERO
        if payload.get("total_amount") is None:
            problems.add("total_amount", "This field is required.")
        else:
            amount = to_decimal(payload["total_amount"])
            if amount <= ZERO:
                problems.add("total_amount", "must be greater than 0")
            elif round_money(amount) != amount:
                problems.add("total_amount", "must have at most two decimals")
        method_id = str(payload.get("payment_method_id") or DEFAULT_PAYMENT_METHOD).upper()
        if method_id not in PAYMENT_METHODS:
            problems.add("payment_method_id", f"must be one of {', '.join(PAYMENT_METHODS)}")
        _check_money_options(problems, payload)
        tax = payload.get("tax_amount")
        if tax is not None and to_decimal(tax) != ZERO:
            problems.add("tax_amount", "must be 0: the sandbox models invoice-based VAT only (no cash accounting)")
        net = payload.get("net_amount")
        if net is not None and to_decimal(net) != amount:
            problems.add("net_amount", f"must equal the total amount ({money(amount)})")
        rate = None
        if not blank(payload.get("tax_rate_id")):
            rate = ctx.get("tax_rates", str(payload["tax_rate_id"]))
            if rate is None:
                problems.add("tax_rate_id", f"The tax rate {payload['tax_rate_id']!r} was not found.")
        lines: list[_Line] = []
        if kind is not None:
            lines = _check_lines(
                ctx,
                problems,
                list(payload.get("allocated_artefacts") or []),
                contact_id=contact["id"] if contact else None,
                allowed=kind.targets,
                what=kind.name.lower(),
                allow_discount=not kind.refund,
                signed=False,
            )
        allocated = total(line.amount for line in lines)
        excess = amount - allocated
        if kind is not None and amount > ZERO and not problems:
            if kind.refund and excess != ZERO:
                problems.add(
                    "total_amount",
                    f"must equal the sum allocated ({money(allocated)}): a refund must be allocated in full",
                )
            elif excess < ZERO:
                problems.add("total_amount", f"may not be less than the sum allocated ({money(allocated)})")
            elif excess > ZERO and _is_start(ctx):
                problems.add(
                    "total_amount",
                    f"is more than the sum allocated ({money(allocated)}): payments on account are not available "
                    "on Accounting Start",
                )
        on_account = payload.get("payment_on_account")
        if (
            isinstance(on_account, Mapping)
            and on_account.get("total_amount") is not None
            and to_decimal(on_account["total_amount"]) != excess
        ):
            problems.add(
                "payment_on_account.total_amount", f"must be the unallocated part of the payment ({money(excess)})"
            )
        return {
            "type_id": type_id,
            "type_name": kind.name if kind else "",
            "kind": kind,
            "contact": contact,
            "bank": bank,
            "date": str(payload.get("date") or ""),
            "total": amount,
            "method_id": method_id,
            "reference": None if blank(payload.get("reference")) else str(payload["reference"]),
            "rate": rate,
            "lines": lines,
            "excess": excess,
        }

    def _fill(self, record: dict[str, Any], plan: Mapping[str, Any]) -> None:
        kind: PaymentType = plan["kind"]
        contact = plan["contact"]
        bank_link, bank_ledger = plan["bank"]
        amount: Decimal = plan["total"]
        rate = plan["rate"]
        record.update(
            {
                "transaction_type": link("transaction_types", plan["type_id"], kind.name),
                "payment_method": link("payment_methods", plan["method_id"], PAYMENT_METHODS[plan["method_id"]]),
                "contact": link("contacts", contact["id"], contact["displayed_as"]),
                "bank_account": bank_link,
                "date": plan["date"],
                "net_amount": money(amount),
                "tax_amount": money(ZERO),
                "total_amount": money(amount),
                "currency": currency_link("GBP"),
                "exchange_rate": "1.00",
                "base_currency_net_amount": money(amount),
                "base_currency_tax_amount": money(ZERO),
                "base_currency_total_amount": money(amount),
                "base_currency_currency_charge": money(ZERO),
                "reference": plan["reference"],
                "tax_rate": link("tax_rates", rate["id"], rate["displayed_as"]) if rate else None,
                "editable": True,
                "_bank_ledger_account_id": bank_ledger,
            }
        )
        record["displayed_as"] = plan["reference"] or kind.name

    def _postings(self, ctx: Context, record: Mapping[str, Any], plan: Mapping[str, Any]) -> list[Posting]:
        kind: PaymentType = plan["kind"]
        details = str(record["displayed_as"])
        bank = str(record["_bank_ledger_account_id"])
        control = account_by_nominal(ctx, _CONTROL[kind.contact_type])["id"]
        amount: Decimal = plan["total"]
        discounts = total(line.discount for line in plan["lines"])
        type_id = plan["type_id"]
        if type_id == "CUSTOMER_RECEIPT":
            postings = [Posting(bank, debit=amount, details=details)]
            if discounts:
                postings.append(Posting(account_by_nominal(ctx, DISCOUNTS_ALLOWED)["id"], debit=discounts))
            postings.append(Posting(control, credit=amount + discounts, details=details))
            return postings
        if type_id == "VENDOR_PAYMENT":
            postings = [Posting(control, debit=amount + discounts, details=details)]
            postings.append(Posting(bank, credit=amount, details=details))
            if discounts:
                postings.append(Posting(account_by_nominal(ctx, DISCOUNTS_TAKEN)["id"], credit=discounts))
            return postings
        if type_id == "CUSTOMER_REFUND":
            return [Posting(control, debit=amount, details=details), Posting(bank, credit=amount, details=details)]
        return [Posting(bank, debit=amount, details=details), Posting(control, credit=amount, details=details)]

    def _allocate(self, ctx: Context, record: dict[str, Any], plan: Mapping[str, Any]) -> None:
        super()._allocate(ctx, record, plan)
        kind: PaymentType = plan["kind"]
        excess: Decimal = plan["excess"]
        if excess <= ZERO:
            return
        contact = plan["contact"]
        poa_id = ctx.new_id("payment_on_account")
        shown = "Payment on Account" + (f" {record['reference']}" if record.get("reference") else "")
        poa: dict[str, Any] = {
            "id": poa_id,
            "displayed_as": shown,
            "$path": f"/unallocated_artefacts/{poa_id}",
            "created_at": ctx.now_iso,
            "updated_at": ctx.now_iso,
            "contact_name": contact["name"],
            "contact_reference": contact.get("reference"),
            "contact": record["contact"],
            "date": record["date"],
            "reference": record.get("reference"),
            "net_amount": money(excess),
            "tax_amount": money(ZERO),
            "total_amount": money(excess),
            "currency": currency_link("GBP"),
            "exchange_rate": "1.00",
            "base_currency_net_amount": money(excess),
            "base_currency_tax_amount": money(ZERO),
            "base_currency_total_amount": money(excess),
            "status": status_link("UNPAID"),
            "_contact_type": kind.contact_type,
            "_payment_id": record["id"],
            "_allocations": [],
        }
        settle(poa)
        ctx.put_new(PAYMENTS_ON_ACCOUNT, poa)
        record["_poa_id"] = poa_id


def _is_start(ctx: Context) -> bool:
    subscriptions = ctx.business.get("subscriptions") or []
    return bool(subscriptions) and subscriptions[0].get("id") == "START"


class ContactAllocations(_Allocating):
    name = "contact_allocations"
    definition = "ContactAllocation"
    root_key = "contact_allocation"
    label = "contact allocation"
    type_ids = tuple(ALLOCATION_TYPES)

    def _as_payload(self, record: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "transaction_type_id": record["transaction_type"]["id"],
            "contact_id": record["contact"]["id"],
            "date": record["date"],
            "allocated_artefacts": [
                {"artefact_id": a["artefact"]["id"], "amount": a["amount"]} for a in record["allocated_artefacts"]
            ],
        }

    def _plan(self, ctx: Context, problems: Problems, payload: Mapping[str, Any]) -> dict[str, Any]:
        type_id = _type_id(problems, payload, ALLOCATION_TYPES)
        kind = ALLOCATION_TYPES.get(type_id)
        contact = _contact(ctx, problems, payload.get("contact_id"), kind[1] if kind else None)
        raw_lines = list(payload.get("allocated_artefacts") or [])
        lines: list[_Line] = []
        if kind is not None:
            lines = _check_lines(
                ctx,
                problems,
                raw_lines,
                contact_id=contact["id"] if contact else None,
                allowed=kind[2],
                what=kind[0].lower(),
                allow_discount=False,
                signed=True,
            )
        if len(raw_lines) < 2:
            problems.add("allocated_artefacts", "must contain at least one debit (an invoice) and one credit")
        elif not problems:
            debits = total(line.amount for line in lines if line.signed_amount > ZERO)
            credits = total(line.amount for line in lines if line.signed_amount < ZERO)
            if debits != credits:
                problems.add(
                    "allocated_artefacts",
                    f"The allocation does not balance: credits ({money(credits)}) must equal debits ({money(debits)})",
                )
        date = payload.get("date")
        return {
            "type_id": type_id,
            "type_name": kind[0] if kind else "",
            "contact_type": kind[1] if kind else "",
            "contact": contact,
            "date": ctx.today.isoformat() if blank(date) else str(date),
            "lines": lines,
        }

    def _fill(self, record: dict[str, Any], plan: Mapping[str, Any]) -> None:
        contact = plan["contact"]
        record.update(
            {
                "transaction_type": link("transaction_types", plan["type_id"], plan["type_name"]),
                "contact": link("contacts", contact["id"], contact["displayed_as"]),
                "date": plan["date"],
            }
        )
        shown = ", ".join(str(line.artefact.get("displayed_as") or "") for line in plan["lines"])
        record["displayed_as"] = shown or plan["type_name"]

    def _postings(self, ctx: Context, record: Mapping[str, Any], plan: Mapping[str, Any]) -> list[Posting]:
        control = account_by_nominal(ctx, _CONTROL[plan["contact_type"]])["id"]
        amount = total(line.amount for line in plan["lines"] if line.signed_amount > ZERO)
        details = str(record["displayed_as"])
        return [Posting(control, debit=amount, details=details), Posting(control, credit=amount, details=details)]
