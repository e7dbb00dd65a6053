"""What the banking, journal, catalogue and attachment collections share on top of
:class:`~.base.Collection` (which already gives ``updated_or_created_since``, ``deleted_since`` over
tombstones, ``from_date``/``to_date`` on :attr:`~.base.Collection.date_field` and ``sort``):

* ``*_id`` filters on linked records (:attr:`BookCollection.link_filters`: ``contact_id``,
  ``bank_account_id``, ``transaction_type_id`` ...; type ids compare upper-case);
* ``search`` over chosen text fields (case-insensitive substring);
* ``active`` and ``has_attachments`` (``true``/``false``; anything else is a 422);
* the lock-down date check of postings, and attachment counts any collection can use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar

from ..context import Context, parse_date
from ..errors import Problems, invalid
from .base import Collection, Query, bury, tombstone_resource

__all__ = [
    "SETTINGS_KEY",
    "BookCollection",
    "attachment_count",
    "attachment_counts",
    "bury",
    "check_lockdown",
    "in_date_range",
    "query_bool",
    "query_date",
    "tombstone_resource",
    "transaction_attachment_counts",
]


#: The record id a settings singleton (``financial_settings`` ...) is stored under.
SETTINGS_KEY = "settings"


def query_bool(query: Query, name: str) -> bool | None:
    """``true``/``false`` (any case) or ``None`` when absent; anything else is a 422."""
    raw = (query.get(name) or "").strip().lower()
    if not raw:
        return None
    if raw not in ("true", "false"):
        raise invalid(name, f"must be true or false, not {query.get(name)!r}")
    return raw == "true"


def query_date(query: Query, name: str) -> str | None:
    """A ``YYYY-MM-DD`` (or date-time) query parameter as an ISO date, ``None`` when absent."""
    raw = query.get(name)
    if raw is None or not raw.strip():
        return None
    parsed = parse_date(raw)
    if parsed is None:
        raise invalid(name, f"is not a date (YYYY-MM-DD): {raw!r}")
    return parsed.isoformat()


def in_date_range(value: str | None, from_date: str | None, to_date: str | None) -> bool:
    if value is None:
        return from_date is None and to_date is None
    day = value[:10]
    return (from_date is None or day >= from_date) and (to_date is None or day <= to_date)


def linked_id(record: Mapping[str, Any], field: str) -> str | None:
    value = record.get(field)
    if isinstance(value, Mapping):
        found = value.get("id")
        return None if found is None else str(found)
    return None


def check_lockdown(ctx: Context, problems: Problems, date: str | None, source: str = "date") -> None:
    """Sage refuses postings dated on or before the financial settings' ``year_end_lockdown_date``."""
    if not date:
        return
    settings = ctx.store.get(ctx.business_id, "financial_settings", SETTINGS_KEY)
    lockdown = settings.get("year_end_lockdown_date") if settings else None
    if lockdown and date <= str(lockdown):
        problems.add(source, f"is on or before the lock-down date {lockdown}: the period is closed")


def valid_iso_date(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


class BookCollection(Collection):
    """A :class:`Collection` with the declarative filters described above."""

    #: query parameter -> field holding a ``{id, ...}`` link
    link_filters: ClassVar[Mapping[str, str]] = {}
    search_fields: ClassVar[tuple[str, ...]] = ()
    active_field: ClassVar[str | None] = None
    #: the ``attachment_context_type_id`` of this collection's records (enables ``has_attachments``)
    attachment_context: ClassVar[str | None] = None

    def filter(self, ctx: Context, items: list[dict[str, Any]], query: Query) -> list[dict[str, Any]]:
        items = super().filter(ctx, items, query)
        for parameter, field in self.link_filters.items():
            wanted = (query.get(parameter) or "").strip()
            if wanted:
                if parameter.endswith("type_id"):
                    wanted = wanted.upper()
                items = [r for r in items if linked_id(r, field) == wanted]
        search = (query.get("search") or "").strip().casefold()
        if search and self.search_fields:
            items = [r for r in items if any(search in str(r.get(f) or "").casefold() for f in self.search_fields)]
        if self.active_field is not None:
            active = query_bool(query, "active")
            if active is not None:
                items = [r for r in items if bool(r.get(self.active_field)) == active]
        if self.attachment_context is not None:
            wanted_attachments = query_bool(query, "has_attachments")
            if wanted_attachments is not None:
                items = self._by_attachments(ctx, items, wanted_attachments)
        return items

    def _by_attachments(self, ctx: Context, items: list[dict[str, Any]], wanted: bool) -> list[dict[str, Any]]:
        counts = attachment_counts(ctx, str(self.attachment_context))
        return [r for r in items if (counts.get(r["id"], 0) > 0) == wanted]


# --------------------------------------------------------------------------- attachment counts


def attachment_counts(ctx: Context, context_type_id: str) -> dict[str, int]:
    """Live attachments per ``attachment_context_id`` for one context type (``SALES_INVOICE`` ...)."""
    counts: dict[str, int] = {}
    rows = ctx.store.fields(ctx.business_id, "attachments", "$.attachment_context_type.id", "$.attachment_context.id")
    for type_id, context_id in rows:
        if type_id == context_type_id and context_id:
            counts[str(context_id)] = counts.get(str(context_id), 0) + 1
    return counts


def attachment_count(ctx: Context, context_type_id: str, context_id: str) -> int:
    """How many live attachments one record has (for ``has_attachments`` filters of any collection)."""
    return attachment_counts(ctx, context_type_id).get(context_id, 0)


def transaction_attachment_counts(ctx: Context) -> dict[str, int]:
    """Live attachments per transaction id (``Transaction.number_of_attachments``)."""
    counts: dict[str, int] = {}
    for (transaction_id,) in ctx.store.fields(ctx.business_id, "attachments", "$.transaction.id"):
        if transaction_id:
            counts[str(transaction_id)] = counts.get(str(transaction_id), 0) + 1
    return counts
