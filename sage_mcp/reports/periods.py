"""Report periods: the words people use ("last quarter", "this financial year") turned into dates.

Words are resolved against ``today`` and the business's ``/financial_settings``:

* ``year_end_date``: the end of a financial year (any year's; only its month and day matter). Sage
  always sets it; without it the calendar year is assumed and the answer says so.
* ``tax_return_frequency`` (a link or a plain id: ``MONTHLY``, ``QUARTERLY``, ``ANNUALLY``): the VAT
  period. Sage's API does not give a business's VAT stagger, so quarters end in March, June,
  September and December, and annual returns follow the financial year; explicit dates cover the rest.

Quarters are quarters of the financial year (three months from its first day), which are calendar
quarters whenever the year ends at the end of March, June, September or December.

Every resolution returns a :class:`Period`: first and last day (both inclusive) and how it was chosen,
so a tool can echo the dates back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

WORDS = (
    "this_month",
    "last_month",
    "this_quarter",
    "last_quarter",
    "this_financial_year",
    "last_financial_year",
    "year_to_date",
    "this_vat_period",
    "last_vat_period",
)
#: How a P&L comparison period is chosen besides explicit dates.
COMPARISONS = ("previous_period", "same_period_last_year")


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    how: str = "dates given"

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"the period ends ({self.end}) before it starts ({self.start})")

    def echo(self) -> dict[str, str]:
        """The period as a tool shows it."""
        return {"from_date": self.start.isoformat(), "to_date": self.end.isoformat(), "how": self.how}

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


# -- calendar arithmetic -------------------------------------------------------------------------------


def month_start(day: dt.date, back: int = 0) -> dt.date:
    """First day of the month ``back`` months before ``day``'s month (negative: after)."""
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(day: dt.date) -> dt.date:
    return month_start(day, -1) - dt.timedelta(days=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months; a month end stays a month end (31 Mar - 1 month = 28/29 Feb)."""
    first = month_start(day, -months)
    last = month_end(first)
    if day == month_end(day):
        return last
    return first.replace(day=min(day.day, last.day))


def _link_id(value: Any) -> str:
    if isinstance(value, Mapping):
        value = value.get("id")
    return str(value or "").upper()


def _as_date(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


# -- financial years -----------------------------------------------------------------------------------


def year_end_of(settings: Mapping[str, Any] | None) -> dt.date | None:
    """The business's ``year_end_date`` (any year's), or ``None`` when Sage gives none."""
    return _as_date((settings or {}).get("year_end_date"))


def financial_year(day: dt.date, year_end: dt.date | None) -> Period:
    """The financial year containing ``day``: from the day after one year end to the next.

    ``year_end`` only gives the month and day (a 29 February year end is read as month end)."""
    if year_end is None:
        return Period(dt.date(day.year, 1, 1), dt.date(day.year, 12, 31), "financial year (calendar year assumed)")
    month_end_rule = year_end == month_end(year_end)
    end = _year_end_in(day.year, year_end, month_end_rule)
    if end < day:
        end = _year_end_in(day.year + 1, year_end, month_end_rule)
    start = _year_end_in(end.year - 1, year_end, month_end_rule) + dt.timedelta(days=1)
    return Period(start, end, f"financial year ending {end.isoformat()}")


def _year_end_in(year: int, year_end: dt.date, month_end_rule: bool) -> dt.date:
    first = dt.date(year, year_end.month, 1)
    last = month_end(first)
    return last if month_end_rule else first.replace(day=min(year_end.day, last.day))


def financial_year_start(day: dt.date, settings: Mapping[str, Any] | None) -> dt.date:
    """First day of the financial year containing ``day``."""
    return financial_year(day, year_end_of(settings)).start


# -- words ---------------------------------------------------------------------------------------------


def vat_months(settings: Mapping[str, Any] | None) -> tuple[int, str]:
    """Months per VAT return (1, 3 or 12) and how that was decided."""
    freq = _link_id((settings or {}).get("tax_return_frequency"))
    if "MONTH" in freq:
        return 1, "monthly VAT returns"
    if "ANNUAL" in freq or "YEAR" in freq:
        return 12, "annual VAT return (financial year)"
    if "QUARTER" in freq:
        return 3, "quarterly VAT returns, quarters ending Mar/Jun/Sep/Dec"
    return 3, "quarterly VAT returns assumed (no frequency set in Sage), quarters ending Mar/Jun/Sep/Dec"


def _quarter(day: dt.date, fy: Period) -> Period:
    """The quarter of ``fy`` holding ``day``. Quarters end 9, 6 and 3 months before the year does and with
    it, so the four always tile the year exactly (a start on a short month's last day, such as 28 February,
    must not carry a month-end rule into the quarters)."""
    start = fy.start
    for months_before_year_end in (9, 6, 3, 0):
        end = add_months(fy.end, -months_before_year_end)
        if day <= end:
            return Period(start, end)
        start = end + dt.timedelta(days=1)
    raise ValueError(f"{day} is not in the financial year {fy.start} to {fy.end}")


def resolve(word: str, today: dt.date, settings: Mapping[str, Any] | None = None) -> Period:
    """The period a word names, seen from ``today``. Raises ``ValueError`` for an unknown word."""
    year_end = year_end_of(settings)
    fy = financial_year(today, year_end)
    if word == "this_month":
        return Period(month_start(today), month_end(today), "this month")
    if word == "last_month":
        start = month_start(today, 1)
        return Period(start, month_end(start), "last month")
    if word == "this_quarter":
        q = _quarter(today, fy)
        return Period(q.start, q.end, "this quarter of the financial year")
    if word == "last_quarter":
        before = _quarter(today, fy).start - dt.timedelta(days=1)
        q = _quarter(before, financial_year(before, year_end))
        return Period(q.start, q.end, "last quarter of the financial year")
    if word == "this_financial_year":
        return Period(fy.start, fy.end, "this " + fy.how)
    if word == "last_financial_year":
        prev = financial_year(fy.start - dt.timedelta(days=1), year_end)
        return Period(prev.start, prev.end, "last " + prev.how)
    if word == "year_to_date":
        return Period(fy.start, today, "financial year to date (" + fy.how + ")")
    if word in ("this_vat_period", "last_vat_period"):
        return vat_period(word, today, settings)
    raise ValueError(f"unknown period {word[:40]!r}; use one of {', '.join(WORDS)}")


def vat_period(word: str, today: dt.date, settings: Mapping[str, Any] | None) -> Period:
    """``this_vat_period`` (containing today) or ``last_vat_period`` (the one before)."""
    months, how = vat_months(settings)
    if months == 12:
        fy = financial_year(today, year_end_of(settings))
        if word == "last_vat_period":
            fy = financial_year(fy.start - dt.timedelta(days=1), year_end_of(settings))
        return Period(fy.start, fy.end, how)
    current = month_start(today)
    start = month_start(current, (current.month - 1) % months)
    if word == "last_vat_period":
        start = month_start(start, months)
    return Period(start, month_start(start, -months) - dt.timedelta(days=1), how)


def comparison(period: Period, how: str) -> Period:
    """The period to compare ``period`` with: ``previous_period`` (as long, just before; whole months
    stay whole months) or ``same_period_last_year``."""
    whole_months = period.start.day == 1 and period.end == month_end(period.end)
    if how == "same_period_last_year":
        return Period(add_months(period.start, -12), add_months(period.end, -12), "same period last year")
    if how != "previous_period":
        raise ValueError(f"unknown comparison {how[:40]!r}; use one of {', '.join(COMPARISONS)} or dates")
    if whole_months:
        months = (period.end.year - period.start.year) * 12 + period.end.month - period.start.month + 1
        start = month_start(period.start, months)
        return Period(start, period.start - dt.timedelta(days=1), "previous period")
    end = period.start - dt.timedelta(days=1)
    return Period(end - dt.timedelta(days=period.days - 1), end, "previous period")


def choose(
    today: dt.date,
    settings: Mapping[str, Any] | None,
    *,
    from_date: dt.date | None = None,
    to_date: dt.date | None = None,
    word: str | None = None,
    default: str = "this_month",
) -> Period:
    """A tool's period from its arguments: explicit dates (both), else the word, else ``default``.

    Raises ``ValueError`` with a message for the caller (one date only, dates reversed, unknown word)."""
    if from_date is not None or to_date is not None:
        if word:
            raise ValueError("give either period or from_date and to_date, not both")
        if from_date is None or to_date is None:
            raise ValueError("give both from_date and to_date, or a period such as last_quarter")
        if to_date < from_date:
            raise ValueError("to_date is before from_date")
        return Period(from_date, to_date)
    return resolve(word or default, today, settings)


__all__ = [
    "COMPARISONS",
    "WORDS",
    "Period",
    "add_months",
    "choose",
    "comparison",
    "financial_year",
    "financial_year_start",
    "month_end",
    "month_start",
    "resolve",
    "vat_months",
    "vat_period",
    "year_end_of",
]
