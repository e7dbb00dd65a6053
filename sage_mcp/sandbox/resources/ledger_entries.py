"""``/ledger_entries`` (list, get): the double-entry lines of every posting, read-only.

They are the rows of the ``ledger_entries`` table (:mod:`..ledger`), not records.  ``deleted`` is
true for the entries of a deleted or voided transaction (both its original and its mirror entries).
Filters: ``from_date``/``to_date`` (inclusive), ``transaction_id``, ``transaction_type_id``,
``ledger_account_id``, ``journal_code_id`` (nothing matches: entries carry no journal codes) and
``updated_or_created_since``.  Default order: by date, then in posting order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..context import Context, link
from ..errors import not_found
from .base import Collection, Query, sort_key

_COLUMNS = (
    "seq, id, transaction_id, transaction_type_id, date, ledger_account_id, debit, credit, details, contact_id,"
    " created_at"
)


class LedgerEntries(Collection):
    name = "ledger_entries"
    definition = "LedgerEntry"
    label = "ledger entry"
    date_field = "date"

    def records(self, ctx: Context) -> list[dict[str, Any]]:
        rows = ctx.store.execute(
            f"SELECT {_COLUMNS} FROM ledger_entries WHERE business_id = ? ORDER BY seq", (ctx.business_id,)
        ).fetchall()
        return [dict(r) for r in rows]

    def load(self, ctx: Context, key: str) -> dict[str, Any]:
        row = ctx.store.execute(
            f"SELECT {_COLUMNS} FROM ledger_entries WHERE business_id = ? AND id = ?", (ctx.business_id, key)
        ).fetchone()
        if row is None:
            raise not_found(f"The ledger entry {key!r} was not found.")
        return dict(row)

    def filter(self, ctx: Context, items: list[dict[str, Any]], query: Query) -> list[dict[str, Any]]:
        items = super().filter(ctx, items, query)
        for parameter, column in (
            ("transaction_id", "transaction_id"),
            ("transaction_type_id", "transaction_type_id"),
            ("ledger_account_id", "ledger_account_id"),
        ):
            wanted = (query.get(parameter) or "").strip()
            if wanted:
                if parameter == "transaction_type_id":
                    wanted = wanted.upper()
                items = [e for e in items if e[column] == wanted]
        if (query.get("journal_code_id") or "").strip():
            items = []
        return items

    def order_key(self, record: Mapping[str, Any]) -> bytes:
        return sort_key(record["date"], int(record["seq"]))

    def render_many(self, ctx: Context, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        accounts = ctx.by_id("ledger_accounts")
        transactions: dict[str, dict[str, Any] | None] = {}
        contacts: dict[str, dict[str, Any] | None] = {}
        result = []
        for entry in records:
            transaction_id = str(entry["transaction_id"])
            if transaction_id not in transactions:
                transactions[transaction_id] = ctx.get("transactions", transaction_id)
            transaction = transactions[transaction_id]
            contact = None
            contact_id = entry.get("contact_id")
            if contact_id:
                if contact_id not in contacts:
                    contacts[contact_id] = ctx.get("contacts", contact_id)
                contact = contacts[contact_id]
            account = accounts.get(str(entry["ledger_account_id"]))
            shown = str(entry["details"] or (transaction or {}).get("displayed_as") or "")
            result.append(
                {
                    "id": entry["id"],
                    "displayed_as": shown,
                    "$path": f"/ledger_entries/{entry['id']}",
                    "created_at": entry["created_at"],
                    "updated_at": entry["created_at"],
                    "date": entry["date"],
                    "credit": entry["credit"],
                    "debit": entry["debit"],
                    "ledger_account": (
                        link("ledger_accounts", account["id"], account["displayed_as"])
                        if account
                        else link("ledger_accounts", str(entry["ledger_account_id"]), "")
                    ),
                    "transaction": (
                        link("transactions", transaction_id, str(transaction.get("displayed_as") or ""))
                        if transaction
                        else link("transactions", transaction_id, "")
                    ),
                    "contact": link("contacts", contact["id"], contact["displayed_as"]) if contact else None,
                    "deleted": bool(transaction.get("deleted")) if transaction else False,
                    "tax_rate": None,
                    "description": entry["details"] or None,
                    "journal_code": None,
                }
            )
        return result
