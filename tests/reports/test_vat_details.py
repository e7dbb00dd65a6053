"""The VAT return in detail: which rows count, what each drill-down line is called, how the return is
fetched for each scheme, and how its difference from the VAT accounts is explained.

The quarter is January to March 2026 throughout; every figure is worked by hand in the comments.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sage_mcp.reports import vat
from sage_mcp.reports.fetch import Fetcher

D = Decimal
Q_START, Q_END = dt.date(2026, 1, 1), dt.date(2026, 3, 31)
SALES = vat.DocSet("sales_invoice", 1, True)
PURCHASES = vat.DocSet("purchase_invoice", 1, False)
PURCHASE_CNS = vat.DocSet("purchase_credit_note", -1, False)

SALES_VAT = {
    "id": "la-2200",
    "nominal_code": 2200,
    "name": "VAT on Sales",
    "control_name": "SALES_TAX",
    "ledger_account_type": {"id": "CURRENT_LIABILITY"},
}
PURCHASE_VAT = {
    "id": "la-2201",
    "nominal_code": 2201,
    "name": "VAT on Purchases",
    "control_name": "PURCHASE_TAX",
    "ledger_account_type": {"id": "CURRENT_ASSETS"},
}
SALES_ACCOUNT = {"id": "la-4000", "nominal_code": 4000, "name": "Sales", "ledger_account_type": {"id": "SALES"}}
INTEREST_ACCOUNT = {
    "id": "la-4900",
    "nominal_code": 4900,
    "name": "Interest received",
    "ledger_account_type": {"id": "OTHER_INCOME"},
}
FLAT_NOTE = (
    "Flat rate scheme at 10%: box 1 is 10% of the VAT-inclusive turnover in box 6; box 4 holds only capital "
    "purchases of goods costing £2,000 or more including VAT, which the API cannot identify: add any such "
    "purchase in Sage before submitting."
)
WHOLE_POUNDS = "Boxes 6 to 9 are entered in whole pounds on the return."


def invoice(number: str, date: str, net: str, tax: str, **extra: Any) -> dict[str, Any]:
    """A sales invoice as Sage lists it (its number in ``invoice_number``)."""
    return {
        "id": f"id-{number}",
        "invoice_number": number,
        "displayed_as": number,
        "date": date,
        "status": {"id": "UNPAID"},
        "net_amount": net,
        "tax_amount": tax,
        "total_amount": str(D(net) + D(tax)),
        **extra,
    }


def purchase(shown_as: str, date: str, net: str, tax: str) -> dict[str, Any]:
    """A purchase invoice or credit note: Sage gives it no number of its own, only ``displayed_as``
    (the supplier's reference)."""
    return {
        "id": f"pi-{shown_as}",
        "displayed_as": shown_as,
        "date": date,
        "status": {"id": "UNPAID"},
        "net_amount": net,
        "tax_amount": tax,
        "total_amount": str(D(net) + D(tax)),
    }


def other(ref: str, date: str, kind: str, net: str, tax: str) -> dict[str, Any]:
    return {
        "id": f"op-{ref}",
        "reference": ref,
        "displayed_as": ref,
        "date": date,
        "transaction_type": {"id": kind},
        "net_amount": net,
        "tax_amount": tax,
        "total_amount": str(D(net) + D(tax)),
    }


def line(account: str, *, credit: str = "0", debit: str = "0", on_return: bool = False) -> dict[str, Any]:
    return {"ledger_account": {"id": account}, "credit": credit, "debit": debit, "include_on_tax_return": on_return}


def item(kind: str, id_: str, number: str, date: str, amount: str) -> dict[str, str]:
    return {"kind": kind, "id": id_, "number": number, "date": date, "amount": amount}


class QuarterSage:
    """Answers the VAT return's lists like Sage: documents and other rows filtered by the dates asked
    for, payment allocations only when ``show_payments_allocations`` is asked for; records each request."""

    def __init__(self, lists: Mapping[str, list[dict[str, Any]]], accounts: list[dict[str, Any]]) -> None:
        self.lists = lists
        self.accounts = accounts
        self.requests: dict[str, dict[str, Any]] = {}

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        asked = {k: v for k, v in (params or {}).items() if k not in ("page", "items_per_page")}
        self.requests[path] = asked
        if path == "/ledger_accounts":
            items = self.accounts
        else:
            low, high = asked.get("from_date", "0000-00-00"), asked.get("to_date", "9999-99-99")
            items = [dict(r) for r in self.lists.get(path, []) if low <= r["date"] <= high]
            if asked.get("show_payments_allocations") != "true":
                for r in items:
                    r.pop("payments_allocations", None)
        return {"$items": items, "$total": len(items), "$next": None}


def prepare(sage: QuarterSage, settings: Mapping[str, Any]) -> tuple[vat.Return, dict[str, Any]]:
    return asyncio.run(vat.prepare(Fetcher(sage), Q_START, Q_END, settings))


def test_rows_that_do_not_count_never_hide_the_rows_after_them() -> None:
    ret = vat.Return("standard", Q_START, Q_END)
    vat.add_documents(
        ret,
        [
            invoice("D1", "2026-02-01", "900.00", "180.00", status={"id": "DRAFT"}),
            invoice("V1", "2026-02-01", "900.00", "180.00", status={"id": "VOID"}),
            invoice("OLD", "2025-12-31", "500.00", "100.00"),  # the day before the quarter
            invoice("S1", "2026-01-01", "100.00", "20.00"),  # its first day
            invoice("S2", "2026-03-31", "50.00", "10.00"),  # its last day
        ],
        SALES,
    )
    vat.add_other_payments(
        ret,
        [
            other("LATE", "2026-04-01", "OTHER_RECEIPT", "70", "14"),  # the day after the quarter
            other("R1", "2026-01-01", "OTHER_RECEIPT", "30", "6"),
        ],
    )
    vat.add_journals(
        ret,
        [
            {"id": "j0", "reference": "J0", "date": "2025-12-31",
             "journal_lines": [line("la-2200", credit="99", on_return=True)]},
            {"id": "jd", "reference": "JD", "date": "2026-02-01", "deleted_at": "2026-02-02T10:00:00Z",
             "journal_lines": [line("la-2200", credit="88", on_return=True)]},
            {"id": "j1", "reference": "J1", "date": "2026-03-31",
             "journal_lines": [None, line("la-2200", credit="1", on_return=True)]},
        ],
        vat.VatAccounts("la-2200", "la-2201", {}),
    )  # fmt: skip
    boxes = ret.boxes()
    # box 1: S1 20 + S2 10 + R1 6 + J1 1 = 37; box 6: S1 100 + S2 50 + R1 30 = 180
    assert (boxes["1"], boxes["6"]) == (D("37.00"), D("180.00"))
    assert [(e.kind, e.number) for e in ret.entries if e.box == "1"] == [
        ("sales_invoice", "S1"),
        ("sales_invoice", "S2"),
        ("other_receipt", "R1"),
        ("journal", "J1"),
    ]


def test_a_purchases_only_quarter_is_repaid_and_drills_into_purchases_named_as_sage_shows_them() -> None:
    ret = vat.Return("standard", Q_START, Q_END)
    vat.add_documents(ret, [purchase("SUP-77", "2026-02-10", "40.00", "8.00")], PURCHASES)
    vat.add_documents(ret, [purchase("SUP-CN-3", "2026-03-05", "10.00", "2.00")], PURCHASE_CNS)
    out = vat.report(ret, {"reconciled": True}, top=None)
    # box 4 = 8 - 2 = 6, box 7 = 40 - 10 = 30; nothing due on sales, so HMRC repays 6
    assert (out["boxes"]["1"], out["boxes"]["4"], out["boxes"]["5"], out["boxes"]["7"]) == (
        "0.00",
        "6.00",
        "6.00",
        "30.00",
    )
    assert out["to_pay"] == "HMRC repays"
    assert out["drill_down"] == {
        "4": {
            "count": 2,
            "items": [
                item("purchase_invoice", "pi-SUP-77", "SUP-77", "2026-02-10", "8.00"),
                item("purchase_credit_note", "pi-SUP-CN-3", "SUP-CN-3", "2026-03-05", "-2.00"),
            ],
        },
        "7": {
            "count": 2,
            "items": [
                item("purchase_invoice", "pi-SUP-77", "SUP-77", "2026-02-10", "40.00"),
                item("purchase_credit_note", "pi-SUP-CN-3", "SUP-CN-3", "2026-03-05", "-10.00"),
            ],
        },
    }
    assert list(vat.report(ret, {}, top=None, box="7")["drill_down"]) == ["7"]


def test_a_standard_return_from_sage_explains_its_difference_from_the_vat_accounts() -> None:
    lists = {
        "/sales_invoices": [invoice("S1", "2026-01-01", "100.00", "20.00")],
        "/purchase_invoices": [purchase("SUP-77", "2026-01-20", "50.00", "10.00")],
        "/other_payments": [
            other("R1", "2026-02-01", "OTHER_RECEIPT", "30.00", "6.00"),
            other("R2", "2026-02-02", "OTHER_RECEIPT", "20.00", "4.00"),
            other("X1", "2026-02-03", "OTHER_PAYMENT", "15.00", "3.00"),
            other("X2", "2026-02-04", "OTHER_PAYMENT", "10.00", "2.00"),
        ],
        "/journals": [
            {"id": "j1", "reference": "J1", "date": "2026-03-01", "journal_lines": [
                line("la-2200", credit="1.00", on_return=True),  # output VAT, box 1
                line("la-2201", debit="0.50", on_return=True),  # input VAT, box 4
                line("la-4900", credit="5.00", on_return=True),  # other income, box 6
            ]},
            # corrections that move the VAT accounts, not the return
            {"id": "j2", "reference": "J2", "date": "2026-03-15", "journal_lines": [
                line("la-2200", debit="1.50"),
                line("la-2201", credit="0.50"),
            ]},
            {"id": "j3", "reference": "J3", "date": "2026-03-20", "journal_lines": [line("la-2200", debit="0.50")]},
        ],
    }  # fmt: skip
    accounts = [
        # credits 20 + 6 + 4 + 1 = 31; debits J2 1.50 + J3 0.50 + VAT paid to HMRC 12 = 14: movement 17
        {**SALES_VAT, "balance_details": {"credits": "31.00", "debits": "14.00"}},
        # debits 10 + 3 + 2 + 0.50 = 15.50; credits J2 0.50: movement 15
        {**PURCHASE_VAT, "balance_details": {"debits": "15.50", "credits": "0.50"}},
        SALES_ACCOUNT,
        INTEREST_ACCOUNT,
    ]
    ret, recon = prepare(QuarterSage(lists, accounts), {"tax_scheme": {"id": "STANDARD"}})
    out = vat.report(ret, recon, top=None)
    # box 1: 20 + 6 + 4 + 1 = 31; box 4: 10 + 3 + 2 + 0.50 = 15.50; box 6: 100 + 30 + 20 + 5 = 155;
    # box 7: 50 + 15 + 10 = 75
    assert out["boxes"] == {"1": "31.00", "2": "0.00", "3": "31.00", "4": "15.50", "5": "15.50", "6": "155.00",
                            "7": "75.00", "8": "0.00", "9": "0.00"}  # fmt: skip
    assert out["to_pay"] == "pay HMRC"
    # the return says 31 - 15.50 = 15.50, the accounts 17 - 15 = 2: 13.50 apart, of which the
    # unmarked journals J2 and J3 (2 off output VAT, 0.50 off input VAT) are 2 - 0.50 = 1.50 and the rest,
    # 12, the VAT paid to HMRC
    assert recon == {
        "sales_tax_account": "2200 VAT on Sales",
        "sales_tax_movement": "17.00",
        "purchase_tax_account": "2201 VAT on Purchases",
        "purchase_tax_movement": "15.00",
        "ledger_net": "2.00",
        "return_net": "15.50",
        "difference": "13.50",
        "reconciled": False,
        "causes": [
            {"cause": "journals on the VAT accounts not marked include_on_tax_return", "amount": "1.50"},
            {
                "cause": "other postings to the VAT accounts in the period (e.g. VAT paid to HMRC, corrections)",
                "amount": "12.00",
            },
        ],
    }
    assert out["drill_down"]["1"]["items"] == [
        item("sales_invoice", "id-S1", "S1", "2026-01-01", "20.00"),
        item("other_receipt", "op-R1", "R1", "2026-02-01", "6.00"),
        item("other_receipt", "op-R2", "R2", "2026-02-02", "4.00"),
        item("journal", "j1", "J1", "2026-03-01", "1.00"),
    ]
    assert out["drill_down"]["4"]["items"] == [
        item("purchase_invoice", "pi-SUP-77", "SUP-77", "2026-01-20", "10.00"),
        item("other_payment", "op-X1", "X1", "2026-02-03", "3.00"),
        item("other_payment", "op-X2", "X2", "2026-02-04", "2.00"),
        item("journal", "j1", "J1", "2026-03-01", "0.50"),
    ]
    assert [(i["kind"], i["number"], i["amount"]) for i in out["drill_down"]["6"]["items"]] == [
        ("sales_invoice", "S1", "100.00"),
        ("other_receipt", "R1", "30.00"),
        ("other_receipt", "R2", "20.00"),
        ("journal", "J1", "5.00"),
    ]


def test_a_flat_rate_cash_return_counts_the_takings_of_the_quarter() -> None:
    # invoiced in December, half of its 120 paid on 5 January: 60 of takings in the quarter
    lists = {
        "/sales_invoices": [
            invoice(
                "S9", "2025-12-15", "100.00", "20.00", payments_allocations=[{"date": "2026-01-05", "amount": "60"}]
            )
        ]
    }
    accounts = [{**SALES_VAT, "balance_details": {}}, {**PURCHASE_VAT, "balance_details": {}}]
    sage = QuarterSage(lists, accounts)
    settings = {"tax_scheme": {"id": "FLAT_RATE_CASH"}, "flat_rate_tax_percentage": "10"}
    ret, recon = prepare(sage, settings)
    assert "from_date" not in sage.requests["/sales_invoices"]
    assert sage.requests["/sales_invoices"]["show_payments_allocations"] == "true"
    out = vat.report(ret, recon, top=None)
    # box 6 = the 60 taken; box 1 = 10% of it = 6
    assert (out["scheme"], out["flat_rate_percentage"]) == ("flat_rate_cash", "10")
    assert (out["boxes"]["1"], out["boxes"]["4"], out["boxes"]["6"]) == ("6.00", "0.00", "60.00")
    assert out["drill_down"]["1"]["items"] == [item("flat_rate", "", "10% of turnover 60.00", "2026-03-31", "6.00")]
    assert out["notes"] == [FLAT_NOTE, WHOLE_POUNDS]
    # the December invoice's 20 of VAT is not in the quarter's accounts; the return asks 6
    assert recon["causes"] == [
        {
            "cause": "flat rate (cash based): box 1 is a percentage of takings, not the VAT charged; "
            "input VAT is not reclaimed",
            "amount": "6.00",
        }
    ]


def test_books_with_one_vat_account_reconcile_against_it_and_books_with_none_say_so() -> None:
    lists = {"/sales_invoices": [invoice("S1", "2026-02-01", "100.00", "20.00")]}
    only_sales_vat = [{**SALES_VAT, "balance_details": {"credits": "20.00", "debits": "0"}}, SALES_ACCOUNT]
    ret, recon = prepare(QuarterSage(lists, only_sales_vat), {"tax_scheme": {"id": "STANDARD"}})
    assert ret.boxes()["1"] == D("20.00")
    assert recon == {
        "sales_tax_account": "2200 VAT on Sales",
        "sales_tax_movement": "20.00",
        "purchase_tax_account": None,
        "purchase_tax_movement": "0.00",
        "ledger_net": "20.00",
        "return_net": "20.00",
        "difference": "0.00",
        "reconciled": True,
    }
    ret, recon = prepare(QuarterSage(lists, [SALES_ACCOUNT]), {"tax_scheme": {"id": "STANDARD"}})
    assert ret.boxes()["1"] == D("20.00")
    assert recon == {"reconciled": False, "note": "no VAT control accounts found"}
