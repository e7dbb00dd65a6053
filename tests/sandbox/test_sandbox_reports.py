"""What reports read from the sandbox: ``GET /trial_balance`` (Sage's Reporting API), payments and
credits on account (``/unallocated_artefacts``), voids that leave their original period, Sage's own ids."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import httpx2
import pytest
from mcp import Client
from sandbox_support import TODAY, error_of, items, sources

from sage_mcp.sandbox import LEAD_BUSINESS_ID, SECOND_BUSINESS_ID, THIRD_BUSINESS_ID, Sandbox, SandboxConfig

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


def trial_balance(api: httpx2.Client, from_date: str, to_date: str, **kw: Any) -> dict[str, Any]:
    response = api.get("/trial_balance", params={"from_date": from_date, "to_date": to_date}, **kw)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def by_code(tb: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {row["nominal_code"]: row for row in tb["ledger_accounts"]}


def net(side: dict[str, str]) -> Decimal:
    return D(side["debit"]) - D(side["credit"])


def new_account(wapi: httpx2.Client, code: int, name: str, type_id: str) -> str:
    body = {
        "ledger_account": {
            "ledger_account_type_id": type_id,
            "included_in_chart": True,
            "name": name,
            "display_name": name,
            "nominal_code": code,
            "visible_in_journals": True,
        }
    }
    created = wapi.post("/ledger_accounts", json=body)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def post_journal(wapi: httpx2.Client, date: str, debit_id: str, credit_id: str, amount: str) -> dict[str, Any]:
    lines = [
        {"ledger_account_id": debit_id, "debit": amount, "credit": "0"},
        {"ledger_account_id": credit_id, "debit": "0", "credit": amount},
    ]
    created = wapi.post("/journals", json={"journal": {"date": date, "reference": "TB", "journal_lines": lines}})
    assert created.status_code == 201, created.text
    result: dict[str, Any] = created.json()
    return result


# -- trial balance ---------------------------------------------------------------------------------------------


def test_trial_balance_of_a_hand_worked_book(wapi: httpx2.Client) -> None:
    """Two new accounts only these journals touch: every figure below is worked out by hand."""
    fees = new_account(wapi, 7011, "Hand Worked Fees", "OVERHEADS")
    deposit = new_account(wapi, 1011, "Hand Worked Deposit", "CURRENT_ASSETS")
    unused = new_account(wapi, 1012, "Never Posted", "CURRENT_ASSETS")
    post_journal(wapi, "2031-01-15", fees, deposit, "100.00")  # before the period: opening
    post_journal(wapi, "2031-02-10", fees, deposit, "50.25")
    post_journal(wapi, "2031-02-20", deposit, fees, "20.00")
    post_journal(wapi, "2031-03-05", fees, deposit, "7.00")  # after the period: not in it

    tb = trial_balance(wapi, "2031-02-01", "2031-02-28")
    assert tb["from_date"] == "2031-02-01" and tb["to_date"] == "2031-02-28"
    rows = by_code(tb)
    assert rows[7011] == {
        "id": fees,
        "displayed_as": "Hand Worked Fees (7011)",
        "$path": f"/ledger_accounts/{fees}",
        "nominal_code": 7011,
        "opening_balance": {"debit": "100.00", "credit": "0"},
        "debit": "50.25",
        "credit": "20.00",
        "closing_balance": {"debit": "130.25", "credit": "0"},
    }
    assert rows[1011]["opening_balance"] == {"debit": "0", "credit": "100.00"}
    assert (rows[1011]["debit"], rows[1011]["credit"]) == ("20.00", "50.25")
    assert rows[1011]["closing_balance"] == {"debit": "0", "credit": "130.25"}
    assert unused not in {row["id"] for row in tb["ledger_accounts"]}
    codes = [row["nominal_code"] for row in tb["ledger_accounts"]]
    assert codes == sorted(codes)
    # every amount is a decimal string; the columns add up to the totals, and debits equal credits
    totals = tb["totals"]
    for row in tb["ledger_accounts"]:
        for value in (row["debit"], row["credit"], *row["opening_balance"].values(), *row["closing_balance"].values()):
            assert isinstance(value, str) and D(value) >= 0
        assert net(row["closing_balance"]) == net(row["opening_balance"]) + D(row["debit"]) - D(row["credit"])
    for column in ("debit", "credit"):
        assert D(totals[column]) == sum((D(r[column]) for r in tb["ledger_accounts"]), D(0))
        for balance in ("opening_balance", "closing_balance"):
            assert D(totals[balance][column]) == sum((D(r[balance][column]) for r in tb["ledger_accounts"]), D(0))
    assert totals["debit"] == totals["credit"]
    assert totals["opening_balance"]["debit"] == totals["opening_balance"]["credit"]
    assert totals["closing_balance"]["debit"] == totals["closing_balance"]["credit"]

    # the dates filter: March starts where February ended and holds only the 7.00
    march = by_code(trial_balance(wapi, "2031-03-01", "2031-03-31"))
    assert march[7011]["opening_balance"] == {"debit": "130.25", "credit": "0"}
    assert (march[7011]["debit"], march[7011]["credit"]) == ("7.00", "0")
    assert march[7011]["closing_balance"] == {"debit": "137.25", "credit": "0"}
    april = by_code(trial_balance(wapi, "2031-04-01", "2031-04-30"))
    assert (april[7011]["debit"], april[7011]["credit"]) == ("0", "0")  # kept: it has a balance
    # date-times are read as their date, as Sage's own examples pass plain dates
    same = trial_balance(wapi, "2031-02-01T00:00:00Z", "2031-02-28T23:59:59Z")
    assert same["ledger_accounts"] == tb["ledger_accounts"]


def test_trial_balance_matches_ledger_balance_details(wapi: httpx2.Client) -> None:
    """The report owners' second path: /ledger_accounts?show_balance_details gives the same figures."""
    start, end = "2025-04-01", TODAY.isoformat()
    tb = trial_balance(wapi, start, end)
    assert tb["totals"]["debit"] == tb["totals"]["credit"] and D(tb["totals"]["debit"]) > 0
    period = {
        a["id"]: a["balance_details"]
        for a in every(
            wapi,
            "/ledger_accounts",
            show_balance_details="true",
            from_date=start,
            to_date=end,
            exclude_deleted_entries="true",
        )
    }
    to_date = {
        a["id"]: a["balance_details"]
        for a in every(wapi, "/ledger_accounts", show_balance_details="true", from_date="1900-01-01", to_date=end)
    }
    listed = {row["id"] for row in tb["ledger_accounts"]}
    for row in tb["ledger_accounts"]:
        details = period[row["id"]]
        assert D(row["debit"]) == D(details["debits"]) and D(row["credit"]) == D(details["credits"])
        closing = to_date[row["id"]]
        sign = 1 if closing["credit_or_debit"] == "debit" else -1
        assert net(row["closing_balance"]) == sign * D(closing["balance"])
    for account_id, closing in to_date.items():  # accounts left out have nothing to show
        if account_id not in listed:
            assert D(closing["balance"]) == 0 and D(period[account_id]["debits"]) == 0


def test_trial_balance_refusals_and_businesses(api: httpx2.Client) -> None:
    assert sources(api.get("/trial_balance")) == {"from_date", "to_date"}
    assert sources(api.get("/trial_balance", params={"from_date": "2025-01-01"})) == {"to_date"}
    backwards = api.get("/trial_balance", params={"from_date": "2025-02-01", "to_date": "2025-01-31"})
    assert sources(backwards) == {"to_date"} and "on or after" in error_of(backwards)["$message"]
    assert sources(api.get("/trial_balance", params={"from_date": "01/02/2025", "to_date": "2025-03-01"})) == {
        "from_date"
    }
    assert api.put("/trial_balance", json={}).status_code == 405
    assert api.get("/trial_balance/x").status_code == 404
    # business-scoped like every other endpoint: Fern Studio has its own, balanced, trial balance
    window = {"from_date": "2024-01-01", "to_date": TODAY.isoformat()}
    lead = api.get("/trial_balance", params=window).json()
    fern = api.get("/trial_balance", params=window, headers={"X-Business": SECOND_BUSINESS_ID})
    assert fern.status_code == 200 and fern.headers["x-business"] == SECOND_BUSINESS_ID
    fern_rows = fern.json()["ledger_accounts"]
    assert fern_rows and not {r["id"] for r in fern_rows} & {r["id"] for r in lead["ledger_accounts"]}
    assert fern.json()["totals"]["debit"] == fern.json()["totals"]["credit"]


# -- voids leave their original period ----------------------------------------------------------------------------


def test_void_leaves_the_original_period(wapi: httpx2.Client) -> None:
    customer = items(wapi, "/contacts", contact_type_id="CUSTOMER")[0]
    sales = {a["nominal_code"]: a["id"] for a in items(wapi, "/ledger_accounts")}[4000]
    window = ("2025-05-01", "2025-05-31")
    before = trial_balance(wapi, *window)
    line = {
        "description": "Voided later",
        "ledger_account_id": sales,
        "quantity": "1",
        "unit_price": "1000.00",
        "tax_rate_id": "GB_STANDARD",
    }
    body = {"contact_id": customer["id"], "date": "2025-05-14", "invoice_lines": [line]}
    invoice = wapi.post("/sales_invoices", json={"sales_invoice": body}).json()
    during = by_code(trial_balance(wapi, *window))
    assert D(during[4000]["credit"]) - D(by_code(before)[4000]["credit"]) == D("1000.00")
    assert D(during[2200]["credit"]) - D(by_code(before)[2200]["credit"]) == D("200.00")
    voided = wapi.delete(invoice["$path"], params={"void_reason": "Raised in error"})
    assert voided.status_code == 200 and voided.json()["status"]["id"] == "VOID"
    # May's trial balance (so its P&L and VAT) is what it was before the invoice existed
    assert trial_balance(wapi, *window) == before
    entries = every(wapi, "/ledger_entries", transaction_id=invoice["transaction"]["id"])
    assert len(entries) == 6 and {e["date"] for e in entries} == {"2025-05-14"}
    # counting the void's entries too, every account's movement on that day is what it is without them
    day = {"show_balance_details": "true", "from_date": "2025-05-14", "to_date": "2025-05-14"}
    counted = {a["id"]: a["balance_details"] for a in every(wapi, "/ledger_accounts", **day)}
    left_out = {
        a["id"]: a["balance_details"] for a in every(wapi, "/ledger_accounts", exclude_deleted_entries="true", **day)
    }
    assert D(counted[sales]["credits"]) - D(left_out[sales]["credits"]) == D("1000.00")  # both halves are there
    for account_id, details in counted.items():
        moved = D(details["debits"]) - D(details["credits"])
        assert moved == D(left_out[account_id]["debits"]) - D(left_out[account_id]["credits"])


# -- payments and credits on account ----------------------------------------------------------------------------


def test_unallocated_artefacts_list_money_on_account(api: httpx2.Client) -> None:
    found = every(api, "/unallocated_artefacts")
    kinds = {a["transaction_type"]["id"] for a in found}
    assert kinds >= {"CUSTOMER_RECEIPT", "SALES_CREDIT_NOTE", "PURCHASE_CREDIT_NOTE"}
    for artefact in found:
        assert D(artefact["outstanding_amount"]) > 0
        assert D(artefact["outstanding_amount"]) <= D(artefact["total_amount"])
        assert artefact["contact"]["id"] and artefact["date"] <= TODAY.isoformat()
    # exactly the open credit notes and the unused payments on account, nothing else
    notes = {
        n["id"]: n
        for path in ("/sales_credit_notes", "/purchase_credit_notes")
        for n in every(api, path, status_id="UNPAID,PART_PAID")
    }
    credit_notes = {a["id"]: a for a in found if a["transaction_type"]["id"].endswith("CREDIT_NOTE")}
    assert set(credit_notes) == set(notes)
    for note_id, artefact in credit_notes.items():
        assert artefact["$path"] == notes[note_id]["$path"]
        assert artefact["outstanding_amount"] == notes[note_id]["outstanding_amount"]
    payments = every(api, "/contact_payments")
    unused = {
        p["payment_on_account"]["id"]: p["payment_on_account"]
        for p in payments
        if p["payment_on_account"] and D(p["payment_on_account"]["outstanding_amount"]) > 0
    }
    on_account = {a["id"]: a for a in found if a["id"] not in credit_notes}
    assert set(on_account) == set(unused)
    for poa_id, artefact in on_account.items():
        assert artefact["$path"] == f"/unallocated_artefacts/{poa_id}"
        assert artefact["outstanding_amount"] == unused[poa_id]["outstanding_amount"]
    # newest first
    dates = [a["date"] for a in found]
    assert dates == sorted(dates, reverse=True)


def test_unallocated_artefacts_filters_paging_and_get(api: httpx2.Client) -> None:
    found = every(api, "/unallocated_artefacts")
    slim = api.get("/unallocated_artefacts").json()
    assert slim["$total"] == len(found) and set(slim["$items"][0]) == {"id", "displayed_as", "$path"}
    first = api.get("/unallocated_artefacts", params={"items_per_page": 1}).json()
    assert first["$total"] == len(found) and len(first["$items"]) == 1 and first["$next"]
    one = found[0]
    theirs = every(api, "/unallocated_artefacts", contact_id=one["contact"]["id"])
    assert theirs and all(a["contact"]["id"] == one["contact"]["id"] for a in theirs)
    assert one["id"] in {a["id"] for a in theirs}
    searched = every(api, "/unallocated_artefacts", search=one["contact_name"].upper()[:6])
    assert one["id"] in {a["id"] for a in searched}
    assert every(api, "/unallocated_artefacts", search="no such contact anywhere") == []
    got = api.get(f"/unallocated_artefacts/{one['id']}")
    assert got.status_code == 200 and got.json()["outstanding_amount"] == one["outstanding_amount"]
    assert api.get("/unallocated_artefacts/" + "0" * 32).status_code == 404
    assert api.post("/unallocated_artefacts", json={}).status_code == 405


def test_unallocated_artefacts_follow_payments(wapi: httpx2.Client) -> None:
    """An overpayment appears as money on account; allocating it to an invoice uses it up."""
    invoice = items(wapi, "/sales_invoices", status_id="UNPAID")[0]
    bank = items(wapi, "/bank_accounts", bank_account_type_id="CHECKING")[0]["id"]
    outstanding = D(invoice["outstanding_amount"])
    receipt = {
        "transaction_type_id": "CUSTOMER_RECEIPT",
        "contact_id": invoice["contact"]["id"],
        "bank_account_id": bank,
        "date": TODAY.isoformat(),
        "total_amount": str(outstanding + D("75.50")),
        "allocated_artefacts": [{"artefact_id": invoice["id"], "amount": str(outstanding)}],
    }
    payment = wapi.post("/contact_payments", json={"contact_payment": receipt})
    assert payment.status_code == 201, payment.text
    poa = payment.json()["payment_on_account"]
    listed = wapi.get(f"/unallocated_artefacts/{poa['id']}").json()
    assert listed["outstanding_amount"] == "75.5" and listed["transaction_type"]["id"] == "CUSTOMER_RECEIPT"
    assert listed["contact"]["id"] == invoice["contact"]["id"] and listed["date"] == TODAY.isoformat()
    other = items(wapi, "/sales_invoices", status_id="UNPAID", contact_id=invoice["contact"]["id"])
    target = other[0] if other else None
    if target is None:  # give the customer something to pay
        line = dict(invoice["invoice_lines"][0])
        body = {
            "contact_id": invoice["contact"]["id"],
            "date": TODAY.isoformat(),
            "invoice_lines": [
                {
                    "description": "More work",
                    "ledger_account_id": line["ledger_account"]["id"],
                    "quantity": "1",
                    "unit_price": "200.00",
                    "tax_rate_id": "GB_STANDARD",
                }
            ],
        }
        target = wapi.post("/sales_invoices", json={"sales_invoice": body}).json()
    allocation = {
        "transaction_type_id": "CUSTOMER_ALLOCATION",
        "contact_id": invoice["contact"]["id"],
        "date": TODAY.isoformat(),
        "allocated_artefacts": [
            {"artefact_id": target["id"], "amount": "75.50"},
            {"artefact_id": poa["id"], "amount": "-75.50"},
        ],
    }
    assert wapi.post("/contact_allocations", json={"contact_allocation": allocation}).status_code == 201
    assert wapi.get(f"/unallocated_artefacts/{poa['id']}").status_code == 404
    assert poa["id"] not in {a["id"] for a in every(wapi, "/unallocated_artefacts")}


# -- Sage's own ids ------------------------------------------------------------------------------------------------


def test_ledger_account_types_are_sages(api: httpx2.Client) -> None:
    types = {t["id"] for t in items(api, "/ledger_account_types")}
    assert types == {
        "SALES",
        "OTHER_INCOME",
        "DIRECT_EXPENSES",
        "OVERHEADS",
        "DEPRECIATION",
        "CURRENT_ASSETS",
        "FIXED_ASSETS",
        "FUTURE_ASSETS",
        "BANK",
        "CURRENT_LIABILITY",
        "FUTURE_LIABILITY",
        "LINE_OF_CREDIT",
        "EQUITY",
        "TAXES",
        "SPECIAL",
    }
    accounts = {a["nominal_code"]: a["ledger_account_type"]["id"] for a in items(api, "/ledger_accounts")}
    assert "EXPENSES" not in accounts.values()
    assert {accounts[c] for c in (7100, 7502, 7900, 8100)} == {"OVERHEADS"}
    assert accounts[8000] == "DEPRECIATION" and accounts[3200] == "EQUITY" and accounts[30] == "FIXED_ASSETS"
    assert {accounts[c] for c in (2200, 2201, 2202)} == {"CURRENT_LIABILITY"}
    rates = {r["id"]: r["displayed_as"] for r in items(api, "/tax_rates")}
    assert rates["GB_LOWER"] == "Lower Rate 5.00%" and rates["GB_ZERO"] == "Zero Rated 0.00%"
    assert "GB_REDUCED" not in rates


# -- the generic tools reach the supplement ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_generic_tools_call_trial_balance(client: Client) -> None:
    from tests.test_tools import err, ok

    found = await ok(client, "find_sage_endpoint", {"query": "trial balance"})
    assert found["items"][0]["path"] == "/trial_balance" and found["items"][0]["query"] == ["from_date", "to_date"]
    answer = await ok(
        client,
        "sage_api_get",
        {"path": "/trial_balance", "query": {"from_date": "2020-01-01", "to_date": "2099-12-31"}},
    )
    tb = answer["data"]
    assert answer["path"] == "/trial_balance" and tb["totals"]["debit"] == tb["totals"]["credit"]
    assert tb["ledger_accounts"] and all(D(r["closing_balance"]["debit"]) >= 0 for r in tb["ledger_accounts"])
    assert "query.date" in await err(client, "sage_api_get", {"path": "/trial_balance", "query": {"date": "x"}})


# -- the demo data has something for every report ----------------------------------------------------------------

BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")


def bucket(due_date: str, today: dt.date) -> str:
    overdue = (today - dt.date.fromisoformat(due_date)).days
    if overdue <= 0:
        return "current"
    return "1-30" if overdue <= 30 else "31-60" if overdue <= 60 else "61-90" if overdue <= 90 else "90+"


@pytest.mark.parametrize("today", [TODAY, dt.date(2026, 1, 15), dt.date(2026, 12, 4)])
def test_seeded_open_items_fill_every_aged_bucket(today: dt.date) -> None:
    sandbox = Sandbox(SandboxConfig(today=today))
    try:
        for side in ("sales_invoices", "purchase_invoices"):
            open_items = [
                i for i in sandbox.store.all(LEAD_BUSINESS_ID, side) if i["status"]["id"] in ("UNPAID", "PART_PAID")
            ]
            filled = {bucket(i["due_date"], today) for i in open_items}
            assert filled == set(BUCKETS), (side, today, filled)
            assert any(
                i["status"]["id"] == "PART_PAID" and bucket(i["due_date"], today) != "current" for i in open_items
            )
        on_account = sandbox.store.all(LEAD_BUSINESS_ID, "payments_on_account")
        unused = {p["_contact_type"] for p in on_account if D(p["outstanding_amount"]) > 0}
        assert unused == {"CUSTOMER", "VENDOR"}
    finally:
        sandbox.close()


def test_seeded_financial_settings_cover_three_vat_schemes(api: httpx2.Client) -> None:
    lead = api.get("/financial_settings").json()
    assert (lead["tax_scheme"]["id"], lead["accounting_type"]) == ("STANDARD", "accrual")
    assert lead["tax_return_frequency"]["id"] == "QUARTERLY" and lead["year_end_date"] == "2026-03-31"
    assert lead["base_currency"]["id"] == "GBP" and lead["accounts_start_date"] < "2024-06-30"
    assert lead["sales_tax_calculation"] == lead["purchase_tax_calculation"] == "invoice"
    assert lead["flat_rate_tax_percentage"] is None
    fern = api.get("/financial_settings", headers={"X-Business": SECOND_BUSINESS_ID}).json()
    assert fern["tax_scheme"] == {"id": "CASH", "displayed_as": "Cash Accounting", "$path": "/tax_schemes/CASH"}
    assert fern["sales_tax_calculation"] == fern["purchase_tax_calculation"] == "cash"
    assert fern["tax_number"] == "GB318204756" and fern["tax_return_frequency"]["id"] == "QUARTERLY"
    third = api.get("/financial_settings", headers={"X-Business": THIRD_BUSINESS_ID}).json()
    assert third["tax_scheme"]["id"] == "FLAT_RATE_INVOICE" and D(third["flat_rate_tax_percentage"]) == D(10)
    assert third["sales_tax_calculation"] == "invoice" and third["accounting_type"] == "accrual"


def test_seeded_lead_books_have_every_kind_of_vat_and_entry(api: httpx2.Client) -> None:
    quarters: dict[str, set[str]] = {}
    for invoice in every(api, "/sales_invoices", status_id="UNPAID,PART_PAID,PAID"):
        quarter = f"{invoice['date'][:4]}Q{(int(invoice['date'][5:7]) - 1) // 3 + 1}"
        quarters.setdefault(quarter, set()).update(line["tax_rate"]["id"] for line in invoice["invoice_lines"])
    full_quarters = [q for q, rates in quarters.items() if {"GB_STANDARD", "GB_LOWER", "GB_ZERO"} <= rates]
    assert len(full_quarters) >= 3, quarters
    purchase_rates = {line["tax_rate"]["id"] for i in every(api, "/purchase_invoices") for line in i["invoice_lines"]}
    assert {"GB_STANDARD", "GB_LOWER", "GB_ZERO", "GB_EXEMPT"} <= purchase_rates
    assert every(api, "/sales_invoices", status_id="VOID")
    journals = every(api, "/journals")
    assert any(j["reference"].startswith("DEPN") for j in journals)
    assert [r["status"]["id"] for r in every(api, "/bank_reconciliations")] == ["RECONCILED"]
    # Fern Studio's and Moorside's sales carry VAT, Moorside's helmets at zero rate
    for business_id in (SECOND_BUSINESS_ID, THIRD_BUSINESS_ID):
        theirs = every(api, "/sales_invoices", headers={"X-Business": business_id})
        assert theirs and sum((D(i["tax_amount"]) for i in theirs), D(0)) > 0
