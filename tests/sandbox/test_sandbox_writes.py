"""Creating and changing records: contacts, sales invoices (totals to the penny), voids, 422s."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx2
import pytest
from sandbox_support import couldnt_find, error_of, sources

from sage_mcp.sandbox import LEAD_BUSINESS_ID, SANDBOX_USER_ID, SECOND_BUSINESS_ID, SandboxServer
from sage_mcp.sandbox.ledger import DEBTORS_CONTROL, account_by_nominal, trial_balance


def find(api: httpx2.Client, path: str, **params: Any) -> dict[str, Any]:
    body = api.get(path, params={"attributes": "all", **params}).json()
    assert body["$total"] == 1, body["$total"]
    result: dict[str, Any] = body["$items"][0]
    return result


@pytest.fixture(scope="module")
def refs(wapi: httpx2.Client) -> dict[str, str]:
    """Ids the tests use: a customer, a supplier, sales accounts."""
    accounts = wapi.get("/ledger_accounts", params={"visible_in": "sales", "attributes": "nominal_code"}).json()
    by_code = {a["nominal_code"]: a["id"] for a in accounts["$items"]}
    expenses = wapi.get("/ledger_accounts", params={"search": "7502"}).json()["$items"][0]["id"]
    return {
        "customer": find(wapi, "/contacts", search="Kestrel")["id"],
        "supplier": find(wapi, "/contacts", search="Cityline")["id"],
        "sales_a": by_code[4000],
        "sales_c": by_code[4002],
        "telephone": expenses,
    }


# ---------------------------------------------------------------------------------------------- contacts


def test_create_read_update_contact(wapi: httpx2.Client) -> None:
    body = {
        "contact": {
            "name": "Quill & Ink Stationers",
            "contact_type_ids": ["CUSTOMER"],
            "reference": "QUILL01",
            "credit_days": 14,
            "credit_limit": "2500.5",
            "main_address": {"address_line_1": "4 Market Row", "city": "Leeds", "postal_code": "LS1 6AB"},
            "main_contact_person": {"name": "Ada Quill", "email": "accounts@quill.example"},
        }
    }
    created = wapi.post("/contacts", json=body)
    assert created.status_code == 201, created.text
    contact = created.json()
    assert created.headers["x-business"] == LEAD_BUSINESS_ID
    assert contact["displayed_as"] == "Quill & Ink Stationers (QUILL01)"
    assert contact["$path"] == f"/contacts/{contact['id']}"
    assert contact["contact_types"] == [
        {"id": "CUSTOMER", "displayed_as": "Customer", "$path": "/contact_types/CUSTOMER"}
    ]
    assert contact["email"] == "accounts@quill.example"
    assert contact["balance"] == "0.0"
    assert contact["credit_limit"] == "2500.5"
    assert set(contact["main_address"]) == {"id", "displayed_as", "$path"}, "nested records are links unless asked"
    assert wapi.get(contact["$path"]).json() == contact
    nested = wapi.get(contact["$path"], params={"nested_attributes": "main_address"}).json()
    assert nested["main_address"]["country"]["id"] == "GB"
    assert find(wapi, "/contacts", search="quill")["id"] == contact["id"]

    updated = wapi.put(contact["$path"], json={"contact": {"name": "Quill and Ink Ltd", "notes": "Pays promptly"}})
    assert updated.status_code == 200, updated.text
    after = updated.json()
    assert after["name"] == "Quill and Ink Ltd"
    assert after["reference"] == "QUILL01"  # untouched by a partial update
    assert after["notes"] == "Pays promptly"
    assert after["main_address"]["id"] == contact["main_address"]["id"]
    assert wapi.get(contact["$path"], params={"nested_attributes": "all"}).json()["main_address"]["city"] == "Leeds"
    assert after["created_at"] == contact["created_at"]


def test_contact_422s(wapi: httpx2.Client, refs: dict[str, str]) -> None:
    assert sources(wapi.post("/contacts", json={"contact": {"contact_type_ids": ["CUSTOMER"]}})) == {"name"}
    assert sources(wapi.post("/contacts", json={"contact": {"name": "X"}})) == {"contact_type_ids"}
    assert sources(wapi.post("/contacts", json={"name": "X", "contact_type_ids": ["CUSTOMER"]})) == {
        "contact",
        "name",
        "contact_type_ids",
    }
    missing_root = wapi.post("/contacts", json={})
    assert error_of(missing_root) == {
        "$severity": "error",
        "$dataCode": "RecordInvalid",
        "$message": "This field is required.",
        "$source": "contact",
    }
    both = wapi.post("/contacts", json={"contact": {"name": "X", "contact_type_ids": ["CUSTOMER", "VENDOR"]}})
    assert sources(both) == {"contact_type_ids"}
    taken = wapi.post(
        "/contacts", json={"contact": {"name": "X", "contact_type_ids": ["VENDOR"], "reference": "kes001"}}
    )
    assert sources(taken) == {"reference"}
    long_ref = wapi.post(
        "/contacts", json={"contact": {"name": "X", "contact_type_ids": ["VENDOR"], "reference": "R" * 11}}
    )
    assert sources(long_ref) == {"reference"}
    unknown_field = wapi.post(
        "/contacts", json={"contact": {"name": "X", "contact_type_ids": ["VENDOR"], "email": "a@b.co"}}
    )
    assert sources(unknown_field) == {"email"}
    wrong_type = wapi.post(
        "/contacts", json={"contact": {"name": 12, "contact_type_ids": ["VENDOR"], "credit_days": "x"}}
    )
    assert sources(wrong_type) == {"name", "credit_days"}
    bad_account = wapi.put(
        f"/contacts/{refs['customer']}", json={"contact": {"default_sales_ledger_account_id": "nope"}}
    )
    assert couldnt_find(bad_account) == {"LedgerAccount"}


def test_body_format_errors(wapi: httpx2.Client) -> None:
    malformed = wapi.post("/contacts", content=b'{"contact": {', headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400
    assert error_of(malformed)["$dataCode"] == "BadRequest"
    as_form = wapi.post("/contacts", data={"contact": "x"})
    assert as_form.status_code == 415
    not_object = wapi.post("/contacts", json=["contact"])
    assert not_object.status_code == 422


def test_delete_contact_only_without_transactions(wapi: httpx2.Client, refs: dict[str, str]) -> None:
    created = wapi.post("/contacts", json={"contact": {"name": "Temporary Ltd", "contact_type_ids": ["VENDOR"]}}).json()
    assert created["deletable"] is True
    assert wapi.delete(created["$path"]).status_code == 204
    assert wapi.get(created["$path"]).status_code == 404
    refused = wapi.delete(f"/contacts/{refs['customer']}")
    assert refused.status_code == 422 and error_of(refused)["$source"] == "base"


def test_idempotency_replays_and_refuses_mismatch(wapi: httpx2.Client) -> None:
    key = "c3a8adaa26daf36e02f3c672b69e3323"
    body = {"contact": {"name": "Once Only Ltd", "contact_type_ids": ["VENDOR"], "idempotency_id": key}}
    before = wapi.get("/contacts").json()["$total"]
    first = wapi.post("/contacts", json=body)
    second = wapi.post("/contacts", json=body)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert wapi.get("/contacts").json()["$total"] == before + 1
    mismatch = wapi.post(
        "/sales_invoices",
        json={
            "sales_invoice": {
                "idempotency_id": key,
                "contact_id": "x",
                "date": "2025-06-01",
                "invoice_lines": [{"description": "a", "ledger_account_id": "b", "unit_price": 1}],
            }
        },
    )
    assert mismatch.status_code == 422
    assert error_of(mismatch)["$dataCode"] == "IdempotencyResourceMismatch"


# ---------------------------------------------------------------------------------------------- invoices


def test_invoice_totals_round_half_up_per_line(wapi: httpx2.Client, refs: dict[str, str]) -> None:
    before = find(wapi, "/contacts", search="Kestrel")["balance"]
    body = {
        "sales_invoice": {
            "contact_id": refs["customer"],
            "date": "2025-06-20",
            "reference": "PO-ROUNDING",
            "invoice_lines": [
                # 3 x 3.335 = 10.005 -> 10.01 (half-even would give 10.00); 20% of 10.01 = 2.002 -> 2.00
                {
                    "description": "Catalogues",
                    "ledger_account_id": refs["sales_c"],
                    "quantity": 3,
                    "unit_price": "3.335",
                    "tax_rate_id": "GB_STANDARD",
                },
                # 5% of 0.10 = 0.005 -> 0.01 (half-even would give 0.00)
                {
                    "description": "Sample",
                    "ledger_account_id": refs["sales_a"],
                    "unit_price": 0.10,
                    "tax_rate_id": "GB_LOWER",
                },
                # 2 x 19.99 - 5.00 discount = 34.98, zero rated
                {
                    "description": "Books",
                    "ledger_account_id": refs["sales_c"],
                    "quantity": "2",
                    "unit_price": "19.99",
                    "discount_amount": "5.0",
                    "tax_rate_id": "GB_ZERO",
                },
            ],
        }
    }
    response = wapi.post("/sales_invoices", json=body)
    assert response.status_code == 201, response.text
    invoice = response.json()
    lines = invoice["invoice_lines"]
    assert [(x["net_amount"], x["tax_amount"], x["total_amount"]) for x in lines] == [
        ("10.01", "2.0", "12.01"),
        ("0.1", "0.01", "0.11"),
        ("34.98", "0.0", "34.98"),
    ]
    assert [x["quantity"] for x in lines] == ["3.0", "1.0", "2.0"]
    assert lines[0]["unit_price"] == "3.335"
    assert (invoice["net_amount"], invoice["tax_amount"], invoice["total_amount"]) == ("45.09", "2.01", "47.1")
    assert invoice["outstanding_amount"] == "47.1"
    assert invoice["status"]["id"] == "UNPAID"
    assert invoice["invoice_number"] == "SI-206" == invoice["displayed_as"]
    assert invoice["due_date"] == "2025-07-20"  # the contact's 30 credit days
    assert invoice["contact"]["id"] == refs["customer"]
    assert invoice["contact_name"] == "Kestrel Engineering Ltd"
    assert invoice["transaction"]["$path"].startswith("/transactions/")
    assert all(line["id"] and line["ledger_account"]["$path"].startswith("/ledger_accounts/") for line in lines)
    assert wapi.get(invoice["$path"]).json() == invoice
    after = find(wapi, "/contacts", search="Kestrel")["balance"]
    assert Decimal(after) - Decimal(before) == Decimal("47.1")


def test_invoice_with_tax_inclusive_price_and_supplied_totals(wapi: httpx2.Client, refs: dict[str, str]) -> None:
    body = {
        "sales_invoice": {
            "contact_id": refs["customer"],
            "date": "2025-06-21",
            "due_date": "2025-06-28",
            "invoice_lines": [
                {
                    "description": "Gross priced",
                    "ledger_account_id": refs["sales_a"],
                    "unit_price": "120.0",
                    "unit_price_includes_tax": True,
                    "tax_rate_id": "GB_STANDARD",
                    "tax_amount": 20,
                    "net_amount": "100.0",
                },
                {
                    "description": "Default rate",
                    "ledger_account_id": refs["sales_a"],
                    "quantity": 2.5,
                    "unit_price": 10,
                    "discount_percentage": 10,
                    "tax_amount": "4.5",
                },
            ],
            "total_amount": "147.0",
        }
    }
    response = wapi.post("/sales_invoices", json=body)
    assert response.status_code == 201, response.text
    invoice = response.json()
    assert invoice["due_date"] == "2025-06-28"
    first, second = invoice["invoice_lines"]
    assert (first["net_amount"], first["tax_amount"], first["total_amount"]) == ("100.0", "20.0", "120.0")
    # 2.5 x 10 = 25.00 less 10% = 22.50; the ledger account's default rate (GB_STANDARD) gives 4.50
    assert second["tax_rate"]["id"] == "GB_STANDARD"
    assert (second["discount_amount"], second["net_amount"], second["tax_amount"]) == ("2.5", "22.5", "4.5")
    assert invoice["total_amount"] == "147.0"
    wrong = dict(body["sales_invoice"], total_amount="147.01")
    refused = wapi.post("/sales_invoices", json={"sales_invoice": wrong})
    assert sources(refused) == {"total_amount"}


def test_invoice_422s_name_the_field(wapi: httpx2.Client, refs: dict[str, str]) -> None:
    def post(**changes: Any) -> httpx2.Response:
        invoice: dict[str, Any] = {
            "contact_id": refs["customer"],
            "date": "2025-06-01",
            "invoice_lines": [
                {
                    "description": "Work",
                    "ledger_account_id": refs["sales_a"],
                    "unit_price": "10.0",
                    "tax_rate_id": "GB_STANDARD",
                }
            ],
        }
        invoice.update(changes)
        return wapi.post("/sales_invoices", json={"sales_invoice": {k: v for k, v in invoice.items() if v is not None}})

    missing = post(contact_id=None)
    assert error_of(missing) == {
        "$severity": "error",
        "$dataCode": "RecordInvalid",
        "$message": "This field is required.",
        "$source": "contact_id",
    }
    assert sources(post(date=None)) == {"date"}
    assert sources(post(date="2025-02-30")) == {"date"}
    assert sources(post(invoice_lines=[])) == {"invoice_lines"}
    vendor = post(contact_id=refs["supplier"])
    assert couldnt_find(vendor) == {"Customer"}
    assert couldnt_find(post(contact_id="0" * 32)) == {"Customer"}
    lines = [
        {"description": "ok", "ledger_account_id": refs["sales_a"], "unit_price": "1", "tax_rate_id": "GB_STANDARD"},
        {"description": "bad", "ledger_account_id": refs["sales_a"], "unit_price": "1", "tax_rate_id": "GB_LUXURY"},
    ]
    bad_rate = post(invoice_lines=lines)
    assert couldnt_find(bad_rate) == {"TaxRate"}, "Sage names neither the field nor the line (row 9)"
    no_price = post(invoice_lines=[{"description": "x", "ledger_account_id": refs["sales_a"]}])
    assert sources(no_price) == {"invoice_lines.unit_price"}
    not_a_number = post(
        invoice_lines=[{"description": "x", "ledger_account_id": refs["sales_a"], "unit_price": "1O.00"}]
    )
    assert sources(not_a_number) == {"invoice_lines.unit_price"}
    expense_account = post(
        invoice_lines=[{"description": "x", "ledger_account_id": refs["telephone"], "unit_price": 1}]
    )
    assert sources(expense_account) == {"invoice_lines.ledger_account_id"}
    bad_tax = post(
        invoice_lines=[
            {"description": "x", "ledger_account_id": refs["sales_a"], "unit_price": 10, "tax_amount": "1.99"}
        ]
    )
    assert sources(bad_tax) == {"invoice_lines.tax_amount"}
    assert sources(post(status_id="PAID")) == {"status_id"}
    assert sources(post(due_date="2025-05-01")) == {"due_date"}
    assert sources(post(currency_id="EUR")) == {"currency_id"}
    several = post(contact_id=None, date=None)
    assert sources(several) == {"contact_id", "date"}
    assert sources(wapi.post("/sales_invoices", json={"invoice": {}})) == {"sales_invoice", "invoice"}


def test_void_invoice(wapi: httpx2.Client, refs: dict[str, str], writable_server: SandboxServer) -> None:
    invoice = wapi.post(
        "/sales_invoices",
        json={
            "sales_invoice": {
                "contact_id": refs["customer"],
                "date": "2025-06-25",
                "invoice_lines": [
                    {
                        "description": "Oops",
                        "ledger_account_id": refs["sales_a"],
                        "unit_price": "50",
                        "tax_rate_id": "GB_STANDARD",
                    }
                ],
            }
        },
    ).json()
    no_reason = wapi.delete(invoice["$path"])
    assert no_reason.status_code == 422
    assert error_of(no_reason)["$source"] == "void_reason"
    voided = wapi.delete(invoice["$path"], params={"void_reason": "Raised in error"})
    assert voided.status_code == 200, voided.text
    body = voided.json()
    assert body["status"]["id"] == "VOID"
    assert body["void_reason"] == "Raised in error"
    assert body["outstanding_amount"] == "0.0"
    assert body["total_amount"] == "60.0"
    assert wapi.get(invoice["$path"]).json()["status"]["id"] == "VOID"
    again = wapi.delete(invoice["$path"], params={"void_reason": "again"})
    assert again.status_code == 422 and "already been voided" in error_of(again)["$message"]
    paid = wapi.get("/sales_invoices", params={"status_id": "PAID", "items_per_page": 1}).json()["$items"][0]
    refused = wapi.delete(paid["$path"], params={"void_reason": "no"})
    assert refused.status_code == 422 and error_of(refused)["$source"] == "base"
    assert wapi.put(invoice["$path"], json={"sales_invoice": {"notes": "x"}}).status_code == 422


def test_draft_is_deleted_and_can_be_released(wapi: httpx2.Client, refs: dict[str, str]) -> None:
    def draft() -> dict[str, Any]:
        response = wapi.post(
            "/sales_invoices",
            json={
                "sales_invoice": {
                    "contact_id": refs["customer"],
                    "date": "2025-06-26",
                    "status_id": "DRAFT",
                    "invoice_lines": [
                        {
                            "description": "Draft",
                            "ledger_account_id": refs["sales_a"],
                            "unit_price": 10,
                            "tax_rate_id": "GB_STANDARD",
                        }
                    ],
                }
            },
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        assert body["status"]["id"] == "DRAFT" and body["transaction"] is None
        return body

    first = draft()
    deleted = wapi.delete(first["$path"])
    assert deleted.status_code == 204 and deleted.content == b""
    assert wapi.get(first["$path"]).status_code == 404
    second = draft()
    edited = wapi.put(
        second["$path"],
        json={
            "sales_invoice": {
                "invoice_lines": [
                    {
                        "description": "More",
                        "ledger_account_id": refs["sales_a"],
                        "quantity": 3,
                        "unit_price": 10,
                        "tax_rate_id": "GB_STANDARD",
                    }
                ]
            }
        },
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["total_amount"] == "36.0"
    released = wapi.post(f"{second['$path']}/release")
    assert released.status_code == 201
    assert released.json()["status"]["id"] == "UNPAID"
    assert released.json()["transaction"] is not None
    assert wapi.post(f"{second['$path']}/release").status_code == 422


def test_update_unpaid_invoice_reposts(wapi: httpx2.Client, refs: dict[str, str]) -> None:
    created = wapi.post(
        "/sales_invoices",
        json={
            "sales_invoice": {
                "contact_id": refs["customer"],
                "date": "2025-06-27",
                "invoice_lines": [
                    {
                        "description": "A",
                        "ledger_account_id": refs["sales_a"],
                        "unit_price": 100,
                        "tax_rate_id": "GB_STANDARD",
                    }
                ],
            }
        },
    ).json()
    changed = wapi.put(
        created["$path"],
        json={
            "sales_invoice": {
                "reference": "NEW-REF",
                "invoice_lines": [
                    {
                        "description": "B",
                        "ledger_account_id": refs["sales_a"],
                        "unit_price": 200,
                        "tax_rate_id": "GB_STANDARD",
                    }
                ],
            }
        },
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["reference"], body["total_amount"], body["outstanding_amount"]) == ("NEW-REF", "240.0", "240.0")
    assert body["invoice_number"] == created["invoice_number"]
    assert body["transaction"]["id"] == created["transaction"]["id"]


def test_second_business_writes_stay_there(wapi: httpx2.Client) -> None:
    headers = {"X-Business": SECOND_BUSINESS_ID}
    created = wapi.post(
        "/contacts", headers=headers, json={"contact": {"name": "Fern Client", "contact_type_ids": ["CUSTOMER"]}}
    )
    assert created.status_code == 201 and created.headers["x-business"] == SECOND_BUSINESS_ID
    assert wapi.get(created.json()["$path"]).status_code == 404
    assert wapi.get(created.json()["$path"], headers=headers).status_code == 200


def test_ledger_balances_after_all_the_writes(writable_server: SandboxServer, wapi: httpx2.Client) -> None:
    """Runs last in this module: whatever was posted, the books balance and debtors match invoices."""
    for business_id in (LEAD_BUSINESS_ID, SECOND_BUSINESS_ID):
        ctx = writable_server.sandbox.context(business_id, SANDBOX_USER_ID)
        balances = trial_balance(ctx)
        assert sum(balances.values(), Decimal(0)) == 0
        debtors = balances[account_by_nominal(ctx, DEBTORS_CONTROL)["id"]]
        headers = {"X-Business": business_id}
        customers = wapi.get(
            "/contacts",
            headers=headers,
            params={"contact_type_id": "CUSTOMER", "attributes": "balance", "items_per_page": 200},
        ).json()["$items"]
        # customers' balances: open invoices less open credit notes and unallocated receipts
        assert debtors == sum((Decimal(c["balance"]) for c in customers), Decimal(0))


def test_update_user_and_business(wapi: httpx2.Client) -> None:
    user = wapi.put("/user", json={"user": {"first_name": "Samantha"}})
    assert user.status_code == 200, user.text
    assert user.json()["first_name"] == "Samantha"
    assert user.json()["displayed_as"] == "Samantha Hartley"
    assert wapi.put("/user", json={"user": {"locale": "xx-XX"}}).status_code == 422
    business = wapi.put("/businesses/lead", json={"business": {"telephone": "0113 000 0000"}})
    assert business.status_code == 200, business.text
    assert business.json()["telephone"] == "0113 000 0000"
    assert business.json()["name"] == "Hartley & Finch Ltd"
    assert wapi.get("/businesses/lead").json()["telephone"] == "0113 000 0000"
    assert sources(wapi.put("/businesses/lead", json={"business": {"name": ""}})) == {"name"}
