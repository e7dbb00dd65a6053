"""Business summary details from Sage's answers: zeros for an empty business, what counts as overdue,
which bank reconciliation is "the last", and how many times the summary asks Sage for the ledger."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from typing import Any

from sage_mcp.reports import summary
from sage_mcp.reports.fetch import Fetcher

TODAY = dt.date(2026, 6, 30)


class Sage:
    """Answers each list from ``lists`` (invoices by their ``status``) and records every request."""

    def __init__(self, **lists: list[dict[str, Any]]) -> None:
        self.lists = lists
        self.requests: list[str] = []

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        self.requests.append(path)
        if path == "/financial_settings":
            return {"base_currency": {"id": "GBP"}}
        items = self.lists.get(path.strip("/"), [])
        status = (params or {}).get("status_id")
        if status is not None:
            items = [i for i in items if i["status"]["id"] == status]
        return {"$items": items, "$total": len(items), "$next": None}


def summarise(sage: Sage) -> dict[str, Any]:
    return asyncio.run(summary.summarise(Fetcher(sage), TODAY))


def invoice(number: str, due: str, outstanding: str) -> dict[str, Any]:
    return {
        "id": number,
        "invoice_number": number,
        "date": "2026-05-01",
        "due_date": due,
        "status": {"id": "UNPAID"},
        "outstanding_amount": outstanding,
    }


def reconciliation(account: str, date: str | None, closing: str, status: str = "RECONCILED") -> dict[str, Any]:
    return {
        "bank_account": {"id": account, "displayed_as": account.title()},
        "statement_date": date,
        "closing_balance": closing,
        "status": {"id": status},
    }


def test_a_new_business_with_no_bank_accounts_and_nothing_owed_summarises_to_zeros() -> None:
    assert summarise(Sage()) == {
        "currency": "GBP",
        "cash": "0.00",
        "bank_accounts": [],
        "owed_to_us": "0.00",
        "owed_to_us_overdue": "0.00",
        "we_owe": "0.00",
        "we_owe_overdue": "0.00",
        "vat_owed": None,
        "last_reconciliation": None,
        "control_checks": {},
    }


def test_an_invoice_due_today_is_not_yet_overdue_and_one_due_yesterday_is() -> None:
    # today is 30 June: due 30 June is not overdue, due 29 June is one day overdue, due 1 July is not due yet
    sage = Sage(
        sales_invoices=[
            invoice("SI-1", "2026-06-30", "100.00"),
            invoice("SI-2", "2026-06-29", "40.00"),
            invoice("SI-3", "2026-07-01", "5.00"),
        ],
        purchase_invoices=[invoice("PI-1", "2026-06-30", "60.00"), invoice("PI-2", "2026-06-29", "25.00")],
    )
    out = summarise(sage)
    # owed to us 100 + 40 + 5 = 145, of which only SI-2's 40 is overdue; we owe 60 + 25 = 85, 25 overdue
    assert (out["owed_to_us"], out["owed_to_us_overdue"]) == ("145.00", "40.00")
    assert (out["we_owe"], out["we_owe_overdue"]) == ("85.00", "25.00")


def test_the_summary_asks_sage_for_the_ledger_balances_once() -> None:
    # the control checks and the VAT owed both come from one read of the ledger accounts; the open
    # items of each side do not read it again
    sage = Sage(sales_invoices=[invoice("SI-1", "2026-06-30", "100.00")])
    summarise(sage)
    assert sage.requests.count("/ledger_accounts") == 1


def test_the_last_reconciliation_is_the_latest_of_any_account_in_whatever_order_sage_lists_them() -> None:
    sage = Sage(
        bank_reconciliations=[
            reconciliation("savings", None, "10.00", status="DRAFT"),  # no statement date: passed over
            reconciliation("current", "2026-03-31", "700.00"),
            reconciliation("savings", "2026-05-31", "2500.00"),
            reconciliation("current", "2026-04-30", "800.00"),
        ]
    )
    assert summarise(sage)["last_reconciliation"] == {
        "bank_account": "Savings",
        "statement_date": "2026-05-31",
        "closing_balance": "2500.00",
        "status": "RECONCILED",
    }


def test_of_two_reconciliations_to_one_statement_date_the_summary_shows_the_one_sage_lists_first() -> None:
    # Sage lists reconciliations newest first (by statement date, then the most recently made), so on
    # a tie the first one listed is the latest made
    sage = Sage(
        bank_reconciliations=[
            reconciliation("current", "2026-05-31", "900.00"),
            reconciliation("current", "2026-05-31", "850.00", status="DRAFT"),
        ]
    )
    last = summarise(sage)["last_reconciliation"]
    assert (last["closing_balance"], last["status"]) == ("900.00", "RECONCILED")
