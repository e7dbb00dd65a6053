"""``/transactions`` (list, get): one per posted artefact or payment, read-only.

Filters: ``transaction_type_id``, ``from_date``/``to_date`` (the transaction date, inclusive),
``updated_from_date``/``updated_to_date`` (the date part of ``updated_at``, inclusive),
``updated_or_created_since`` and ``has_attachments``.  ``number_of_attachments`` counts the live
attachments whose ``transaction`` is the transaction.  Default order: newest date first.
"""

from __future__ import annotations

from typing import Any

from ..context import Context, public
from .base import Collection, Condition, Query, Record, link_condition, query_bool, query_date, sort_key
from .lifecycle import transaction_attachment_counts


def _in_date_range(value: str | None, from_date: str | None, to_date: str | None) -> bool:
    if value is None:
        return from_date is None and to_date is None
    day = value[:10]
    return (from_date is None or day >= from_date) and (to_date is None or day <= to_date)


class Transactions(Collection):
    name = "transactions"
    definition = "Transaction"
    label = "transaction"
    date_field = "date"
    sql_lists = True
    order_descending = True

    def conditions(self, ctx: Context, query: Query) -> list[Condition]:
        result = super().conditions(ctx, query)
        kind = link_condition(query, "transaction_type_id", "transaction_type", upper=True)
        if kind is not None:
            result.append(kind)
        updated_from, updated_to = query_date(query, "updated_from_date"), query_date(query, "updated_to_date")
        if updated_from or updated_to:
            result.append(Condition(lambda t: _in_date_range(t.get("updated_at"), updated_from, updated_to)))
        wanted = query_bool(query, "has_attachments")
        if wanted is not None:
            counts = transaction_attachment_counts(ctx)
            result.append(Condition(lambda t: (counts.get(t["id"], 0) > 0) == wanted))
        return result

    def order_key(self, record: Record) -> bytes:
        """Newest date first."""
        return sort_key(record["date"])

    def render_many(self, ctx: Context, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        counts = transaction_attachment_counts(ctx)
        result = []
        for record in records:
            obj = public(record)
            obj["number_of_attachments"] = str(counts.get(record["id"], 0))
            result.append(obj)
        return result
