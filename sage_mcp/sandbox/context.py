"""What a request handler works with: the business, the user, the store, the clock; and small
helpers for the shapes every Sage object shares (links, timestamps, lookups)."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .config import SandboxConfig
    from .store import Store

COUNTRIES = {
    "GB": "United Kingdom (GB)",
    "IE": "Ireland (IE)",
    "FR": "France (FR)",
    "DE": "Germany (DE)",
    "ES": "Spain (ES)",
    "NL": "Netherlands (NL)",
    "BE": "Belgium (BE)",
    "IT": "Italy (IT)",
    "US": "United States (US)",
    "CA": "Canada (CA)",
}
CURRENCIES = {"GBP": "Pound Sterling (GBP)"}


def iso_utc(epoch: float) -> str:
    """Epoch seconds as Sage writes timestamps: ``2025-03-01T09:30:00Z``."""
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(day: dt.date, hour: int = 9, minute: int = 0) -> float:
    """Epoch seconds of a UTC wall-clock time on ``day`` (the seed data's clock)."""
    return float(calendar.timegm((day.year, day.month, day.day, hour, minute, 0)))


def parse_timestamp(value: str) -> dt.datetime | None:
    """A query timestamp: a date, a date-time with ``Z`` or offset, or Sage's ``YYYY-MM-DDT+hh:mm``.

    Naive values are UTC.  Returns ``None`` when the value is not understood.
    """
    text = value.strip().replace(" ", "+")  # a '+' sent unencoded in a query string arrives as a space
    if not text:
        return None
    if len(text) > 10 and text[10] in "Tt" and text[11:12] in "+-" and len(text) <= 17:
        text = text[:10] + "T00:00:00" + text[11:]  # YYYY-MM-DDT(+|-)hh:mm
    try:
        if len(text) == 10:
            parsed = dt.datetime.fromisoformat(text + "T00:00:00")
        else:
            parsed = dt.datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def utc_text(moment: dt.datetime) -> str | None:
    """An aware time as fixed-width UTC text (``0001-01-01T00:00:00.000000``), whose string order is the
    time order; ``None`` when it falls outside the years 1-9999 once in UTC."""
    try:
        return moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
    except (OverflowError, ValueError):
        return None


def parse_date(value: str) -> dt.date | None:
    """A query date: ``YYYY-MM-DD`` or anything :func:`parse_timestamp` understands (its date part)."""
    text = value.strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    parsed = parse_timestamp(text)
    return parsed.date() if parsed else None


def link(collection: str, record_id: str, displayed_as: str) -> dict[str, Any]:
    """A relation as Sage returns it: ``{"id", "displayed_as", "$path"}``."""
    return {"id": record_id, "displayed_as": displayed_as, "$path": f"/{collection}/{record_id}"}


def link_to(collection: str, record: dict[str, Any]) -> dict[str, Any]:
    return link(collection, str(record["id"]), str(record.get("displayed_as") or ""))


def country_link(country_id: str) -> dict[str, Any]:
    return link("countries", country_id, COUNTRIES.get(country_id, country_id))


def currency_link(currency_id: str = "GBP") -> dict[str, Any]:
    return link("currencies", currency_id, CURRENCIES.get(currency_id, currency_id))


def public(record: dict[str, Any]) -> dict[str, Any]:
    """The record without the sandbox's private ``_``-prefixed bookkeeping keys."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


@dataclass
class Context:
    """One request (or one seeding run) in one business."""

    store: Store
    config: SandboxConfig
    business: dict[str, Any]
    user_id: str
    now: float
    today: dt.date
    _cache: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    #: The request's query parameters (empty while seeding); read by renders that depend on them,
    #: such as ``show_balance_details`` of ledger accounts.
    query: Mapping[str, str] = field(default_factory=dict)

    @property
    def business_id(self) -> str:
        return str(self.business["id"])

    @property
    def now_iso(self) -> str:
        return iso_utc(self.now)

    def new_id(self, kind: str) -> str:
        return self.store.new_id(kind)

    def by_id(self, resource: str) -> dict[str, dict[str, Any]]:
        """All records of a (rarely changing) resource, by id; cached for the context's lifetime."""
        if resource not in self._cache:
            self._cache[resource] = {r["id"]: r for r in self.store.all(self.business_id, resource)}
        return self._cache[resource]

    def forget(self, resource: str) -> None:
        self._cache.pop(resource, None)

    def get(self, resource: str, record_id: str) -> dict[str, Any] | None:
        cached = self._cache.get(resource)
        if cached is not None:
            return cached.get(record_id)
        return self.store.get(self.business_id, resource, record_id)

    def put_new(self, resource: str, record: dict[str, Any]) -> None:
        self.store.insert(self.business_id, resource, record)
        if resource in self._cache:
            self._cache[resource][record["id"]] = record

    def put(self, resource: str, record: dict[str, Any]) -> None:
        self.store.replace(self.business_id, resource, record)
        if resource in self._cache:
            self._cache[resource][record["id"]] = record
