"""Sales credit notes, quotes, estimates, purchase invoices and credit notes over real HTTP:
life cycles, totals, postings, 422s naming the field, list filters, idempotency."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import httpx2
import pytest
from sandbox_support import couldnt_find, error_of, sources

from sage_mcp.sage import spec
from sage_mcp.sandbox import LEAD_BUSINESS_ID, SANDBOX_USER_ID, SandboxServer
from sage_mcp.sandbox.ledger import entries_of, trial_balance

D = Decimal


def find(api: httpx2.Client, path: str, **params: Any) -> dict[str, Any]:
    body = api.get(path, params={"attributes": "all", **params}).json()
    assert body["$total"] == 1, body["$total"]
    result: dict[str, Any] = body["$items"][0]
    return result


def balance(api: httpx2.Client, contact_id: str) -> Decimal:
    return D(api.get(f"/contacts/{contact_id}").json()["balance"])


@pytest.fixture(scope="module")
def refs(wapi: httpx2.Client) -> dict[str, str]:
    accounts = wapi.get("/ledger_accounts", params={"attributes": "nominal_code", "items_per_page": 200}).json()
    by_code = {a["nominal_code"]: a["id"] for a in accounts["$items"]}
    return {
        "customer": find(wapi, "/contacts", search="Kestrel")["id"],
        "customer2": find(wapi, "/contacts", search="Bluebell")["id"],
        "supplier": find(wapi, "/contacts", search="Cityline")["id"],
        "supplier2": find(wapi, "/contacts", search="Dales Courier")["id"],
        "sales": by_code[4000],
        "phone": by_code[7502],
        "stationery": by_code[7504],
    }


def postings(server: SandboxServer, transaction_id: str) -> dict[int, Decimal]:
    """Debit minus credit per nominal code of one transaction's entries."""
    ctx = server.sandbox.context(LEAD_BUSINESS_ID, SANDBOX_USER_ID)
    codes = {a["id"]: a["nominal_code"] for a in ctx.by_id("ledger_accounts").values()}
    result: dict[int, Decimal] = {}
    for p in entries_of(ctx, transaction_id):
        code = codes[p.ledger_account_id]
        result[code] = result.get(code, D(0)) + p.debit - p.credit
    return {k: v for k, v in result.items() if v}


def sales_line(refs: dict[str, str], price: str, quantity: str = "1", rate: str = "GB_STANDARD") -> dict[str, Any]:
    return {
        "description": "Work",
        "ledger_account_id": refs["sales"],
        "quantity": quantity,
        "unit_price": price,
        "tax_rate_id": rate,
    }


def purchase_line(refs: dict[str, str], price: str, quantity: str = "1") -> dict[str, Any]:
    return {
        "description": "Phone",
        "ledger_account_id": refs["phone"],
        "quantity": quantity,
        "unit_price": price,
        "tax_rate_id": "GB_STANDARD",
    }


def declared_only(obj: dict[str, Any], definition: str) -> None:
    props = set(spec.load_spec()["definitions"][definition]["properties"])
    assert set(obj) <= props, sorted(set(obj) - props)


# ---------------------------------------------------------------------------------------- credit notes


def test_sales_credit_note_life_cycle(
    wapi: httpx2.Client, refs: dict[str, str], writable_server: SandboxServer
) -> None:
    before = balance(wapi, refs["customer"])
    created = wapi.post(
        "/sales_credit_notes",
        json={
            "sales_credit_note": {
                "contact_id": refs["customer"],
                "date": "2025-06-10",
                "reference": "Return",
                "original_invoice_date": "2025-05-30",
                "credit_note_lines": [sales_line(refs, "3.335", "3"), sales_line(refs, "10.0", rate="GB_LOWER")],
            }
        },
    )
    assert created.status_code == 201, created.text
    note = created.json()
    declared_only(note, "SalesCreditNote")
    assert note["credit_note_number"].startswith("SCN-") and note["displayed_as"] == note["credit_note_number"]
    # 3 x 3.335 = 10.005 -> 10.01 (+2.00 VAT); 10.00 at 5% -> 0.50
    assert (note["net_amount"], note["tax_amount"], note["total_amount"]) == ("20.01", "2.5", "22.51")
    assert note["status"]["id"] == "UNPAID" and note["outstanding_amount"] == "22.51"
    assert note["transaction_type"]["id"] == "SALES_CREDIT_NOTE"
    assert note["original_invoice_date"] == "2025-05-30"
    assert "payments_allocations" not in note
    assert wapi.get(note["$path"]).json() == note
    assert postings(writable_server, note["transaction"]["id"]) == {
        1100: D("-22.51"),
        4000: D("20.01"),
        2200: D("2.5"),
    }
    assert balance(wapi, refs["customer"]) == before - D("22.51")
    listed = wapi.get("/sales_credit_notes", params={"contact_id": refs["customer"], "search": "return"}).json()
    assert [i["id"] for i in listed["$items"]] == [note["id"]]

    updated = wapi.put(note["$path"], json={"sales_credit_note": {"credit_note_lines": [sales_line(refs, "50")]}})
    assert updated.status_code == 200, updated.text
    assert updated.json()["total_amount"] == "60.0" and updated.json()["reference"] == "Return"
    assert updated.json()["transaction"]["id"] == note["transaction"]["id"]
    assert postings(writable_server, note["transaction"]["id"]) == {
        1100: D("-60.0"),
        4000: D("50.0"),
        2200: D("10.0"),
    }

    no_reason = wapi.delete(note["$path"])
    assert no_reason.status_code == 422 and error_of(no_reason)["$source"] == "void_reason"
    voided = wapi.delete(note["$path"], params={"void_reason": "Raised in error"})
    assert voided.status_code == 200, voided.text
    assert voided.json()["status"]["id"] == "VOID" and voided.json()["outstanding_amount"] == "0.0"
    assert voided.json()["void_reason"] == "Raised in error"
    assert postings(writable_server, note["transaction"]["id"]) == {}
    assert balance(wapi, refs["customer"]) == before
    assert sources(wapi.delete(note["$path"], params={"void_reason": "again"})) == {"base"}
    assert sources(wapi.put(note["$path"], json={"sales_credit_note": {"notes": "x"}})) == {"base"}
    assert sources(wapi.post(f"{note['$path']}/release")) == {"base"}


def test_sales_credit_note_draft_release_and_delete(wapi: httpx2.Client, refs: dict[str, str]) -> None:
    body = {"contact_id": refs["customer"], "date": "2025-06-11", "status_id": "DRAFT"}
    draft = wapi.post(
        "/sales_credit_notes", json={"sales_credit_note": {**body, "credit_note_lines": [sales_line(refs, "5")]}}
    )
    assert draft.status_code == 201 and draft.json()["transaction"] is None
    released = wapi.post(f"{draft.json()['$path']}/release")
    assert released.status_code == 201
    assert released.json()["status"]["id"] == "UNPAID" and released.json()["transaction"] is not None
    other = wapi.post(
        "/sales_credit_notes", json={"sales_credit_note": {**body, "credit_note_lines": [sales_line(refs, "7")]}}
    )
    since = wapi.get(other.json()["$path"]).json()["created_at"]
    deleted = wapi.delete(other.json()["$path"])
    assert deleted.status_code == 204 and deleted.content == b""
    assert wapi.get(other.json()["$path"]).status_code == 404
    tombstones = wapi.get("/sales_credit_notes", params={"deleted_since": "2000-01-01", "attributes": "deleted_at"})
    assert other.json()["id"] in [i["id"] for i in tombstones.json()["$items"]]
    assert all(i["deleted_at"] for i in tombstones.json()["$items"])
    later = wapi.get("/sales_credit_notes", params={"deleted_since": "2999-01-01T00:00:00Z"}).json()
    assert later["$total"] == 0
    assert since  # created_at was answered


def test_sales_credit_note_422s(wapi: httpx2.Client, refs: dict[str, str]) -> None:
    def post(**changes: Any) -> httpx2.Response:
        note: dict[str, Any] = {
            "contact_id": refs["customer"],
            "date": "2025-06-01",
            "credit_note_lines": [sales_line(refs, "10")],
        }
        note.update(changes)
        return wapi.post(
            "/sales_credit_notes", json={"sales_credit_note": {k: v for k, v in note.items() if v is not None}}
        )

    vendor = post(contact_id=refs["supplier"])
    assert couldnt_find(vendor) == {"Customer"}
    assert sources(post(contact_id=None, date=None)) == {"contact_id", "date"}
    assert sources(post(credit_note_lines=[])) == {"credit_note_lines"}
    bad_rate = post(credit_note_lines=[sales_line(refs, "1"), dict(sales_line(refs, "1"), tax_rate_id="GB_NOPE")])
    assert couldnt_find(bad_rate) == {"TaxRate"}, "Sage names neither the field nor the line"
    expense = post(credit_note_lines=[dict(sales_line(refs, "1"), ledger_account_id=refs["phone"])])
    assert sources(expense) == {"credit_note_lines.ledger_account_id"}
    assert sources(post(status_id="PAID")) == {"status_id"}
    assert sources(post(total_amount="11.0")) == {"total_amount"}
    assert sources(post(due_date="2025-07-01")) == {"due_date"}  # not a credit note attribute
    assert sources(post(currency_id="USD")) == {"currency_id"}


# ---------------------------------------------------------------------------------------- quotes and estimates


def test_quote_life_cycle_and_conversion(wapi: httpx2.Client, refs: dict[str, str]) -> None:
    quote = wapi.post(
        "/sales_quotes",
        json={
            "sales_quote": {
                "contact_id": refs["customer"],
                "date": "2025-06-02",
                "expiry_date": "2025-07-02",
                "reference": "Fit-out",
                "quote_lines": [sales_line(refs, "100", "2")],
            }
        },
    )
    assert quote.status_code == 201, quote.text
    q = quote.json()
    declared_only(q, "SalesQuote")
    assert q["quote_number"].startswith("SQ-") and q["status"] == {"id": "PENDING", "displayed_as": "Pending"}
    assert (q["total_amount"], q["invoice"], q["total_paid"]) == ("240.0", None, "0.0")
    assert "transaction" not in q
    accepted = wapi.put(q["$path"], json={"sales_quote": {"status_id": "ACCEPTED", "notes": "Signed"}})
    assert accepted.status_code == 200 and accepted.json()["status"]["id"] == "ACCEPTED"
    assert sources(wapi.put(q["$path"], json={"sales_quote": {"status_id": "INVOICED"}})) == {"status_id"}
    assert sources(
        wapi.put(q["$path"], json={"sales_quote": {"quote_lines": [{"description": "x", "unit_price": 1}]}})
    ) == {
        "quote_lines.ledger_account_id",
        "quote_lines.quantity",
    }
    assert sources(wapi.put(q["$path"], json={"sales_quote": {"invoice_id": "abc"}})) == {"invoice_id"}
    # another customer cannot invoice this quote
    invoice_body: dict[str, Any] = {
        "contact_id": refs["customer2"],
        "date": "2025-06-05",
        "original_quote_estimate_id": q["id"],
        "invoice_lines": [sales_line(refs, "100", "2")],
    }
    assert sources(wapi.post("/sales_invoices", json={"sales_invoice": invoice_body})) == {"original_quote_estimate_id"}
    invoice = wapi.post("/sales_invoices", json={"sales_invoice": {**invoice_body, "contact_id": refs["customer"]}})
    assert invoice.status_code == 201, invoice.text
    assert invoice.json()["original_quote_estimate"]["id"] == q["id"]
    invoiced = wapi.get(q["$path"]).json()
    assert invoiced["status"]["id"] == "INVOICED" and invoiced["invoice"]["id"] == invoice.json()["id"]
    assert invoiced["editable"] is False
    assert sources(wapi.put(q["$path"], json={"sales_quote": {"notes": "x"}})) == {"base"}
    assert sources(wapi.delete(q["$path"])) == {"base"}
    twice = wapi.post("/sales_invoices", json={"sales_invoice": {**invoice_body, "contact_id": refs["customer"]}})
    assert sources(twice) == {"original_quote_estimate_id"}
    assert sources(wapi.put(invoice.json()["$path"], json={"sales_invoice": {"original_quote_estimate_id": "x"}})) == {
        "original_quote_estimate_id"
    }
    # voiding the invoice puts the quote back to accepted
    assert wapi.delete(invoice.json()["$path"], params={"void_reason": "Wrong"}).status_code == 200
    back = wapi.get(q["$path"]).json()
    assert back["status"]["id"] == "ACCEPTED" and back["invoice"] is None
    assert wapi.delete(q["$path"]).status_code == 204
    assert wapi.get(q["$path"]).status_code == 404


def test_estimates_and_quote_422s(wapi: httpx2.Client, refs: dict[str, str]) -> None:
    base: dict[str, Any] = {
        "contact_id": refs["customer2"],
        "date": "2025-06-03",
        "expiry_date": "2025-06-30",
        "estimate_lines": [sales_line(refs, "40", "1.5")],
    }
    estimate = wapi.post("/sales_estimates", json={"sales_estimate": {**base, "status_id": "DECLINED"}})
    assert estimate.status_code == 201, estimate.text
    e = estimate.json()
    declared_only(e, "SalesEstimate")
    assert e["estimate_number"].startswith("SE-") and e["total_amount"] == "72.0"
    declined = wapi.post(
        "/sales_invoices",
        json={
            "sales_invoice": {
                "contact_id": refs["customer2"],
                "date": "2025-06-04",
                "original_quote_estimate_id": e["id"],
                "invoice_lines": [sales_line(refs, "1")],
            }
        },
    )
    assert sources(declined) == {"original_quote_estimate_id"} and "declined" in error_of(declined)["$message"]
    assert sources(wapi.post("/sales_estimates", json={"sales_estimate": {**base, "expiry_date": "2025-06-01"}})) == {
        "expiry_date"
    }
    no_expiry = {k: v for k, v in base.items() if k != "expiry_date"}
    assert sources(wapi.post("/sales_estimates", json={"sales_estimate": no_expiry})) == {"expiry_date"}
    no_quantity = [{k: v for k, v in sales_line(refs, "1").items() if k != "quantity"}]
    assert sources(wapi.post("/sales_estimates", json={"sales_estimate": {**base, "estimate_lines": no_quantity}})) == {
        "estimate_lines.quantity"
    }
    assert sources(wapi.post("/sales_estimates", json={"sales_estimate": {**base, "status_id": "INVOICED"}})) == {
        "status_id"
    }
    assert sources(wapi.post("/sales_quotes", json={"sales_quote": {**base}})) == {
        "estimate_lines",  # not a quote attribute
        "quote_lines",
    }
    listed = wapi.get("/sales_estimates", params={"status_id": "DECLINED", "contact_id": refs["customer2"]}).json()
    assert e["id"] in [i["id"] for i in listed["$items"]]
    assert sources(wapi.get("/sales_estimates", params={"status_id": "UNPAID"})) == {"status_id"}
    assert wapi.delete(e["$path"]).status_code == 204
    assert wapi.get(e["$path"]).status_code == 404


# ---------------------------------------------------------------------------------------- purchases


def test_purchase_invoice_life_cycle(wapi: httpx2.Client, refs: dict[str, str], writable_server: SandboxServer) -> None:
    before = balance(wapi, refs["supplier2"])
    body: dict[str, Any] = {
        "contact_id": refs["supplier2"],
        "date": "2025-06-12",
        "due_date": "2025-07-12",
        "vendor_reference": "DCS-9001",
        "reference": "June couriers",
        "invoice_lines": [purchase_line(refs, "36.5", "2"), purchase_line(refs, "0.99")],
    }
    created = wapi.post("/purchase_invoices", json={"purchase_invoice": body})
    assert created.status_code == 201, created.text
    invoice = created.json()
    declared_only(invoice, "PurchaseInvoice")
    declared_only(invoice["invoice_lines"][0], "PurchaseInvoiceLineItem")
    assert invoice["displayed_as"] == "DCS-9001" and invoice["vendor_reference"] == "DCS-9001"
    # 73.00 + 14.60 VAT; 0.99 + 0.198 -> 0.20
    assert (invoice["net_amount"], invoice["tax_amount"], invoice["total_amount"]) == ("73.99", "14.8", "88.79")
    assert invoice["status"]["id"] == "UNPAID" and invoice["outstanding_amount"] == "88.79"
    assert invoice["transaction_type"]["id"] == "PURCHASE_INVOICE"
    assert postings(writable_server, invoice["transaction"]["id"]) == {
        7502: D("73.99"),
        2201: D("14.8"),
        2100: D("-88.79"),
    }
    assert balance(wapi, refs["supplier2"]) == before + D("88.79")
    assert find(wapi, "/purchase_invoices", search="june couriers")["id"] == invoice["id"]

    updated = wapi.put(invoice["$path"], json={"purchase_invoice": {"vendor_reference": "DCS-9002"}})
    assert updated.status_code == 200 and updated.json()["displayed_as"] == "DCS-9002"
    since = updated.json()["updated_at"]
    deleted = wapi.delete(invoice["$path"])
    assert deleted.status_code == 204
    assert wapi.get(invoice["$path"]).status_code == 404
    assert postings(writable_server, invoice["transaction"]["id"]) == {}
    assert balance(wapi, refs["supplier2"]) == before
    a_minute_before = since.replace("Z", "+00:01")
    gone = wapi.get("/purchase_invoices", params={"deleted_since": a_minute_before}).json()
    assert invoice["id"] in [i["id"] for i in gone["$items"]]


def test_purchase_422s(wapi: httpx2.Client, refs: dict[str, str]) -> None:
    def post(**changes: Any) -> httpx2.Response:
        invoice: dict[str, Any] = {
            "contact_id": refs["supplier"],
            "date": "2025-06-01",
            "due_date": "2025-07-01",
            "invoice_lines": [purchase_line(refs, "10")],
        }
        invoice.update(changes)
        return wapi.post(
            "/purchase_invoices", json={"purchase_invoice": {k: v for k, v in invoice.items() if v is not None}}
        )

    customer = post(contact_id=refs["customer"])
    assert couldnt_find(customer) == {"Supplier"}
    assert sources(post(due_date=None)) == {"due_date"}
    no_quantity = {k: v for k, v in purchase_line(refs, "1").items() if k != "quantity"}
    assert sources(post(invoice_lines=[no_quantity])) == {"invoice_lines.quantity"}
    sales = dict(purchase_line(refs, "1"), ledger_account_id=refs["sales"])
    assert sources(post(invoice_lines=[sales])) == {"invoice_lines.ledger_account_id"}
    discount = dict(purchase_line(refs, "1"), discount_amount="0.1")
    assert sources(post(invoice_lines=[discount])) == {"invoice_lines.discount_amount"}  # no discounts on purchases
    assert sources(post(status_id="VOID")) == {"status_id"}
    assert sources(post(due_date="2025-05-01")) == {"due_date"}


def test_purchase_credit_note_and_release(
    wapi: httpx2.Client, refs: dict[str, str], writable_server: SandboxServer
) -> None:
    draft = wapi.post(
        "/purchase_credit_notes",
        json={
            "purchase_credit_note": {
                "contact_id": refs["supplier"],
                "date": "2025-06-14",
                "status_id": "DRAFT",
                "credit_note_lines": [dict(purchase_line(refs, "25"), ledger_account_id=refs["stationery"])],
            }
        },
    )
    assert draft.status_code == 201, draft.text
    note = draft.json()
    declared_only(note, "PurchaseCreditNote")
    assert note["displayed_as"].startswith("PCN-") and note["transaction"] is None
    released = wapi.post(f"{note['$path']}/release").json()
    assert released["status"]["id"] == "UNPAID" and released["transaction_type"]["id"] == "PURCHASE_CREDIT_NOTE"
    assert postings(writable_server, released["transaction"]["id"]) == {
        2100: D("30.0"),
        7504: D("-25.0"),
        2201: D("-5.0"),
    }
    assert wapi.delete(note["$path"]).status_code == 204
    assert postings(writable_server, released["transaction"]["id"]) == {}


def test_paid_purchase_invoice_cannot_be_deleted_or_edited(wapi: httpx2.Client) -> None:
    paid = wapi.get("/purchase_invoices", params={"status_id": "PAID", "items_per_page": 1}).json()["$items"][0]
    assert sources(wapi.delete(paid["$path"])) == {"base"}
    assert sources(wapi.put(paid["$path"], json={"purchase_invoice": {"notes": "x"}})) == {"base"}


# ---------------------------------------------------------------------------------------- lists and queries


def test_list_filters_sort_and_payments_allocations(wapi: httpx2.Client) -> None:
    by_date = wapi.get("/purchase_invoices", params={"sort": "date:asc", "attributes": "date", "items_per_page": 200})
    dates = [i["date"] for i in by_date.json()["$items"]]
    assert dates == sorted(dates) and len(dates) >= 40
    due = wapi.get("/purchase_invoices", params={"sort": "due_date:desc", "attributes": "due_date"}).json()["$items"]
    assert [i["due_date"] for i in due] == sorted((i["due_date"] for i in due), reverse=True)
    assert sources(wapi.get("/purchase_credit_notes", params={"sort": "due_date"})) == {"sort"}
    quotes = wapi.get("/sales_quotes", params={"sort": "expiry_date", "attributes": "expiry_date"}).json()["$items"]
    assert [q["expiry_date"] for q in quotes] == sorted(q["expiry_date"] for q in quotes)
    window = wapi.get(
        "/purchase_invoices", params={"from_date": "2025-01-01", "to_date": "2025-03-31", "attributes": "date"}
    ).json()
    assert window["$total"] > 0 and all("2025-01-01" <= i["date"] <= "2025-03-31" for i in window["$items"])
    assert sources(wapi.get("/purchase_invoices", params={"from_date": "soon"})) == {"from_date"}
    everything = wapi.get("/sales_credit_notes").json()["$total"]
    assert wapi.get("/sales_credit_notes", params={"has_attachments": "false"}).json()["$total"] == everything
    assert wapi.get("/sales_credit_notes", params={"has_attachments": "true"}).json()["$total"] == 0
    assert sources(wapi.get("/sales_credit_notes", params={"has_attachments": "maybe"})) == {"has_attachments"}
    assert wapi.get("/purchase_invoices", params={"updated_or_created_since": "2999-01-01"}).json()["$total"] == 0

    paid = wapi.get("/purchase_invoices", params={"status_id": "PAID", "items_per_page": 1}).json()["$items"][0]
    plain = wapi.get(paid["$path"]).json()
    assert "payments_allocations" not in plain and plain["total_paid"] == plain["total_amount"]
    shown = wapi.get(paid["$path"], params={"show_payments_allocations": "true"}).json()
    allocations = shown["payments_allocations"]
    assert sum(D(a["amount"]) + D(a["discount"]) for a in allocations) == D(plain["total_amount"])
    assert allocations[0]["contact_payment"]["$path"].startswith("/contact_payments/")
    assert allocations[0]["type"] == "Supplier Payment" and shown["last_paid"] == allocations[-1]["date"]
    listed = wapi.get(
        "/purchase_invoices", params={"status_id": "PAID", "show_payments_allocations": "true", "attributes": "all"}
    ).json()["$items"]
    assert all(i["payments_allocations"] for i in listed)


def test_has_attachments_follows_attachments(wapi: httpx2.Client, refs: dict[str, str]) -> None:
    body = {
        "contact_id": refs["supplier"],
        "date": "2025-06-16",
        "due_date": "2025-07-16",
        "vendor_reference": "WITH-PDF",
        "invoice_lines": [purchase_line(refs, "10")],
    }
    invoice = wapi.post("/purchase_invoices", json={"purchase_invoice": body}).json()
    attachment = wapi.post(
        "/attachments",
        json={
            "attachment": {
                "file": base64.b64encode(b"%PDF-1.4 bill").decode(),
                "file_name": "bill.pdf",
                "mime_type": "application/pdf",
                "attachment_context_type_id": "PURCHASE_INVOICE",
                "attachment_context_id": invoice["id"],
            }
        },
    )
    assert attachment.status_code == 201, attachment.text
    with_files = wapi.get("/purchase_invoices", params={"has_attachments": "true"}).json()["$items"]
    assert [i["id"] for i in with_files] == [invoice["id"]]
    without = wapi.get("/purchase_invoices", params={"has_attachments": "false", "items_per_page": 200}).json()
    assert invoice["id"] not in [i["id"] for i in without["$items"]]


def test_idempotency_for_artefacts(wapi: httpx2.Client, refs: dict[str, str]) -> None:
    key = "5b0e4c1d2a3f4e5d6c7b8a9f0e1d2c3b"
    body = {
        "sales_credit_note": {
            "idempotency_id": key,
            "contact_id": refs["customer"],
            "date": "2025-06-15",
            "credit_note_lines": [sales_line(refs, "12")],
        }
    }
    before = wapi.get("/sales_credit_notes").json()["$total"]
    first, second = wapi.post("/sales_credit_notes", json=body), wapi.post("/sales_credit_notes", json=body)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert wapi.get("/sales_credit_notes").json()["$total"] == before + 1
    mismatch = wapi.post(
        "/purchase_invoices",
        json={
            "purchase_invoice": {
                "idempotency_id": key,
                "contact_id": refs["supplier"],
                "date": "2025-06-15",
                "due_date": "2025-06-30",
                "invoice_lines": [purchase_line(refs, "1")],
            }
        },
    )
    assert mismatch.status_code == 422 and error_of(mismatch)["$dataCode"] == "IdempotencyResourceMismatch"
    put_key = "6c1f5d2e3b4a5f6e7d8c9b0a1f2e3d4c"
    path = first.json()["$path"]
    change = {"sales_credit_note": {"idempotency_id": put_key, "notes": "once"}}
    assert wapi.put(path, json=change).json() == wapi.put(path, json=change).json()


def test_every_answer_carries_only_spec_fields(wapi: httpx2.Client) -> None:
    for collection, definition in (
        ("sales_invoices", "SalesInvoice"),
        ("sales_credit_notes", "SalesCreditNote"),
        ("sales_quotes", "SalesQuote"),
        ("sales_estimates", "SalesEstimate"),
        ("purchase_invoices", "PurchaseInvoice"),
        ("purchase_credit_notes", "PurchaseCreditNote"),
        ("contact_payments", "ContactPayment"),
        ("contact_allocations", "ContactAllocation"),
    ):
        items = wapi.get(
            f"/{collection}", params={"attributes": "all", "show_payments_allocations": "true", "items_per_page": 5}
        ).json()["$items"]
        assert items, collection
        for item in items:
            declared_only(item, definition)


def test_books_balance_after_the_module(writable_server: SandboxServer) -> None:
    ctx = writable_server.sandbox.context(LEAD_BUSINESS_ID, SANDBOX_USER_ID)
    assert sum(trial_balance(ctx).values(), D(0)) == 0
