"""Aged debtors and creditors end to end without a server: a fake Sage answers the lists the report
reads (open documents by status today, documents with their payments at a past date, payments,
allocations, unallocated artefacts, ledger accounts and entries), and the report is built as the
tools build it (fetch the open items, age them, reconcile, explain a difference)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from typing import Any

from sage_mcp.reports import aged
from sage_mcp.reports.fetch import Fetcher
from sage_mcp.sage.errors import SageNotFoundError

TODAY = dt.date(2026, 6, 30)
ACME = {"id": "c1", "displayed_as": "Acme Ltd (ACM001)", "$path": "/contacts/c1"}


class FakeSage:
    """Sage's lists, keyed by path; open documents are filtered by ``status_id`` as Sage does."""

    def __init__(self, lists: Mapping[str, list[dict[str, Any]] | dict[str, Any] | None]) -> None:
        self.lists = lists
        self.asked: list[str] = []

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        self.asked.append(path)
        found = self.lists.get(path)
        if found is None:
            raise SageNotFoundError(404, [], method="GET", path=path)
        if isinstance(found, dict):  # one record
            return found
        items = list(found)
        status = (params or {}).get("status_id")
        if status:
            items = [i for i in items if (i.get("status") or {}).get("id") == status]
        return {"$items": items, "$total": len(items), "$next": None}


def report(
    sage: FakeSage,
    side: aged.Side,
    as_at: dt.date = TODAY,
    *,
    contact_id: str | None = None,
    top: int | None = 10,
) -> dict[str, Any]:
    """The aged report as ``get_aged_debtors`` / ``get_aged_creditors`` build it, with today fixed."""

    async def run() -> dict[str, Any]:
        fetch = Fetcher(sage)
        data = await aged.fetch_open_items(
            fetch, side, as_at, TODAY, contact_id=contact_id, with_control=contact_id is None
        )
        out = aged.aged_report(side, data, as_at, aged.DEFAULT_BOUNDARIES, top=top, contact_id=contact_id)
        if "reconciliation" in out:
            await aged.explain_difference(fetch, side, out["reconciliation"], as_at)
            out["reconciliation"].pop("control_account_id", None)
        return out

    return asyncio.run(run())


def invoice(ident: str, number: str, status: str, date: str, due: str, outstanding: str, **more: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "invoice_number": number,
        "status": {"id": status},
        "date": date,
        "due_date": due,
        "outstanding_amount": outstanding,
        "contact": ACME,
        **more,
    }


def control(ident: str, debits: str, credits: str, **fields: Any) -> dict[str, Any]:
    return {"id": ident, "balance_details": {"debits": debits, "credits": credits}, **fields}


def test_todays_report_for_one_customer_sets_credit_notes_and_money_on_account_against_its_invoices() -> None:
    sage = FakeSage(
        {
            "/sales_invoices": [
                invoice("i1", "SI-1", "UNPAID", "2026-05-11", "2026-06-10", "120.00"),  # 20 days overdue
                invoice("i2", "SI-2", "PART_PAID", "2026-05-21", "2026-06-20", "80.00", total_amount="200.00"),
            ],
            "/sales_credit_notes": [
                {
                    "id": "n1",
                    "credit_note_number": "CN-1",
                    "status": {"id": "UNPAID"},
                    "date": "2026-06-25",
                    "outstanding_amount": "30.00",
                    "contact": ACME,
                },
            ],
            "/unallocated_artefacts": [
                # used up, listed first: it must not hide what follows
                {
                    "id": "u0",
                    "$path": "/unallocated_artefacts/u0",
                    "transaction_type": {"id": "CUSTOMER_RECEIPT"},
                    "date": "2026-06-01",
                    "total_amount": "50.00",
                    "outstanding_amount": "0.00",
                    "contact": ACME,
                },
                # Sage's own shape: no transaction type, only the path
                {
                    "id": "u1",
                    "displayed_as": "Payment on Account",
                    "$path": "/unallocated_artefacts/u1",
                    "date": "2026-06-28",
                    "total_amount": "25.00",
                    "outstanding_amount": "25.00",
                    "contact": ACME,
                },
                # the credit note again, untyped: known by its path and counted once, from its own list
                {
                    "id": "n1",
                    "$path": "/sales_credit_notes/n1",
                    "date": "2026-06-25",
                    "total_amount": "30.00",
                    "outstanding_amount": "30.00",
                    "contact": ACME,
                },
            ],
        }
    )
    out = report(sage, aged.DEBTORS, contact_id="c1")
    # 120.00 + 80.00 - 30.00 - 25.00 = 145.00, all 1 to 30 days overdue
    assert out["total"] == "145.00"
    assert out["overdue"] == "145.00"
    assert out["buckets"] == {"current": "0.00", "1-30": "145.00", "31-60": "0.00", "61-90": "0.00", "90+": "0.00"}
    assert out["on_account"] == "-25.00"
    assert out["items"] == [
        {"kind": "invoice", "id": "i1", "number": "SI-1", "date": "2026-05-11", "due_date": "2026-06-10",
         "days_overdue": 20, "amount": "120.00"},
        {"kind": "invoice", "id": "i2", "number": "SI-2", "date": "2026-05-21", "due_date": "2026-06-20",
         "days_overdue": 10, "amount": "80.00"},
        {"kind": "credit_note", "id": "n1", "number": "CN-1", "date": "2026-06-25", "due_date": "2026-06-25",
         "days_overdue": 5, "amount": "-30.00"},
        {"kind": "payment_on_account", "id": "u1", "number": "Payment on Account", "date": "2026-06-28",
         "due_date": "2026-06-28", "days_overdue": 2, "amount": "-25.00"},
    ]  # fmt: skip
    assert "more" not in out
    assert out["notes"] == ["payments on account from /unallocated_artefacts"]


def test_any_customer_or_sales_type_on_account_is_a_debtors_item_and_any_other_a_creditors_item() -> None:
    sage = FakeSage(
        {
            "/sales_invoices": [],
            "/sales_credit_notes": [],
            "/purchase_invoices": [],
            "/purchase_credit_notes": [],
            "/unallocated_artefacts": [
                # a customer type this code does not name: its prefix says whose it is
                {
                    "id": "u1",
                    "reference": "ADV-1",
                    "transaction_type": {"id": "CUSTOMER_ADVANCE"},
                    "date": "2026-06-10",
                    "outstanding_amount": "40.00",
                    "contact": ACME,
                },
                {
                    "id": "u2",
                    "reference": "PAY-9",
                    "transaction_type": {"id": "VENDOR_PAYMENT"},
                    "date": "2026-06-10",
                    "outstanding_amount": "15.00",
                    "contact": {"id": "s1", "displayed_as": "Paper Co"},
                },
            ],
            "/ledger_accounts": [],
        }
    )
    debtors = report(sage, aged.DEBTORS)
    assert [(r["name"], r["total"]) for r in debtors["rows"]] == [("Acme Ltd (ACM001)", "-40.00")]
    creditors = report(sage, aged.CREDITORS)
    assert [(r["name"], r["total"]) for r in creditors["rows"]] == [("Paper Co", "-15.00")]


def test_the_control_account_is_the_one_sage_marks_and_the_rows_name_each_customer() -> None:
    sage = FakeSage(
        {
            "/sales_invoices": [
                # the contact link carries only a name; 90.00 is not yet due, 55.00 is 20 days overdue
                {
                    **invoice("i1", "SI-1", "UNPAID", "2026-06-20", "2026-07-20", "90.00"),
                    "contact": {"id": "c2", "name": "Brick & Co"},
                },
                invoice("i2", "SI-2", "UNPAID", "2026-05-11", "2026-06-10", "55.00"),
            ],
            "/sales_credit_notes": [],
            "/unallocated_artefacts": [],
            "/ledger_accounts": [
                # looks like the debtors control by name and code, but Sage marks another one
                control("la-1100", "999.00", "0.00", nominal_code=1100, name="Debtors Control"),
                control("la-7", "145.00", "0.00", displayed_as="Sales Ledger Control", control_name="DEBTORS"),
            ],
        }
    )
    out = report(sage, aged.DEBTORS)
    assert out["rows"] == [
        {"contact_id": "c2", "name": "Brick & Co", "total": "90.00", "buckets": {"current": "90.00"},
         "oldest_days_overdue": 0},
        {"contact_id": "c1", "name": "Acme Ltd (ACM001)", "total": "55.00", "buckets": {"1-30": "55.00"},
         "oldest_days_overdue": 20},
    ]  # fmt: skip
    assert "more" not in out, "every contact is shown, so nothing is left over"
    assert out["reconciliation"] == {
        "control_account": "Sales Ledger Control",
        "control_balance": "145.00",
        "aged_total": "145.00",
        "difference": "0.00",
        "reconciled": True,
    }


def test_creditors_with_nothing_owed_and_a_settled_control_account_read_zero_not_minus_zero() -> None:
    sage = FakeSage(
        {
            "/purchase_invoices": [],
            "/purchase_credit_notes": [],
            "/unallocated_artefacts": [],
            # paid off: 50.00 in and 50.00 out; the account has only its code
            "/ledger_accounts": [control("la-2100", "50.00", "50.00", nominal_code=2100, control_name="CREDITORS")],
        }
    )
    out = report(sage, aged.CREDITORS)
    assert (out["total"], out["contacts"], out["rows"]) == ("0.00", 0, [])
    assert out["reconciliation"] == {
        "control_account": "2100",
        "control_balance": "0.00",
        "aged_total": "0.00",
        "difference": "0.00",
        "reconciled": True,
    }


def test_at_a_past_date_a_customer_owes_what_was_open_then() -> None:
    """As at 31 March 2026: SI-1 (220.00, due 3 March) less a 50.00 receipt on 10 March and 40.00
    allocated from a payment on account on 20 March = 130.00; CN-1 (20.00, 20 March) unused; a second
    payment on account of 15.00 (25 March) unused. 130.00 - 20.00 - 15.00 = 95.00."""
    sage = FakeSage(
        {
            "/sales_invoices": [
                {
                    "id": "i1",
                    "invoice_number": "SI-1",
                    "status": {"id": "PAID"},
                    "date": "2026-02-01",
                    "due_date": "2026-03-03",
                    "total_amount": "220.00",
                    "contact": ACME,
                    "payments_allocations": [
                        {"date": "2026-03-10", "amount": "50.00", "discount": ""},  # Sage's blank: no discount
                        {"date": "2026-03-20", "amount": "40.00"},
                        {"date": "2026-04-02", "amount": "130.00"},  # after the date
                    ],
                },
            ],
            "/sales_credit_notes": [
                {
                    "id": "n1",
                    "credit_note_number": "CN-1",
                    "status": {"id": "UNPAID"},
                    "date": "2026-03-20",
                    "total_amount": "20.00",
                    "contact": ACME,
                },
            ],
            "/contact_payments": [
                # paid SI-1, a document of the list: not money on account
                {
                    "id": "r1",
                    "reference": "REC-1",
                    "transaction_type": {"id": "CUSTOMER_RECEIPT"},
                    "date": "2026-03-10",
                    "contact": ACME,
                    "allocated_artefacts": [
                        {"artefact": {"id": "i1", "$path": "/sales_invoices/i1"}, "amount": "50.00"}
                    ],
                },
                # 40.00 on account, all allocated to SI-1 on 20 March
                {
                    "id": "r2",
                    "transaction_type": {"id": "CUSTOMER_RECEIPT"},
                    "date": "2026-03-15",
                    "contact": ACME,
                    "payment_on_account": {"id": "poa-1", "date": "2026-03-15", "total_amount": "40.00"},
                },
                # 15.00 on account, without a reference: shown by Sage's name for it
                {
                    "id": "r3",
                    "transaction_type": {"id": "CUSTOMER_RECEIPT"},
                    "date": "2026-03-25",
                    "contact": ACME,
                    "payment_on_account": {
                        "id": "poa-2",
                        "displayed_as": "Payment on Account",
                        "date": "2026-03-25",
                        "total_amount": "15.00",
                    },
                },
            ],
            "/contact_allocations": [
                {
                    "date": "2026-03-20",
                    "allocated_artefacts": [
                        {"artefact": {"id": "poa-1", "$path": "/unallocated_artefacts/poa-1"}, "amount": "40.00"},
                        {"artefact": {"id": "i1", "$path": "/sales_invoices/i1"}, "amount": "40.00"},
                    ],
                },
            ],
        }
    )
    out = report(sage, aged.DEBTORS, dt.date(2026, 3, 31), contact_id="c1")
    assert (out["total"], out["overdue"], out["on_account"]) == ("95.00", "95.00", "-15.00")
    assert out["items"] == [
        {"kind": "invoice", "id": "i1", "number": "SI-1", "date": "2026-02-01", "due_date": "2026-03-03",
         "days_overdue": 28, "amount": "130.00"},
        {"kind": "credit_note", "id": "n1", "number": "CN-1", "date": "2026-03-20", "due_date": "2026-03-20",
         "days_overdue": 11, "amount": "-20.00"},
        {"kind": "payment_on_account", "id": "poa-2", "number": "Payment on Account", "date": "2026-03-25",
         "due_date": "2026-03-25", "days_overdue": 6, "amount": "-15.00"},
    ]  # fmt: skip
    assert out["notes"] == ["payments on account from /contact_payments and /contact_allocations"]


def test_a_difference_names_the_entries_without_a_contact_each_by_date_and_what_it_says() -> None:
    """Aged 55.00 against a control balance of 175.00: 120.00 posted with no customer explains it."""
    sage = FakeSage(
        {
            "/sales_invoices": [invoice("i1", "SI-1", "UNPAID", "2026-05-11", "2026-06-10", "55.00")],
            "/sales_credit_notes": [],
            "/unallocated_artefacts": [],
            "/ledger_accounts": [control("la-1100", "175.00", "0.00", nominal_code=1100, control_name="DEBTORS")],
            "/ledger_entries": [
                {"date": "2026-05-11", "debit": "55.00", "credit": "0.00", "contact": ACME},
                {"date": "2026-01-01", "debit": "0.00", "credit": "0.00"},  # nothing moved: not a cause
                {"date": "2026-01-01", "debit": "100.00", "credit": "0.00", "description": "Opening balance"},
                {"date": "2026-02-01", "debit": "20.00", "credit": "0.00"},  # no description, no type
            ],
        }
    )
    recon = report(sage, aged.DEBTORS)["reconciliation"]
    assert (recon["control_balance"], recon["aged_total"], recon["difference"]) == ("175.00", "55.00", "120.00")
    assert recon["causes"] == [
        {
            "cause": "posted to the control account without a customer or supplier (journals, opening balances)",
            "amount": "120.00",
            "examples": ["2026-01-01 Opening balance: 100.00", "2026-02-01 : 20.00"],
        }
    ]


def test_money_on_account_listed_without_a_type_goes_to_the_side_its_contact_is_on() -> None:
    """Whole-book reports today: Sage lists a customer's and a supplier's payment on account with no
    transaction type. Each contact is looked up once, and each payment counts on its own side only:
    debtors -40.00 (Acme, a customer), creditors -15.00 (Paper Co, a supplier), not both on both."""
    paper = {"id": "s1", "displayed_as": "Paper Co", "$path": "/contacts/s1"}
    untyped = [
        {"id": "u1", "displayed_as": "Payment on Account", "$path": "/unallocated_artefacts/u1",
         "date": "2026-06-10", "total_amount": "40.00", "outstanding_amount": "40.00", "contact": ACME},
        {"id": "u2", "displayed_as": "Payment on Account", "$path": "/unallocated_artefacts/u2",
         "date": "2026-06-12", "total_amount": "15.00", "outstanding_amount": "15.00", "contact": paper},
        # an open credit note, also untyped: counted from its own list, so its contact needs no look-up
        {"id": "n9", "$path": "/sales_credit_notes/n9", "date": "2026-06-12", "outstanding_amount": "5.00",
         "contact": {"id": "x1", "displayed_as": "Other Ltd"}},
    ]  # fmt: skip
    sage = FakeSage(
        {
            "/sales_invoices": [],
            "/sales_credit_notes": [],
            "/purchase_invoices": [],
            "/purchase_credit_notes": [],
            "/unallocated_artefacts": untyped,
            "/ledger_accounts": [],
            "/contacts/c1": {"id": "c1", "contact_types": [{"id": "CUSTOMER"}]},
            "/contacts/s1": {"id": "s1", "contact_types": [{"id": "VENDOR"}]},
        }
    )
    debtors = report(sage, aged.DEBTORS)
    assert [(r["name"], r["total"]) for r in debtors["rows"]] == [("Acme Ltd (ACM001)", "-40.00")]
    assert debtors["total"] == "-40.00"
    creditors = report(sage, aged.CREDITORS)
    assert [(r["name"], r["total"]) for r in creditors["rows"]] == [("Paper Co", "-15.00")]
    assert creditors["total"] == "-15.00"
    # one look-up per contact of an untyped payment on account per report, no more
    assert sorted(p for p in sage.asked if p.startswith("/contacts/")) == [
        "/contacts/c1", "/contacts/c1", "/contacts/s1", "/contacts/s1"
    ]  # fmt: skip


def test_a_contact_who_is_customer_and_supplier_keeps_untyped_money_on_account_on_both_sides() -> None:
    """Sage cannot say whose side an untyped payment on account of a customer-and-supplier is on, so it
    is shown on both rather than lost from either."""
    both = {"id": "b1", "displayed_as": "Both Ways Ltd", "$path": "/contacts/b1"}
    sage = FakeSage(
        {
            "/sales_invoices": [],
            "/sales_credit_notes": [],
            "/purchase_invoices": [],
            "/purchase_credit_notes": [],
            "/unallocated_artefacts": [
                {"id": "u1", "$path": "/unallocated_artefacts/u1", "date": "2026-06-10",
                 "outstanding_amount": "9.99", "contact": both},
            ],
            "/ledger_accounts": [],
            "/contacts/b1": {"id": "b1", "contact_types": [{"id": "CUSTOMER"}, {"id": "VENDOR"}]},
        }
    )  # fmt: skip
    assert report(sage, aged.DEBTORS)["total"] == "-9.99"
    assert report(sage, aged.CREDITORS)["total"] == "-9.99"
