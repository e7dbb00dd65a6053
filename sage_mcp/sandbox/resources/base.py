"""The generic collection: what every Sage resource in the sandbox shares.

A collection names its path segment (``contacts``), its spec definition (``Contact``), the root key
of its bodies (``contact``) and the operations it implements; the app routes
``/v3.1/<name>[/<key>[/<action>]]`` to it.  Records live in the generic ``records`` table.

Query semantics every collection gets from this base (subclasses add their own
:meth:`Collection.conditions` and call ``super().conditions``):

* ``updated_or_created_since`` - records whose ``updated_at`` (else ``created_at``) is at or after
  the given time (inclusive, as Sage documents).
* ``deleted_since`` - lists the *tombstones* deleted after the given time (not inclusive), instead of
  the live records; the other filters then apply to them.  See "Deleting" below.
* ``from_date``/``to_date`` - inclusive bounds on the field named by :attr:`Collection.date_field`
  (only for collections that set it; Sage declares them on dated documents).  Unparseable: 422.
* ``search`` - case-insensitive substring of any of :attr:`Collection.search_fields` (dotted names
  reach into links: ``contact.displayed_as``); only where a collection declares some.
* ``sort`` - ``<field>[:asc|:desc]`` over :attr:`Collection.sort_fields` (ignored where a collection
  declares none, as Sage ignores unknown parameters; a field not declared is a 422).
* ``attributes`` and paging - see :mod:`..listing`; ``nested_attributes`` - :func:`expand_links`.

**Lists in SQL.** A filter is a :class:`Condition`: the Python test of a record and, where the
``record_index`` columns (:mod:`..store`) can answer it, the same test as SQL.  A collection that
sets :attr:`Collection.sql_lists` (and keeps this class's ``records``, ``filter`` and ``order``) and
defines its default order by :meth:`Collection.order_key` is listed in SQL whenever every condition
of the request has its SQL form and the sort field has a column: only the records of the page are
decoded.  Otherwise - and always for the other collections - every record is decoded, filtered and
ordered in Python; both paths answer the same.

**Deleting.** Do not remove rows: call :meth:`Collection.bury` (or :meth:`Collection.bury_posted` for
a record with a transaction).  The record leaves the live collection (list and get no longer see it)
and is kept, with ``deleted_at`` (and ``updated_at``) set to the request time, under the resource
name ``<name>~deleted`` (:func:`tombstone_resource`), where ``deleted_since`` finds it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..context import Context, parse_date, parse_timestamp, public, utc_text
from ..errors import ApiError, invalid, not_found
from ..ledger import reverse_transaction
from ..listing import Paging, page_window
from ..store import INDEX_SEPARATOR, register_indexer

#: Operation name -> (HTTP method, whether it addresses one record).
OPERATIONS: dict[str, tuple[str, bool]] = {
    "list": ("GET", False),
    "create": ("POST", False),
    "get": ("GET", True),
    "update": ("PUT", True),
    "delete": ("DELETE", True),
}

Query = Mapping[str, str]
Record = Mapping[str, Any]

#: Tombstones of a resource are kept under this suffix (``contacts~deleted``).
DELETED_SUFFIX = "~deleted"
_LINK_KEYS = frozenset({"id", "displayed_as", "$path"})
_LINK_PATH_RE = re.compile(r"^/([a-z_]+)/([^/?#]+)$")
#: Sort fields answered from a ``record_index`` column (besides a collection's ``date_field``).
_SORT_COLUMNS = ("created_at", "updated_at")
#: Link fields whose id is a ``record_index`` column.
_LINK_COLUMNS = {"contact": "contact_id", "transaction_type": "kind"}


def tombstone_resource(name: str) -> str:
    """The resource name the tombstones of ``name`` are stored under."""
    return name + DELETED_SUFFIX


# ---------------------------------------------------------------------------------------------- query parameters


def query_bool(query: Query, name: str, *, digits: bool = False) -> bool | None:
    """``true``/``false`` (any case; with ``digits`` also ``1``/``0``), ``None`` when absent; else a 422."""
    raw = (query.get(name) or "").strip().lower()
    if not raw:
        return None
    if raw in ("true", "false") or (digits and raw in ("1", "0")):
        return raw in ("true", "1")
    raise invalid(name, f"must be true or false, not {query.get(name)!r}")


def query_date(query: Query, name: str) -> str | None:
    """A ``YYYY-MM-DD`` (or date-time) query parameter as an ISO date, ``None`` when absent; else a 422."""
    raw = query.get(name)
    if raw is None or not raw.strip():
        return None
    parsed = parse_date(raw)
    if parsed is None:
        raise invalid(name, f"is not a date (YYYY-MM-DD): {raw!r}")
    return parsed.isoformat()


def query_since(query: Query, name: str) -> dt.datetime | None:
    """A date or date-time query parameter, ``None`` when absent; else a 422."""
    raw = (query.get(name) or "").strip()
    if not raw:
        return None
    since = parse_timestamp(raw)
    if since is None:
        raise invalid(name, f"is not a date or date-time: {raw!r}")
    return since


def linked_id(record: Record, field: str) -> str | None:
    """The id of the link (``{id, ...}``) in ``field``, if there is one."""
    value = record.get(field)
    if isinstance(value, Mapping):
        found = value.get("id")
        return None if found is None else str(found)
    return None


def field_text(record: Record, path: str) -> str:
    """A (dotted: ``contact.displayed_as``) field as text, ``""`` when missing or empty."""
    value: Any = record
    for name in path.split("."):
        value = value.get(name) if isinstance(value, Mapping) else None
    return str(value or "")


def sort_key(*parts: object) -> bytes:
    """Bytes that sort as the tuple ``parts`` (strings and non-negative whole numbers) sorts."""
    out = bytearray()
    for part in parts:
        if isinstance(part, int):
            out += (part + (1 << 63)).to_bytes(8, "big")
        else:
            out += str(part).encode("utf-8").replace(b"\x00", b"\x00\x01") + b"\x00\x00"
    return bytes(out)


# ---------------------------------------------------------------------------------------------- conditions


@dataclass(frozen=True)
class Condition:
    """One list filter: the test of a record, and the same test as SQL over ``record_index``."""

    keep: Callable[[Record], bool]
    sql: str | None = None
    params: tuple[Any, ...] = ()


def link_condition(query: Query, parameter: str, field: str, *, upper: bool = False) -> Condition | None:
    """Records whose ``field`` links to the id given in ``parameter`` (``contact_id`` -> ``contact``)."""
    wanted = (query.get(parameter) or "").strip()
    if not wanted:
        return None
    if upper:
        wanted = wanted.upper()
    column = _LINK_COLUMNS.get(field)
    return Condition(lambda r: linked_id(r, field) == wanted, f"{column} = ?" if column else None, (wanted,))


def since_condition(
    since: dt.datetime, column: str, stamp: Callable[[Record], object], *, inclusive: bool
) -> Condition:
    """Records whose time ``stamp`` (unparseable: never) is after ``since`` (or at it, ``inclusive``)."""

    def keep(record: Record) -> bool:
        moment = parse_timestamp(str(stamp(record) or ""))
        return moment is not None and (moment >= since if inclusive else moment > since)

    bound = utc_text(since)
    sql = None if bound is None else f"{column} {'>=' if inclusive else '>'} ?"
    return Condition(keep, sql, (bound,))


def _updated_or_created(record: Record) -> object:
    return record.get("updated_at") or record.get("created_at")


def _deleted_at(record: Record) -> object:
    return record.get("deleted_at")


# ---------------------------------------------------------------------------------------------- collections


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
    #: The fields ``search`` looks in (none: the collection takes no ``search``).
    search_fields: ClassVar[tuple[str, ...]] = ()
    #: Whether lists may be answered in SQL (see the module docstring).
    sql_lists: ClassVar[bool] = False
    #: Whether the default order is :meth:`order_key` descending.
    order_descending: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            indexer = cls().index_columns
            register_indexer(cls.name, indexer)
            register_indexer(tombstone_resource(cls.name), indexer)

    # ------------------------------------------------------------------ reading

    def load(self, ctx: Context, key: str) -> dict[str, Any]:
        record = ctx.get(self.name, key)
        if record is None:
            raise not_found(f"The {self.label} {key!r} was not found.")
        return record

    def records(self, ctx: Context) -> list[dict[str, Any]]:
        return ctx.store.all(ctx.business_id, self.name)

    def list_records(self, ctx: Context, query: Query) -> list[dict[str, Any]]:
        """What a list starts from: the live records, or with ``deleted_since`` the records deleted
        after it (not inclusive)."""
        since = query_since(query, "deleted_since")
        if since is None:
            return self.records(ctx)
        deleted = since_condition(since, "deleted_at", _deleted_at, inclusive=False)
        return [r for r in ctx.store.all(ctx.business_id, tombstone_resource(self.name)) if deleted.keep(r)]

    def conditions(self, ctx: Context, query: Query) -> list[Condition]:  # noqa: ARG002
        """The filters of a list request, checked in order (subclasses add theirs after these)."""
        result: list[Condition] = []
        since = query_since(query, "updated_or_created_since")
        if since is not None:
            result.append(since_condition(since, "stamp", _updated_or_created, inclusive=True))
        if self.date_field is not None:
            field = self.date_field
            from_date, to_date = query_date(query, "from_date"), query_date(query, "to_date")
            if from_date is not None:
                result.append(Condition(lambda r: str(r.get(field) or "")[:10] >= from_date, "date >= ?", (from_date,)))
            if to_date is not None:
                result.append(
                    Condition(
                        lambda r: bool(r.get(field)) and str(r.get(field))[:10] <= to_date,
                        "date <> '' AND substr(date, 1, 10) <= ?",
                        (to_date,),
                    )
                )
        if self.search_fields:
            needle = (query.get("search") or "").strip().casefold()
            if needle:
                result.append(
                    Condition(
                        lambda r: any(needle in part for part in self.search_parts(r)),
                        None if INDEX_SEPARATOR in needle else "instr(search, ?) > 0",
                        (needle,),
                    )
                )
        return result

    def filter(self, ctx: Context, items: list[dict[str, Any]], query: Query) -> list[dict[str, Any]]:
        """Apply :meth:`conditions`; subclasses with filters of their own add them and call this."""
        for condition in self.conditions(ctx, query):
            items = [r for r in items if condition.keep(r)]
        return items

    def search_parts(self, record: Record) -> list[str]:
        """The case-folded texts ``search`` looks in."""
        return [field_text(record, f).casefold() for f in self.search_fields]

    def order_key(self, record: Record) -> bytes | None:
        """The default order's sort key (see :func:`sort_key`); ``None``: creation order."""
        del record
        return None

    def default_order(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if type(self).order_key is Collection.order_key:
            return items
        return sorted(items, key=lambda r: self.order_key(r) or b"", reverse=self.order_descending)

    def sort(self, query: Query) -> tuple[str, bool] | None:
        """``sort`` as ``(field, descending)``; ``None`` for the default order; a 422 when not allowed."""
        raw = query.get("sort")
        if not raw or not self.sort_fields:
            return None
        field, _, direction = raw.strip().partition(":")
        direction = direction.lower() or "asc"
        if field not in self.sort_fields or direction not in ("asc", "desc"):
            allowed = ", ".join(self.sort_fields)
            raise invalid("sort", f"must be one of {allowed}, optionally followed by :asc or :desc")
        return field, direction == "desc"

    def order(self, ctx: Context, items: list[dict[str, Any]], query: Query) -> list[dict[str, Any]]:  # noqa: ARG002
        wanted = self.sort(query)
        ordered = self.default_order(items)
        if wanted is None:
            return ordered
        field, descending = wanted
        return sorted(ordered, key=lambda r: _sort_text(r.get(field)), reverse=descending)

    def select(self, ctx: Context, query: Query, paging: Paging) -> tuple[list[dict[str, Any]], int, int]:
        """A list request: ``(records of the page, total, page number)`` (a page past the end is the last)."""
        found = self.select_sql(ctx, query, paging)
        return found if found is not None else self.select_python(ctx, query, paging)

    def select_sql(self, ctx: Context, query: Query, paging: Paging) -> tuple[list[dict[str, Any]], int, int] | None:
        """:meth:`select` in SQL over ``record_index``, decoding only the page; ``None`` where it cannot be."""
        if not self._listed_in_sql():
            return None
        since = query_since(query, "deleted_since")
        conditions = self.conditions(ctx, query)
        if since is not None:
            conditions.insert(0, since_condition(since, "deleted_at", _deleted_at, inclusive=False))
        order_by = self._sql_order(self.sort(query))
        if order_by is None or any(c.sql is None for c in conditions):
            return None
        resource = self.name if since is None else tombstone_resource(self.name)
        where = [str(c.sql) for c in conditions]
        params = [p for c in conditions for p in c.params]
        total = ctx.store.count_index(ctx.business_id, resource, where, params)
        page, start = page_window(total, paging)
        records = ctx.store.select_index(
            ctx.business_id, resource, where, params, order_by, paging.items_per_page, start
        )
        return records, total, page

    def select_python(self, ctx: Context, query: Query, paging: Paging) -> tuple[list[dict[str, Any]], int, int]:
        """:meth:`select` by decoding, filtering and ordering every record (what every collection can do)."""
        items = self.order(ctx, self.filter(ctx, self.list_records(ctx, query), query), query)
        page, start = page_window(len(items), paging)
        return items[start : start + paging.items_per_page], len(items), page

    def _listed_in_sql(self) -> bool:
        cls = type(self)
        return (
            self.sql_lists
            and cls.order_key is not Collection.order_key
            and all(getattr(cls, m) is getattr(Collection, m) for m in ("records", "list_records", "filter", "order"))
        )

    def _sql_order(self, wanted: tuple[str, bool] | None) -> str | None:
        default = f"order_key {'DESC' if self.order_descending else 'ASC'}, seq"
        if wanted is None:
            return default
        field, descending = wanted
        column = "date" if field == self.date_field else field if field in _SORT_COLUMNS else None
        if column is None:
            return None
        return f"{column} {'DESC' if descending else 'ASC'}, {default}"

    def index_columns(self, record: Record) -> tuple[str, str | None, bytes | None]:
        """This collection's ``record_index`` columns of a record: ``(date, search, order_key)``."""
        date = ""
        if self.date_field is not None:
            value = record.get(self.date_field)
            date = str(value) if value else ""
        search = INDEX_SEPARATOR.join(self.search_parts(record)) if self.search_fields else None
        try:
            key = self.order_key(record)
        except (KeyError, TypeError, ValueError):  # a malformed record: its list fails in Python too
            key = None
        return date, search, key

    def bury(self, ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
        """Delete ``record``, keeping its tombstone (use this instead of removing rows)."""
        ctx.store.delete(ctx.business_id, self.name, record["id"])
        ctx.forget(self.name)
        return self.keep_tombstone(ctx, record)

    def keep_tombstone(self, ctx: Context, record: dict[str, Any]) -> dict[str, Any]:
        """Store ``record`` (``deleted_at`` and ``updated_at`` set to now) among the tombstones."""
        record["deleted_at"] = ctx.now_iso
        record["updated_at"] = ctx.now_iso
        ctx.store.insert(ctx.business_id, tombstone_resource(self.name), record)
        return record

    def bury_posted(self, ctx: Context, record: dict[str, Any], details: str | None = None) -> None:
        """Delete a record with a transaction: post the mirror entries on its own date, then :meth:`bury`."""
        if record.get("transaction"):
            reverse_transaction(
                ctx,
                record["transaction"]["id"],
                details or f"Deleted {record['displayed_as']}",
                date=record["date"],
            )
        self.bury(ctx, record)

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
        """Delete (``None``: 204) or void (the voided record: 200).  By default :meth:`check_delete`,
        then :meth:`bury` (only reached where ``delete`` is among the collection's operations)."""
        del query
        self.check_delete(ctx, record)
        self.bury(ctx, record)
        return None

    def check_delete(self, ctx: Context, record: Mapping[str, Any]) -> None:
        """Refuse a delete (a 422) before anything is changed."""

    def action(self, ctx: Context, record: dict[str, Any], action: str) -> dict[str, Any]:
        raise NotImplementedError


def _sort_text(value: object) -> str:
    return "" if value is None else str(value)


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
