"""The generic collection: what every Sage resource in the sandbox shares.

A collection names its path segment (``contacts``), its spec definition (``Contact``), the root key
of its bodies (``contact``) and the operations it implements; the app routes
``/v3.1/<name>[/<key>[/<action>]]`` to it.  Records live in the generic ``records`` table.

Query semantics every collection gets from this base (subclasses add their own filters and call
``super().filter``):

* ``updated_or_created_since`` - records whose ``updated_at`` (else ``created_at``) is at or after
  the given time (inclusive, as Sage documents).
* ``deleted_since`` - lists the *tombstones* deleted after the given time (not inclusive), instead of
  the live records; the other filters then apply to them.  See "Deleting" below.
* ``from_date``/``to_date`` - inclusive bounds on the field named by :attr:`Collection.date_field`
  (only for collections that set it; Sage declares them on dated documents).  Unparseable: 422.
* ``sort`` - ``<field>[:asc|:desc]`` over :attr:`Collection.sort_fields` (ignored where a collection
  declares none, as Sage ignores unknown parameters; a field not declared is a 422).
* ``attributes`` and paging - see :mod:`..listing`; ``nested_attributes`` - :func:`expand_links`.

**Deleting.** Do not remove rows: call :meth:`Collection.bury` (or :func:`bury` for a resource
name).  The record leaves the live collection (list and get no longer see it) and is kept, with
``deleted_at`` (and ``updated_at``) set to the request time, under the resource name
``<name>~deleted`` (:func:`tombstone_resource`), where ``deleted_since`` finds it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from ..context import Context, parse_date, parse_timestamp, public
from ..errors import ApiError, invalid, not_found

#: Operation name -> (HTTP method, whether it addresses one record).
OPERATIONS: dict[str, tuple[str, bool]] = {
    "list": ("GET", False),
    "create": ("POST", False),
    "get": ("GET", True),
    "update": ("PUT", True),
    "delete": ("DELETE", True),
}

Query = Mapping[str, str]

#: Tombstones of a resource are kept under this suffix (``contacts~deleted``).
DELETED_SUFFIX = "~deleted"
_LINK_KEYS = frozenset({"id", "displayed_as", "$path"})
_LINK_PATH_RE = re.compile(r"^/([a-z_]+)/([^/?#]+)$")


def tombstone_resource(name: str) -> str:
    """The resource name the tombstones of ``name`` are stored under."""
    return name + DELETED_SUFFIX


def bury(ctx: Context, resource: str, record: dict[str, Any]) -> dict[str, Any]:
    """Delete a live record, keeping it as a tombstone (``deleted_at`` set) for ``deleted_since``."""
    record["deleted_at"] = ctx.now_iso
    record["updated_at"] = ctx.now_iso
    ctx.store.delete(ctx.business_id, resource, record["id"])
    ctx.forget(resource)
    ctx.store.insert(ctx.business_id, tombstone_resource(resource), record)
    return record


def _since(query: Query, name: str) -> Any:
    raw = (query.get(name) or "").strip()
    if not raw:
        return None
    since = parse_timestamp(raw)
    if since is None:
        raise invalid(name, f"is not a date or date-time: {raw!r}")
    return since


def _date_bound(query: Query, name: str) -> str | None:
    raw = query.get(name)
    if raw is None or not raw.strip():
        return None
    bound = parse_date(raw)
    if bound is None:
        raise invalid(name, f"is not a date (YYYY-MM-DD): {raw!r}")
    return bound.isoformat()


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
    #: The date field ``from_date``/``to_date`` filter on (``None``: the collection takes neither).
    date_field: ClassVar[str | None] = None

    # ------------------------------------------------------------------ reading

    def load(self, ctx: Context, key: str) -> dict[str, Any]:
        record = ctx.get(self.name, key)
        if record is None:
            raise not_found(f"The {self.label} {key!r} was not found.")
        return record

    def records(self, ctx: Context) -> list[dict[str, Any]]:
        return ctx.store.all(ctx.business_id, self.name)

    def deleted_records(self, ctx: Context) -> list[dict[str, Any]]:
        """The tombstones of this collection (see "Deleting" in the module docstring)."""
        return ctx.store.all(ctx.business_id, tombstone_resource(self.name))

    def list_records(self, ctx: Context, query: Query) -> list[dict[str, Any]]:
        """What a list starts from: the live records, or with ``deleted_since`` the records deleted
        after it (not inclusive)."""
        since = _since(query, "deleted_since")
        if since is None:
            return self.records(ctx)
        return [
            r
            for r in self.deleted_records(ctx)
            if (stamp := parse_timestamp(str(r.get("deleted_at") or ""))) is not None and stamp > since
        ]

    def bury(self, ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
        """Delete ``record``, keeping its tombstone (use this instead of removing rows)."""
        return bury(ctx, self.name, record)

    def filter(self, ctx: Context, items: list[dict[str, Any]], query: Query) -> list[dict[str, Any]]:  # noqa: ARG002
        """Generic filters; subclasses add theirs and call this."""
        since = _since(query, "updated_or_created_since")
        if since is not None:
            items = [
                r
                for r in items
                if (stamp := parse_timestamp(str(r.get("updated_at") or r.get("created_at") or ""))) and stamp >= since
            ]
        if self.date_field is not None:
            field = self.date_field
            from_date, to_date = _date_bound(query, "from_date"), _date_bound(query, "to_date")
            if from_date is not None:
                items = [r for r in items if str(r.get(field) or "")[:10] >= from_date]
            if to_date is not None:
                items = [r for r in items if r.get(field) and str(r.get(field))[:10] <= to_date]
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


# ---------------------------------------------------------------------- nested_attributes


def _nested_request(raw: str | None) -> tuple[bool, set[str]]:
    names = {n.strip() for n in (raw or "").split(",") if n.strip()}
    return "all" in names, names - {"all"}


def _is_link(value: object) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("$path"), str)
        and "id" in value
        and set(value) <= _LINK_KEYS
        and _LINK_PATH_RE.match(value["$path"]) is not None
    )


def expand_links(
    ctx: Context, objs: Sequence[dict[str, Any]], raw: str | None, collections: Mapping[str, Collection]
) -> None:
    """``nested_attributes``: replace link objects (``{id, displayed_as, $path}``) in ``objs`` by the
    full public object of the record they point to, in place.

    ``all`` expands every link among an object's fields and inside its arrays and sub-objects
    (``invoice_lines[].ledger_account``); names expand only those fields, ``a.b`` a field ``b``
    inside the field ``a``.  Only links whose ``$path`` is ``/<collection>/<id>`` of a collection
    the sandbox emulates and whose record exists are expanded; others stay links.  Expansion is one
    level deep (the expanded records' own links stay links), and each linked collection is
    rendered once per answer.
    """
    everything, names = _nested_request(raw)
    if not everything and not names:
        return
    slots: list[tuple[dict[str, Any], str, str, str]] = []

    def take(holder: dict[str, Any], key: str) -> None:
        value = holder[key]
        if _is_link(value):
            match = _LINK_PATH_RE.match(value["$path"])
            assert match is not None
            if match.group(1) in collections:
                slots.append((holder, key, match.group(1), str(value["id"])))

    for obj in objs:
        for key in list(obj):
            if key in _LINK_KEYS:
                continue
            value = obj[key]
            if everything or key in names:
                take(obj, key)
            inner = {n.split(".", 1)[1] for n in names if n.startswith(key + ".")}
            if (everything or inner) and not _is_link(value):
                children = value if isinstance(value, list) else [value]
                for child in children:
                    if isinstance(child, dict):
                        for child_key in list(child):
                            if child_key not in _LINK_KEYS and (everything or child_key in inner):
                                take(child, child_key)
    by_collection: dict[str, set[str]] = {}
    for _, _, name, record_id in slots:
        by_collection.setdefault(name, set()).add(record_id)
    rendered: dict[tuple[str, str], dict[str, Any]] = {}
    for name, ids in by_collection.items():
        collection = collections[name]
        records = []
        for record_id in sorted(ids):
            try:
                records.append(collection.load(ctx, record_id))
            except ApiError:
                continue
        for obj in collection.render_many(ctx, records) if records else []:
            rendered[(name, str(obj["id"]))] = obj
    for holder, key, name, record_id in slots:
        full = rendered.get((name, record_id))
        if full is not None:
            holder[key] = dict(full)
