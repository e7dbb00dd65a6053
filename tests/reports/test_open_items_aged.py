"""Aged debtors and creditors: a hand-worked customer at three dates (one in the past, before and
after a receipt that left a payment on account), custom buckets, and a property test that whatever
is posted, the aged total equals the control account at any date and each contact's Sage balance."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sage_mcp.sandbox import SandboxConfig
from tests.reports.open_items_support import Book, call, open_book

D = Decimal
TODAY = dt.date.today()


def day(offset: int) -> dt.date:
    return TODAY + dt.timedelta(days=offset)


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Book]:
    yield from open_book(SandboxConfig(access_token_ttl=86_400), tmp_path_factory.mktemp("aged"))


@pytest.fixture(scope="module")
def customer(book: Book) -> str:
    """A: 120.00 due T-70; B: 250.00 (zero rated) due T-40; C: 60.00 due T+20; receipt T-80 of 150.00
    pays A and leaves 30.00 on account; receipt T-20 pays 100.00 of B; credit note T-5 of 12.00."""
    c = book.contact()
    a = book.invoice(c, day(-100), [("100.00", "GB_STANDARD")], due=day(-70))
    b = book.invoice(c, day(-60), [("250.00", "GB_ZERO")], due=day(-40))
    book.invoice(c, day(-10), [("50.00", "GB_STANDARD")], due=day(20))
    book.pay(c, day(-80), "150.00", [(a["id"], "120.00")])
    book.pay(c, day(-20), "100.00", [(b["id"], "100.00")])
    book.credit_note(c, day(-5), "10.00", "GB_STANDARD")
    return c


def aged(book: Book, tmp: Path, **args: object) -> dict[str, object]:
    return asyncio.run(call(book, tmp, "get_aged_debtors", dict(args)))


def test_in_the_past_before_the_receipt_only_the_first_invoice_is_owed_not_yet_due(
    book: Book, customer: str, tmp_path: Path
) -> None:
    out = aged(book, tmp_path, as_at=day(-90).isoformat(), contact_id=customer)
    assert out["total"] == "120.00"
    # A is due at T-70: at T-90 it is owed but not yet due
    assert out["buckets"] == {"current": "120.00", "1-30": "0.00", "31-60": "0.00", "61-90": "0.00", "90+": "0.00"}
    assert out["overdue"] == "0.00"
    assert [(i["kind"], i["amount"], i["days_overdue"]) for i in out["items"]] == [("invoice", "120.00", 0)]  # type: ignore[index]


def test_in_the_past_after_the_receipt_the_payment_on_account_is_a_credit(
    book: Book, customer: str, tmp_path: Path
) -> None:
    out = aged(book, tmp_path, as_at=day(-50).isoformat(), contact_id=customer)
    # A paid; B 250.00 not yet due; 30.00 on account since T-80 (30 days old)
    assert out["total"] == "220.00"
    assert out["buckets"] == {"current": "250.00", "1-30": "-30.00", "31-60": "0.00", "61-90": "0.00", "90+": "0.00"}
    assert out["on_account"] == "-30.00"


def test_today_part_paid_invoice_credit_note_and_payment_on_account(book: Book, customer: str, tmp_path: Path) -> None:
    out = aged(book, tmp_path, contact_id=customer)
    # B 150.00 (40 days overdue), C 60.00 not due, credit note -12.00 (5 days), on account -30.00 (80 days)
    assert out["total"] == "168.00"
    assert out["overdue"] == "108.00"
    assert out["buckets"] == {"current": "60.00", "1-30": "-12.00", "31-60": "150.00", "61-90": "-30.00", "90+": "0.00"}
    kinds = sorted((i["kind"], i["amount"]) for i in out["items"])  # type: ignore[union-attr]
    assert kinds == [
        ("credit_note", "-12.00"),
        ("invoice", "150.00"),
        ("invoice", "60.00"),
        ("payment_on_account", "-30.00"),
    ]


def test_bucket_boundaries_are_an_argument(book: Book, customer: str, tmp_path: Path) -> None:
    out = aged(book, tmp_path, contact_id=customer, buckets=[15, 45])
    assert out["buckets"] == {"current": "60.00", "1-15": "-12.00", "16-45": "150.00", "45+": "-30.00"}


@pytest.mark.parametrize("offset", [0, -50, -90, -200])
@pytest.mark.parametrize("tool", ["get_aged_debtors", "get_aged_creditors"])
def test_the_whole_book_reconciles_to_the_control_account(
    book: Book, customer: str, tmp_path: Path, tool: str, offset: int
) -> None:
    out = asyncio.run(call(book, tmp_path, tool, {"as_at": day(offset).isoformat()}))
    recon = out["reconciliation"]
    assert recon["reconciled"] is True, recon  # type: ignore[index]
    assert recon["control_balance"] == out["total"]  # type: ignore[index]
    # the default answer is small: the top 10 contacts and how many more (with their total)
    rows = out["rows"]
    assert len(rows) <= 10  # type: ignore[arg-type]
    if out["contacts"] > 10:  # type: ignore[operator]
        shown = sum(D(r["total"]) for r in rows)  # type: ignore[union-attr,index]
        assert shown + D(out["more"]["total"]) == D(out["total"])  # type: ignore[index,arg-type]


def test_a_difference_is_shown_with_its_cause(book: Book, tmp_path: Path) -> None:
    """A journal straight to the debtors control account (no customer) is the difference's cause."""
    when = day(-300)
    book.post(
        "/journals",
        "journal",
        {
            "date": when.isoformat(),
            "reference": "DEBTORS ADJ",
            "journal_lines": [
                {"ledger_account_id": book.accounts[1100], "debit": 25, "credit": 0, "details": "adj"},
                {"ledger_account_id": book.accounts[4000], "debit": 0, "credit": 25, "details": "adj"},
            ],
        },
    )
    out = asyncio.run(call(book, tmp_path, "get_aged_debtors", {"as_at": day(-299).isoformat()}))
    recon = out["reconciliation"]
    assert recon["reconciled"] is False  # type: ignore[index]
    assert recon["difference"] == "25.00"  # type: ignore[index]
    assert recon["causes"][0]["amount"] == "25.00"  # type: ignore[index]
    assert "without a customer" in recon["causes"][0]["cause"]  # type: ignore[index]
    # undo, so the other tests see a book that reconciles
    book.post(
        "/journals",
        "journal",
        {
            "date": when.isoformat(),
            "reference": "DEBTORS ADJ REV",
            "journal_lines": [
                {"ledger_account_id": book.accounts[1100], "debit": 0, "credit": 25, "details": "rev"},
                {"ledger_account_id": book.accounts[4000], "debit": 25, "credit": 0, "details": "rev"},
            ],
        },
    )


# -- property: any postings, any date: aged total = control account; per contact = Sage's balance ---------

step = st.one_of(
    st.tuples(
        st.just("invoice"),
        st.integers(-200, 0),
        st.integers(1, 90_000),
        st.sampled_from(["GB_STANDARD", "GB_ZERO", "GB_LOWER"]),
    ),
    st.tuples(st.just("receipt"), st.integers(-200, 0), st.integers(1, 60_000), st.sampled_from([0, 1, 2])),
    st.tuples(st.just("credit"), st.integers(-200, 0), st.integers(1, 20_000), st.just("GB_STANDARD")),
)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=6), as_at=st.integers(-210, 0), supplier=st.booleans())
def test_property_aged_totals_equal_the_control_account(
    book: Book, tmp_path: Path, steps: list[tuple[str, int, int, object]], as_at: int, supplier: bool
) -> None:
    sales = not supplier
    contact = book.contact("VENDOR" if supplier else "CUSTOMER")
    open_invoices: list[tuple[str, D]] = []
    for kind, offset, pennies, extra in steps:
        amount = D(pennies) / 100
        if kind == "invoice":
            inv = book.invoice(contact, day(offset), [(str(amount), str(extra))], sales=sales)
            open_invoices.append((inv["id"], D(inv["total_amount"])))
        elif kind == "credit":
            book.credit_note(contact, day(offset), str(amount), str(extra), sales=sales)
        else:
            # pay up to `extra` open invoices in full (if the payment covers them); the rest on account
            allocations, left = [], amount
            for inv_id, total in list(open_invoices)[: int(str(extra))]:
                if total <= left:
                    allocations.append((inv_id, str(total)))
                    left -= total
                    open_invoices.remove((inv_id, total))
            book.pay(
                contact, day(offset), str(amount), allocations, kind="CUSTOMER_RECEIPT" if sales else "VENDOR_PAYMENT"
            )
    tool = "get_aged_creditors" if supplier else "get_aged_debtors"
    for when in (day(as_at), TODAY):
        out = asyncio.run(call(book, tmp_path, tool, {"as_at": when.isoformat(), "top": 1}))
        assert out["reconciliation"]["reconciled"] is True, out["reconciliation"]  # type: ignore[index]
    mine = asyncio.run(call(book, tmp_path, tool, {"contact_id": contact, "top": 0}))
    balance = book.api.get(f"/contacts/{contact}").json()["balance"]
    assert D(mine["total"]) == D(balance)  # type: ignore[arg-type]
