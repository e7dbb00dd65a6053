"""Sage's list envelope, paging, attributes and the filters of each collection (read-only sandbox)."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from sandbox_support import TODAY, error_of


def items(api: httpx2.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a list, page by page (200 a page)."""
    result: list[dict[str, Any]] = []
    page = 1
    while True:
        body = api.get(path, params={"items_per_page": 200, "page": page, **params}).json()
        result += body["$items"]
        if body["$next"] is None:
            assert body["$total"] == len(result)
            return result
        page += 1


def test_envelope_defaults(api: httpx2.Client) -> None:
    body = api.get("/contacts").json()
    assert body["$total"] == 50
    assert body["$page"] == 1
    assert body["$itemsPerPage"] == 20
    assert len(body["$items"]) == 20
    assert body["$back"] is None
    assert body["$next"] == "/contacts?page=2&items_per_page=20"


def test_paging_walks_every_item_once(api: httpx2.Client) -> None:
    seen: list[str] = []
    url: str | None = "/contacts?search=ltd&items_per_page=4"
    pages = 0
    total = None
    while url:
        body = api.get(url).json()
        total = body["$total"]
        seen += [c["id"] for c in body["$items"]]
        if body["$next"]:
            assert body["$next"].startswith("/contacts?search=ltd&page=")
        url = body["$next"]
        pages += 1
    assert total is not None and total > 8
    assert len(seen) == len(set(seen)) == total
    assert pages == -(-total // 4)


def test_next_and_back_keep_the_query_string(api: httpx2.Client) -> None:
    body = api.get("/contacts", params={"search": "ltd", "page": 2, "items_per_page": 5}).json()
    assert body["$next"] == "/contacts?search=ltd&page=3&items_per_page=5"
    assert body["$back"] == "/contacts?search=ltd&page=1&items_per_page=5"
    body = api.get("/sales_invoices?status_id=PAID&sort=date:asc&items_per_page=10&attributes=date").json()
    assert body["$next"] == "/sales_invoices?status_id=PAID&sort=date:asc&attributes=date&page=2&items_per_page=10"


def test_page_past_the_end_returns_the_last_page(api: httpx2.Client) -> None:
    body = api.get("/contacts", params={"page": 99, "items_per_page": 20}).json()
    assert body["$page"] == 3
    assert len(body["$items"]) == 10
    assert body["$next"] is None
    assert body["$back"] == "/contacts?page=2&items_per_page=20"
    empty = api.get("/contacts", params={"search": "no such contact", "page": 5}).json()
    assert (empty["$total"], empty["$page"], empty["$items"], empty["$next"], empty["$back"]) == (0, 1, [], None, None)


@pytest.mark.parametrize(("param", "value"), [("items_per_page", "201"), ("items_per_page", "0"), ("page", "x")])
def test_bad_paging_is_422(api: httpx2.Client, param: str, value: str) -> None:
    response = api.get("/contacts", params={param: value})
    assert response.status_code == 422
    assert error_of(response)["$source"] == param
    assert error_of(response)["$dataCode"] == "RecordInvalid"


def test_items_per_page_200_is_allowed(api: httpx2.Client) -> None:
    body = api.get("/sales_invoices", params={"items_per_page": 200}).json()
    assert (body["$total"], body["$itemsPerPage"], len(body["$items"])) == (205, 200, 200)


def test_items_are_slim_unless_attributes_are_asked_for(api: httpx2.Client) -> None:
    slim = api.get("/contacts", params={"items_per_page": 1}).json()["$items"][0]
    assert set(slim) == {"id", "displayed_as", "$path"}
    assert slim["$path"] == f"/contacts/{slim['id']}"
    some = api.get("/contacts", params={"items_per_page": 1, "attributes": "name,reference, balance"}).json()
    assert set(some["$items"][0]) == {"id", "displayed_as", "$path", "name", "reference", "balance"}
    full = api.get("/contacts", params={"items_per_page": 200, "attributes": "all"}).json()["$items"]
    assert {"contact_types", "main_address", "balance", "credit_days", "currency", "created_at"} <= set(full[0])
    single = api.get(f"/contacts/{slim['id']}").json()
    assert single == next(c for c in full if c["id"] == slim["id"])
    narrowed = api.get(f"/contacts/{slim['id']}", params={"attributes": "name"}).json()
    assert set(narrowed) == {"id", "displayed_as", "$path", "name"}


def test_contacts_default_order_is_by_name(api: httpx2.Client) -> None:
    names = [c["name"] for c in items(api, "/contacts", attributes="name")]
    assert names == sorted(names, key=str.casefold)


def test_contact_search_and_filters(api: httpx2.Client) -> None:
    found = items(api, "/contacts", search="BRIGHT")
    assert {c["displayed_as"] for c in found} == {
        "Brightwater Consulting Ltd (BRI001)",
        "Brightspark Electrical Ltd (BRI002)",
    }
    by_reference = items(api, "/contacts", search="kes001")
    assert [c["displayed_as"] for c in by_reference] == ["Kestrel Engineering Ltd (KES001)"]
    by_email = items(api, "/contacts", search="@bluebellbakery.co.uk")
    assert [c["displayed_as"] for c in by_email] == ["Bluebell Bakery (BLU001)"]
    exact = items(api, "/contacts", email="ACCOUNTS@bluebellbakery.co.uk")
    assert [c["displayed_as"] for c in exact] == ["Bluebell Bakery (BLU001)"]
    assert len(items(api, "/contacts", contact_type_id="VENDOR")) == 15
    customers = items(api, "/contacts", contact_type_id="CUSTOMER", attributes="contact_types")
    assert len(customers) == 35
    assert {c["contact_types"][0]["id"] for c in customers} == {"CUSTOMER"}
    assert len(items(api, "/contacts", updated_or_created_since="2099-01-01T00:00:00Z")) == 0
    assert len(items(api, "/contacts", updated_or_created_since="2000-01-01")) == 50
    assert api.get("/contacts", params={"updated_or_created_since": "yesterday"}).status_code == 422


def test_customer_balance_is_the_outstanding_of_open_invoices(api: httpx2.Client) -> None:
    contact = items(api, "/contacts", search="Brightwater", attributes="balance")[0]
    invoices = items(api, "/sales_invoices", contact_id=contact["id"], attributes="status,outstanding_amount")
    assert invoices
    expected = sum(
        (float(i["outstanding_amount"]) for i in invoices if i["status"]["id"] in ("UNPAID", "PART_PAID")), 0.0
    )
    assert contact["balance"] == f"{expected:.2f}"


def test_invoice_status_filter(api: httpx2.Client) -> None:
    counts = {
        s: len(items(api, "/sales_invoices", status_id=s)) for s in ("DRAFT", "UNPAID", "PART_PAID", "PAID", "VOID")
    }
    assert sum(counts.values()) == 205
    assert counts["DRAFT"] == 3 and counts["VOID"] == 4
    assert counts["PAID"] > counts["UNPAID"] > 0 and counts["PART_PAID"] > 0
    void = items(api, "/sales_invoices", status_id="VOID", attributes="void_reason,status,outstanding_amount")
    assert all(i["void_reason"] and i["outstanding_amount"] == "0.0" for i in void)
    part = items(api, "/sales_invoices", status_id="PART_PAID", attributes="total_amount,outstanding_amount,total_paid")
    for invoice in part:
        assert 0 < float(invoice["outstanding_amount"]) < float(invoice["total_amount"])
    overdue = items(api, "/sales_invoices", status_id="UNPAID", attributes="due_date")
    assert any(i["due_date"] < TODAY.isoformat() for i in overdue)


def test_invoice_contact_and_date_filters(api: httpx2.Client) -> None:
    contact_id = items(api, "/contacts", search="Kestrel")[0]["id"]
    mine = items(api, "/sales_invoices", contact_id=contact_id, attributes="contact")
    assert mine and {i["contact"]["id"] for i in mine} == {contact_id}
    window = items(api, "/sales_invoices", from_date="2025-03-01", to_date="2025-03-31", attributes="date")
    assert window and all("2025-03-01" <= i["date"] <= "2025-03-31" for i in window)
    everything = items(api, "/sales_invoices", from_date="2024-01-01", attributes="date")
    assert len(everything) == 205
    assert min(i["date"] for i in everything) >= "2024-06-30"
    assert api.get("/sales_invoices", params={"from_date": "March"}).status_code == 422


def test_invoice_search(api: httpx2.Client) -> None:
    found = items(api, "/sales_invoices", search="SI-17", attributes="invoice_number")
    assert {i["invoice_number"] for i in found} >= {"SI-17", "SI-170", "SI-171"}
    by_contact = items(api, "/sales_invoices", search="kestrel", attributes="contact_name")
    assert by_contact and {i["contact_name"] for i in by_contact} == {"Kestrel Engineering Ltd"}


def test_invoice_default_order_and_sort(api: httpx2.Client) -> None:
    default = items(api, "/sales_invoices", attributes="date,invoice_number")
    keys = [(i["date"], int(i["invoice_number"][3:])) for i in default]
    assert keys == sorted(keys, reverse=True)
    ascending = items(api, "/sales_invoices", sort="due_date:asc", attributes="due_date")
    assert [i["due_date"] for i in ascending] == sorted(i["due_date"] for i in ascending)
    descending = items(api, "/sales_invoices", sort="created_at:desc", attributes="created_at")
    assert [i["created_at"] for i in descending] == sorted((i["created_at"] for i in descending), reverse=True)
    bad = api.get("/sales_invoices", params={"sort": "total_amount"})
    assert bad.status_code == 422 and error_of(bad)["$source"] == "sort"


def test_every_invoice_validates_in_full(api: httpx2.Client) -> None:
    """Each item of a full list is checked against SalesInvoice by the conformance hook."""
    invoices = items(api, "/sales_invoices", attributes="all")
    assert len(invoices) == 205
    first = invoices[0]
    assert first["$path"] == f"/sales_invoices/{first['id']}"
    assert first["displayed_as"] == first["invoice_number"]
    assert first["currency"]["id"] == "GBP"
    assert all(line["id"] for i in invoices for line in i["invoice_lines"])
    assert all(i["created_at"].endswith("Z") for i in invoices)


def test_ledger_accounts(api: httpx2.Client) -> None:
    accounts = items(api, "/ledger_accounts", attributes="all")
    codes = [a["nominal_code"] for a in accounts]
    assert codes == sorted(codes)
    by_code = {a["nominal_code"]: a for a in accounts}
    assert by_code[4000]["name"] == "Sales Type A"
    assert by_code[4000]["ledger_account_type"]["id"] == "SALES"
    assert by_code[4000]["tax_rate"]["id"] == "GB_STANDARD"
    assert by_code[1100]["is_control_account"] is True
    assert by_code[1200]["ledger_account_type"]["id"] == "BANK"
    assert by_code[7502]["ledger_account_type"]["id"] == "OVERHEADS"
    sales = items(api, "/ledger_accounts", visible_in="sales", attributes="nominal_code")
    assert {a["nominal_code"] for a in sales} == {4000, 4001, 4002, 4009, 4900, 4905}
    assert [a["nominal_code"] for a in items(api, "/ledger_accounts", search="4000", attributes="nominal_code")] == [
        4000
    ]
    banks = items(api, "/ledger_accounts", ledger_account_type_id="BANK")
    assert len(banks) == 3
    assert api.get("/ledger_accounts", params={"visible_in": "everywhere"}).status_code == 422
    one = api.get(f"/ledger_accounts/{by_code[4000]['id']}")
    assert one.status_code == 200 and one.json()["displayed_as"] == "Sales Type A (4000)"


def test_tax_rates(api: httpx2.Client) -> None:
    rates = {r["id"]: r for r in items(api, "/tax_rates", attributes="all")}
    assert set(rates) == {"GB_STANDARD", "GB_LOWER", "GB_ZERO", "GB_EXEMPT", "GB_NO_TAX"}
    assert rates["GB_STANDARD"]["percentage"] == "20.0"
    assert rates["GB_LOWER"]["percentage"] == "5.0"
    assert rates["GB_ZERO"]["percentage"] == "0.0"
    assert len(items(api, "/tax_rates", usage="sales")) == 5
    assert api.get("/tax_rates/GB_STANDARD").json()["displayed_as"] == "Standard 20.00%"
    # Sage's own names, as recorded from real businesses
    assert rates["GB_LOWER"]["displayed_as"] == "Lower Rate 5.00%"
    assert rates["GB_ZERO"]["displayed_as"] == "Zero Rated 0.00%"


def test_transactions_exist_for_posted_invoices(api: httpx2.Client) -> None:
    receipts = api.get("/transactions", params={"transaction_type_id": "CUSTOMER_RECEIPT"}).json()
    invoices = api.get("/transactions", params={"transaction_type_id": "SALES_INVOICE"}).json()
    assert invoices["$total"] == 202  # 205 minus three drafts
    assert receipts["$total"] > 100


def test_unknown_paths_ids_and_methods(api: httpx2.Client) -> None:
    for path in ("/no_such_collection", "/contacts/0123456789abcdef0123456789abcdef", "/purchase_quick_entries", "/"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert error_of(response)["$dataCode"] == "RecordNotFound"
    not_allowed = api.put("/contacts", json={})
    assert not_allowed.status_code == 405
    assert error_of(not_allowed)["$dataCode"] == "MethodNotAllowed"
    assert "POST" in not_allowed.headers["allow"]
    assert api.post("/tax_rates", json={}).status_code == 405  # POST /tax_rates is US only
    assert api.post("/contacts/abc/release").status_code == 404


def test_conformance_hook_ran(conformance: object) -> None:
    assert getattr(conformance, "objects_checked", 0) > 500
