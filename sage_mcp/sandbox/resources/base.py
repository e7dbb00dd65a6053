"""The generic collection: what every Sage resource in the sandbox shares.

A collection names its path segment (``contacts``), its spec definition (``Contact``), the root key
of its bodies (``contact``) and the operations it implements; the app routes
``/v3.1/<name>[/<key>[/<action>]]`` to it.  Records live in the generic ``records`` table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..context import Context, parse_timestamp, public
from ..errors import invalid, not_found

#: Operation name -> (HTTP method, whether it addresses one record).
OPERATIONS: dict[str, tuple[str, bool]] = {
    "list": ("GET", False),
    "create": ("POST", False),
    "get": ("GET", True),
    "update": ("PUT", True),
    "delete": ("DELETE", True),
}

Query = Mapping[str, str]


def _sort_value(record: Mapping[str, Any], field: str) -> str:
    value = record.get(field)
    return "" if value is None else str(value)


class Collection:
    """Base class: list and get work out of the box; writes are opt-in per resource."""

    name: ClassVar[str]
    definition: ClassVar[str]
    root_key: ClassVar[str | None] = None
    label: ClassVar[str] = "record"
    operations: ClassVar[frozenset[str]] = frozenset({"list", "get"})
    actions: ClassVar[frozenset[str]] = frozenset()
    sort_fields: ClassVar[tuple[str, ...]] = ()

    # ------------------------------------------------------------------ reading

    def load(self, ctx: Context, key: str) -> dict[str, Any]:
        record = ctx.get(self.name, key)
        if record is None:
            raise not_found(f"The {self.label} {key!r} was not found.")
        return record

    def records(self, ctx: Context) -> list[dict[str, Any]]:
        return ctx.store.all(ctx.business_id, self.name)

    def filter(self, ctx: Context, items: list[dict[str, Any]], query: Query) -> list[dict[str, Any]]:  # noqa: ARG002
        """Generic filters; subclasses add theirs and call this."""
        raw = query.get("updated_or_created_since")
        if raw:
            since = parse_timestamp(raw)
            if since is None:
                raise invalid("updated_or_created_since", f"is not a date or date-time: {raw!r}")
            items = [
                r
                for r in items
                if (stamp := parse_timestamp(str(r.get("updated_at") or r.get("created_at") or ""))) and stamp >= since
            ]
        return items

    def default_order(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return items

    def order(self, ctx: Context, items: list[dict[str, Any]], query: Query) -> list[dict[str, Any]]:  # noqa: ARG002
        raw = query.get("sort")
        if not raw or not self.sort_fields:
            return self.default_order(items)
        field, _, direction = raw.strip().partition(":")
        direction = direction.lower() or "asc"
        if field not in self.sort_fields or direction not in ("asc", "desc"):
            allowed = ", ".join(self.sort_fields)
            raise invalid("sort", f"must be one of {allowed}, optionally followed by :asc or :desc")
        ordered = self.default_order(items)
        return sorted(ordered, key=lambda r: _sort_value(r, field), reverse=direction == "desc")

    def render_many(self, ctx: Context, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The public JSON of records (subclasses add computed fields such as balances)."""
        del ctx
        return [public(r) for r in records]

    def render(self, ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
        return self.render_many(ctx, [record])[0]

    # ------------------------------------------------------------------ writing (opt-in)

    def create(self, ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def update(self, ctx: Context, record: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def delete(self, ctx: Context, record: dict[str, Any], query: Query) -> dict[str, Any] | None:
        """Delete (``None``: 204) or void (the voided record: 200)."""
        raise NotImplementedError

    def action(self, ctx: Context, record: dict[str, Any], action: str) -> dict[str, Any]:
        raise NotImplementedError
