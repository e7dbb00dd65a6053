"""The open-item logic without a server: Sage's shapes as the docs describe them (amounts as numbers or
one-decimal strings, links, control names), bucket edges, schemes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from sage_mcp.reports import aged, vat

D = Decimal
AS_AT = dt.date(2026, 6, 30)


def test_bucket_edges() -> None:
    edges = [30, 60, 90]
    assert [aged.bucket_index(d, edges) for d in (-5, 0, 1, 30, 31, 60, 61, 90, 91, 400)] == [
        0,
        0,
        1,
        1,
        2,
        2,
        3,
        3,
        4,
        4,
    ]
    assert aged.bucket_labels(edges) == ["current", "1-30", "31-60", "61-90", "90+"]
    with pytest.raises(ValueError):
        aged.check_boundaries([30, 30])
    with pytest.raises(ValueError):
        aged.check_boundaries([0, 10])


def test_documents_open_at_a_past_date_take_only_earlier_allocations() -> None:
    raws = [
        {  # 110.0 as Sage writes it; one receipt before, one after the date, one with a discount
            "id": "a",
            "invoice_number": "SI-1",
            "date": "2026-05-01",
            "due_date": "2026-05-31",
            "status": {"id": "PAID"},
            "total_amount": "110.0",
            "contact": {"id": "c1", "displayed_as": "Acme (ACM001)"},
            "payments_allocations": [
                {"date": "2026-06-10", "amount": 50, "discount": "0.0"},
                {"date": "2026-06-15", "amount": "9.0", "discount": "1.0"},
                {"date": "2026-07-02", "amount": "50.0", "discount": "0.0"},
            ],
        },
        {"id": "v", "date": "2026-05-01", "status": {"id": "VOID"}, "total_amount": 99},
        {"id": "d", "date": "2026-05-01", "status": {"id": "DRAFT"}, "total_amount": 99},
        {"id": "later", "date": "2026-07-01", "status": {"id": "UNPAID"}, "total_amount": 99},
    ]
    items = aged.documents_open_at(raws, "invoice", AS_AT)
    assert [(i.id, i.amount, i.days_overdue(AS_AT), i.contact_name) for i in items] == [
        ("a", D("50.0"), 30, "Acme (ACM001)")
    ]


def test_payment_on_account_at_a_date_less_what_used_it_by_then() -> None:
    payments = [
        {
            "transaction_type": {"id": "CUSTOMER_RECEIPT"},
            "date": "2026-06-01",
            "contact": {"id": "c1", "displayed_as": "Acme"},
            "payment_on_account": {
                "id": "poa",
                "date": "2026-06-01",
                "total_amount": "100.00",
                "contact": {"id": "c1"},
            },
        },
        {  # a refund of part of it, after the date
            "transaction_type": {"id": "CUSTOMER_REFUND"},
            "date": "2026-07-05",
            "allocated_artefacts": [{"artefact": {"id": "poa"}, "amount": "10.00"}],
        },
        {  # a supplier's payment on account is not a debtor's
            "transaction_type": {"id": "VENDOR_PAYMENT"},
            "date": "2026-06-01",
            "payment_on_account": {"id": "other", "date": "2026-06-01", "total_amount": "5.00"},
        },
    ]
    allocations = [{"date": "2026-06-20", "allocated_artefacts": [{"artefact": {"id": "poa"}, "amount": "-30.00"}]}]
    [item] = aged.payments_on_account_at(payments, allocations, aged.DEBTORS, AS_AT)
    assert (item.kind, item.amount, item.contact_id) == ("payment_on_account", D("-70.00"), "c1")
    [later] = aged.payments_on_account_at(payments, allocations, aged.DEBTORS, dt.date(2026, 7, 31))
    assert later.amount == D("-60.00")


def test_unallocated_artefacts_split_by_side_and_credit_notes_left_to_their_lists() -> None:
    raws = [
        {"id": "1", "transaction_type": {"id": "CUSTOMER_RECEIPT"}, "date": "2026-06-01", "outstanding_amount": "40.0"},
        {"id": "2", "transaction_type": {"id": "VENDOR_PAYMENT"}, "date": "2026-06-01", "outstanding_amount": 7},
        {"id": "3", "transaction_type": {"id": "SALES_CREDIT_NOTE"}, "date": "2026-06-01", "outstanding_amount": 9},
    ]
    assert [(i.id, i.amount) for i in aged.unallocated_now(raws, aged.DEBTORS, AS_AT)] == [("1", D("-40.0"))]
    assert [(i.id, i.amount) for i in aged.unallocated_now(raws, aged.CREDITORS, AS_AT)] == [("2", D("-7"))]


def test_control_accounts_by_control_name_then_name_then_code() -> None:
    accounts = [
        {"id": "x", "nominal_code": 1100, "name": "Something else"},
        {"id": "y", "nominal_code": 1105, "name": "Debtors Control"},
        {"id": "z", "nominal_code": 2200, "name": "Output", "control_name": "SALES_TAX"},
    ]
    assert aged.find_control(accounts, "SALES_TAX")["id"] == "z"  # type: ignore[index]
    assert aged.find_control(accounts, "DEBTORS")["id"] == "y"  # type: ignore[index]
    assert aged.find_control(accounts[:1], "DEBTORS")["id"] == "x"  # type: ignore[index]
    assert aged.find_control(accounts[:1], "CREDITORS") is None


@pytest.mark.parametrize(
    ("scheme", "expected"),
    [
        ({"id": "STANDARD"}, "standard"),
        ({"id": "CASH", "displayed_as": "Cash Accounting"}, "cash"),
        ({"id": "FLAT_RATE_INVOICE"}, "flat_rate_invoice"),
        ({"id": "FLAT_RATE_CASH"}, "flat_rate_cash"),
        ({"id": "NOT_REGISTERED"}, None),
    ],
)
def test_scheme_from_financial_settings(scheme: dict[str, str], expected: str | None) -> None:
    assert vat.scheme_of({"tax_scheme": scheme}) == expected


def test_a_payment_dated_before_the_invoice_it_pays_is_on_account_until_then() -> None:
    payments = [
        {
            "id": "p",
            "transaction_type": {"id": "CUSTOMER_RECEIPT"},
            "date": "2026-06-01",
            "contact": {"id": "c1"},
            "allocated_artefacts": [
                {"artefact": {"id": "known"}, "amount": "10.00"},
                {"artefact": {"id": "later-invoice"}, "amount": "31.05"},
            ],
        }
    ]
    [item] = aged.paid_ahead(payments, {"known"}, aged.DEBTORS, AS_AT)
    assert (item.kind, item.amount, item.contact_id) == ("payment_on_account", D("-31.05"), "c1")
    assert aged.paid_ahead(payments, {"known", "later-invoice"}, aged.DEBTORS, AS_AT) == []
