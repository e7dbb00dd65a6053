"""VAT return: one small quarter worked by hand under each scheme (invoice basis, cash accounting,
flat rate invoice- and cash-based), with the boxes written out; box 5 reconciled to the VAT
accounts or the difference explained; a property test over random invoices and credit notes."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sage_mcp.sandbox import SandboxConfig
from tests.reports.open_items_support import Book, call, open_book

D = Decimal
#: A quarter no seed data reaches (three years ahead).
YEAR = dt.date.today().year + 3
START, END = dt.date(YEAR, 1, 1), dt.date(YEAR, 3, 31)


def on(month: int, day: int) -> dt.date:
    return dt.date(YEAR, month, day)


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Book]:
    yield from open_book(SandboxConfig(access_token_ttl=86_400), tmp_path_factory.mktemp("vat"))


@pytest.fixture(scope="module")
def quarter(book: Book) -> None:
    """S1 1,000.00 + 200.00 VAT; S2 500.00 zero rated; S3 300.00 outside the scope (No VAT); a credit note
    100.00 + 20.00; a voided invoice 999.00 + 199.80; a bill 400.00 + 80.00; an other payment 60.00 gross
    (50.00 + 10.00). Paid in the quarter: half of S1 (600.00), all of S2, half of the bill (240.00)."""
    customer, supplier = book.contact(), book.contact("VENDOR")
    s1 = book.invoice(customer, on(1, 10), [("1000.00", "GB_STANDARD")])
    s2 = book.invoice(customer, on(1, 15), [("500.00", "GB_ZERO")])
    book.invoice(customer, on(1, 20), [("300.00", "GB_NO_TAX")])
    book.credit_note(customer, on(2, 1), "100.00", "GB_STANDARD")
    void = book.invoice(customer, on(3, 1), [("999.00", "GB_STANDARD")])
    r = book.api.request("DELETE", f"/sales_invoices/{void['id']}", params={"void_reason": "raised in error"})
    assert r.status_code == 200, r.text
    bill = book.invoice(supplier, on(2, 10), [("400.00", "GB_STANDARD")], sales=False)
    book.post(
        "/other_payments",
        "other_payment",
        {
            "transaction_type_id": "OTHER_PAYMENT",
            "bank_account_id": book.bank,
            "date": on(2, 15).isoformat(),
            "total_amount": "60.00",
            "payment_lines": [
                {"ledger_account_id": book.accounts[7500], "tax_rate_id": "GB_STANDARD", "total_amount": "60.00"}
            ],
        },
    )
    book.pay(customer, on(2, 20), "600.00", [(s1["id"], "600.00")])
    book.pay(customer, on(3, 5), "500.00", [(s2["id"], "500.00")])
    book.pay(supplier, on(3, 10), "240.00", [(bill["id"], "240.00")], kind="VENDOR_PAYMENT")


def vat_return(book: Book, tmp: Path, scheme: str, flat_rate: str | None = None, **args: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"tax_scheme_id": scheme}
    if flat_rate is not None:
        fields["flat_rate_tax_percentage"] = flat_rate
    book.settings(**fields)
    try:
        return asyncio.run(
            call(book, tmp, "prepare_vat_return", {"from_date": START.isoformat(), "to_date": END.isoformat(), **args})
        )
    finally:
        book.settings(tax_scheme_id="STANDARD")


def boxes(out: dict[str, Any]) -> list[str]:
    return [out["boxes"][str(n)] for n in range(1, 10)]


def test_invoice_basis(book: Book, quarter: None, tmp_path: Path) -> None:
    out = vat_return(book, tmp_path, "STANDARD")
    assert out["scheme"] == "standard"
    # 1: 200 - 20; 4: 80 + 10; 6: 1000 + 500 - 100 (No VAT and the void left out); 7: 400 + 50
    assert boxes(out) == ["180.00", "0.00", "180.00", "90.00", "90.00", "1400.00", "450.00", "0.00", "0.00"]
    assert out["to_pay"] == "pay HMRC"
    assert out["reconciliation"]["reconciled"] is True
    assert out["reconciliation"]["sales_tax_movement"] == "180.00"
    assert out["reconciliation"]["purchase_tax_movement"] == "90.00"
    assert "submit" in out["submission"].lower() and "Sage" in out["submission"]
    box1 = {(i["kind"], i["amount"]) for i in out["drill_down"]["1"]["items"]}
    assert box1 == {("sales_invoice", "200.00"), ("sales_credit_note", "-20.00")}


def test_cash_accounting_counts_the_paid_share(book: Book, quarter: None, tmp_path: Path) -> None:
    out = vat_return(book, tmp_path, "CASH")
    assert out["scheme"] == "cash"
    # 1: half of S1's 200; 4: half of the bill's 80 + the other payment's 10; 6: 500 + 500; 7: 200 + 50
    assert boxes(out) == ["100.00", "0.00", "100.00", "50.00", "50.00", "1000.00", "250.00", "0.00", "0.00"]
    recon = out["reconciliation"]
    # the ledger holds the invoices' VAT (180 - 90 = 90); the return 100 - 50 = 50
    assert (recon["ledger_net"], recon["return_net"], recon["difference"]) == ("90.00", "50.00", "-40.00")
    assert [c["amount"] for c in recon["causes"]] == ["-40.00"]
    assert "cash accounting" in recon["causes"][0]["cause"]


def test_flat_rate_invoice_based(book: Book, quarter: None, tmp_path: Path) -> None:
    out = vat_return(book, tmp_path, "FLAT_RATE_INVOICE", "16.5")
    # turnover incl. VAT: 1200 + 500 - 120 = 1580 (No VAT left out); box 1 = 16.5% of it
    assert boxes(out) == ["260.70", "0.00", "260.70", "0.00", "260.70", "1580.00", "450.00", "0.00", "0.00"]
    assert D(out["flat_rate_percentage"]) == D("16.5")
    recon = out["reconciliation"]
    assert recon["difference"] == "170.70"  # 260.70 - (180 - 90)
    assert "flat rate" in recon["causes"][0]["cause"]


def test_flat_rate_cash_based(book: Book, quarter: None, tmp_path: Path) -> None:
    out = vat_return(book, tmp_path, "FLAT_RATE_CASH", "16.5")
    # takings incl. VAT: 600 + 500 = 1100; box 1 = 181.50; box 7: half the bill's net + the other payment
    assert boxes(out) == ["181.50", "0.00", "181.50", "0.00", "181.50", "1100.00", "250.00", "0.00", "0.00"]


def test_drill_down_shows_top_rows_and_the_rest_in_total(book: Book, quarter: None, tmp_path: Path) -> None:
    out = vat_return(book, tmp_path, "STANDARD", box="6", top=1)
    part = out["drill_down"]["6"]
    assert part["count"] == 3
    assert [i["amount"] for i in part["items"]] == ["1000.00"]
    assert part["more"] == {"items": 2, "total": "400.00"}


def test_last_vat_period_is_resolved_and_echoed(book: Book, tmp_path: Path) -> None:
    out = asyncio.run(call(book, tmp_path, "prepare_vat_return", {}))
    start, end = dt.date.fromisoformat(out["from_date"]), dt.date.fromisoformat(out["to_date"])
    today = dt.date.today()
    assert end < today <= end + dt.timedelta(days=93)
    assert start.day == 1 and (end + dt.timedelta(days=1)).day == 1 and start.month % 3 == 1
    assert "quarterly" in out["period"]


# -- property: invoice basis, any documents: 3 = 1 + 2, 5 = |3 - 4|, 1 = output VAT posted in the period ------

RATES = {"GB_STANDARD": D(20), "GB_LOWER": D(5), "GB_ZERO": D(0), "GB_EXEMPT": D(0), "GB_NO_TAX": D(0)}
_months = itertools.count(1)
doc = st.tuples(
    st.sampled_from(["sales_invoice", "sales_credit_note", "purchase_invoice", "purchase_credit_note"]),
    st.integers(1, 28),
    st.integers(1, 500_000),
    st.sampled_from(sorted(RATES)),
)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=st.lists(doc, min_size=1, max_size=6))
def test_property_boxes_add_up_and_box1_is_the_output_vat_posted(
    book: Book, tmp_path: Path, docs: list[tuple[str, int, int, str]]
) -> None:
    n = next(_months)  # each example in a month of its own, after the hand-worked quarter
    start = dt.date(YEAR + 1 + (n - 1) // 12, (n - 1) % 12 + 1, 1)
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    customer, supplier = book.contact(), book.contact("VENDOR")
    expected_output = D(0)
    for kind, day, pennies, rate in docs:
        net = D(pennies) / 100
        when = start.replace(day=day)
        sales = kind.startswith("sales")
        if kind.endswith("invoice"):
            book.invoice(customer if sales else supplier, when, [(str(net), rate)], sales=sales)
        else:
            book.credit_note(customer if sales else supplier, when, str(net), rate, sales=sales)
        if sales:
            tax = (net * RATES[rate] / 100).quantize(D("0.01"), rounding=ROUND_HALF_UP)
            expected_output += tax if kind.endswith("invoice") else -tax
    out = asyncio.run(
        call(book, tmp_path, "prepare_vat_return", {"from_date": start.isoformat(), "to_date": end.isoformat()})
    )
    b = {k: D(v) for k, v in out["boxes"].items()}
    assert b["3"] == b["1"] + b["2"]
    assert b["5"] == abs(b["3"] - b["4"])
    assert b["1"] == expected_output
    assert D(out["reconciliation"]["sales_tax_movement"]) == b["1"]
    assert out["reconciliation"]["reconciled"] is True


def test_journals_count_only_where_marked_for_the_tax_return(book: Book, tmp_path: Path) -> None:
    """In a quiet month: a journal moving 30.00 into output VAT marked include_on_tax_return, and one
    moving 5.00 not marked. Box 1 takes the first; the second is the reconciliation's explained difference."""
    start, end = dt.date(YEAR + 2, 6, 1), dt.date(YEAR + 2, 6, 30)
    for amount, marked in (("30.00", True), ("5.00", False)):
        book.post(
            "/journals",
            "journal",
            {
                "date": dt.date(YEAR + 2, 6, 10).isoformat(),
                "reference": f"VAT ADJ {amount}",
                "journal_lines": [
                    {
                        "ledger_account_id": book.accounts[2200],
                        "debit": 0,
                        "credit": amount,
                        "include_on_tax_return": marked,
                    },
                    {
                        "ledger_account_id": book.accounts[4000],
                        "debit": amount,
                        "credit": 0,
                        "include_on_tax_return": False,
                    },
                ],
            },
        )
    out = asyncio.run(
        call(book, tmp_path, "prepare_vat_return", {"from_date": start.isoformat(), "to_date": end.isoformat()})
    )
    assert out["boxes"]["1"] == "30.00" and out["boxes"]["6"] == "0.00"
    recon = out["reconciliation"]
    assert (recon["sales_tax_movement"], recon["difference"]) == ("35.00", "-5.00")
    assert recon["causes"] == [
        {"cause": "journals on the VAT accounts not marked include_on_tax_return", "amount": "-5.00"}
    ]
