"""Double-entry postings: every posted artefact gets a transaction and balanced ledger entries.

Transactions are records of the ``transactions`` resource (shaped like Sage's ``Transaction``);
their ledger lines live in the ``ledger_entries`` table.  Every posting must balance (debits equal
credits to the penny); an unbalanced posting is a sandbox bug and raises ``AssertionError``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sage_mcp.money import ZERO, money, total

from .context import Context, link

TRANSACTION_TYPES = {
    "SALES_INVOICE": "Sales Invoice",
    "CUSTOMER_RECEIPT": "Customer Receipt",
    "OTHER_PAYMENT": "Other Payment",
    "OTHER_RECEIPT": "Other Receipt",
    "OTHER_PAYMENT_REFUND": "Other Payment Refund",
    "OTHER_RECEIPT_REFUND": "Other Receipt Refund",
    "BANK_TRANSFER": "Bank Transfer",
    "BANK_DEPOSIT": "Bank Deposit",
    "JOURNAL": "Journal",
    "SALES_CREDIT_NOTE": "Sales Credit Note",
    "PURCHASE_INVOICE": "Purchase Invoice",
    "PURCHASE_CREDIT_NOTE": "Purchase Credit Note",
    "CUSTOMER_REFUND": "Customer Refund",
    "VENDOR_PAYMENT": "Supplier Payment",
    "VENDOR_REFUND": "Supplier Refund",
    "CUSTOMER_ALLOCATION": "Customer Allocation",
    "VENDOR_ALLOCATION": "Supplier Allocation",
}

#: Nominal codes of the accounts postings go to by default.
DEBTORS_CONTROL = 1100
BANK_CURRENT = 1200
CREDITORS_CONTROL = 2100
SALES_TAX_CONTROL = 2200
PURCHASE_TAX_CONTROL = 2201


@dataclass(frozen=True)
class Posting:
    """One ledger line: an account and a debit or a credit (the other is zero)."""

    ledger_account_id: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    details: str = ""


def account_by_nominal(ctx: Context, nominal_code: int) -> dict[str, Any]:
    for account in ctx.by_id("ledger_accounts").values():
        if account.get("nominal_code") == nominal_code:
            return account
    raise LookupError(f"business {ctx.business_id} has no ledger account {nominal_code}")


def _check_balanced(postings: Sequence[Posting]) -> None:
    debits = total(p.debit for p in postings)
    credits = total(p.credit for p in postings)
    assert debits == credits, f"unbalanced posting: debits {debits} != credits {credits}"


def _insert_entries(
    ctx: Context,
    transaction_id: str,
    transaction_type_id: str,
    date: str,
    postings: Sequence[Posting],
    contact_id: str | None,
    origin: tuple[str, str] | None,
) -> None:
    rows = []
    for p in postings:
        if p.debit == ZERO and p.credit == ZERO:
            continue
        rows.append(
            (
                ctx.new_id("ledger_entry"),
                ctx.business_id,
                transaction_id,
                transaction_type_id,
                date,
                p.ledger_account_id,
                money(p.debit),
                money(p.credit),
                p.details,
                contact_id,
                origin[0] if origin else None,
                origin[1] if origin else None,
                ctx.now_iso,
            )
        )
    ctx.store.executemany(
        "INSERT INTO ledger_entries (id, business_id, transaction_id, transaction_type_id, date,"
        " ledger_account_id, debit, credit, details, contact_id, origin_resource, origin_id, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def _insert_transaction_entries(
    ctx: Context, transaction: Mapping[str, Any], date: str, postings: Sequence[Posting]
) -> None:
    """Entries of an existing transaction (its type, contact and origin), dated ``date``."""
    contact = transaction.get("contact")
    origin = transaction.get("origin")
    _insert_entries(
        ctx,
        str(transaction["id"]),
        str(transaction["transaction_type"]["id"]),
        date,
        postings,
        contact["id"] if contact else None,
        (origin["$path"].split("/")[1], origin["id"]) if origin else None,
    )


def post_transaction(
    ctx: Context,
    *,
    transaction_type_id: str,
    date: str,
    reference: str | None,
    postings: Sequence[Posting],
    contact: dict[str, Any] | None = None,
    origin: tuple[str, str, str] | None = None,
) -> dict[str, Any]:
    """Record a balanced transaction; returns its ``{id, displayed_as, $path}`` link.

    ``origin`` is ``(collection, id, displayed_as)`` of the artefact that caused it.
    """
    _check_balanced(postings)
    transaction_id = ctx.new_id("transaction")
    amount = total(p.debit for p in postings)
    displayed_as = reference or (origin[2] if origin else transaction_id)
    record = {
        "id": transaction_id,
        "displayed_as": displayed_as,
        "$path": f"/transactions/{transaction_id}",
        "created_at": ctx.now_iso,
        "updated_at": ctx.now_iso,
        "date": date,
        "deleted": False,
        "reference": reference,
        "total": money(amount),
        "total_in_transaction_currency": money(amount),
        "contact": contact,
        "transaction_type": link(
            "transaction_types", transaction_type_id, TRANSACTION_TYPES.get(transaction_type_id, "")
        ),
        "origin": link(origin[0], origin[1], origin[2]) if origin else None,
        "audit_trail_id": None,
        "number_of_attachments": "0",
    }
    ctx.put_new("transactions", record)
    _insert_entries(
        ctx,
        transaction_id,
        transaction_type_id,
        date,
        postings,
        contact["id"] if contact else None,
        (origin[0], origin[1]) if origin else None,
    )
    return link("transactions", transaction_id, displayed_as)


def entries_of(ctx: Context, transaction_id: str) -> list[Posting]:
    rows = ctx.store.execute(
        "SELECT ledger_account_id, debit, credit, details FROM ledger_entries"
        " WHERE business_id = ? AND transaction_id = ? ORDER BY seq",
        (ctx.business_id, transaction_id),
    ).fetchall()
    return [
        Posting(str(r["ledger_account_id"]), Decimal(r["debit"]), Decimal(r["credit"]), str(r["details"])) for r in rows
    ]


def reverse_transaction(ctx: Context, transaction_id: str, details: str, date: str | None = None) -> None:
    """Post the mirror image of a transaction's entries (a void), under the same transaction.

    The mirror entries are dated ``date`` (default: today); deletes pass the original date so that
    the deleted amounts vanish from every period's balances."""
    transaction = ctx.get("transactions", transaction_id)
    if transaction is None:
        return
    reversal = [Posting(p.ledger_account_id, p.credit, p.debit, details) for p in entries_of(ctx, transaction_id)]
    _check_balanced(reversal)
    _insert_transaction_entries(ctx, transaction, date or ctx.today.isoformat(), reversal)
    transaction["deleted"] = True
    transaction["updated_at"] = ctx.now_iso
    ctx.put("transactions", transaction)


def replace_postings(
    ctx: Context, transaction_id: str, postings: Sequence[Posting], date: str, reference: str | None
) -> None:
    """Re-post an edited artefact: its transaction keeps its id, its entries are replaced."""
    _check_balanced(postings)
    transaction = ctx.get("transactions", transaction_id)
    if transaction is None:
        raise LookupError(f"transaction {transaction_id} does not exist")
    ctx.store.execute(
        "DELETE FROM ledger_entries WHERE business_id = ? AND transaction_id = ?",
        (ctx.business_id, transaction_id),
    )
    _insert_transaction_entries(ctx, transaction, date, postings)
    amount = total(p.debit for p in postings)
    transaction.update(
        date=date,
        reference=reference,
        total=money(amount),
        total_in_transaction_currency=money(amount),
        updated_at=ctx.now_iso,
    )
    ctx.put("transactions", transaction)


def trial_balance(ctx: Context) -> dict[str, Decimal]:
    """Debits minus credits per ledger account id (the whole business, all dates)."""
    rows = ctx.store.execute(
        "SELECT ledger_account_id, debit, credit FROM ledger_entries WHERE business_id = ?",
        (ctx.business_id,),
    ).fetchall()
    balances: dict[str, Decimal] = {}
    for r in rows:
        key = str(r["ledger_account_id"])
        balances[key] = balances.get(key, ZERO) + Decimal(r["debit"]) - Decimal(r["credit"])
    return balances
