"""Report periods over arbitrary days and year ends: every period is whole, contains what it should, and
meets its neighbour with no day lost or counted twice."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sage_mcp.reports import periods
from sage_mcp.reports.periods import Period

PROPERTY = settings(max_examples=150, deadline=None, derandomize=True, database=None)
days = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2090, 12, 31))
year_ends = st.one_of(st.none(), st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2000, 12, 31)))
ONE = dt.timedelta(days=1)


def last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def months_between(p: Period) -> int:
    return (p.end.year - p.start.year) * 12 + p.end.month - p.start.month + 1


@given(days, st.integers(min_value=-30, max_value=30))
@PROPERTY
def test_month_arithmetic_matches_the_calendar(day: dt.date, months: int) -> None:
    start = periods.month_start(day)
    assert (start.year, start.month, start.day) == (day.year, day.month, 1)
    end = periods.month_end(day)
    assert (end.year, end.month, end.day) == (day.year, day.month, last_day(day.year, day.month))
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    moved = periods.add_months(day, months)
    assert (moved.year, moved.month) == (year, month + 1)
    if day.day == last_day(day.year, day.month):
        assert moved.day == last_day(year, month + 1), "a month end stays a month end"
    else:
        assert moved.day == min(day.day, last_day(year, month + 1))
    back_year, back_month = divmod(day.year * 12 + day.month - 1 - months, 12)
    assert periods.month_start(day, months) == dt.date(back_year, back_month + 1, 1)


@given(days, year_ends)
@PROPERTY
def test_a_financial_year_holds_the_day_and_meets_the_next_one(day: dt.date, year_end: dt.date | None) -> None:
    fy = periods.financial_year(day, year_end)
    assert fy.start <= day <= fy.end
    assert fy.days in (365, 366)
    following = periods.financial_year(fy.end + ONE, year_end)
    assert following.start == fy.end + ONE
    if year_end is None:
        assert (fy.start, fy.end) == (dt.date(day.year, 1, 1), dt.date(day.year, 12, 31))
        assert fy.how == "financial year (calendar year assumed)"
    else:
        assert fy.end.month == year_end.month
        if year_end.day == last_day(2000, year_end.month):
            assert fy.end.day == last_day(fy.end.year, fy.end.month)
        else:
            assert fy.end.day == year_end.day
        assert fy.how == f"financial year ending {fy.end.isoformat()}"


@given(days, year_ends)
@PROPERTY
def test_every_word_names_a_period_in_its_place(today: dt.date, year_end: dt.date | None) -> None:
    settings_ = {"year_end_date": year_end.isoformat()} if year_end else {}
    get = {word: periods.resolve(word, today, settings_) for word in periods.WORDS}
    this_month, last_month = get["this_month"], get["last_month"]
    assert this_month.start == today.replace(day=1) and this_month.end.month == today.month
    assert last_month.end + ONE == this_month.start and last_month.start.day == 1
    fy, last_fy = get["this_financial_year"], get["last_financial_year"]
    assert fy.start <= today <= fy.end and last_fy.end + ONE == fy.start
    assert get["year_to_date"] == Period(fy.start, today, f"financial year to date ({fy.how[len('this ') :]})")
    quarter = get["this_quarter"]
    assert fy.start <= quarter.start <= today <= quarter.end <= fy.end
    assert quarter.start == fy.start or quarter.start.day == (fy.end + ONE).day or quarter.start.day == 1
    assert 89 <= quarter.days <= 92
    last_quarter = get["last_quarter"]
    assert last_quarter.end + ONE == quarter.start and 89 <= last_quarter.days <= 92
    assert (this_month.how, last_month.how) == ("this month", "last month")
    assert quarter.how == "this quarter of the financial year"
    assert last_quarter.how == "last quarter of the financial year"
    assert fy.how.startswith("this financial year") and last_fy.how.startswith("last financial year")


@pytest.mark.parametrize(
    ("frequency", "months", "how"),
    [
        ({"id": "MONTHLY"}, 1, "monthly VAT returns"),
        ("quarterly", 3, "quarterly VAT returns, quarters ending Mar/Jun/Sep/Dec"),
        ({"id": "ANNUALLY"}, 12, "annual VAT return (financial year)"),
        ("YEARLY", 12, "annual VAT return (financial year)"),
        (None, 3, "quarterly VAT returns assumed (no frequency set in Sage), quarters ending Mar/Jun/Sep/Dec"),
    ],
)
def test_the_vat_frequency_is_read_from_settings(frequency: object, months: int, how: str) -> None:
    assert periods.vat_months({"tax_return_frequency": frequency}) == (months, how)


@given(days, st.sampled_from(["MONTHLY", "QUARTERLY", "ANNUALLY"]), year_ends)
@PROPERTY
def test_vat_periods_hold_today_and_meet_the_one_before(
    today: dt.date, frequency: str, year_end: dt.date | None
) -> None:
    settings_ = {"tax_return_frequency": {"id": frequency}}
    if year_end:
        settings_["year_end_date"] = year_end.isoformat()  # type: ignore[assignment]
    this = periods.resolve("this_vat_period", today, settings_)
    last = periods.resolve("last_vat_period", today, settings_)
    assert this.start <= today <= this.end
    assert last.end + ONE == this.start
    if frequency == "ANNUALLY":
        assert this == Period(*_fy(today, year_end), "annual VAT return (financial year)")
    else:
        size = 1 if frequency == "MONTHLY" else 3
        assert months_between(this) == months_between(last) == size
        assert this.start.day == 1 and this.end.day == last_day(this.end.year, this.end.month)
        assert this.end.month % size == 0, "quarters end in March, June, September and December"
        assert this.how == last.how == periods.vat_months(settings_)[1]


def _fy(day: dt.date, year_end: dt.date | None) -> tuple[dt.date, dt.date]:
    fy = periods.financial_year(day, year_end)
    return fy.start, fy.end


@given(days, st.integers(min_value=0, max_value=400))
@PROPERTY
def test_the_previous_period_is_as_long_and_ends_the_day_before(start: dt.date, length: int) -> None:
    period = Period(start, start + dt.timedelta(days=length))
    prev = periods.comparison(period, "previous_period")
    assert prev.end + ONE == period.start and prev.how == "previous period"
    whole = period.start.day == 1 and period.end.day == last_day(period.end.year, period.end.month)
    if whole:
        assert prev.start.day == 1 and months_between(prev) == months_between(period)
    else:
        assert prev.days == period.days
    last_year = periods.comparison(period, "same_period_last_year")
    assert last_year == Period(
        periods.add_months(period.start, -12), periods.add_months(period.end, -12), "same period last year"
    )


def test_whole_months_across_a_year_end_compare_with_as_many_months_before() -> None:
    winter = Period(dt.date(2025, 12, 1), dt.date(2026, 1, 31))
    assert periods.comparison(winter, "previous_period") == Period(
        dt.date(2025, 10, 1), dt.date(2025, 11, 30), "previous period"
    )


def test_whole_months_compare_with_whole_months() -> None:
    february = Period(dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert periods.comparison(february, "previous_period") == Period(
        dt.date(2026, 1, 1), dt.date(2026, 1, 31), "previous period"
    )
    two = Period(dt.date(2026, 3, 1), dt.date(2026, 4, 30))
    assert periods.comparison(two, "previous_period") == Period(
        dt.date(2026, 1, 1), dt.date(2026, 2, 28), "previous period"
    )


def test_an_unknown_comparison_or_word_names_the_choices() -> None:
    with pytest.raises(ValueError) as comparison:
        periods.comparison(Period(dt.date(2026, 1, 1), dt.date(2026, 1, 2)), "x" * 60)
    assert str(comparison.value) == (
        f"unknown comparison {'x' * 40!r}; use one of previous_period, same_period_last_year or dates"
    )
    with pytest.raises(ValueError) as word:
        periods.resolve("fortnight", dt.date(2026, 1, 1))
    assert str(word.value) == "unknown period 'fortnight'; use one of " + ", ".join(periods.WORDS)
    with pytest.raises(ValueError) as long_word:
        periods.resolve("y" * 100, dt.date(2026, 1, 1))
    assert str(long_word.value).startswith(f"unknown period {'y' * 40!r}; use one of this_month,")


def test_a_period_cannot_end_before_it_starts_and_echoes_its_dates() -> None:
    with pytest.raises(ValueError) as reversed_:
        Period(dt.date(2026, 1, 2), dt.date(2026, 1, 1))
    assert str(reversed_.value) == "the period ends (2026-01-01) before it starts (2026-01-02)"
    one_day = Period(dt.date(2026, 1, 1), dt.date(2026, 1, 1))
    assert one_day.days == 1
    assert one_day.echo() == {"from_date": "2026-01-01", "to_date": "2026-01-01", "how": "dates given"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"from_date": dt.date(2026, 1, 1), "word": "this_month"},
            "give either period or from_date and to_date, not both",
        ),
        ({"to_date": dt.date(2026, 1, 1)}, "give both from_date and to_date, or a period such as last_quarter"),
        ({"from_date": dt.date(2026, 1, 1)}, "give both from_date and to_date, or a period such as last_quarter"),
        ({"from_date": dt.date(2026, 2, 1), "to_date": dt.date(2026, 1, 1)}, "to_date is before from_date"),
    ],
)
def test_a_tools_period_arguments_are_checked(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as refused:
        periods.choose(dt.date(2026, 5, 5), None, **kwargs)  # type: ignore[arg-type]
    assert str(refused.value) == message


def test_dates_win_then_the_word_then_the_default() -> None:
    today = dt.date(2026, 5, 5)
    given_dates = periods.choose(today, None, from_date=dt.date(2026, 1, 1), to_date=dt.date(2026, 1, 1))
    assert given_dates == Period(dt.date(2026, 1, 1), dt.date(2026, 1, 1))
    assert periods.choose(today, None, word="last_month").start == dt.date(2026, 4, 1)
    assert periods.choose(today, None).start == dt.date(2026, 5, 1)
    assert periods.choose(today, None, default="year_to_date").end == today
    april_year = {"year_end_date": "2026-03-31"}
    assert periods.choose(today, april_year, word="this_financial_year").start == dt.date(2026, 4, 1)


@pytest.mark.parametrize(
    ("settings_", "start"),
    [
        ({"year_end_date": "2025-03-31"}, dt.date(2026, 4, 1)),
        ({"year_end_date": "2025-03-31T00:00:00Z"}, dt.date(2026, 4, 1)),
        ({"year_end_date": "not a date"}, dt.date(2026, 1, 1)),
        ({"year_end_date": ""}, dt.date(2026, 1, 1)),
        (None, dt.date(2026, 1, 1)),
    ],
)
def test_the_year_end_is_read_from_settings_or_the_calendar_year_assumed(
    settings_: dict[str, str] | None, start: dt.date
) -> None:
    assert periods.financial_year_start(dt.date(2026, 5, 5), settings_) == start


@pytest.mark.parametrize(
    ("year_end", "today", "this_quarter", "last_quarter"),
    [
        # a year starting on 6 April: the quarter before July's is April's, not January's
        ("2026-04-05", "2026-07-10", ("2026-07-06", "2026-10-05"), ("2026-04-06", "2026-07-05")),
        # a year starting on 28 February 1999 (a month end) ends on 27 February 2000, and so does its last quarter
        ("2000-02-27", "2000-01-01", ("1999-11-28", "2000-02-27"), ("1999-08-28", "1999-11-27")),
        ("2027-03-31", "2026-12-04", ("2026-10-01", "2026-12-31"), ("2026-07-01", "2026-09-30")),
    ],
)
def test_quarters_tile_the_financial_year(
    year_end: str, today: str, this_quarter: tuple[str, str], last_quarter: tuple[str, str]
) -> None:
    settings_ = {"year_end_date": year_end}
    this = periods.resolve("this_quarter", dt.date.fromisoformat(today), settings_)
    last = periods.resolve("last_quarter", dt.date.fromisoformat(today), settings_)
    assert (this.start.isoformat(), this.end.isoformat()) == this_quarter
    assert (last.start.isoformat(), last.end.isoformat()) == last_quarter


@pytest.mark.parametrize(
    ("day", "start", "end"),
    [
        ("2023-03-15", "2023-03-01", "2024-02-29"),  # the year ends on the leap day
        ("2024-03-15", "2024-03-01", "2025-02-28"),  # the year before it ended on the leap day
    ],
)
def test_a_28_february_year_end_stays_the_month_end_across_leap_years(day: str, start: str, end: str) -> None:
    fy = periods.financial_year(dt.date.fromisoformat(day), dt.date(2023, 2, 28))
    assert (fy.start.isoformat(), fy.end.isoformat()) == (start, end)


def test_a_29_february_year_end_is_a_month_end() -> None:
    fy = periods.financial_year(dt.date(2025, 6, 1), dt.date(2024, 2, 29))
    assert (fy.start, fy.end) == (dt.date(2025, 3, 1), dt.date(2026, 2, 28))
