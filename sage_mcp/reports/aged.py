"""Aged debtors and creditors: what each customer owes us / we owe each supplier, by how overdue.

An open item is an invoice (positive), or a credit note or payment on account (negative: credit the
contact holds). Invoices age by due date; credits by their own date. Amounts are what was still
outstanding at the as-at date:

* as at today, Sage's ``outstanding_amount`` of unpaid and part-paid documents (fetched by status,
  so a big book costs only its open items) and the payments on account still unallocated;
* as at a past date, each document dated up to then less its payments and allocations dated up to
  then (``show_payments_allocations``), and each payment on account less the allocations and
  refunds that used it up to then.

The total is reconciled to the control account (Sage's ``control_name`` DEBTORS / CREDITORS, e.g.
1100 Trade Debtors, 2100 Trade Creditors) at the same date; a difference is shown with what posted
to that account without a contact (journals, opening balances) and any remainder.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sage_mcp.money import ZERO, money, to_decimal
from sage_mcp.reports.fetch import Fetcher

#: Default bucket boundaries (days overdue): current, 1-30, 31-60, 61-90, 90+.
DEFAULT_BOUNDARIES = (30, 60, 90)
#: Earliest date used for "balance since the start" questions.
BEGINNING = "1900-01-01"
OPEN_STATUSES = ("UNPAID", "PART_PAID")
_PAYMENT_ATTRIBUTES = "transaction_type,date,reference,contact,allocated_artefacts,payment_on_account"


# -- helpers -----------------------------------------------------------------------------------------


def link_id(value: Any) -> str | None:
    if isinstance(value, Mapping) and value.get("id") is not None:
        return str(value["id"])
    return None


def link_name(value: Any) -> str | None:
    if isinstance(value, Mapping):
        v = value.get("displayed_as") or value.get("name")
        return str(v) if v is not None else None
    return None


def amount_of(raw: Mapping[str, Any], key: str) -> Decimal:
    value = raw.get(key)
    return ZERO if value in (None, "") else to_decimal(value)


def as_date(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


# -- control accounts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    id: str
    code: str
    name: str
    debits: Decimal
    credits: Decimal

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}".strip()

    @property
    def debit_balance(self) -> Decimal:
        return self.debits - self.credits


#: How Sage names control accounts (``control_name``), and the usual name/code when it does not say.
CONTROL_HINTS: dict[str, tuple[tuple[str, ...], str]] = {
    "DEBTORS": (("debtors control", "trade debtors", "debtors"), "1100"),
    "CREDITORS": (("creditors control", "trade creditors", "creditors"), "2100"),
    "SALES_TAX": (("vat on sales", "sales tax", "output vat"), "2200"),
    "PURCHASE_TAX": (("vat on purchases", "purchase tax", "input vat"), "2201"),
    "VAT_LIABILITY": (("vat liability",), "2202"),
}


def find_control(accounts: Sequence[Mapping[str, Any]], control: str) -> Mapping[str, Any] | None:
    """The ledger account Sage marks as the ``control`` account; else by name, else by the usual code."""
    for a in accounts:
        if str(a.get("control_name") or "").upper() == control:
            return a
    names, code = CONTROL_HINTS[control]
    for wanted in names:
        for a in accounts:
            if str(a.get("name") or "").strip().casefold() == wanted:
                return a
    for a in accounts:
        if str(a.get("nominal_code")) == code:
            return a
    return None


def account_of(raw: Mapping[str, Any]) -> Account:
    details = raw.get("balance_details") or {}
    return Account(
        id=str(raw.get("id")),
        code=str(raw.get("nominal_code") or ""),
        name=str(raw.get("name") or raw.get("displayed_as") or ""),
        debits=amount_of(details, "debits"),
        credits=amount_of(details, "credits"),
    )


async def ledger_balances(fetch: Fetcher, from_date: str, to_date: str) -> list[dict[str, Any]]:
    """Every ledger account with its debits and credits between the two dates (inclusive)."""
    return await fetch.all(
        "/ledger_accounts",
        {
            "show_balance_details": "true",
            "from_date": from_date,
            "to_date": to_date,
            "attributes": "nominal_code,name,ledger_account_type,control_name,balance_details",
        },
    )


# -- open items ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """Debtors (sales) or creditors (purchases)."""

    name: str  # debtors / creditors
    control: str  # DEBTORS / CREDITORS
    invoices: str  # collection
    credit_notes: str
    payment_type: str  # CUSTOMER_RECEIPT / VENDOR_PAYMENT
    refund_type: str  # CUSTOMER_REFUND / VENDOR_REFUND
    allocation_type: str  # CUSTOMER_ALLOCATION / VENDOR_ALLOCATION
    contact_type: str  # CUSTOMER / VENDOR
    #: +1 when the control account carries a debit balance (debtors), -1 for credit (creditors)
    sign: int


DEBTORS = Side(
    "debtors",
    "DEBTORS",
    "sales_invoices",
    "sales_credit_notes",
    "CUSTOMER_RECEIPT",
    "CUSTOMER_REFUND",
    "CUSTOMER_ALLOCATION",
    "CUSTOMER",
    1,
)
CREDITORS = Side(
    "creditors",
    "CREDITORS",
    "purchase_invoices",
    "purchase_credit_notes",
    "VENDOR_PAYMENT",
    "VENDOR_REFUND",
    "VENDOR_ALLOCATION",
    "VENDOR",
    -1,
)


@dataclass(frozen=True)
class OpenItem:
    kind: str  # invoice, credit_note, payment_on_account
    id: str
    number: str
    contact_id: str
    contact_name: str
    date: dt.date
    due_date: dt.date
    amount: Decimal  # outstanding at the as-at date; credits negative

    def days_overdue(self, as_at: dt.date) -> int:
        return (as_at - self.due_date).days


_DOC_ATTRIBUTES = (
    "contact,contact_name,date,due_date,status,invoice_number,credit_note_number,displayed_as,"
    "total_amount,outstanding_amount"
)


def _doc_item(raw: Mapping[str, Any], kind: str, outstanding: Decimal) -> OpenItem:
    date = as_date(raw.get("date")) or dt.date.min
    due = as_date(raw.get("due_date")) if kind == "invoice" else None
    contact = raw.get("contact")
    number = raw.get("invoice_number") or raw.get("credit_note_number") or raw.get("displayed_as") or raw.get("id")
    return OpenItem(
        kind=kind,
        id=str(raw.get("id")),
        number=str(number),
        contact_id=link_id(contact) or "",
        contact_name=str(raw.get("contact_name") or link_name(contact) or "(no contact)"),
        date=date,
        due_date=due or date,
        amount=outstanding if kind == "invoice" else -outstanding,
    )


def _status(raw: Mapping[str, Any]) -> str:
    return str(link_id(raw.get("status")) or raw.get("status") or "").upper()


def _settled_by(raw: Mapping[str, Any], as_at: dt.date) -> Decimal:
    """What payments and allocations dated up to ``as_at`` took off a document (amount plus discount)."""
    done = ZERO
    for alloc in raw.get("payments_allocations") or []:
        if not isinstance(alloc, Mapping):
            continue
        when = as_date(alloc.get("date"))
        if when is not None and when <= as_at:
            done += abs(amount_of(alloc, "amount")) + abs(amount_of(alloc, "discount"))
    return done


def documents_open_at(raws: Iterable[Mapping[str, Any]], kind: str, as_at: dt.date) -> list[OpenItem]:
    """Documents dated up to ``as_at`` with what was outstanding then (drafts and voids never count)."""
    out = []
    for raw in raws:
        if _status(raw) in ("DRAFT", "VOID", "VOIDED"):
            continue
        date = as_date(raw.get("date"))
        if date is None or date > as_at:
            continue
        outstanding = amount_of(raw, "total_amount") - _settled_by(raw, as_at)
        if outstanding != ZERO:
            out.append(_doc_item(raw, kind, outstanding))
    return out


def documents_open_now(raws: Iterable[Mapping[str, Any]], kind: str, as_at: dt.date) -> list[OpenItem]:
    """Open documents by Sage's own ``outstanding_amount`` (as at today)."""
    out = []
    for raw in raws:
        if _status(raw) not in OPEN_STATUSES:
            continue
        date = as_date(raw.get("date"))
        if date is None or date > as_at:
            continue
        outstanding = amount_of(raw, "outstanding_amount")
        if outstanding != ZERO:
            out.append(_doc_item(raw, kind, outstanding))
    return out


def payments_on_account_at(
    payments: Iterable[Mapping[str, Any]],
    allocations: Iterable[Mapping[str, Any]],
    side: Side,
    as_at: dt.date,
) -> list[OpenItem]:
    """Payments on account of ``side``'s contacts dated up to ``as_at``, less what allocations and
    refunds dated up to then used of them.

    Derived from ``/contact_payments`` (each payment's ``payment_on_account``) and
    ``/contact_allocations``, which every Sage business serves; ``/unallocated_artefacts`` gives only
    today's position."""
    payments = list(payments)
    on_account: dict[str, tuple[Mapping[str, Any], Mapping[str, Any]]] = {}
    for p in payments:
        poa = p.get("payment_on_account")
        if link_id(p.get("transaction_type")) != side.payment_type or not isinstance(poa, Mapping):
            continue
        when = as_date(poa.get("date") or p.get("date"))
        if poa.get("id") and when is not None and when <= as_at:
            on_account[str(poa["id"])] = (p, poa)
    used: dict[str, Decimal] = {}
    uses = [
        (p, p.get("allocated_artefacts")) for p in payments if link_id(p.get("transaction_type")) == side.refund_type
    ]
    uses += [(a, a.get("allocated_artefacts")) for a in allocations]
    for owner, lines in uses:
        when = as_date(owner.get("date"))
        if when is None or when > as_at:
            continue
        for line in lines or []:
            target = link_id(line.get("artefact")) if isinstance(line, Mapping) else None
            if target in on_account:
                used[target] = used.get(target, ZERO) + abs(amount_of(line, "amount"))
    out = []
    for poa_id, (p, poa) in on_account.items():
        left = amount_of(poa, "total_amount") - used.get(poa_id, ZERO)
        if left == ZERO:
            continue
        date = as_date(poa.get("date") or p.get("date")) or as_at
        contact = poa.get("contact") or p.get("contact")
        out.append(
            OpenItem(
                kind="payment_on_account",
                id=poa_id,
                number=str(poa.get("reference") or poa.get("displayed_as") or p.get("reference") or poa_id),
                contact_id=link_id(contact) or "",
                contact_name=str(poa.get("contact_name") or link_name(contact) or "(no contact)"),
                date=date,
                due_date=date,
                amount=-left,
            )
        )
    return out


def _artefact_kind(raw: Mapping[str, Any]) -> str:
    return str(link_id(raw.get("transaction_type")) or link_id(raw.get("artefact_type")) or "").upper()


def _is_credit_note(raw: Mapping[str, Any], kind: str) -> bool:
    """A credit note (counted from its own list), by its type or, untyped, by its path."""
    return "CREDIT_NOTE" in kind or "credit_notes/" in str(raw.get("$path") or "")


def untyped_contacts(raws: Iterable[Mapping[str, Any]]) -> list[str]:
    """The contacts of the payments on account Sage lists without a type: whose side they are on has to
    be read from the contact."""
    found = {
        cid
        for raw in raws
        if not (kind := _artefact_kind(raw)) and not _is_credit_note(raw, kind) and (cid := link_id(raw.get("contact")))
    }
    return sorted(found)


def unallocated_now(
    raws: Iterable[Mapping[str, Any]],
    side: Side,
    as_at: dt.date,
    contact_types: Mapping[str, set[str]] | None = None,
) -> list[OpenItem]:
    """Payments on account from ``/unallocated_artefacts`` (today's position), of ``side`` only.

    Sage's list mixes customers' and suppliers' items; the side is read from the artefact's
    transaction type (receipts/refunds vs payments) where given. Without one, a credit note is still
    known by its path (left to its own list), and a payment on account goes by its contact's types
    (``contact_types``: contact id to ``{"CUSTOMER", "VENDOR"}``); a contact of both types, or one
    whose types are not known, keeps it on either side."""
    customer_types = {"CUSTOMER_RECEIPT", "CUSTOMER_REFUND", "SALES_CREDIT_NOTE", "CUSTOMER_PAYMENT_ON_ACCOUNT"}
    out = []
    for raw in raws:
        kind = _artefact_kind(raw)
        if kind:
            is_customer = kind in customer_types or kind.startswith("CUSTOMER") or kind.startswith("SALES")
            if is_customer != (side.contact_type == "CUSTOMER"):
                continue
        if _is_credit_note(raw, kind):
            continue  # credit notes come from their own lists
        if not kind:
            types = (contact_types or {}).get(link_id(raw.get("contact")) or "")
            if types and side.contact_type not in types:
                continue  # the other side's contact
        date = as_date(raw.get("date")) or as_at
        if date > as_at:
            continue
        left = (
            amount_of(raw, "outstanding_amount")
            if raw.get("outstanding_amount") is not None
            else amount_of(raw, "total_amount")
        )
        if left == ZERO:
            continue
        contact = raw.get("contact")
        out.append(
            OpenItem(
                kind="payment_on_account",
                id=str(raw.get("id")),
                number=str(raw.get("reference") or raw.get("displayed_as") or raw.get("id")),
                contact_id=link_id(contact) or "",
                contact_name=str(raw.get("contact_name") or link_name(contact) or "(no contact)"),
                date=date,
                due_date=date,
                amount=-abs(left),
            )
        )
    return out


# -- fetch + age ---------------------------------------------------------------------------------------


@dataclass
class OpenItems:
    items: list[OpenItem]
    control: Account | None
    #: how the payments on account were found
    on_account_source: str
    notes: list[str] = field(default_factory=list)


async def fetch_open_items(
    fetch: Fetcher,
    side: Side,
    as_at: dt.date,
    today: dt.date,
    *,
    contact_id: str | None = None,
    with_control: bool = True,
) -> OpenItems:
    """Every open item of ``side`` at ``as_at``, and the control account's debits/credits up to then."""
    contact = {"contact_id": contact_id} if contact_id else {}
    tasks: dict[str, Awaitable[Any]] = {}
    current = as_at >= today
    if current:
        for status in OPEN_STATUSES:
            for coll in (side.invoices, side.credit_notes):
                tasks[f"{coll}:{status}"] = fetch.all(
                    f"/{coll}", {"status_id": status, "attributes": _DOC_ATTRIBUTES, **contact}
                )
        tasks["unallocated"] = fetch.all_or_none("/unallocated_artefacts", {"attributes": "all", **contact})
    else:
        for coll in (side.invoices, side.credit_notes):
            tasks[coll] = fetch.all(
                f"/{coll}",
                {
                    "to_date": as_at.isoformat(),
                    "show_payments_allocations": "true",
                    "attributes": _DOC_ATTRIBUTES + ",payments_allocations",
                    **contact,
                },
            )
    if with_control:
        tasks["ledger"] = ledger_balances(fetch, BEGINNING, as_at.isoformat())
    if not current:
        tasks["payments"] = _payments(fetch, as_at, contact)
        tasks["allocations"] = _allocations(fetch, side, contact)
    results = dict(zip(tasks, await asyncio.gather(*tasks.values()), strict=True))
    if current and results.get("unallocated") is None:
        # Sage without /unallocated_artefacts: today's payments on account from payments and allocations
        results["payments"], results["allocations"] = await asyncio.gather(
            _payments(fetch, as_at, contact), _allocations(fetch, side, contact)
        )
    if results.get("unallocated"):
        results["contact_types"] = await _contact_types(fetch, untyped_contacts(results["unallocated"]))
    # building thousands of items is CPU work: off the event loop, so no other call waits for it
    items = await asyncio.to_thread(_open_items, results, side, as_at, current)
    if results.get("unallocated") is not None:
        source = "/unallocated_artefacts"
    else:
        source = "/contact_payments and /contact_allocations"
    notes: list[str] = []

    control = None
    if with_control:
        raw = find_control(results["ledger"], side.control)
        control = account_of(raw) if raw is not None else None
        if control is None:
            notes.append(f"no {side.control.lower()} control account found; the total is not reconciled")
    return OpenItems(items, control, source, notes)


def _payments(fetch: Fetcher, as_at: dt.date, contact: Mapping[str, str]) -> Awaitable[list[dict[str, Any]]]:
    return fetch.all("/contact_payments", {"to_date": as_at.isoformat(), "attributes": _PAYMENT_ATTRIBUTES, **contact})


def _allocations(fetch: Fetcher, side: Side, contact: Mapping[str, str]) -> Awaitable[list[dict[str, Any]]]:
    params = {"transaction_type_id": side.allocation_type, "attributes": "date,contact,allocated_artefacts", **contact}
    return fetch.all("/contact_allocations", params)


async def _contact_types(fetch: Fetcher, contact_ids: list[str]) -> dict[str, set[str]]:
    """Each contact's types (``CUSTOMER``, ``VENDOR``), one request per contact (only those whose
    payments on account came without a type: few). A single contact comes with every attribute."""
    answers = await asyncio.gather(*(fetch.one_or_none(f"/contacts/{cid}") for cid in contact_ids))
    return {
        cid: {str(link_id(t)).upper() for t in (answer or {}).get("contact_types") or [] if link_id(t)}
        for cid, answer in zip(contact_ids, answers, strict=True)
    }


def _open_items(results: Mapping[str, Any], side: Side, as_at: dt.date, current: bool) -> list[OpenItem]:
    items: list[OpenItem] = []
    if current:
        for key, raws in results.items():
            if key.startswith(side.invoices + ":"):
                items += documents_open_now(raws, "invoice", as_at)
            elif key.startswith(side.credit_notes + ":"):
                items += documents_open_now(raws, "credit_note", as_at)
    else:
        items += documents_open_at(results[side.invoices], "invoice", as_at)
        items += documents_open_at(results[side.credit_notes], "credit_note", as_at)
    if results.get("unallocated") is not None:
        items += unallocated_now(results["unallocated"], side, as_at, results.get("contact_types"))
    else:
        items += payments_on_account_at(results["payments"], results["allocations"], side, as_at)
    if not current:
        known = {str(r.get("id")) for key in (side.invoices, side.credit_notes) for r in results[key]}
        items += paid_ahead(results["payments"], known, side, as_at)
    return items


def paid_ahead(payments: Iterable[Mapping[str, Any]], known: set[str], side: Side, as_at: dt.date) -> list[OpenItem]:
    """Parts of payments dated up to ``as_at`` allocated to documents dated after it: at ``as_at`` the
    ledger already holds the payment, the document does not exist yet, so that part is on account."""
    out = []
    for p in payments:
        kind = link_id(p.get("transaction_type"))
        when = as_date(p.get("date"))
        if kind not in (side.payment_type, side.refund_type) or when is None or when > as_at:
            continue
        poa = link_id(p.get("payment_on_account"))
        ahead = ZERO
        for line in p.get("allocated_artefacts") or []:
            target = link_id(line.get("artefact")) if isinstance(line, Mapping) else None
            if target is None or target in known or target == poa:
                continue
            if "unallocated" in str((line.get("artefact") or {}).get("$path") or ""):
                continue  # a payment on account it used: counted by payments_on_account_at
            ahead += abs(amount_of(line, "amount")) + abs(amount_of(line, "discount"))
        if ahead != ZERO:
            contact = p.get("contact")
            out.append(
                OpenItem(
                    kind="payment_on_account",
                    id=str(p.get("id") or ""),
                    number=str(p.get("reference") or p.get("displayed_as") or p.get("id") or ""),
                    contact_id=link_id(contact) or "",
                    contact_name=str(link_name(contact) or "(no contact)"),
                    date=when,
                    due_date=when,
                    amount=-ahead if kind == side.payment_type else ahead,
                )
            )
    return out


# -- ageing --------------------------------------------------------------------------------------------


def bucket_labels(boundaries: Sequence[int]) -> list[str]:
    labels = ["current"]
    low = 1
    for b in boundaries:
        labels.append(f"{low}-{b}")
        low = b + 1
    labels.append(f"{boundaries[-1]}+" if boundaries else "overdue")
    return labels


def check_boundaries(boundaries: Sequence[int]) -> list[int]:
    out = [int(b) for b in boundaries]
    if not out or any(b < 1 for b in out) or any(b >= c for b, c in itertools.pairwise(out)):
        raise ValueError("buckets must be increasing whole numbers of days, each at least 1 (e.g. [30, 60, 90])")
    return out


def bucket_index(days_overdue: int, boundaries: Sequence[int]) -> int:
    """0 = current (not yet due); 1.. = up to each boundary; last = beyond the last boundary."""
    if days_overdue <= 0:
        return 0
    for i, b in enumerate(boundaries):
        if days_overdue <= b:
            return i + 1
    return len(boundaries) + 1


@dataclass
class ContactAge:
    contact_id: str
    name: str
    buckets: list[Decimal]
    items: list[OpenItem] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum(self.buckets, ZERO)


def age(items: Iterable[OpenItem], as_at: dt.date, boundaries: Sequence[int]) -> list[ContactAge]:
    """Per contact, amounts per bucket; largest total first (then name)."""
    rows: dict[str, ContactAge] = {}
    width = len(boundaries) + 2
    for item in items:
        row = rows.get(item.contact_id)
        if row is None:
            row = rows[item.contact_id] = ContactAge(item.contact_id, item.contact_name, [ZERO] * width)
        row.buckets[bucket_index(item.days_overdue(as_at), boundaries)] += item.amount
        row.items.append(item)
    return sorted(rows.values(), key=lambda r: (-r.total, r.name.casefold(), r.contact_id))


def aged_report(
    side: Side,
    data: OpenItems,
    as_at: dt.date,
    boundaries: Sequence[int],
    *,
    top: int | None,
    contact_id: str | None = None,
) -> dict[str, Any]:
    """The aged report: totals and buckets first, then the top contacts (or, for one contact, its items)."""
    labels = bucket_labels(boundaries)
    rows = age(data.items, as_at, boundaries)
    totals = [sum((r.buckets[i] for r in rows), ZERO) for i in range(len(labels))]
    grand = sum(totals, ZERO)
    on_account = sum((i.amount for i in data.items if i.kind == "payment_on_account"), ZERO)
    out: dict[str, Any] = {
        "as_at": as_at.isoformat(),
        "ledger": side.name,
        "total": money(grand),
        "overdue": money(grand - totals[0]),
        "buckets": {label: money(v) for label, v in zip(labels, totals, strict=True)},
        "on_account": money(on_account),
        "contacts": len(rows),
    }
    if contact_id is not None:
        items = sorted((i for r in rows for i in r.items), key=lambda i: (i.due_date, i.number))
        shown = items if top is None else items[:top]
        out["items"] = [
            {
                "kind": i.kind,
                "id": i.id,
                "number": i.number,
                "date": i.date.isoformat(),
                "due_date": i.due_date.isoformat(),
                "days_overdue": max(0, i.days_overdue(as_at)),
                "amount": money(i.amount),
            }
            for i in shown
        ]
        if len(shown) < len(items):
            out["more"] = {
                "items": len(items) - len(shown),
                "total": money(sum((i.amount for i in items[len(shown) :]), ZERO)),
            }
    else:
        shown_rows = rows if top is None else rows[:top]
        out["rows"] = [
            {
                "contact_id": r.contact_id,
                "name": r.name,
                "total": money(r.total),
                "buckets": {label: money(v) for label, v in zip(labels, r.buckets, strict=True) if v != ZERO},
                "oldest_days_overdue": max(0, max(i.days_overdue(as_at) for i in r.items)),
            }
            for r in shown_rows
        ]
        if len(shown_rows) < len(rows):
            rest = rows[len(shown_rows) :]
            out["more"] = {"contacts": len(rest), "total": money(sum((r.total for r in rest), ZERO))}
    if contact_id is None:
        out["reconciliation"] = reconcile(side, grand, data.control)
    notes = list(data.notes)
    notes.append(f"payments on account from {data.on_account_source}")
    out["notes"] = notes
    return out


def reconcile(side: Side, aged_total: Decimal, control: Account | None) -> dict[str, Any]:
    if control is None:
        return {"reconciled": False, "aged_total": money(aged_total)}
    balance = control.debit_balance * side.sign
    diff = balance - aged_total
    return {
        "control_account": control.label,
        "control_account_id": control.id,
        "control_balance": money(balance),
        "aged_total": money(aged_total),
        "difference": money(diff),
        "reconciled": diff == ZERO,
    }


async def explain_difference(fetch: Fetcher, side: Side, recon: dict[str, Any], as_at: dt.date) -> None:
    """When the aged total and the control account differ: what posted to the control account with
    no contact (journals, opening balances …) up to ``as_at``, and what remains unexplained."""
    if recon.get("reconciled", True) or not recon.get("control_account_id"):
        return
    entries = await fetch.all(
        "/ledger_entries",
        {
            "ledger_account_id": recon["control_account_id"],
            "to_date": as_at.isoformat(),
            "attributes": "date,debit,credit,contact,transaction_type,description,deleted",
        },
    )
    without = ZERO
    examples: list[str] = []
    for e in entries:
        if link_id(e.get("contact")) is not None:
            continue
        value = (amount_of(e, "debit") - amount_of(e, "credit")) * side.sign
        if value == ZERO:
            continue
        without += value
        if len(examples) < 5:
            examples.append(
                f"{e.get('date')} {e.get('description') or link_name(e.get('transaction_type')) or ''}: {money(value)}"
            )
    diff = to_decimal(recon["difference"])
    causes: list[dict[str, Any]] = []
    if without != ZERO:
        causes.append(
            {
                "cause": "posted to the control account without a customer or supplier (journals, opening balances)",
                "amount": money(without),
                "examples": examples,
            }
        )
    if diff - without != ZERO:
        causes.append(
            {
                "cause": "not explained by entries without a contact; check allocations dated after the as-at date",
                "amount": money(diff - without),
            }
        )
    recon["causes"] = causes
