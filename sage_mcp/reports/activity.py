"""Account activity (general-ledger detail): one ledger account's entries over a period, with its
opening balance, a running balance after each entry, the period's debits and credits and its
closing balance.

The entries are ``/ledger_entries`` filtered by ``ledger_account_id`` and the dates (every page).
Entries of voided or deleted transactions (``deleted: true``: the original and its mirror) are left
out, as the balances leave them out; what remains is checked against the account's debits and
credits for the period from the ledger (``reconciled``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sage_mcp.money import ZERO, money, to_decimal
from sage_mcp.reports.fetch import Fetcher
from sage_mcp.reports.ledger import AccountLine

ENTRY_ATTRIBUTES = "date,debit,credit,description,deleted,transaction,contact"


@dataclass(frozen=True)
class Entry:
    date: str
    debit: Decimal
    credit: Decimal
    details: str
    contact: str | None
    transaction: str | None

    @property
    def net(self) -> Decimal:
        return self.debit - self.credit


def _name(value: Any) -> str | None:
    if isinstance(value, Mapping):
        shown = value.get("displayed_as") or value.get("name")
        return str(shown) if shown else None
    return None


def _amount(raw: Mapping[str, Any], key: str) -> Decimal:
    value = raw.get(key)
    return ZERO if value in (None, "") else to_decimal(value, field=key)


def entries_of(raws: Iterable[Mapping[str, Any]]) -> tuple[list[Entry], int]:
    """The live entries in date order (Sage's order kept within a day), and how many were left out
    as belonging to voided or deleted transactions."""
    kept: list[Entry] = []
    dropped = 0
    for raw in raws:
        if raw.get("deleted") is True:
            dropped += 1
            continue
        kept.append(
            Entry(
                date=str(raw.get("date") or "")[:10],
                debit=_amount(raw, "debit"),
                credit=_amount(raw, "credit"),
                details=str(raw.get("description") or raw.get("displayed_as") or _name(raw.get("transaction")) or ""),
                contact=_name(raw.get("contact")),
                transaction=_name(raw.get("transaction")),
            )
        )
    order = {id(e): i for i, e in enumerate(kept)}
    kept.sort(key=lambda e: (e.date, order[id(e)]))
    return kept, dropped


async def fetch_entries(fetch: Fetcher, account_id: str, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    return await fetch.all(
        "/ledger_entries",
        {
            "ledger_account_id": account_id,
            "from_date": start.isoformat(),
            "to_date": end.isoformat(),
            "attributes": ENTRY_ATTRIBUTES,
        },
        label="ledger entries",
    )


def _entry_row(e: Entry, balance: Decimal) -> dict[str, Any]:
    row: dict[str, Any] = {
        "date": e.date,
        "debit": money(e.debit),
        "credit": money(e.credit),
        "balance": money(balance),
        "details": e.details[:120],
    }
    if e.contact:
        row["contact"] = e.contact[:80]
    if e.transaction and e.transaction != e.details:
        row["transaction"] = e.transaction[:80]
    return row


def activity(
    account: AccountLine | None,
    raws: Iterable[Mapping[str, Any]],
    *,
    opening: Decimal,
    top: int | None,
) -> dict[str, Any]:
    """The account's activity over a period from its ledger entries. ``account`` carries the ledger's debits and
    credits for the period (``None``: no balance and no movement, so nothing to check against);
    balances are debit positive, and ``side`` says which side each closing figure is on."""
    entries, dropped = entries_of(raws)
    debit = sum((e.debit for e in entries), ZERO)
    credit = sum((e.credit for e in entries), ZERO)
    closing = opening + debit - credit
    out: dict[str, Any] = {
        "opening_balance": money(opening),
        "debits": money(debit),
        "credits": money(credit),
        "closing_balance": money(closing),
        "closing_side": "debit" if closing >= 0 else "credit",
        "entry_count": len(entries),
    }
    ledger_debit = account.debit if account else ZERO
    ledger_credit = account.credit if account else ZERO
    ledger_closing = account.closing if account else opening
    out["reconciled"] = debit == ledger_debit and credit == ledger_credit and closing == ledger_closing
    if not out["reconciled"]:
        out["ledger"] = {
            "debits": money(ledger_debit),
            "credits": money(ledger_credit),
            "closing_balance": money(ledger_closing),
        }
    rows = []
    balance = opening
    for e in entries:
        balance += e.net
        rows.append(_entry_row(e, balance))
    if top is not None and len(rows) > top:
        hidden = entries[top:]
        out["entries"] = rows[:top]
        out["more"] = {
            "entries": len(hidden),
            "debits": money(sum((e.debit for e in hidden), ZERO)),
            "credits": money(sum((e.credit for e in hidden), ZERO)),
            "from_date": hidden[0].date,
        }
    else:
        out["entries"] = rows
    if dropped:
        out["notes"] = [
            f"{dropped} entries of voided or deleted transactions left out (each is cancelled by its mirror entry)"
        ]
    return out


__all__ = ["ENTRY_ATTRIBUTES", "Entry", "activity", "entries_of", "fetch_entries"]
