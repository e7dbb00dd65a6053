"""Sage's list envelope, paging and ``attributes`` selection, for every collection alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import invalid

BASE_FIELDS = ("id", "displayed_as", "$path")
DEFAULT_ITEMS_PER_PAGE = 20
MAX_ITEMS_PER_PAGE = 200
#: ``GET /businesses`` is not paginated; Sage reports this size (under ``$items_per_page``).
UNPAGINATED_SIZE = 2147483647


@dataclass(frozen=True)
class Paging:
    page: int
    items_per_page: int


def _positive_int(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise invalid(name, f"must be a whole number, not {raw!r}") from None
    if value < 1:
        raise invalid(name, "must be at least 1")
    return value


def parse_paging(query: Mapping[str, str]) -> Paging:
    """``page`` (default 1) and ``items_per_page`` (default 20, at most 200: more is a 422)."""
    per_page = _positive_int(query, "items_per_page", DEFAULT_ITEMS_PER_PAGE)
    if per_page > MAX_ITEMS_PER_PAGE:
        raise invalid("items_per_page", f"must be at most {MAX_ITEMS_PER_PAGE}")
    return Paging(page=_positive_int(query, "page", 1), items_per_page=per_page)


def select_attributes(obj: Mapping[str, Any], attributes: str | None, *, default_all: bool) -> dict[str, Any]:
    """The fields to answer with: base fields plus the named ``attributes`` (``all`` = everything).

    Without ``attributes``, lists answer slim (``default_all=False``) and single GETs in full.  A
    named field comes back whole (a nested object or array as it is); a dotted name ``a.b`` keeps
    only ``b`` (plus the base fields) of the object ``a``, or of each object in the array ``a``.
    Unknown names are ignored.
    """
    if attributes is None or not attributes.strip():
        if default_all:
            return dict(obj)
        return {k: obj[k] for k in BASE_FIELDS if k in obj}
    wanted = {a.strip() for a in attributes.split(",") if a.strip()}
    if "all" in wanted:
        return dict(obj)
    nested: dict[str, list[str]] = {}
    for name in wanted:
        head, dot, rest = name.partition(".")
        if dot and rest:
            nested.setdefault(head, []).append(rest)
    result: dict[str, Any] = {}
    for key, value in obj.items():
        if key in BASE_FIELDS or key in wanted:
            result[key] = value
        elif key in nested:
            result[key] = _select_inside(value, ",".join(nested[key]))
    return result


def _select_inside(value: Any, attributes: str) -> Any:
    if isinstance(value, Mapping):
        return select_attributes(value, attributes, default_all=False)
    if isinstance(value, list):
        return [_select_inside(item, attributes) if isinstance(item, Mapping) else item for item in value]
    return value


def page_link(path: str, raw_query: str, page: int, items_per_page: int) -> str:
    """``$next``/``$back``: the path (no ``/v3.1``) with the request's query, ``page`` replaced."""
    kept = [part for part in raw_query.split("&") if part and part.split("=", 1)[0] not in ("page", "items_per_page")]
    kept += [f"page={page}", f"items_per_page={items_per_page}"]
    return f"{path}?{'&'.join(kept)}"


def page_window(total: int, paging: Paging) -> tuple[int, int]:
    """``(page, index of its first item)`` for ``total`` items: a page past the end is the last page
    (as Sage documents)."""
    last_page = max(1, -(-total // paging.items_per_page))
    page = min(paging.page, last_page)
    return page, (page - 1) * paging.items_per_page


def envelope(total: int, page: int, paging: Paging, path: str, raw_query: str) -> dict[str, Any]:
    """The list envelope fields other than ``$items``."""
    per_page = paging.items_per_page
    last_page = max(1, -(-total // per_page))
    return {
        "$total": total,
        "$page": page,
        "$next": page_link(path, raw_query, page + 1, per_page) if page < last_page else None,
        "$back": page_link(path, raw_query, page - 1, per_page) if page > 1 else None,
        "$itemsPerPage": per_page,
    }
