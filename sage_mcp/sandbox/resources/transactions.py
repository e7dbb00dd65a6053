"""``/transactions`` (list, get): one per posted artefact or payment, read-only.

Filters: ``transaction_type_id``, ``from_date``/``to_date`` (the transaction date, inclusive),
``updated_from_date``/``updated_to_date`` (the date part of ``updated_at``, inclusive),
``updated_or_created_since`` and ``has_attachments``.  ``number_of_attachments`` counts the live
attachments whose ``transaction`` is the transaction.  Default order: newest date first.
"""

from __future__ import annotations

from typing import Any

from ..context import Context, public
from .base import Collection, Query
from .lifecycle import in_date_range, query_bool, query_date, transaction_attachment_counts


class Transactions(Collection):
    name = "transactions"
    definition = "Transaction"
    label = "transaction"
    date_field = "date"

    def filter(self, ctx: Context, items: list[dict[str, Any]], query: Query) -> list[dict[str, Any]]:
        items = super().filter(ctx, items, query)
        type_id = (query.get("transaction_type_id") or "").strip().upper()
        if type_id:
            items = [t for t in items if t["transaction_type"]["id"] == type_id]
        updated_from, updated_to = query_date(query, "updated_from_date"), query_date(query, "updated_to_date")
        if updated_from or updated_to:
            items = [t for t in items if in_date_range(t.get("updated_at"), updated_from, updated_to)]
        wanted = query_bool(query, "has_attachments")
        if wanted is not None:
            counts = transaction_attachment_counts(ctx)
            items = [t for t in items if (counts.get(t["id"], 0) > 0) == wanted]
        return items

    def default_order(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(items, key=lambda t: t["date"], reverse=True)

    def render_many(self, ctx: Context, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        counts = transaction_attachment_counts(ctx)
        result = []
        for record in records:
            obj = public(record)
            obj["number_of_attachments"] = str(counts.get(record["id"], 0))
            result.append(obj)
        return result
