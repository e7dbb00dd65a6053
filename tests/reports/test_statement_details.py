"""Ledger and statement details by hand: odd rows in Sage's trial balance, a ledger that starts at the
beginning of time, and a profit and loss cut to its largest accounts."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sage_mcp.reports import ledger, statements
from sage_mcp.reports.fetch import Fetcher

D = Decimal
START, END = dt.date(2026, 4, 1), dt.date(2026, 6, 30)


def chart_row(account_id: str, code: str, name: str, kind: str) -> dict[str, Any]:
    return {"id": account_id, "nominal_code": code, "name": name, "ledger_account_type": {"id": kind}}


CHART = [
    chart_row("bank", "1200", "Bank", "BANK"),
    chart_row("capital", "3000", "Capital", "EQUITY"),
    chart_row("sales", "4000", "Sales", "SALES"),
]


def test_a_blank_or_stray_row_in_sages_trial_balance_does_not_stop_the_report() -> None:
    tb = {
        "ledger_accounts": [
            # a bare blank opening balance: nothing before the window
            {"id": "bank", "opening_balance": "", "debit": "250.0", "credit": "0", "closing_balance": "250.0"},
            "not an account",  # passed over; the rows after it still count
            {
                "id": "sales",
                "opening_balance": {"debit": "0", "credit": "0"},
                "debit": "0",
                "credit": "250.0",
                "closing_balance": {"debit": "0", "credit": "250.0"},
            },
        ]
    }
    lg = ledger.from_trial_balance(tb, CHART, START, END)
    out = statements.trial_balance(lg, with_period=True, top=None)
    assert out["accounts"] == [
        {"code": "1200", "name": "Bank", "debit": "250.00", "credit": "0.00", "period_debit": "250.00",
         "period_credit": "0.00"},
        {"code": "4000", "name": "Sales", "debit": "0.00", "credit": "250.00", "period_debit": "0.00",
         "period_credit": "250.00"},
    ]  # fmt: skip
    assert out["totals"] == {"debit": "250.00", "credit": "250.00", "difference": "0.00"}
    assert "notes" not in out  # 0 + 250 - 0 = 250: the blank opening balance is read as zero


class BalancesSage:
    """No ``/trial_balance``; ``/ledger_accounts`` answers the same balances for any window it is asked."""

    def __init__(self) -> None:
        self.windows: list[tuple[str, str]] = []

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        params = params or {}
        if path == "/trial_balance":
            return None
        if path == "/ledger_accounts" and params.get("show_balance_details") == "true":
            self.windows.append((params["from_date"], params["to_date"]))
            items = [
                {**CHART[0], "balance_details": {"debits": 1000, "credits": 0}},
                {**CHART[1], "balance_details": {"debits": 0, "credits": 1000}},
            ]
        else:
            items = CHART
        return {"$items": items, "$total": len(items), "$next": None}


def test_a_ledger_from_the_beginning_asks_sage_for_one_window_and_opens_at_nothing() -> None:
    sage = BalancesSage()
    lg = asyncio.run(ledger.fetch_ledger(Fetcher(sage), ledger.BEGINNING, END))
    # nothing lies before 1 January 1900, so there is no "before" window to ask for
    assert sage.windows == [("1900-01-01", "2026-06-30")]
    assert {a.code: (a.opening, a.debit, a.credit, a.closing) for a in lg.lines} == {
        "1200": (D(0), D(1000), D(0), D(1000)),
        "3000": (D(0), D(0), D(1000), D(-1000)),
    }


def line(
    account_id: str, code: str, name: str, kind: str, *, debit: str = "0", credit: str = "0"
) -> ledger.AccountLine:
    a = ledger.AccountLine(account_id, code, name, kind, None, debit=D(debit), credit=D(credit))
    a.closing = a.movement
    return a


def test_a_profit_and_loss_cut_to_the_top_accounts_counts_the_rest_in_more() -> None:
    lg = ledger.Ledger(
        START,
        END,
        ledger.LEDGER_ACCOUNTS,
        [
            line("s", "4000", "Sales", "SALES", credit="3000"),
            line("r", "7100", "Rent", "OVERHEADS", debit="600"),
            line("p", "7200", "Telephone", "OVERHEADS", debit="40"),
            line("l", "7300", "Light and heat", "OVERHEADS", debit="150"),
        ],
    )
    pnl = statements.profit_and_loss(lg, None, top=2)
    # overheads 600 + 40 + 150 = 790: the two largest shown in code order, the telephone's 40 in "more"
    assert pnl["sections"]["overheads"] == {
        "label": "Overheads",
        "total": "790.00",
        "accounts": [
            {"code": "7100", "name": "Rent", "amount": "600.00"},
            {"code": "7300", "name": "Light and heat", "amount": "150.00"},
        ],
        "more": {"accounts": 1, "total": "40.00"},
    }
    # a section with no more accounts than the top shows them all and says nothing more
    assert pnl["sections"]["sales"] == {
        "label": "Sales",
        "total": "3000.00",
        "accounts": [{"code": "4000", "name": "Sales", "amount": "3000.00"}],
    }
    assert pnl["summary"]["net_profit"] == "2210.00"  # 3000 - 790
