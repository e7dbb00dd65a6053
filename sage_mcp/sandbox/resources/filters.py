"""List filters shared by the artefact and payment collections (Sage's query parameters), on top
of the generic ones of :class:`~.base.Collection` (``updated_or_created_since``, ``deleted_since``,
``from_date``/``to_date``, ``sort``); and the lock-down date check of postings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..context import Context
from ..errors import Problems, invalid

Query = Mapping[str, str]
Items = list[dict[str, Any]]


def flag(query: Query, name: str) -> bool | None:
    """A boolean query parameter (``true``/``false``, ``1``/``0``); absent is ``None``, junk a 422."""
    raw = (query.get(name) or "").strip().lower()
    if not raw:
        return None
    if raw in ("true", "1"):
        return True
    if raw in ("false", "0"):
        return False
    raise invalid(name, f"must be true or false, not {query.get(name)!r}")


def by_status(items: Items, query: Query, statuses: Mapping[str, str]) -> Items:
    raw = (query.get("status_id") or "").strip().upper()
    if not raw:
        return items
    wanted = {s.strip() for s in raw.split(",") if s.strip()}
    unknown = sorted(wanted - set(statuses))
    if unknown:
        raise invalid("status_id", f"must be one of {', '.join(statuses)} (not {', '.join(unknown)})")
    return [i for i in items if i["status"]["id"] in wanted]


def by_link(items: Items, query: Query, param: str, field: str) -> Items:
    """Items whose ``field`` link has the id given in ``param`` (``contact_id`` -> ``contact``)."""
    wanted = (query.get(param) or "").strip()
    if not wanted:
        return items
    return [i for i in items if (i.get(field) or {}).get("id") == wanted]


def by_search(items: Items, query: Query, fields: tuple[str, ...]) -> Items:
    needle = (query.get("search") or "").strip().casefold()
    if not needle:
        return items
    return [
        i
        for i in items
        if any(needle in str(i.get(f) or "").casefold() for f in fields)
        or needle in str((i.get("contact") or {}).get("displayed_as") or "").casefold()
    ]


def attached_ids(ctx: Context) -> set[str]:
    """Ids of records that have an attachment (artefact or transaction ids); none until attachments exist."""
    found: set[str] = set()
    for attachment in ctx.store.all(ctx.business_id, "attachments"):
        if attachment.get("deleted_at"):
            continue
        for key in ("attachment_context", "transaction"):
            target = attachment.get(key)
            if isinstance(target, Mapping) and target.get("id"):
                found.add(str(target["id"]))
        if attachment.get("attachment_context_id"):
            found.add(str(attachment["attachment_context_id"]))
    return found


def by_attachments(ctx: Context, items: Items, query: Query) -> Items:
    wanted = flag(query, "has_attachments")
    if wanted is None:
        return items
    ids = attached_ids(ctx)

    def has(item: Mapping[str, Any]) -> bool:
        transaction = item.get("transaction") or {}
        return item["id"] in ids or transaction.get("id") in ids

    return [i for i in items if has(i) == wanted]


def check_lockdown(ctx: Context, problems: Problems, date: object, source: str = "date") -> None:
    """Postings dated on or before the financial settings' ``year_end_lockdown_date`` are refused."""
    if not isinstance(date, str) or not date:
        return
    settings = ctx.store.get(ctx.business_id, "financial_settings", "financial_settings")
    lockdown = settings.get("year_end_lockdown_date") if settings else None
    if lockdown and date <= str(lockdown):
        problems.add(source, f"is on or before the lock-down date {lockdown}: the period is closed")


def refuse_if_locked(ctx: Context, date: object) -> None:
    problems = Problems()
    check_lockdown(ctx, problems, date)
    problems.raise_if_any()
