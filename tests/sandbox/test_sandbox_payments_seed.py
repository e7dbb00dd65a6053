"""The seeded books: invoices paid by real contact payments, purchases, credit notes, quotes and
estimates; everything balances (read-only, against the shared sandbox)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import httpx2

from sage_mcp.sandbox import LEAD_BUSINESS_ID, SANDBOX_USER_ID, SECOND_BUSINESS_ID, SandboxServer
from sage_mcp.sandbox.ledger import CREDITORS_CONTROL, DEBTORS_CONTROL, account_by_nominal, trial_balance

D = Decimal


def every(api: httpx2.Client, path: str, headers: dict[str, str] | None = None, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        body = api.get(
            path, headers=headers, params={"attributes": "all", "items_per_page": 200, "page": page, **params}
        ).json()
        found += body["$items"]
        if body["$next"] is None:
            return found
        page += 1


def test_seeded_invoices_are_paid_by_contact_payments(api: httpx2.Client) -> None:
    payments = {p["id"]: p for p in every(api, "/contact_payments")}
    receipts = [p for p in payments.values() if p["transaction_type"]["id"] == "CUSTOMER_RECEIPT"]
    assert len(receipts) > 150
    current = {p["bank_account"]["id"] for p in receipts}
    assert len(current) == 1  # everything goes to the current account
    invoices = every(api, "/sales_invoices", show_payments_allocations="true")
    settled = [i for i in invoices if i["status"]["id"] in ("PAID", "PART_PAID")]
    assert len(settled) > 150
    for invoice in settled:
        allocations = invoice["payments_allocations"]
        assert allocations, invoice["displayed_as"]
        assert sum(D(a["amount"]) + D(a["discount"]) for a in allocations) == D(invoice["total_paid"])
        for allocation in allocations:
            source = allocation["contact_payment"] or allocation["contact_allocation"]
            assert source is not None
            if allocation["contact_payment"]:
                paid_by = payments[source["id"]]
                assert paid_by["contact"]["id"] == invoice["contact"]["id"]
                assert invoice["id"] in [a["artefact"]["id"] for a in paid_by["allocated_artefacts"]]
    for invoice in invoices:
        if invoice["status"]["id"] in ("UNPAID", "DRAFT", "VOID"):
            assert invoice["payments_allocations"] == [] and invoice["total_paid"] == "0.0"
    on_account = [p["payment_on_account"] for p in receipts if p["payment_on_account"]]
    assert sorted(poa["total_amount"] for poa in on_account) == ["50.0", "50.0", "600.0"]  # two overpaid, a deposit
    assert sorted(poa["outstanding_amount"] for poa in on_account) == ["0.0", "50.0", "600.0"]  # one was refunded


def test_seeded_purchases(api: httpx2.Client) -> None:
    invoices = every(api, "/purchase_invoices")
    assert len(invoices) == 45  # 40 over the year and one open in each aged bucket
    statuses = Counter(i["status"]["id"] for i in invoices)
    assert statuses["DRAFT"] == 1 and statuses["PAID"] > 20 and statuses["UNPAID"] >= 4 and statuses["PART_PAID"] >= 1
    greystone = api.get("/contacts", params={"search": "Greystone", "attributes": "balance"}).json()["$items"][0]
    theirs = every(api, "/purchase_invoices", contact_id=greystone["id"])
    assert len(theirs) == 4 and {i["status"]["id"] for i in theirs} >= {"UNPAID"}
    assert D(greystone["balance"]) == sum((D(i["outstanding_amount"]) for i in theirs), D(0)) > 0
    assert all(i["vendor_reference"] and i["displayed_as"] == i["vendor_reference"] for i in invoices)
    supplier_payments = every(api, "/contact_payments", transaction_type_id="VENDOR_PAYMENT")
    # one invoice was settled by a credit note; one payment is a deposit on account
    assert len(supplier_payments) == statuses["PAID"] + statuses["PART_PAID"] - 1 + 1
    notes = every(api, "/purchase_credit_notes")
    assert sorted(n["status"]["id"] for n in notes) == ["PAID", "UNPAID"]
    assert len(every(api, "/contact_allocations", transaction_type_id="VENDOR_ALLOCATION")) == 1
    fern = {"X-Business": SECOND_BUSINESS_ID}
    assert len(every(api, "/purchase_invoices", headers=fern)) == 5


def test_seeded_credit_notes_quotes_and_estimates(api: httpx2.Client) -> None:
    notes = every(api, "/sales_credit_notes")
    assert len(notes) == 6
    assert Counter(n["status"]["id"] for n in notes) == {"PAID": 3, "UNPAID": 2, "VOID": 1}
    assert len(every(api, "/contact_allocations", transaction_type_id="CUSTOMER_ALLOCATION")) == 2
    assert len(every(api, "/contact_payments", transaction_type_id="CUSTOMER_REFUND")) == 2
    quotes, estimates = every(api, "/sales_quotes"), every(api, "/sales_estimates")
    assert Counter(q["status"]["id"] for q in quotes) == {
        "INVOICED": 3,
        "PENDING": 3,
        "ACCEPTED": 1,
        "DECLINED": 1,
        "DRAFT": 1,
    }
    assert Counter(e["status"]["id"] for e in estimates) == {"INVOICED": 2, "PENDING": 2, "ACCEPTED": 1, "DECLINED": 1}
    for quote in quotes + estimates:
        if quote["status"]["id"] == "INVOICED":
            invoice = api.get(quote["invoice"]["$path"]).json()
            assert invoice["original_quote_estimate"]["id"] == quote["id"]
            assert invoice["total_amount"] == quote["total_amount"]
        else:
            assert quote["invoice"] is None


def test_seeded_books_balance(shared_server: SandboxServer, api: httpx2.Client) -> None:
    for business_id in (LEAD_BUSINESS_ID, SECOND_BUSINESS_ID):
        ctx = shared_server.sandbox.context(business_id, SANDBOX_USER_ID)
        rows = ctx.store.execute(
            "SELECT date, debit, credit FROM ledger_entries WHERE business_id = ?", (business_id,)
        ).fetchall()
        per_day: dict[str, Decimal] = {}
        for day, debit, credit in rows:
            per_day[day] = per_day.get(day, D(0)) + D(debit) - D(credit)
        assert not {day: value for day, value in per_day.items() if value}
        balances = trial_balance(ctx)
        contacts = every(api, "/contacts", headers={"X-Business": business_id})
        owed = {"CUSTOMER": D(0), "VENDOR": D(0)}
        for contact in contacts:
            owed[contact["contact_types"][0]["id"]] += D(contact["balance"])
        assert balances[account_by_nominal(ctx, DEBTORS_CONTROL)["id"]] == owed["CUSTOMER"]
        assert -balances[account_by_nominal(ctx, CREDITORS_CONTROL)["id"]] == owed["VENDOR"]
