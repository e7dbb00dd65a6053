"""Trial balance, profit and loss and balance sheet over arbitrary balanced books: every total is the sum of
the rows shown plus the rows counted in ``more``, the trial balance and the balance sheet balance, and the
P&L's net profit is the credits minus debits of every P&L account."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sage_mcp.money import MoneyError, money
from sage_mcp.reports import activity, aged, statements, summary, vat
from sage_mcp.reports.fetch import Fetcher
from sage_mcp.reports.ledger import AccountLine, Ledger, chart_entry, fetch_ledger, from_balances, from_trial_balance
from sage_mcp.sage.errors import SageNotFoundError

PROPERTY = settings(max_examples=80, deadline=None, derandomize=True, database=None)
START, END = dt.date(2026, 4, 1), dt.date(2027, 3, 31)
D = Decimal

#: (code, name, type, group): one account of every section, and one of no known type.
CHART = [
    ("10", "Plant", "FIXED_ASSETS", "ASSETS"),
    ("1100", "Debtors", "CURRENT_ASSETS", "ASSETS"),
    ("1200", "Bank", "BANK", "ASSETS"),
    ("1210", "Savings", "BANK", "ASSETS"),
    ("2100", "Creditors", "CURRENT_LIABILITY", "LIABILITIES"),
    ("2200", "VAT", "CURRENT_LIABILITY", "LIABILITIES"),
    ("2300", "Loan", "FUTURE_LIABILITY", "LIABILITIES"),
    ("3000", "Capital", "EQUITY", "EQUITY"),
    ("4000", "Sales", "SALES", "INCOME"),
    ("4900", "Interest received", "OTHER_INCOME", "INCOME"),
    ("5000", "Purchases", "DIRECT_EXPENSES", "EXPENDITURE"),
    ("7100", "Rent", "OVERHEADS", "EXPENDITURE"),
    ("7200", "Light and heat", "EXPENSES", "EXPENDITURE"),
    ("8000", "Depreciation", "DEPRECIATION", "EXPENDITURE"),
    ("9999", "Suspense", "MYSTERY", None),
]
PNL_CODES = {"4000", "4900", "5000", "7100", "7200", "8000"}

pennies = st.integers(min_value=1, max_value=10**9).map(lambda c: D(c).scaleb(-2))
#: A journal: an amount moved from one account to another, before the window or in it.
journals = st.lists(
    st.tuples(st.sampled_from(range(len(CHART))), st.sampled_from(range(len(CHART))), pennies, st.booleans()),
    max_size=25,
)


def book(moves: list[tuple[int, int, Decimal, bool]]) -> Ledger:
    """Balanced postings (debit one account, credit another) made into a ledger over START..END."""
    lines = [AccountLine(f"id{i}", code, name, t, g) for i, (code, name, t, g) in enumerate(CHART)]
    for debit, credit, value, before in moves:
        if before:
            lines[debit].opening += value
            lines[credit].opening -= value
        else:
            lines[debit].debit += value
            lines[credit].credit += value
    for a in lines:
        a.closing = a.opening + a.movement
    return Ledger(START, END, "trial_balance", [a for a in lines if a.opening or a.debit or a.credit])


def total_of(rows: list[dict[str, Any]], key: str) -> Decimal:
    return sum((D(r[key]) for r in rows), D(0))


@given(journals, st.one_of(st.none(), st.integers(min_value=0, max_value=6)))
@PROPERTY
def test_the_trial_balance_balances_and_its_rows_add_up(moves: list[Any], top: int | None) -> None:
    ledger = book(moves)
    tb = statements.trial_balance(ledger, with_period=True, top=top)
    closing = [a.closing for a in ledger.lines]
    debit = sum((c for c in closing if c > 0), D(0))
    assert tb["balanced"] is True
    assert tb["totals"] == {"debit": money(debit), "credit": money(debit), "difference": "0.00"}
    assert tb["period_totals"] == {
        "debit": money(sum((a.debit for a in ledger.lines), D(0))),
        "credit": money(sum((a.credit for a in ledger.lines), D(0))),
    }
    assert tb["as_at"] == "2027-03-31" and tb["source"] == "trial_balance"
    rows = [a for a in ledger.lines if a.closing or a.debit or a.credit]
    assert tb["account_count"] == len(rows)
    more = tb.get("more", {"accounts": 0, "debit": "0", "credit": "0"})
    assert len(tb["accounts"]) + more["accounts"] == len(rows)
    assert total_of(tb["accounts"], "debit") + D(more["debit"]) == debit
    assert total_of(tb["accounts"], "credit") + D(more["credit"]) == debit
    if top is not None and len(rows) > top:
        assert len(tb["accounts"]) == top
        shown = {r["code"] for r in tb["accounts"]}
        smallest_shown = min((abs(a.closing) for a in rows if a.code in shown), default=None)
        if smallest_shown is not None:
            assert all(abs(a.closing) <= smallest_shown for a in rows if a.code not in shown)
    else:
        assert "more" not in tb
    for row in tb["accounts"]:
        a = next(x for x in ledger.lines if x.code == row["code"])
        assert row == {
            "code": a.code,
            "name": a.name,
            "debit": money(max(a.closing, D(0))),
            "credit": money(max(-a.closing, D(0))),
            "period_debit": money(a.debit),
            "period_credit": money(a.credit),
        }


@given(journals, st.one_of(st.none(), st.integers(min_value=0, max_value=3)))
@PROPERTY
def test_net_profit_is_credits_minus_debits_of_the_pnl_accounts(moves: list[Any], top: int | None) -> None:
    ledger = book(moves)
    pnl = statements.profit_and_loss(ledger, None, top=top)
    movement = {a.code: a.movement for a in ledger.lines}

    def earned(*codes: str) -> Decimal:
        return -sum((movement.get(c, D(0)) for c in codes), D(0))

    expected = {
        "sales": earned("4000"),
        "other_income": earned("4900"),
        "direct_expenses": -earned("5000"),
        "gross_profit": earned("4000", "4900", "5000"),
        "overheads": -earned("7100", "7200"),
        "depreciation": -earned("8000"),
        "net_profit": earned(*PNL_CODES),
    }
    assert pnl["summary"] == {k: money(v) for k, v in expected.items()}
    assert statements.net_profit(ledger.lines) == expected["net_profit"]
    labels = {"sales": "Sales", "other_income": "Other income", "direct_expenses": "Direct expenses",
              "overheads": "Overheads", "depreciation": "Depreciation"}  # fmt: skip
    assert {k: s["label"] for k, s in pnl["sections"].items()} == {k: labels[k] for k in pnl["sections"]}
    for key, section in pnl["sections"].items():
        more = section.get("more", {"accounts": 0, "total": "0"})
        assert total_of(section["accounts"], "amount") + D(more["total"]) == D(section["total"])
        assert D(section["total"]) == expected[key]
        if top is not None:
            assert len(section["accounts"]) <= top
    assert "compare_summary" not in pnl


@given(journals, journals)
@PROPERTY
def test_a_comparison_shows_both_windows_and_the_change(moves: list[Any], earlier: list[Any]) -> None:
    now, then = book(moves), book(earlier)
    pnl = statements.profit_and_loss(now, then, top=None)
    alone_now = statements.profit_and_loss(now, None, top=None)["summary"]
    alone_then = statements.profit_and_loss(then, None, top=None)["summary"]
    assert pnl["summary"] == alone_now and pnl["compare_summary"] == alone_then
    assert pnl["change"] == {k: money(D(alone_now[k]) - D(alone_then[k])) for k in statements.PNL_SUMMARY}
    for section in pnl["sections"].values():
        assert total_of(section["accounts"], "amount") == D(section["total"])
        assert total_of(section["accounts"], "compare_amount") == D(section["compare_total"])


#: Bank and Savings up, Creditors and VAT owed, Sales earned, an opening Capital and Plant: every section in use.
BUSY_BOOK = [
    (2, 8, D("500.00"), False),
    (3, 8, D("20.00"), False),
    (11, 4, D("40.00"), False),
    (11, 5, D("7.50"), False),
    (0, 7, D("1000.00"), True),
]


@given(journals, st.sampled_from([None, 0, 1, 2]))
@example(BUSY_BOOK, 1)
@example(BUSY_BOOK, 0)
@PROPERTY
def test_the_balance_sheet_balances_with_retained_and_current_earnings(moves: list[Any], top: int | None) -> None:
    ledger = book(moves)
    bs = statements.balance_sheet(ledger, top=top)
    if top is not None:
        for key, section in bs["sections"].items():
            assert len(section["accounts"]) <= top + (2 if key == "equity" else 0)
    summary = {k: D(v) for k, v in bs["summary"].items()}
    pnl_lines = [a for a in ledger.lines if a.code in PNL_CODES]
    assert summary["retained_earnings"] == -sum((a.opening for a in pnl_lines), D(0))
    assert summary["current_year_earnings"] == -sum((a.movement for a in pnl_lines), D(0))
    assert bs["balanced"] is True and bs["difference"] == "0.00"
    assert summary["total_assets"] == summary["fixed_assets"] + summary["current_assets"] + summary["bank"]
    assert summary["total_liabilities"] == summary["current_liabilities"] + summary["long_term_liabilities"]
    assert summary["total_equity"] == (
        summary["equity_accounts"] + summary["retained_earnings"] + summary["current_year_earnings"]
    )
    assert summary["net_assets"] == summary["total_equity"]
    closing = {a.code: a.closing for a in ledger.lines}
    assert summary["bank"] == closing.get("1200", D(0)) + closing.get("1210", D(0))
    assert summary["current_liabilities"] == -closing.get("2100", D(0)) - closing.get("2200", D(0))
    assert summary.get("unclassified", D(0)) == closing.get("9999", D(0))
    assert ("unclassified" in summary) == bool(closing.get("9999"))
    assert summary["net_assets"] == summary["total_assets"] - summary["total_liabilities"] + summary.get(
        "unclassified", D(0)
    )
    for section in bs["sections"].values():
        more = section.get("more", {"total": "0"})
        assert total_of(section["accounts"], "amount") + D(more["total"]) == D(section["total"])
    assert bs["sections"]["equity"]["accounts"][-2:] == [
        {
            "code": "",
            "name": "Retained earnings (profit before this financial year)",
            "amount": money(summary["retained_earnings"]),
        },
        {
            "code": "",
            "name": "Current-year earnings (profit this financial year)",
            "amount": money(summary["current_year_earnings"]),
        },
    ]
    in_use = {a.section for a in ledger.lines if not a.in_pnl and a.closing}
    assert set(bs["sections"]) == in_use | {"equity"}, "a section is shown when it holds a balance"
    labels = {
        "fixed_assets": "Fixed assets",
        "current_assets": "Current assets",
        "bank": "Bank and cash",
        "current_liabilities": "Current liabilities",
        "long_term_liabilities": "Long-term liabilities",
        "equity": "Equity",
        "unclassified": "Accounts of no known type (counted as assets)",
    }
    assert {key: section["label"] for key, section in bs["sections"].items()} == {k: labels[k] for k in bs["sections"]}


def test_an_unbalanced_ledger_says_so_with_the_difference() -> None:
    lines = [
        AccountLine("a", "1200", "Bank", "BANK", "ASSETS", closing=D("100.00"), debit=D("100.00")),
        AccountLine("b", "4000", "Sales", "SALES", "INCOME", closing=D("-90.00"), credit=D("90.00")),
    ]
    ledger = Ledger(START, END, "ledger_accounts", lines, notes=["a note"])
    tb = statements.trial_balance(ledger, with_period=False, top=None)
    assert (tb["balanced"], tb["totals"]) == (False, {"debit": "100.00", "credit": "90.00", "difference": "10.00"})
    assert "period_totals" not in tb and "period_debit" not in tb["accounts"][0]
    assert tb["notes"] == ["a note"]
    bs = statements.balance_sheet(ledger, top=None)
    assert (bs["balanced"], bs["difference"]) == (False, "10.00")
    assert bs["notes"] == ["a note"]


def test_notes_of_both_windows_reach_the_pnl() -> None:
    sales = AccountLine("s", "4000", "Sales", "SALES", "INCOME", credit=D(5), closing=D(-5))
    now = Ledger(START, END, "trial_balance", [sales], notes=["now"])
    then = Ledger(START, END, "trial_balance", [sales], notes=["then"])
    assert statements.profit_and_loss(now, then, top=None)["notes"] == ["now", "then"]
    assert statements.profit_and_loss(now, None, top=None)["notes"] == ["now"]
    assert "notes" not in statements.profit_and_loss(book([]), book([]), top=None)


def test_an_account_sage_lists_with_nothing_on_it_is_left_out_of_the_trial_balance() -> None:
    zero = {"debit": "0", "credit": "0"}
    tb = {
        "ledger_accounts": [
            {"id": "q", "displayed_as": "Dormant (9000)", "opening_balance": zero, "debit": "0", "credit": "0",
             "closing_balance": zero},
            {"id": "b", "displayed_as": "Bank (1200)", "opening_balance": zero, "debit": "5", "credit": "5",
             "closing_balance": zero},
        ]
    }  # fmt: skip
    ledger = from_trial_balance(tb, [], START, END)
    assert [r["code"] for r in statements.trial_balance(ledger, with_period=True, top=None)["accounts"]] == ["1200"]
    assert statements.trial_balance(ledger, with_period=False, top=None)["accounts"] == []


def test_top_rows_keep_the_largest_in_nominal_order() -> None:
    lines = [AccountLine(str(i), str(i), f"A{i}", "OVERHEADS", None) for i in range(5)]
    rows = [(a, D(v)) for a, v in zip(lines, ["5", "-50", "1", "20", "-3"], strict=True)]
    shown, left = statements.top_rows(rows, 2, lambda a, v: {"code": a.code, "v": str(v)})
    assert shown == [{"code": "1", "v": "-50"}, {"code": "3", "v": "20"}]
    assert [a.code for a, _ in left] == ["0", "2", "4"]
    assert statements.more_of(left) == {"accounts": 3, "total": "3.00"}
    everything, none = statements.top_rows(rows, 5, lambda a, v: {"code": a.code})
    assert len(everything) == 5 and none == []


def test_group_totals_add_one_currency_and_refuse_to_mix() -> None:
    rows = [
        {"currency": "GBP", "summary": {"net_profit": "10.50", "sales": "1"}},
        {"currency": "GBP", "summary": {"net_profit": "-0.25"}},
        {"error": "unreadable"},
    ]
    assert statements.group_total(rows, ["net_profit", "sales"]) == {
        "currency": "GBP",
        "businesses": 2,
        "summary": {"net_profit": "10.25", "sales": "1.00"},
        "note": "1 business(es) could not be read and are not in the total",
    }
    mixed = [{"currency": "GBP", "summary": {}}, {"currency": "EUR", "summary": {}}]
    assert statements.group_total(mixed, ["net_profit"]) == {
        "note": "no group total: the businesses report in different currencies (EUR, GBP); compare them side by side"
    }
    alone = [{"currency": "EUR", "summary": {"sales": "2"}}, {"currency": "EUR"}]
    assert statements.group_total(alone, ["sales", "net_profit"]) == {
        "currency": "EUR",
        "businesses": 2,
        "summary": {"sales": "2.00", "net_profit": "0.00"},
    }
    assert statements.group_total([{"error": "x"}], ["net_profit"]) == {
        "note": "no group total: no business could be read"
    }


# -- reading Sage's figures into a ledger ----------------------------------------------------------------------


def test_the_trial_balance_source_reads_sides_and_types_and_flags_odd_closings() -> None:
    tb = {
        "ledger_accounts": [
            {
                "id": "x1",
                "displayed_as": "Bank Current (1200)",
                "opening_balance": {"debit": "100.0", "credit": "0"},
                "debit": "50",
                "credit": "20",
                "closing_balance": {"debit": "130", "credit": "0"},
            },
            {
                "id": "x2",
                "displayed_as": "Sales (4000)",
                "opening_balance": {"debit": "0", "credit": "0"},
                "debit": "0",
                "credit": "30",
                "closing_balance": {"debit": "0", "credit": "31"},
            },
            "not an account",
        ]
    }
    chart = [{"id": "x2", "ledger_account_type": {"id": "SALES"}, "ledger_account_group": {"id": "INCOME"}}]
    ledger = from_trial_balance(tb, chart, START, END)
    bank, sales = ledger.lines
    assert (bank.code, bank.name, bank.opening, bank.movement, bank.closing) == ("1200", "Bank Current", 100, 30, 130)
    assert (sales.code, sales.section, sales.closing) == ("4000", "sales", D(-31))
    assert bank.section == "unclassified" and not bank.in_pnl and sales.in_pnl
    assert ledger.notes == [
        "Sage's trial balance gives closing balances that are not opening + debits - credits for 4000 Sales"
    ]
    assert ledger.by_code("4000") is sales and ledger.by_id("x1") is bank and ledger.by_code("1") is None


def test_the_balances_source_opens_with_everything_before_and_drops_empty_accounts() -> None:
    period = [
        {"id": "a", "nominal_code": 1200, "name": "Bank", "balance_details": {"debits": "10", "credits": "4"}},
        {"id": "b", "nominal_code": 4000, "name": "Sales", "balance_details": {"debits": 0, "credits": 0}},
        {"id": "c", "nominal_code": 30, "name": "Plant", "balance_details": None},
    ]
    before = [{"id": "a", "balance_details": {"debits": "100", "credits": "1"}}, {"id": "c", "balance_details": {}}]
    ledger = from_balances(period, before, START, END)
    assert [(a.code, a.opening, a.debit, a.credit, a.closing) for a in ledger.lines] == [
        ("1200", D(99), D(10), D(4), D(105))
    ]
    assert ledger.source == "ledger_accounts"


@pytest.mark.parametrize(
    ("codes", "order"),
    [(["4000", "30", "ABC", "1200"], ["30", "1200", "4000", "ABC"]), (["B", "A"], ["A", "B"])],
)
def test_accounts_are_listed_in_nominal_code_order(codes: list[str], order: list[str]) -> None:
    lines = [AccountLine(c, c, c, None, None) for c in codes]
    assert [a.code for a in sorted(lines, key=AccountLine.sort_key)] == order


# -- ageing ------------------------------------------------------------------------------------------------


AS_AT = dt.date(2026, 6, 30)
boundary_lists = st.lists(st.integers(min_value=1, max_value=400), min_size=0, max_size=5, unique=True).map(sorted)


@given(st.integers(min_value=-100, max_value=1_000), boundary_lists)
@PROPERTY
def test_each_day_count_falls_in_exactly_the_bucket_its_label_names(days: int, boundaries: list[int]) -> None:
    labels = aged.bucket_labels(boundaries)
    index = aged.bucket_index(days, boundaries)
    label = labels[index]
    assert len(labels) == len(boundaries) + 2
    if label == "current":
        assert days <= 0
    elif label.endswith("+"):
        assert days > int(label[:-1])
    elif label == "overdue":
        assert days >= 1 and not boundaries
    else:
        low, high = (int(x) for x in label.split("-"))
        assert low <= days <= high


def test_bucket_labels_and_their_checks() -> None:
    assert aged.bucket_labels([30, 60, 90]) == ["current", "1-30", "31-60", "61-90", "90+"]
    assert aged.bucket_labels([]) == ["current", "overdue"]
    assert aged.check_boundaries(["30", 60]) == [30, 60]
    assert aged.check_boundaries([1, 7]) == [1, 7], "a first bucket of one day is allowed"
    for bad in ([], [0, 30], [30, 30], [60, 30]):
        with pytest.raises(ValueError) as refused:
            aged.check_boundaries(bad)
        assert str(refused.value) == (
            "buckets must be increasing whole numbers of days, each at least 1 (e.g. [30, 60, 90])"
        )


def item(contact: str, name: str, due: str, amount: str, kind: str = "invoice", number: str = "N") -> aged.OpenItem:
    due_date = dt.date.fromisoformat(due)
    return aged.OpenItem(kind, f"{contact}-{number}", number, contact, name, due_date, due_date, D(amount))


ITEMS = [
    item("c1", "beta", "2026-07-15", "100.00", number="1"),  # not yet due
    item("c1", "beta", "2026-06-01", "50.00", number="2"),  # 29 days
    item("c2", "Alpha", "2026-03-01", "150.00", number="3"),  # 121 days
    item("c2", "Alpha", "2026-06-20", "-20.00", kind="credit_note", number="4"),  # 10 days
    item("c3", "gamma", "2026-05-31", "-5.00", kind="payment_on_account", number="5"),  # 30 days
]


def test_ageing_totals_each_contact_by_bucket_largest_first() -> None:
    rows = aged.age(ITEMS, AS_AT, [30, 60, 90])
    assert [(r.contact_id, r.buckets, r.total) for r in rows] == [
        ("c1", [D(100), D(50), D(0), D(0), D(0)], D(150)),
        ("c2", [D(0), D(-20), D(0), D(0), D(150)], D(130)),
        ("c3", [D(0), D(-5), D(0), D(0), D(0)], D(-5)),
    ]
    same = [item("c9", "b", "2026-06-30", "1"), item("c8", "B", "2026-06-30", "1"), item("c7", "a", "2026-06-30", "1")]
    assert [r.contact_id for r in aged.age(same, AS_AT, [30])] == ["c7", "c8", "c9"]


def test_the_aged_report_adds_up_and_reconciles_to_the_control_account() -> None:
    control = aged.Account("la-1100", "1100", "Debtors Control", D("400.00"), D("125.00"))
    data = aged.OpenItems(list(ITEMS), control, "contact payments", ["a note"])
    report = aged.aged_report(aged.DEBTORS, data, AS_AT, [30, 60, 90], top=2)
    assert report == {
        "as_at": "2026-06-30",
        "ledger": "debtors",
        "total": "275.00",
        "overdue": "175.00",
        "buckets": {"current": "100.00", "1-30": "25.00", "31-60": "0.00", "61-90": "0.00", "90+": "150.00"},
        "on_account": "-5.00",
        "contacts": 3,
        "rows": [
            {
                "contact_id": "c1",
                "name": "beta",
                "total": "150.00",
                "buckets": {"current": "100.00", "1-30": "50.00"},
                "oldest_days_overdue": 29,
            },
            {
                "contact_id": "c2",
                "name": "Alpha",
                "total": "130.00",
                "buckets": {"1-30": "-20.00", "90+": "150.00"},
                "oldest_days_overdue": 121,
            },
        ],
        "more": {"contacts": 1, "total": "-5.00"},
        "reconciliation": {
            "control_account": "1100 Debtors Control",
            "control_account_id": "la-1100",
            "control_balance": "275.00",
            "aged_total": "275.00",
            "difference": "0.00",
            "reconciled": True,
        },
        "notes": ["a note", "payments on account from contact payments"],
    }


def test_one_contacts_aged_items_come_in_due_date_order() -> None:
    data = aged.OpenItems([i for i in ITEMS if i.contact_id == "c1"], None, "contact payments")
    report = aged.aged_report(aged.DEBTORS, data, AS_AT, [30], top=1, contact_id="c1")
    assert report["items"] == [
        {
            "kind": "invoice",
            "id": "c1-2",
            "number": "2",
            "date": "2026-06-01",
            "due_date": "2026-06-01",
            "days_overdue": 29,
            "amount": "50.00",
        }
    ]
    assert report["more"] == {"items": 1, "total": "100.00"}
    assert "reconciliation" not in report and "rows" not in report
    everything = aged.aged_report(aged.DEBTORS, data, AS_AT, [30], top=None, contact_id="c1")
    assert [i["days_overdue"] for i in everything["items"]] == [29, 0] and "more" not in everything


def test_creditors_reconcile_against_a_credit_balance_and_a_missing_control_says_not_reconciled() -> None:
    control = aged.Account("la-2100", "2100", "Creditors", D("10.00"), D("110.00"))
    assert aged.reconcile(aged.CREDITORS, D("90.00"), control) == {
        "control_account": "2100 Creditors",
        "control_account_id": "la-2100",
        "control_balance": "100.00",
        "aged_total": "90.00",
        "difference": "10.00",
        "reconciled": False,
    }
    assert aged.reconcile(aged.CREDITORS, D("90"), None) == {"reconciled": False, "aged_total": "90.00"}


# -- account activity ------------------------------------------------------------------------------------------

RAW_ENTRIES = [
    {"date": "2026-05-02T00:00:00Z", "debit": "0", "credit": 40, "description": "", "displayed_as": "Rent May",
     "transaction": {"displayed_as": "Other Payment 7"}},
    {"date": "2026-05-01", "debit": "100.5", "credit": None, "description": "Receipt", "contact": {"name": "Acme"},
     "transaction": {"displayed_as": "Customer Receipt 3"}},
    {"date": "2026-05-01", "debit": "999", "credit": "0", "deleted": True},
    {"date": "2026-05-03", "debit": "", "credit": "10", "transaction": {"name": "Journal 9"}},
    {"date": "2026-05-03", "debit": "2", "credit": "0", "description": "x" * 130, "contact": {"displayed_as": "y" * 90},
     "transaction": {"displayed_as": "z" * 90}},
]  # fmt: skip


def test_activity_runs_a_balance_through_the_live_entries_in_date_order() -> None:
    line = AccountLine("la", "1200", "Bank", "BANK", "ASSETS", opening=D(50), debit=D("102.5"), credit=D(50))
    line.closing = line.opening + line.movement
    out = activity.activity(line, RAW_ENTRIES, opening=D(50), top=None)
    assert {k: v for k, v in out.items() if k != "entries"} == {
        "opening_balance": "50.00",
        "debits": "102.50",
        "credits": "50.00",
        "closing_balance": "102.50",
        "closing_side": "debit",
        "entry_count": 4,
        "reconciled": True,
        "notes": ["1 entries of voided or deleted transactions left out (each is cancelled by its mirror entry)"],
    }
    assert out["entries"] == [
        {
            "date": "2026-05-01",
            "debit": "100.50",
            "credit": "0.00",
            "balance": "150.50",
            "details": "Receipt",
            "contact": "Acme",
            "transaction": "Customer Receipt 3",
        },
        {"date": "2026-05-02", "debit": "0.00", "credit": "40.00", "balance": "110.50", "details": "Rent May",
         "transaction": "Other Payment 7"},
        {"date": "2026-05-03", "debit": "0.00", "credit": "10.00", "balance": "100.50", "details": "Journal 9"},
        {"date": "2026-05-03", "debit": "2.00", "credit": "0.00", "balance": "102.50", "details": "x" * 120,
         "contact": "y" * 80, "transaction": "z" * 80},
    ]  # fmt: skip


def test_activity_that_disagrees_with_the_ledger_shows_the_ledgers_figures() -> None:
    line = AccountLine("la", "1200", "Bank", "BANK", "ASSETS", opening=D(0), debit=D(100), credit=D(0), closing=D(100))
    out = activity.activity(line, RAW_ENTRIES[:2], opening=D(0), top=1)
    assert out["reconciled"] is False
    assert out["ledger"] == {"debits": "100.00", "credits": "0.00", "closing_balance": "100.00"}
    assert out["closing_side"] == "debit" and out["closing_balance"] == "60.50"
    assert len(out["entries"]) == 1
    assert out["more"] == {"entries": 1, "debits": "0.00", "credits": "40.00", "from_date": "2026-05-02"}
    assert "notes" not in out


def test_activity_without_a_ledger_line_checks_against_nothing_moving() -> None:
    quiet = activity.activity(None, [], opening=D("-5"), top=3)
    assert quiet["reconciled"] is True and quiet["closing_side"] == "credit" and quiet["entries"] == []
    assert "ledger" not in quiet and "more" not in quiet
    moved = activity.activity(None, RAW_ENTRIES[3:4], opening=D(0), top=None)
    assert moved["reconciled"] is False
    assert moved["ledger"] == {"debits": "0.00", "credits": "0.00", "closing_balance": "0.00"}
    assert activity.activity(None, [], opening=D(0), top=None)["closing_side"] == "debit"


# -- business summary --------------------------------------------------------------------------------------------


def test_the_latest_reconciliation_of_each_bank_account_newest_first() -> None:
    recs = [
        {"bank_account": {"id": "b1", "displayed_as": "Current"}, "statement_date": "2026-04-30",
         "closing_balance": "10", "status": {"id": "RECONCILED"}},
        {"bank_account": {"id": "b1", "displayed_as": "Current"}, "statement_date": "2026-05-31T00:00:00Z",
         "closing_balance": None, "statement_end_balance": "20.5", "status": "DRAFT"},
        {"bank_account": {"id": "b2", "displayed_as": "Savings"}, "statement_date": "2026-03-31",
         "closing_balance": "7"},
        {"bank_account": {"id": "b2", "displayed_as": "Savings"}, "statement_date": None, "closing_balance": "99"},
        {"bank_account": {"id": "b2", "displayed_as": "Savings"}, "statement_date": "2026-01-31",
         "closing_balance": "1"},
    ]  # fmt: skip
    assert summary._last_reconciliations(recs) == [
        {"bank_account": "Current", "statement_date": "2026-05-31", "closing_balance": "20.50", "status": "DRAFT"},
        {"bank_account": "Savings", "statement_date": "2026-03-31", "closing_balance": "7.00", "status": None},
    ]


def test_owed_and_overdue_count_as_the_aged_reports_do() -> None:
    data = aged.OpenItems(list(ITEMS), None, "contact payments")
    assert summary._owed(data, AS_AT) == (D("275.00"), D("175.00"))
    assert summary._owed(aged.OpenItems([], None, ""), AS_AT) == (D(0), D(0))


def test_the_summary_group_total_adds_every_figure_of_one_currency() -> None:
    rows = [
        {"currency": "GBP", "cash": "10.00", "owed_to_us": "5", "vat_owed": None},
        {"currency": "GBP", "cash": "-2.50", "we_owe": "1.25", "vat_owed": "3"},
        {"error": "unreadable"},
    ]
    assert summary.group_total(rows) == {
        "currency": "GBP",
        "businesses": 2,
        "cash": "7.50",
        "owed_to_us": "5.00",
        "owed_to_us_overdue": "0.00",
        "we_owe": "1.25",
        "we_owe_overdue": "0.00",
        "vat_owed": "3.00",
        "note": "1 business(es) could not be read and are not in the total",
    }
    assert summary.group_total([{"currency": "GBP"}, {"currency": "EUR"}]) == {
        "note": "no group total: the businesses report in different currencies (EUR, GBP); compare them side by side"
    }
    assert summary.group_total([{"error": "x"}]) == {"note": "no group total: no business could be read"}
    assert "note" not in summary.group_total([{"currency": "GBP"}])


# -- VAT return ----------------------------------------------------------------------------------------------------

Q_START, Q_END = dt.date(2026, 1, 1), dt.date(2026, 3, 31)
SALES = vat.DocSet("sales_invoice", 1, True)
SALES_CN = vat.DocSet("sales_credit_note", -1, True)
PURCHASES = vat.DocSet("purchase_invoice", 1, False)


def doc(number: str, date: str, net: str, tax: str, **extra: Any) -> dict[str, Any]:
    gross = str(D(net) + D(tax))
    return {"id": f"id-{number}", "invoice_number": number, "date": date, "net_amount": net, "tax_amount": tax,
            "total_amount": gross, "status": {"id": "UNPAID"}, **extra}  # fmt: skip


def test_invoice_basis_counts_documents_dated_in_the_period_and_leaves_out_no_vat_lines() -> None:
    ret = vat.Return("standard", Q_START, Q_END)
    no_vat_line = [{"tax_rate": {"id": "GB_NO_TAX"}, "net_amount": "30", "total_amount": "30"}]
    vat.add_documents(
        ret,
        [
            doc("S1", "2026-01-10", "100.00", "20.00"),
            doc("S2", "2026-03-31", "130.00", "10.00", tax_analysis=no_vat_line),
            doc("S3", "2026-04-01", "500.00", "100.00"),  # after the period
            doc("S4", "2026-02-01", "900.00", "180.00", status={"id": "DRAFT"}),
            doc("S5", "2026-02-01", "900.00", "180.00", status="VOID"),
            doc("S6", "2026-02-01", "900.00", "180.00", deleted_at="2026-02-02"),
        ],
        SALES,
    )
    vat.add_documents(ret, [doc("C1", "2026-02-15", "10.00", "2.00")], SALES_CN)
    vat.add_documents(ret, [doc("P1", "2026-01-20", "50.00", "10.00")], PURCHASES)
    boxes = ret.boxes()
    assert {k: boxes[k] for k in ("1", "2", "3", "4", "5", "6", "7", "8", "9")} == {
        "1": D("28.00"), "2": D(0), "3": D("28.00"), "4": D("10.00"), "5": D("18.00"),
        "6": D("190.00"), "7": D("50.00"), "8": D(0), "9": D(0),
    }  # fmt: skip
    assert (ret.posted_output, ret.posted_input) == (D("28.00"), D("10.00"))
    assert [(e.box, e.kind, e.id, e.number, e.date, e.amount) for e in ret.entries if e.box == "1"] == [
        ("1", "sales_invoice", "id-S1", "S1", "2026-01-10", D("20.00")),
        ("1", "sales_invoice", "id-S2", "S2", "2026-03-31", D("10.00")),
        ("1", "sales_credit_note", "id-C1", "C1", "2026-02-15", D("-2.00")),
    ]


def test_cash_basis_counts_the_paid_share_of_each_document_when_paid() -> None:
    ret = vat.Return("cash", Q_START, Q_END)
    paid = doc(
        "S1",
        "2025-12-20",
        "100.00",
        "20.00",
        payments_allocations=[
            {"date": "2026-01-05", "amount": "-60.00"},  # half of 120 paid in the period
            {"date": "2026-04-05", "amount": "60.00"},  # the rest after it
            "not an allocation",
        ],
    )
    vat.add_documents(
        ret, [paid, doc("S2", "2026-01-02", "0", "0", payments_allocations=[{"date": "2026-01-03"}])], SALES
    )
    assert [(e.box, e.id, e.number, e.date, e.amount) for e in ret.entries] == [
        ("1", "id-S1", "S1", "2026-01-05", D("10.00")),
        ("6", "id-S1", "S1", "2026-01-05", D("50.00")),
    ]
    assert ret.posted_output == D(0), "the document is dated before the period"


def test_flat_rate_turnover_is_gross_sales_and_box_one_its_percentage() -> None:
    ret = vat.Return("flat_rate_invoice", Q_START, Q_END, flat_rate=D("16.5"))
    vat.add_documents(ret, [doc("S1", "2026-01-10", "1000.00", "200.00")], SALES)
    vat.add_documents(ret, [doc("P1", "2026-01-10", "100.00", "20.00")], PURCHASES)
    vat.apply_flat_rate(ret)
    boxes = ret.boxes()
    assert (boxes["1"], boxes["4"], boxes["6"], boxes["7"]) == (D("198.00"), D(0), D("1200.00"), D("100.00"))
    flat = ret.entries[-1]
    assert (flat.box, flat.kind, flat.number, flat.date) == (
        "1",
        "flat_rate",
        "16.5% of turnover 1200.00",
        "2026-03-31",
    )
    assert ret.notes[0].startswith("Flat rate scheme at 16.5%: box 1 is 16.5% of the VAT-inclusive turnover in box 6;")


def test_other_payments_and_journals_reach_their_boxes() -> None:
    ret = vat.Return("standard", Q_START, Q_END)
    vat.add_other_payments(
        ret,
        [
            {"id": "o1", "reference": "R1", "date": "2026-01-05", "transaction_type": {"id": "OTHER_RECEIPT"},
             "net_amount": "50", "tax_amount": "10", "total_amount": "60"},
            {"id": "o2", "reference": "R2", "date": "2026-01-06", "transaction_type": {"id": "OTHER_PAYMENT_REFUND"},
             "net_amount": "20", "tax_amount": "4", "total_amount": "24"},
            {"id": "o3", "date": "2026-01-07", "transaction_type": {"id": "OTHER_PAYMENT"}, "deleted_at": "x",
             "net_amount": "1", "tax_amount": "1", "total_amount": "2"},
        ],
    )  # fmt: skip
    accounts = vat.VatAccounts("la-2200", "la-2201", {"la-4000": "SALES", "la-7000": "OVERHEADS"})
    vat.add_journals(
        ret,
        [
            {"id": "j1", "reference": "J1", "date": "2026-02-01", "journal_lines": [
                {"ledger_account": {"id": "la-2200"}, "credit": "3", "debit": "0", "include_on_tax_return": True},
                {"ledger_account": {"id": "la-2201"}, "debit": "2", "credit": "0", "include_on_tax_return": True},
                {"ledger_account": {"id": "la-4000"}, "credit": "15", "debit": "0", "include_on_tax_return": True},
                {"ledger_account": {"id": "la-7000"}, "debit": "8", "credit": "0", "include_on_tax_return": True},
                {"ledger_account": {"id": "la-2200"}, "credit": "5", "debit": "0"},
                {"ledger_account": {"id": "la-2201"}, "debit": "1", "credit": "0"},
                {"ledger_account": {"id": "la-9999"}, "debit": "100", "credit": "0"},
                "not a line",
            ]},
            {"id": "j2", "date": "2025-12-31", "journal_lines": [
                {"ledger_account": {"id": "la-2200"}, "credit": "99", "include_on_tax_return": True}]},
        ],
        accounts,
    )  # fmt: skip
    boxes = ret.boxes()
    assert (boxes["1"], boxes["4"], boxes["6"], boxes["7"]) == (D("13"), D("-2"), D("65"), D("-12"))
    assert (ret.posted_output, ret.posted_input) == (D("10"), D("-4"))
    assert ret.excluded_journal_vat == D("4")
    assert {(e.kind, e.number) for e in ret.entries} == {
        ("other_receipt", "R1"), ("other_payment", "R2"), ("journal", "J1")
    }  # fmt: skip


BALANCES = [
    {"id": "la-2200", "nominal_code": 2200, "name": "VAT on Sales", "control_name": "SALES_TAX",
     "balance_details": {"credits": "30.00", "debits": "2.00"}},
    {"id": "la-2201", "nominal_code": 2201, "name": "VAT on Purchases", "control_name": "PURCHASE_TAX",
     "balance_details": {"debits": "10.00", "credits": "0"}},
]  # fmt: skip


def test_a_return_that_matches_the_ledger_is_reconciled_and_the_report_says_who_pays() -> None:
    ret = vat.Return("standard", Q_START, Q_END)
    vat.add_documents(ret, [doc("S1", "2026-01-10", "140.00", "28.00")], SALES)
    vat.add_documents(ret, [doc("P1", "2026-01-20", "50.00", "10.00")], PURCHASES)
    recon = vat.reconcile(ret, BALANCES)
    assert recon == {
        "sales_tax_account": "2200 VAT on Sales",
        "sales_tax_movement": "28.00",
        "purchase_tax_account": "2201 VAT on Purchases",
        "purchase_tax_movement": "10.00",
        "ledger_net": "18.00",
        "return_net": "18.00",
        "difference": "0.00",
        "reconciled": True,
    }
    out = vat.report(ret, recon, top=None)
    assert out["boxes"] == {"1": "28.00", "2": "0.00", "3": "28.00", "4": "10.00", "5": "18.00", "6": "140.00",
                            "7": "50.00", "8": "0.00", "9": "0.00"}  # fmt: skip
    assert (out["to_pay"], out["scheme"], out["from_date"], out["to_date"]) == (
        "pay HMRC", "standard", "2026-01-01", "2026-03-31"
    )  # fmt: skip
    assert out["drill_down"]["1"] == {
        "count": 1,
        "items": [{"kind": "sales_invoice", "id": "id-S1", "number": "S1", "date": "2026-01-10", "amount": "28.00"}],
    }
    assert out["notes"] == ["Boxes 6 to 9 are entered in whole pounds on the return."]
    assert "flat_rate_percentage" not in out


def test_a_difference_is_explained_cause_by_cause() -> None:
    ret = vat.Return("cash", Q_START, Q_END)
    ret.posted_output = D("30.00")  # documents dated in the period hold 30.00 of VAT; 20.00 of it was paid
    ret.add("1", "sales_invoice", {"id": "s"}, D("20.00"))
    ret.excluded_journal_vat = D("1.50")
    recon = vat.reconcile(ret, BALANCES)
    assert (recon["difference"], recon["reconciled"]) == ("2.00", False)
    assert recon["causes"] == [
        {"cause": "cash accounting: VAT counts when paid, the ledger holds it from the document date",
         "amount": "-10.00"},
        {"cause": "journals on the VAT accounts not marked include_on_tax_return", "amount": "-1.50"},
        {"cause": "other postings to the VAT accounts in the period (e.g. VAT paid to HMRC, corrections)",
         "amount": "13.50"},
    ]  # fmt: skip
    assert vat.reconcile(ret, []) == {"reconciled": False, "note": "no VAT control accounts found"}


def test_the_report_drills_into_the_largest_entries_first() -> None:
    ret = vat.Return("flat_rate_cash", Q_START, Q_END, flat_rate=D("10"))
    for n, amount in (("A", "5"), ("B", "-50"), ("C", "20")):
        ret.add("6", "sales_invoice", {"id": n, "date": "2026-01-01"}, D(amount), n)
    out = vat.report(ret, {"reconciled": True}, top=2, box="6")
    assert out["flat_rate_percentage"] == "10"
    assert out["drill_down"] == {
        "6": {
            "count": 3,
            "items": [
                {"kind": "sales_invoice", "id": "B", "number": "B", "date": "2026-01-01", "amount": "-50.00"},
                {"kind": "sales_invoice", "id": "C", "number": "C", "date": "2026-01-01", "amount": "20.00"},
            ],
            "more": {"items": 1, "total": "5.00"},
        }
    }
    assert out["to_pay"] == "nothing due"
    ret.add("4", "purchase_invoice", {"id": "p"}, D("1"))
    assert vat.report(ret, {}, top=None)["to_pay"] == "HMRC repays"


# -- what the ledger reports ask Sage for ---------------------------------------------------------------------

CHART_ATTRIBUTES = "nominal_code,name,displayed_as,ledger_account_type,ledger_account_group,control_name"


class RecordingSage:
    """Answers like Sage and records every request; ``trial_balance=False`` answers 404 there."""

    def __init__(self, *, trial_balance: bool = True) -> None:
        self.trial_balance = trial_balance
        self.requests: list[tuple[str, dict[str, Any]]] = []

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        self.requests.append((path, dict(params or {})))
        if path == "/trial_balance":
            if not self.trial_balance:
                raise SageNotFoundError(404, [], method="GET", path=path)
            return {
                "ledger_accounts": [
                    {"id": "a1", "opening_balance": {"debit": "5", "credit": "0"}, "debit": "1", "credit": "0",
                     "closing_balance": {"debit": "6", "credit": "0"}},
                    {"id": "a2", "opening_balance": {"debit": "0", "credit": "5"}, "debit": "0", "credit": "1",
                     "closing_balance": {"debit": "0", "credit": "6"}},
                ]
            }  # fmt: skip
        if path == "/ledger_accounts/a2":
            return {"id": "a2", "nominal_code": 4000, "name": "Sales", "ledger_account_type": {"id": "SALES"}}
        if path == "/ledger_accounts":
            if "balance_details" in str(params.get("attributes")):
                before = params["to_date"] < "2026-04-01"
                details = {"debits": "5", "credits": "0"} if before else {"debits": "1", "credits": "0"}
                items = [{"id": "a1", "nominal_code": 1200, "name": "Bank", "balance_details": details}]
            else:
                items = [{"id": "a1", "nominal_code": 1200, "name": "Bank", "ledger_account_type": {"id": "BANK"}}]
            return {"$items": items, "$total": len(items), "$next": None}
        raise AssertionError(f"unexpected request {path}")


def run_ledger(sage: RecordingSage, **kwargs: Any) -> tuple[Ledger, list[str]]:

    said: list[str] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        said.append(str(message))

    ledger = asyncio.run(fetch_ledger(Fetcher(sage, progress=progress), START, END, **kwargs))
    return ledger, said


def test_the_trial_balance_source_asks_for_the_window_and_the_chart_and_reads_missing_accounts_one_by_one() -> None:
    sage = RecordingSage()
    ledger, said = run_ledger(sage)
    assert sorted(sage.requests, key=lambda r: r[0]) == [
        ("/ledger_accounts", {"attributes": CHART_ATTRIBUTES, "show_control_accounts": "true", "items_per_page": 200,
                              "page": 1}),
        ("/ledger_accounts/a2", {"attributes": CHART_ATTRIBUTES}),
        ("/trial_balance", {"from_date": "2026-04-01", "to_date": "2027-03-31"}),
    ]  # fmt: skip
    assert (ledger.source, ledger.start, ledger.end) == ("trial_balance", START, END)
    assert [(a.code, a.name, a.section, a.opening, a.closing) for a in ledger.lines] == [
        ("1200", "Bank", "bank", D(5), D(6)),
        ("4000", "Sales", "sales", D(-5), D(-6)),
    ]
    assert said == ["fetched 1 of 1 ledger accounts"]


def test_without_sages_trial_balance_the_balances_of_the_window_and_of_everything_before_are_read() -> None:
    sage = RecordingSage(trial_balance=False)
    ledger, said = run_ledger(sage)
    balance_params = {
        "show_balance_details": "true",
        "exclude_deleted_entries": "true",
        "show_control_accounts": "true",
        "attributes": CHART_ATTRIBUTES + ",balance_details",
        "items_per_page": 200,
        "page": 1,
    }
    assert sorted(
        (p, sorted(q.items())) for p, q in sage.requests if "balance_details" in str(q.get("attributes"))
    ) == [
        ("/ledger_accounts", sorted({**balance_params, "from_date": "1900-01-01", "to_date": "2026-03-31"}.items())),
        ("/ledger_accounts", sorted({**balance_params, "from_date": "2026-04-01", "to_date": "2027-03-31"}.items())),
    ]
    assert (ledger.source, ledger.start, ledger.end) == ("ledger_accounts", START, END)
    assert [(a.code, a.opening, a.debit, a.closing) for a in ledger.lines] == [("1200", D(5), D(1), D(6))]
    assert said[-1] == "fetched 3 of 3 ledger account balances"


def test_a_window_from_the_beginning_or_without_an_opening_reads_one_set_of_balances() -> None:
    sage = RecordingSage(trial_balance=False)
    ledger, _ = run_ledger(sage, opening=False)
    assert [a.opening for a in ledger.lines] == [D(0)]
    assert len([p for p, q in sage.requests if "balance_details" in str(q.get("attributes"))]) == 1


def test_asking_for_the_trial_balance_where_sage_has_none_says_so() -> None:
    with pytest.raises(ValueError, match=r"^Sage does not serve /trial_balance for this business$"):
        run_ledger(RecordingSage(trial_balance=False), source="trial_balance")
    sage = RecordingSage()
    ledger, _ = run_ledger(sage, source="ledger_accounts")
    assert ledger.source == "ledger_accounts"
    assert "/trial_balance" not in [p for p, _ in sage.requests]


@pytest.mark.parametrize(
    ("raw", "code", "name", "kinds"),
    [
        ({"id": 1, "nominal_code": 1200, "name": "Bank", "displayed_as": "Bank Current (1200)"}, "1200", "Bank", None),
        ({"id": 1, "displayed_as": "Bank Current (1200)"}, "1200", "Bank Current", None),
        ({"id": 1, "name": "Bank", "displayed_as": "Whatever (9)"}, "9", "Bank", None),
        ({"id": 1, "nominal_code": 7, "displayed_as": "Odd (8)"}, "7", "Odd", None),
        ({"id": 1, "displayed_as": "No code here"}, "", "No code here", None),
        ({"id": 1}, "", "", None),
        (
            {"id": 1, "nominal_code": 2200, "name": "VAT", "ledger_account_type": {"id": "current_liability"},
             "ledger_account_group": "liabilities", "control_name": {"id": "sales_tax"}},
            "2200", "VAT", ("CURRENT_LIABILITY", "LIABILITIES", "SALES_TAX"),
        ),
        ({"id": 1, "name": "X", "ledger_account_type": "", "control_name": None}, "", "X", (None, None, None)),
    ],
)  # fmt: skip
def test_a_chart_entry_reads_its_code_name_and_kinds(
    raw: dict[str, Any], code: str, name: str, kinds: tuple[str | None, ...] | None
) -> None:
    line = chart_entry(raw)
    assert (line.id, line.code, line.name) == ("1", code, name)
    if kinds is not None:
        assert (line.type, line.group, line.control) == kinds


def test_odd_closings_are_named_up_to_five_then_an_ellipsis() -> None:
    def row(n: int) -> dict[str, Any]:
        return {"id": f"i{n}", "nominal_code": n, "name": f"A{n}", "opening_balance": None, "debit": "1",
                "credit": "", "closing_balance": "0"}  # fmt: skip

    five = from_trial_balance({"ledger_accounts": [row(n) for n in range(1, 6)]}, [], START, END)
    assert five.notes == [
        "Sage's trial balance gives closing balances that are not opening + debits - credits for "
        "1 A1, 2 A2, 3 A3, 4 A4, 5 A5"
    ]
    six = from_trial_balance({"ledger_accounts": [row(n) for n in range(1, 7)]}, [], START, END)
    assert six.notes[0].endswith("for 1 A1, 2 A2, 3 A3, 4 A4, 5 A5…")
    assert from_trial_balance({}, [], START, END).lines == []


def test_balances_of_an_account_that_moved_to_nothing_still_list_it() -> None:
    period = [{"id": "a", "nominal_code": 1, "name": "A", "balance_details": {"debits": "5", "credits": "5"}}]
    assert [a.code for a in from_balances(period, None, START, END).lines] == ["1"]
    opened = [{"id": "a", "nominal_code": 1, "name": "A", "balance_details": {}}]
    before = [{"id": "a", "balance_details": {"debits": "3", "credits": "0"}}]
    assert [(a.opening, a.closing) for a in from_balances(opened, before, START, END).lines] == [(D(3), D(3))]
    credit_only = [{"id": "a", "nominal_code": 1, "name": "A", "balance_details": {"credits": "2"}}]
    assert [a.credit for a in from_balances(credit_only, None, START, END).lines] == [D(2)]


def test_balances_given_as_bare_numbers_are_debit_positive_and_bad_amounts_name_their_field() -> None:
    tb = {"ledger_accounts": [{"id": "a", "nominal_code": 1, "name": "A", "opening_balance": "2.5", "debit": "",
                               "credit": "3.5", "closing_balance": -1}]}  # fmt: skip
    ledger = from_trial_balance(tb, [], START, END)
    (line,) = ledger.lines
    assert (line.opening, line.debit, line.credit, line.closing) == (D("2.5"), D(0), D("3.5"), D(-1))
    assert ledger.notes == [] and ledger.by_id("nope") is None and ledger.by_id("a") is line
    bad = {"ledger_accounts": [{"id": "a", "opening_balance": {"debit": "lots"}}]}
    with pytest.raises(MoneyError, match=r"^debit: 'lots' is not a decimal number"):
        from_trial_balance(bad, [], START, END)


# -- what an aged report counts as open -------------------------------------------------------------------------

JUNE = dt.date(2026, 6, 30)


def link(path: str, ident: str, name: str = "") -> dict[str, str]:
    return {"id": ident, "displayed_as": name, "$path": f"/{path}/{ident}"}


def open_item(kind: str, ident: str, number: str, contact: str, name: str, date: str, due: str, amount: str) -> Any:
    return aged.OpenItem(kind, ident, number, contact, name, dt.date.fromisoformat(date), dt.date.fromisoformat(due),
                         D(amount))  # fmt: skip


def test_documents_open_now_read_sages_outstanding_amount_of_open_documents() -> None:
    raws = [
        {"id": "i1", "invoice_number": "SI-1", "contact": link("contacts", "c1", "Acme"), "date": "2026-06-01",
         "due_date": "2026-06-15", "status": {"id": "PART_PAID"}, "outstanding_amount": "40.00"},
        {"id": "i2", "displayed_as": "SI-2", "contact": link("contacts", "c2"), "contact_name": "Beta",
         "date": "2026-06-02", "status": "UNPAID", "outstanding_amount": "10"},
        {"id": "i3", "date": "2026-06-03", "status": {"id": "PAID"}, "outstanding_amount": "5"},
        {"id": "i4", "date": "2026-07-03", "status": {"id": "UNPAID"}, "outstanding_amount": "5"},
        {"id": "i5", "date": "2026-06-03", "status": {"id": "UNPAID"}, "outstanding_amount": "0"},
        {"id": "i6", "status": {"id": "UNPAID"}, "outstanding_amount": "7"},
    ]  # fmt: skip
    assert aged.documents_open_now(raws, "invoice", JUNE) == [
        open_item("invoice", "i1", "SI-1", "c1", "Acme", "2026-06-01", "2026-06-15", "40.00"),
        open_item("invoice", "i2", "SI-2", "c2", "Beta", "2026-06-02", "2026-06-02", "10"),
    ]
    credit = {"id": "n1", "credit_note_number": "CN-1", "date": "2026-06-05", "due_date": "2026-07-05",
              "status": {"id": "UNPAID"}, "outstanding_amount": "3"}  # fmt: skip
    assert aged.documents_open_now([credit], "credit_note", JUNE) == [
        open_item("credit_note", "n1", "CN-1", "", "(no contact)", "2026-06-05", "2026-06-05", "-3")
    ]


def test_a_payment_on_account_is_open_less_what_allocations_and_refunds_used_by_then() -> None:
    poa = {"id": "p1", "reference": "POA-1", "total_amount": "100.00", "date": "2026-05-01",
           "contact": link("contacts", "c1", "Acme")}  # fmt: skip
    payments = [
        {"id": "r1", "transaction_type": {"id": "CUSTOMER_RECEIPT"}, "date": "2026-05-01", "payment_on_account": poa},
        {"id": "r2", "transaction_type": {"id": "CUSTOMER_RECEIPT"}, "date": "2026-07-01",
         "payment_on_account": {**poa, "id": "p2", "date": "2026-07-01"}},
        {"id": "r3", "transaction_type": {"id": "VENDOR_PAYMENT"}, "date": "2026-05-01",
         "payment_on_account": {**poa, "id": "p3"}},
        {"id": "r4", "transaction_type": {"id": "CUSTOMER_RECEIPT"}, "date": "2026-05-01", "payment_on_account": None},
        {"id": "f1", "transaction_type": {"id": "CUSTOMER_REFUND"}, "date": "2026-06-01",
         "allocated_artefacts": [{"artefact": link("unallocated_artefacts", "p1"), "amount": "-10.00"}]},
        {"id": "f2", "transaction_type": {"id": "CUSTOMER_REFUND"}, "date": "2026-07-02",
         "allocated_artefacts": [{"artefact": link("unallocated_artefacts", "p1"), "amount": "50.00"}]},
    ]  # fmt: skip
    allocations = [
        {"date": "2026-06-10", "allocated_artefacts": [{"artefact": link("unallocated_artefacts", "p1"), "amount": 25},
                                                        {"artefact": link("sales_invoices", "x"), "amount": 25}, "x"]},
        {"date": None, "allocated_artefacts": [{"artefact": link("unallocated_artefacts", "p1"), "amount": 1}]},
    ]  # fmt: skip
    assert aged.payments_on_account_at(payments, allocations, aged.DEBTORS, JUNE) == [
        open_item("payment_on_account", "p1", "POA-1", "c1", "Acme", "2026-05-01", "2026-05-01", "-65.00")
    ]
    used_up = [*allocations, {"date": "2026-06-20", "allocated_artefacts": [
        {"artefact": link("unallocated_artefacts", "p1"), "amount": "65"}]}]  # fmt: skip
    assert aged.payments_on_account_at(payments, used_up, aged.DEBTORS, JUNE) == []


def test_unallocated_artefacts_are_split_by_side_and_dated() -> None:
    raws = [
        {"id": "u1", "reference": "R1", "transaction_type": {"id": "CUSTOMER_RECEIPT"}, "date": "2026-06-01",
         "outstanding_amount": "30", "total_amount": "99", "contact": link("contacts", "c1", "Acme")},
        {"id": "u2", "transaction_type": {"id": "VENDOR_PAYMENT"}, "date": "2026-06-01", "total_amount": "20"},
        {"id": "u3", "artefact_type": {"id": "SALES_CREDIT_NOTE"}, "date": "2026-06-01", "total_amount": "5"},
        {"id": "u4", "displayed_as": "Later", "date": "2026-07-01", "total_amount": "5"},
        {"id": "u5", "transaction_type": {"id": "CUSTOMER_REFUND"}, "total_amount": "-8", "contact_name": "Bee"},
        {"id": "u6", "transaction_type": {"id": "CUSTOMER_RECEIPT"}, "date": "2026-06-01", "outstanding_amount": "0",
         "total_amount": "5"},
    ]  # fmt: skip
    assert aged.unallocated_now(raws, aged.DEBTORS, JUNE) == [
        open_item("payment_on_account", "u1", "R1", "c1", "Acme", "2026-06-01", "2026-06-01", "-30"),
        open_item("payment_on_account", "u5", "u5", "", "Bee", "2026-06-30", "2026-06-30", "-8"),
    ]
    assert [i.id for i in aged.unallocated_now(raws, aged.CREDITORS, JUNE)] == ["u2"]


def test_a_payment_allocated_to_a_document_not_yet_dated_is_on_account_until_then() -> None:
    payments = [
        {"id": "r1", "reference": "REC-1", "transaction_type": {"id": "CUSTOMER_RECEIPT"}, "date": "2026-06-20",
         "contact": link("contacts", "c1", "Acme"), "payment_on_account": link("unallocated_artefacts", "p9"),
         "allocated_artefacts": [
             {"artefact": link("sales_invoices", "known"), "amount": "10"},
             {"artefact": link("sales_invoices", "future"), "amount": "-30", "discount": "2"},
             {"artefact": link("unallocated_artefacts", "p9"), "amount": "4"},
             {"artefact": link("unallocated_artefacts", "other"), "amount": "6"},
             "not a line",
         ]},
        {"id": "f1", "transaction_type": {"id": "CUSTOMER_REFUND"}, "date": "2026-06-21",
         "allocated_artefacts": [{"artefact": link("sales_credit_notes", "future-cn"), "amount": "7"}]},
        {"id": "r2", "transaction_type": {"id": "CUSTOMER_RECEIPT"}, "date": "2026-07-02",
         "allocated_artefacts": [{"artefact": link("sales_invoices", "future"), "amount": "1"}]},
        {"id": "v1", "transaction_type": {"id": "VENDOR_PAYMENT"}, "date": "2026-06-02",
         "allocated_artefacts": [{"artefact": link("purchase_invoices", "future"), "amount": "1"}]},
    ]  # fmt: skip
    assert aged.paid_ahead(payments, {"known"}, aged.DEBTORS, JUNE) == [
        open_item("payment_on_account", "r1", "REC-1", "c1", "Acme", "2026-06-20", "2026-06-20", "-32"),
        open_item("payment_on_account", "f1", "f1", "", "(no contact)", "2026-06-21", "2026-06-21", "7"),
    ]


# -- what the VAT return asks Sage for -------------------------------------------------------------------------

ART = (
    "date,status,contact,contact_name,invoice_number,credit_note_number,displayed_as,net_amount,tax_amount,"
    "total_amount,tax_analysis"
)


class VatSage:
    """A quarter's documents, other payments, journals and VAT accounts; records every request."""

    def __init__(self, *, others: bool = True) -> None:
        self.others = others
        self.requests: dict[str, dict[str, Any]] = {}

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        self.requests[path] = {k: v for k, v in (params or {}).items() if k not in ("page", "items_per_page")}
        items: list[dict[str, Any]] = []
        if path == "/sales_invoices":
            items = [
                doc(
                    "S1",
                    "2026-01-10",
                    "100.00",
                    "20.00",
                    payments_allocations=[{"date": "2026-02-01", "amount": "120.00"}],
                )
            ]
        elif path == "/purchase_invoices":
            items = [doc("P1", "2026-01-20", "50.00", "10.00")]
        elif path in ("/other_payments", "/journals") and not self.others:
            raise SageNotFoundError(404, [], method="GET", path=path)
        elif path == "/other_payments":
            items = [
                {
                    "id": "o1",
                    "reference": "R1",
                    "date": "2026-02-05",
                    "transaction_type": {"id": "OTHER_RECEIPT"},
                    "net_amount": "10",
                    "tax_amount": "2",
                    "total_amount": "12",
                }
            ]
        elif path == "/journals":
            items = [
                {
                    "id": "j1",
                    "reference": "J1",
                    "date": "2026-02-06",
                    "journal_lines": [
                        {
                            "ledger_account": {"id": "la-2200"},
                            "credit": "1",
                            "debit": "0",
                            "include_on_tax_return": True,
                        },
                        {
                            "ledger_account": {"id": "la-4000"},
                            "credit": "4",
                            "debit": "0",
                            "include_on_tax_return": True,
                        },
                    ],
                }
            ]
        elif path == "/ledger_accounts":
            items = [
                *BALANCES,
                {
                    "id": "la-4000",
                    "nominal_code": 4000,
                    "name": "Sales",
                    "ledger_account_type": {"id": "SALES"},
                    "balance_details": {},
                },
            ]
        return {"$items": items, "$total": len(items), "$next": None}  # fmt: skip


def prepare(sage: VatSage, settings: Mapping[str, Any], **kwargs: Any) -> tuple[Any, dict[str, Any]]:
    return asyncio.run(vat.prepare(Fetcher(sage), Q_START, Q_END, settings, **kwargs))


def test_a_standard_return_reads_the_periods_documents_payments_journals_and_vat_accounts() -> None:
    sage = VatSage()
    ret, recon = prepare(sage, {"tax_scheme": {"id": "STANDARD"}})
    period = {"from_date": "2026-01-01", "to_date": "2026-03-31"}
    for kind in ("sales_invoices", "sales_credit_notes", "purchase_invoices", "purchase_credit_notes"):
        assert sage.requests[f"/{kind}"] == {**period, "attributes": ART}
    assert sage.requests["/other_payments"] == {
        **period, "attributes": "transaction_type,date,reference,net_amount,tax_amount,total_amount,payment_lines"
    }  # fmt: skip
    assert sage.requests["/journals"] == {**period, "attributes": "date,reference,journal_lines"}
    assert sage.requests["/ledger_accounts"] == {
        **period, "show_balance_details": "true",
        "attributes": "nominal_code,name,ledger_account_type,control_name,balance_details",
    }  # fmt: skip
    boxes = ret.boxes()
    assert (ret.scheme, ret.flat_rate, ret.notes) == ("standard", None, [])
    assert (boxes["1"], boxes["4"], boxes["6"], boxes["7"]) == (D(23), D(10), D(114), D(50))
    assert recon["sales_tax_account"] == "2200 VAT on Sales" and recon["return_net"] == "13.00"


def test_a_cash_return_asks_for_payments_up_to_the_period_end() -> None:
    sage = VatSage(others=False)
    ret, _ = prepare(sage, {"tax_scheme": {"id": "STANDARD"}}, scheme="cash")
    assert sage.requests["/sales_invoices"] == {
        "to_date": "2026-03-31", "show_payments_allocations": "true", "attributes": ART + ",payments_allocations"
    }  # fmt: skip
    assert ret.scheme == "cash"
    assert [(e.box, e.number, e.amount) for e in ret.entries] == [("1", "S1", D(20)), ("6", "S1", D(100))]


def test_a_flat_rate_return_needs_sages_percentage_and_an_unregistered_business_is_said_so() -> None:
    ret, _ = prepare(VatSage(others=False), {"tax_scheme": {"id": "FLAT_RATE"}, "flat_rate_tax_percentage": "12.5"})
    assert (ret.scheme, ret.flat_rate, ret.boxes()["1"], ret.boxes()["6"]) == (
        "flat_rate_invoice", D("12.5"), D("15.00"), D("120.00")
    )  # fmt: skip
    with pytest.raises(ValueError) as refused:
        prepare(VatSage(), {"tax_scheme": {"id": "FLAT_RATE_CASH"}, "flat_rate_tax_percentage": ""})
    assert str(refused.value) == (
        "the flat rate scheme needs the flat-rate percentage, which Sage's financial settings do not give"
    )
    unregistered, _ = prepare(VatSage(others=False), {"tax_scheme": {"id": "NOT_REGISTERED"}})
    assert unregistered.scheme == "standard"
    assert unregistered.notes == [
        "Sage says this business is not VAT registered; figures are shown on the standard scheme."
    ]


def test_activity_asks_for_the_accounts_entries_in_the_window_and_checks_the_closing_too() -> None:
    said: list[str] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        said.append(str(message))

    class Entries(RecordingSage):
        async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
            self.requests.append((path, dict(params or {})))
            return {"$items": [RAW_ENTRIES[1]], "$total": 1, "$next": None}

    sage = Entries()
    raws = asyncio.run(activity.fetch_entries(Fetcher(sage, progress=progress), "la-1", START, END))
    assert sage.requests == [
        ("/ledger_entries", {"ledger_account_id": "la-1", "from_date": "2026-04-01", "to_date": "2027-03-31",
                             "attributes": "date,debit,credit,description,deleted,transaction,contact",
                             "items_per_page": 200, "page": 1})
    ]  # fmt: skip
    assert said == ["fetched 1 of 1 ledger entries"]
    line = AccountLine("la", "1200", "Bank", "BANK", "ASSETS", opening=D(0), debit=D("100.5"), closing=D(999))
    out = activity.activity(line, raws, opening=D(0), top=1)
    assert out["reconciled"] is False and out["ledger"]["closing_balance"] == "999.00"
    assert "more" not in out and len(out["entries"]) == 1
    with pytest.raises(MoneyError, match=r"^debit: 'x' is not a decimal number"):
        activity.activity(None, [{"date": "2026-05-01", "debit": "x"}], opening=D(0), top=None)


# -- what the aged reports ask Sage for ------------------------------------------------------------------------

DOC_ATTRIBUTES = (
    "contact,contact_name,date,due_date,status,invoice_number,credit_note_number,displayed_as,total_amount,"
    "outstanding_amount"
)
PAYMENT_ATTRIBUTES = "transaction_type,date,reference,contact,allocated_artefacts,payment_on_account"
CONTROL = {"id": "la-1100", "nominal_code": 1100, "name": "Debtors Control", "control_name": "DEBTORS",
           "balance_details": {"debits": "500", "credits": "100"}}  # fmt: skip


class AgedSage:
    """Debtors in Sage's shapes; records each request's parameters (paging left out)."""

    def __init__(self, *, unallocated: bool = True, control: bool = True, entries: list[Any] | None = None) -> None:
        self.unallocated = unallocated
        self.control = control
        self.entries = entries or []
        self.requests: list[tuple[str, dict[str, Any]]] = []

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        self.requests.append((path, {k: v for k, v in (params or {}).items() if k not in ("page", "items_per_page")}))
        items: list[Any] = []
        status = (params or {}).get("status_id")
        if path == "/sales_invoices" and status in (None, "UNPAID"):
            items = [{"id": "i1", "invoice_number": "SI-1", "contact": {"id": "c1", "displayed_as": "Acme"},
                      "date": "2026-05-01", "due_date": "2026-05-31", "status": {"id": "UNPAID"},
                      "total_amount": "120", "outstanding_amount": "120"}]  # fmt: skip
        elif path == "/unallocated_artefacts":
            if not self.unallocated:
                raise SageNotFoundError(404, [], method="GET", path=path)
            items = [{"id": "u1", "transaction_type": {"id": "CUSTOMER_RECEIPT"}, "date": "2026-06-01",
                      "outstanding_amount": "20", "contact": {"id": "c1", "displayed_as": "Acme"}}]  # fmt: skip
        elif path == "/contact_payments":
            items = [{"id": "r1", "transaction_type": {"id": "CUSTOMER_RECEIPT"}, "date": "2026-06-01",
                      "payment_on_account": {"id": "p1", "total_amount": "20", "contact": {"id": "c1"}}}]  # fmt: skip
        elif path == "/ledger_accounts":
            items = [CONTROL] if self.control else []
        elif path == "/ledger_entries":
            items = self.entries
        return {"$items": items, "$total": len(items), "$next": None}


def open_items(sage: AgedSage, as_at: dt.date, **kwargs: Any) -> Any:
    return asyncio.run(aged.fetch_open_items(Fetcher(sage), aged.DEBTORS, as_at, JUNE, **kwargs))


def test_todays_aged_debtors_read_open_documents_by_status_and_unallocated_artefacts() -> None:
    sage = AgedSage()
    data = open_items(sage, JUNE, contact_id="c1")
    contact = {"contact_id": "c1"}
    assert sorted(sage.requests, key=str) == sorted(
        [
            *[(f"/{coll}", {"status_id": s, "attributes": DOC_ATTRIBUTES, **contact})
              for s in ("UNPAID", "PART_PAID") for coll in ("sales_invoices", "sales_credit_notes")],
            ("/unallocated_artefacts", {"attributes": "all", **contact}),
            ("/ledger_accounts", {"show_balance_details": "true", "from_date": "1900-01-01", "to_date": "2026-06-30",
                                  "attributes": "nominal_code,name,ledger_account_type,control_name,balance_details"}),
        ],
        key=str,
    )  # fmt: skip
    assert [(i.kind, i.id, i.amount) for i in data.items] == [
        ("invoice", "i1", D(120)),
        ("payment_on_account", "u1", D(-20)),
    ]
    assert data.control == aged.Account("la-1100", "1100", "Debtors Control", D(500), D(100))
    assert (data.on_account_source, data.notes) == ("/unallocated_artefacts", [])


def test_without_unallocated_artefacts_payments_on_account_come_from_payments_and_allocations() -> None:
    sage = AgedSage(unallocated=False, control=False)
    data = open_items(sage, JUNE)
    asked = dict(sage.requests)
    assert asked["/contact_payments"] == {"to_date": "2026-06-30", "attributes": PAYMENT_ATTRIBUTES}
    assert asked["/contact_allocations"] == {
        "transaction_type_id": "CUSTOMER_ALLOCATION", "attributes": "date,contact,allocated_artefacts"
    }  # fmt: skip
    assert [(i.kind, i.id, i.amount) for i in data.items] == [
        ("invoice", "i1", D(120)),
        ("payment_on_account", "p1", D(-20)),
    ]
    assert data.on_account_source == "/contact_payments and /contact_allocations"
    assert data.control is None
    assert data.notes == ["no debtors control account found; the total is not reconciled"]


def test_aged_debtors_at_a_past_date_read_documents_with_their_allocations_up_to_then() -> None:
    sage = AgedSage()
    past = dt.date(2026, 5, 31)
    data = open_items(sage, past, with_control=False)
    asked = dict(sage.requests)
    for coll in ("sales_invoices", "sales_credit_notes"):
        assert asked[f"/{coll}"] == {"to_date": "2026-05-31", "show_payments_allocations": "true",
                                     "attributes": DOC_ATTRIBUTES + ",payments_allocations"}  # fmt: skip
    assert "/unallocated_artefacts" not in asked and "/ledger_accounts" not in asked
    assert asked["/contact_payments"] == {"to_date": "2026-05-31", "attributes": PAYMENT_ATTRIBUTES}
    assert [(i.kind, i.id, i.amount) for i in data.items] == [("invoice", "i1", D(120))]
    assert (data.control, data.notes) == (None, [])


def test_a_difference_from_the_control_account_is_explained_by_entries_without_a_contact() -> None:
    entries = [
        {"date": "2026-01-01", "debit": "30", "credit": "0", "description": "Opening balance"},
        {"date": "2026-02-01", "debit": "0", "credit": "5", "transaction_type": {"displayed_as": "Journal"}},
        {"date": "2026-02-02", "debit": "9", "credit": "0", "contact": {"id": "c1"}},
        {"date": "2026-02-03", "debit": "4", "credit": "4"},
    ]
    sage = AgedSage(entries=entries)
    recon = {"reconciled": False, "control_account_id": "la-1100", "difference": "40.00"}
    asyncio.run(aged.explain_difference(Fetcher(sage), aged.DEBTORS, recon, JUNE))
    assert sage.requests == [
        ("/ledger_entries", {"ledger_account_id": "la-1100", "to_date": "2026-06-30",
                             "attributes": "date,debit,credit,contact,transaction_type,description,deleted"})
    ]  # fmt: skip
    assert recon["causes"] == [
        {"cause": "posted to the control account without a customer or supplier (journals, opening balances)",
         "amount": "25.00", "examples": ["2026-01-01 Opening balance: 30.00", "2026-02-01 Journal: -5.00"]},
        {"cause": "not explained by entries without a contact; check allocations dated after the as-at date",
         "amount": "15.00"},
    ]  # fmt: skip
    settled = {"reconciled": True, "control_account_id": "la-1100", "difference": "0.00"}
    asyncio.run(aged.explain_difference(Fetcher(sage), aged.DEBTORS, settled, JUNE))
    assert "causes" not in settled and len(sage.requests) == 1


# -- the business summary from Sage's answers -------------------------------------------------------------------


class SummarySage:
    def __init__(self, *, reconciliations: bool = True, vat: bool = True, currency: Any = None) -> None:
        self.reconciliations = reconciliations
        self.vat = vat
        self.currency = currency
        self.requests: dict[str, dict[str, Any]] = {}

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        self.requests[path] = {k: v for k, v in (params or {}).items() if k not in ("page", "items_per_page")}
        items: list[Any] = []
        status = (params or {}).get("status_id")
        if path == "/financial_settings":
            return {"base_currency": self.currency} if self.currency is not None else "not an object"
        if path == "/bank_accounts":
            items = [{"id": "b1", "displayed_as": "Current", "balance": "1000.50"},
                     {"id": "b2", "balance": "-0.50", "is_active": True},
                     {"id": "b3", "displayed_as": "Closed", "balance": "99", "is_active": False}]  # fmt: skip
        elif path == "/sales_invoices" and status == "UNPAID":
            items = [{"id": "i1", "date": "2026-05-01", "due_date": "2026-05-31", "status": {"id": "UNPAID"},
                      "outstanding_amount": "300"},
                     {"id": "i2", "date": "2026-06-01", "due_date": "2026-07-31", "status": {"id": "UNPAID"},
                      "outstanding_amount": "200"}]  # fmt: skip
        elif path == "/purchase_invoices" and status == "PART_PAID":
            items = [{"id": "p1", "date": "2026-04-01", "due_date": "2026-04-30", "status": {"id": "PART_PAID"},
                      "outstanding_amount": "75"}]  # fmt: skip
        elif path == "/ledger_accounts":
            items = [
                {"id": "d", "nominal_code": 1100, "name": "Debtors", "control_name": "DEBTORS",
                 "balance_details": {"debits": "600", "credits": "100"}},
                {"id": "c", "nominal_code": 2100, "name": "Creditors", "control_name": "CREDITORS",
                 "balance_details": {"debits": "0", "credits": "70"}},
            ]  # fmt: skip
            if self.vat:
                items += [
                    {"id": "s", "nominal_code": 2200, "name": "VAT on Sales", "control_name": "SALES_TAX",
                     "balance_details": {"debits": "0", "credits": "50"}},
                    {"id": "p", "nominal_code": 2201, "name": "VAT on Purchases", "control_name": "PURCHASE_TAX",
                     "balance_details": {"debits": "20", "credits": "0"}},
                ]  # fmt: skip
        elif path == "/bank_reconciliations":
            if not self.reconciliations:
                raise SageNotFoundError(404, [], method="GET", path=path)
            items = [{"bank_account": {"id": "b1", "displayed_as": "Current"}, "statement_date": "2026-05-31",
                      "closing_balance": "900", "status": {"id": "RECONCILED"}}]  # fmt: skip
        return {"$items": items, "$total": len(items), "$next": None}


def test_the_business_summary_adds_up_cash_debts_and_vat_and_checks_the_control_accounts() -> None:
    sage = SummarySage(currency={"id": "EUR"})
    out = asyncio.run(summary.summarise(Fetcher(sage), JUNE))
    assert out == {
        "currency": "EUR",
        "cash": "1000.00",
        "bank_accounts": [{"name": "Current", "balance": "1000.50"}, {"name": "b2", "balance": "-0.50"}],
        "owed_to_us": "500.00",
        "owed_to_us_overdue": "300.00",
        "we_owe": "75.00",
        "we_owe_overdue": "75.00",
        "vat_owed": "30.00",
        "last_reconciliation": {"bank_account": "Current", "statement_date": "2026-05-31",
                                "closing_balance": "900.00", "status": "RECONCILED"},
        "control_checks": {
            "owed_to_us": {"control_account": "1100 Debtors", "balance": "500.00", "difference": "0.00"},
            "we_owe": {"control_account": "2100 Creditors", "balance": "70.00", "difference": "-5.00"},
        },
    }  # fmt: skip
    assert sage.requests["/bank_accounts"] == {"attributes": "displayed_as,balance,currency,nominal_code,is_active"}
    assert sage.requests["/bank_reconciliations"] == {
        "attributes": "bank_account,statement_date,closing_balance,statement_end_balance,status"
    }
    assert sage.requests["/ledger_accounts"]["to_date"] == "2026-06-30"


def test_a_summary_without_vat_accounts_or_reconciliations_says_none_and_defaults_to_pounds() -> None:
    out = asyncio.run(summary.summarise(Fetcher(SummarySage(reconciliations=False, vat=False)), JUNE))
    assert (out["currency"], out["vat_owed"], out["last_reconciliation"]) == ("GBP", None, None)


def test_credit_notes_of_both_sides_reduce_their_boxes_in_a_prepared_return() -> None:
    class Credits(VatSage):
        async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
            if path in ("/sales_credit_notes", "/purchase_credit_notes"):
                number = "SC1" if path.startswith("/sales") else "PC1"
                note = doc(number, "2026-02-01", "10.00", "2.00", invoice_number=None, credit_note_number=number)
                return {"$items": [note], "$total": 1, "$next": None}
            return await super().get(path, params)

    ret, _ = prepare(Credits(others=False), {"tax_scheme": {"id": "STANDARD"}})
    boxes = ret.boxes()
    assert (boxes["1"], boxes["4"], boxes["6"], boxes["7"]) == (D(18), D(8), D(90), D(40))
    assert {(e.kind, e.number, e.amount) for e in ret.entries if e.box == "1"} == {
        ("sales_invoice", "S1", D(20)),
        ("sales_credit_note", "SC1", D(-2)),
    }
    assert (ret.posted_output, ret.posted_input) == (D(18), D(8))


def test_flat_rate_cash_counts_takings_and_explains_its_difference() -> None:
    ret = vat.Return("flat_rate_cash", Q_START, Q_END, flat_rate=D("10"))
    paid = doc("S1", "2025-12-01", "100.00", "20.00", payments_allocations=[{"date": "2026-01-05", "amount": "60"}])
    vat.add_documents(ret, [paid], SALES)
    vat.add_documents(ret, [doc("P1", "2025-12-01", "50.00", "10.00", payments_allocations=[
        {"date": "2026-01-06", "amount": "30", "id": "alloc"}])], PURCHASES)  # fmt: skip
    vat.add_other_payments(ret, [{"id": "o", "reference": "OP", "date": "2026-01-07",
                                  "transaction_type": {"id": "OTHER_PAYMENT"}, "net_amount": "10",
                                  "tax_amount": "2", "total_amount": "12"}])  # fmt: skip
    vat.apply_flat_rate(ret)
    assert [(e.box, e.kind, e.id, e.number, e.amount) for e in ret.entries] == [
        ("6", "sales_invoice", "id-S1", "S1", D("60.00")),
        ("7", "purchase_invoice", "id-P1", "P1", D("25.00")),
        ("7", "other_payment", "o", "OP", D("10")),
        ("1", "flat_rate", "", "10% of turnover 60.00", D("6.00")),
    ]
    recon = vat.reconcile(ret, BALANCES)
    assert recon["causes"][0] == {
        "cause": "flat rate (cash based): box 1 is a percentage of takings, not the VAT charged; "
        "input VAT is not reclaimed",
        "amount": "8.00",
    }
    ret.scheme = "flat_rate_invoice"
    assert vat.reconcile(ret, BALANCES)["causes"][0]["cause"] == (
        "flat rate: box 1 is a percentage of turnover, not the VAT charged; input VAT is not reclaimed"
    )
    ret.scheme = "standard"
    assert vat.reconcile(ret, BALANCES)["causes"][0]["cause"] == "documents' VAT differs from what the return counts"


def test_other_payments_leave_out_no_vat_lines_and_flat_rate_counts_gross_receipts() -> None:
    lines = [{"tax_rate": {"id": "X", "displayed_as": "No VAT"}, "net_amount": "5", "total_amount": "5"},
             {"tax_rate": {"id": "GB_STANDARD"}, "net_amount": "10", "total_amount": "12"}]  # fmt: skip
    receipt = {"id": "o1", "displayed_as": "Receipt 1", "date": "2026-01-05",
               "transaction_type": {"id": "OTHER_RECEIPT"}, "net_amount": "15", "tax_amount": "2",
               "total_amount": "17", "payment_lines": lines}  # fmt: skip
    ret = vat.Return("standard", Q_START, Q_END)
    vat.add_other_payments(ret, [receipt, {**receipt, "id": "late", "date": "2026-04-01"}])
    assert [(e.box, e.number, e.amount) for e in ret.entries] == [("1", "Receipt 1", D(2)), ("6", "Receipt 1", D(10))]
    flat = vat.Return("flat_rate_invoice", Q_START, Q_END, flat_rate=D(10))
    vat.add_other_payments(flat, [receipt])
    assert [(e.box, e.amount) for e in flat.entries] == [("6", D(12))]
    assert (flat.posted_output, flat.posted_input) == (D(2), D(0))


@pytest.mark.parametrize(
    ("scheme", "expected"),
    [
        ({"id": "STANDARD", "displayed_as": "Standard"}, "standard"),
        ({"id": "X", "displayed_as": "Cash Accounting"}, "cash"),
        ("Flat Rate Cash", "flat_rate_cash"),
        ({"id": "FLAT_RATE_INVOICE"}, "flat_rate_invoice"),
        ({"displayed_as": "Not Registered"}, None),
        ("not_registered", None),
        (None, "standard"),
    ],
)
def test_the_vat_scheme_is_read_from_its_id_or_name(scheme: Any, expected: str | None) -> None:
    assert vat.scheme_of({"tax_scheme": scheme}) == expected


def test_a_no_vat_rate_is_known_by_id_or_name_and_drafts_and_voids_never_count() -> None:
    for rate in ({"id": "GB_NO_TAX"}, {"id": "IE_NOTAX"}, {"id": "Z", "displayed_as": "No VAT"}):
        net, _, gross = vat._split(
            {
                "net_amount": "10",
                "tax_amount": "0",
                "total_amount": "10",
                "tax_analysis": [{"tax_rate": rate, "net_amount": "4", "total_amount": "4"}],
            }
        )
        assert (net, gross) == (D(6), D(6))  # fmt: skip
    zero = {"id": "GB_ZERO", "displayed_as": "Zero rated"}
    assert vat._split({"net_amount": "10", "tax_analysis": [{"tax_rate": zero, "net_amount": "4"}]})[0] == D(10)
    for status in ({"id": "DRAFT"}, "void", {"id": "VOIDED"}):
        assert vat._counts({"status": status}) is False
    assert vat._counts({"status": {"id": "PAID"}}) and not vat._counts({"status": "PAID", "deleted_at": "x"})


def test_the_report_drills_into_boxes_one_four_six_and_seven_and_labels_accounts() -> None:
    ret = vat.Return("standard", Q_START, Q_END)
    for box in ("1", "2", "4", "6", "7", "8"):
        ret.add(box, "journal", {"id": box, "date": "2026-01-01T10:00:00Z"}, D(1))
    out = vat.report(ret, {}, top=None)
    assert sorted(out["drill_down"]) == ["1", "4", "6", "7"]
    assert out["drill_down"]["1"]["items"][0]["date"] == "2026-01-01"
    assert out["to_pay"] == "pay HMRC" and out["boxes"]["3"] == "2.00" and out["boxes"]["5"] == "1.00"
    assert "submission" in out and out["reconciliation"] == {}
    assert vat._label({"nominal_code": 2200, "displayed_as": "VAT (2200)"}) == "2200 VAT (2200)"
    assert vat._label({"name": "VAT"}) == "VAT" and vat._label(None) is None


def test_items_skipped_early_do_not_hide_later_ones_and_the_as_at_day_itself_counts() -> None:
    """A draft, void or future document first in Sage's list does not stop the ones after it; a document,
    allocation or payment dated on the as-at day itself counts."""
    on_day = JUNE.isoformat()
    docs = [
        {"id": "d0", "date": "2026-06-01", "status": {"id": "DRAFT"}, "total_amount": "9", "outstanding_amount": "9"},
        {"id": "d1", "date": "2026-07-01", "status": {"id": "UNPAID"}, "total_amount": "9", "outstanding_amount": "9"},
        {"id": "d2", "displayed_as": "SI-2", "date": on_day, "status": {"id": "UNPAID"}, "total_amount": "50",
         "outstanding_amount": "50", "payments_allocations": ["junk", {"date": on_day, "amount": "-10"},
                                                              {"date": "2026-07-01", "amount": "5"}]},
        {"id": "d3", "date": "2026-06-02", "status": {"id": "VOIDED"}, "total_amount": "9"},
    ]  # fmt: skip
    assert [(i.id, i.number, i.amount) for i in aged.documents_open_at(docs, "invoice", JUNE)] == [
        ("d2", "SI-2", D(40))
    ]
    assert [i.id for i in aged.documents_open_now(docs, "invoice", JUNE)] == ["d2"]
    assert [i.number for i in aged.documents_open_now([{**docs[2], "displayed_as": None}], "invoice", JUNE)] == ["d2"]

    poa = {"id": "p1", "total_amount": "10", "date": on_day, "contact_name": "Named", "contact": {"id": "c1"}}
    payments = [
        {"id": "x", "transaction_type": {"id": "CUSTOMER_REFUND"}, "date": "2026-07-01", "allocated_artefacts": []},
        {"id": "r0", "transaction_type": {"id": "VENDOR_PAYMENT"}, "payment_on_account": {**poa, "id": "v"}},
        {"id": "r1", "reference": "REF", "transaction_type": {"id": "CUSTOMER_RECEIPT"}, "date": "2026-01-01",
         "payment_on_account": poa, "contact": {"id": "c9"}},
        {"id": "f0", "transaction_type": {"id": "CUSTOMER_REFUND"}, "date": "2026-07-01",
         "allocated_artefacts": [{"artefact": {"id": "p1"}, "amount": "9"}]},
        {"id": "f1", "transaction_type": {"id": "CUSTOMER_REFUND"}, "date": on_day,
         "allocated_artefacts": [{"artefact": {"id": "other"}, "amount": "9"},
                                 {"artefact": {"id": "p1"}, "amount": "4"}]},
    ]  # fmt: skip
    (item,) = aged.payments_on_account_at(payments, [], aged.DEBTORS, JUNE)
    assert (item.id, item.number, item.contact_id, item.contact_name, item.date, item.amount) == (
        "p1", "REF", "c1", "Named", JUNE, D(-6)
    )  # fmt: skip
    undated = {**poa, "date": None, "reference": None, "displayed_as": None, "contact": None, "contact_name": None}
    (bare,) = aged.payments_on_account_at([{**payments[2], "payment_on_account": undated}], [], aged.DEBTORS, JUNE)
    assert (bare.number, bare.contact_id, bare.contact_name, bare.date) == (
        "REF",
        "c9",
        "(no contact)",
        dt.date(2026, 1, 1),
    )

    raws = [
        {"id": "s0", "transaction_type": {"id": "SALES_CREDIT_NOTE"}, "date": "2026-06-01", "total_amount": "1"},
        {"id": "s1", "transaction_type": {"id": "CUSTOMER_PAYMENT_ON_ACCOUNT"}, "displayed_as": "POA 1",
         "date": on_day, "total_amount": "3"},
        {"id": "s2", "artefact_type": {"id": "customer_refund"}, "date": "2026-06-01", "total_amount": "2"},
        {"id": "s3", "transaction_type": {"id": "SALES_QUICK_ENTRY"}, "date": "2026-06-01", "total_amount": "2"},
    ]  # fmt: skip
    assert [(i.id, i.number, i.contact_name) for i in aged.unallocated_now(raws, aged.DEBTORS, JUNE)] == [
        ("s1", "POA 1", "(no contact)"), ("s2", "s2", "(no contact)"), ("s3", "s3", "(no contact)")
    ]  # fmt: skip

    ahead = [
        {"id": "late", "transaction_type": {"id": "CUSTOMER_RECEIPT"}, "date": "2026-07-01",
         "allocated_artefacts": [{"artefact": {"id": "future"}, "amount": "1"}]},
        {"id": "r9", "displayed_as": "Receipt 9", "transaction_type": {"id": "CUSTOMER_RECEIPT"}, "date": on_day,
         "payment_on_account": {"id": "mine"},
         "allocated_artefacts": [{"artefact": {"id": "mine"}, "amount": "7"},
                                 {"artefact": {"id": "u", "$path": "/unallocated_artefacts/u"}, "amount": "7"},
                                 {"artefact": {"id": "future"}, "amount": "2"},
                                 {"artefact": {"id": "future2"}, "amount": "3"}]},
    ]  # fmt: skip
    assert [(i.id, i.number, i.amount) for i in aged.paid_ahead(ahead, set(), aged.DEBTORS, JUNE)] == [
        ("r9", "Receipt 9", D(-5))
    ]


def test_explaining_a_difference_keeps_five_examples_and_looks_past_contact_entries() -> None:
    entries = [{"date": "2026-01-01", "debit": "1", "contact": {"id": "c"}}] + [
        {"date": f"2026-01-0{n}", "debit": "1", "credit": "0", "description": f"J{n}"} for n in range(1, 8)
    ]
    recon = {"reconciled": False, "control_account_id": "la-2100", "difference": "-7.00"}
    asyncio.run(aged.explain_difference(Fetcher(AgedSage(entries=entries)), aged.CREDITORS, recon, JUNE))
    (cause,) = recon["causes"]
    assert cause["amount"] == "-7.00", "debits on the creditors control account reduce what we owe"
    assert len(cause["examples"]) == 5 and cause["examples"][0] == "2026-01-01 J1: -1.00"
    missing = {"reconciled": False, "difference": "1.00"}
    asyncio.run(aged.explain_difference(Fetcher(AgedSage()), aged.DEBTORS, missing, JUNE))
    assert "causes" not in missing
    unknown = {"control_account_id": "la-1100", "difference": "1.00"}
    asyncio.run(aged.explain_difference(Fetcher(AgedSage()), aged.DEBTORS, unknown, JUNE))
    assert "causes" not in unknown, "a reconciliation that does not say it failed is left alone"


def test_an_aged_report_with_nothing_owed_is_all_zeros() -> None:
    report = aged.aged_report(aged.DEBTORS, aged.OpenItems([], None, "contact payments"), JUNE, [30], top=5)
    assert (report["total"], report["overdue"], report["buckets"], report["rows"], report["contacts"]) == (
        "0.00", "0.00", {"current": "0.00", "1-30": "0.00", "30+": "0.00"}, [], 0
    )  # fmt: skip
    assert report["reconciliation"] == {"reconciled": False, "aged_total": "0.00"}
