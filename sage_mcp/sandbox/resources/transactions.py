"""``/transactions`` (list, get): one per posted artefact or payment, read-only."""

from __future__ import annotations

from typing import Any

from ..context import Context, parse_date
from ..errors import invalid
from .base import Collection, Query


class Transactions(Collection):
    name = "transactions"
    definition = "Transaction"
    label = "transaction"

    def filter(self, ctx: Context, items: list[dict[str, Any]], query: Query) -> list[dict[str, Any]]:
        items = super().filter(ctx, items, query)
        type_id = (query.get("transaction_type_id") or "").strip().upper()
        if type_id:
            items = [t for t in items if t["transaction_type"]["id"] == type_id]
        for name in ("from_date", "to_date"):
            raw = query.get(name)
            if raw:
                bound = parse_date(raw)
                if bound is None:
                    raise invalid(name, f"is not a date (YYYY-MM-DD): {raw!r}")
                iso = bound.isoformat()
                items = [t for t in items if (t["date"] >= iso if name == "from_date" else t["date"] <= iso)]
        return items

    def default_order(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(items, key=lambda t: t["date"], reverse=True)
