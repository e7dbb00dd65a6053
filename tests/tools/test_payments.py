"""Payments toolset through a real MCP client against the sandbox: customer receipts, supplier payments,
credit note allocations and the payment list.

Each test makes its own contacts and documents (raw Sage bodies through sage_api_write, so nothing here
depends on other toolsets), so the shared sandbox's other data never changes the expected numbers.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from typing import Any

import pytest
from mcp import Client

from tests.test_tools import err, ok

pytestmark = pytest.mark.anyio
TODAY = dt.date.today().isoformat()


async def sage_get(client: Client, path: str, query: dict[str, Any] | None = None) -> Any:
    return (await ok(client, "sage_api_get", {"path": path, **({"query": query} if query else {})}))["data"]


async def sage_post(client: Client, path: str, body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    args = {"method": "POST", "path": path, "body": body, **extra}
    data: dict[str, Any] = (await ok(client, "sage_api_write", args))["data"]
    return data


async def new_contact(client: Client, kind: str) -> dict[str, Any]:
    name = f"{kind.title()} {secrets.token_hex(3)} Ltd"
    return await sage_post(client, "/contacts", {"contact": {"name": name, "contact_type_ids": [kind]}})


async def ledger_account(client: Client, scope: str, nominal_code: int) -> str:
    page = await sage_get(
        client, "/ledger_accounts", {"visible_in": scope, "attributes": "nominal_code", "items_per_page": 200}
    )
    return next(str(a["id"]) for a in page["$items"] if a["nominal_code"] == nominal_code)


async def sales_document(client: Client, kind: str, contact_id: str, total: str) -> dict[str, Any]:
    """A zero-rated sales invoice or credit note of ``total`` (so its total is exactly ``total``)."""
    lines = "invoice_lines" if kind == "sales_invoice" else "credit_note_lines"
    line = {
        "description": "Consulting",
        "ledger_account_id": await ledger_account(client, "sales", 4000),
        "quantity": 1,
        "unit_price": total,
        "tax_rate_id": "GB_ZERO",
    }
    body = {kind: {"contact_id": contact_id, "date": TODAY, lines: [line]}}
    return await sage_post(client, f"/{kind}s", body)


async def bill(client: Client, contact_id: str, total: str) -> dict[str, Any]:
    line = {
        "description": "Stationery",
        "ledger_account_id": await ledger_account(client, "expenses", 7500),
        "quantity": 1,
        "unit_price": total,
        "tax_rate_id": "GB_ZERO",
    }
    body = {"purchase_invoice": {"contact_id": contact_id, "date": TODAY, "due_date": TODAY, "invoice_lines": [line]}}
    return await sage_post(client, "/purchase_invoices", body)


async def state(client: Client, collection: str, record_id: str) -> tuple[str, str]:
    raw = await sage_get(client, f"/{collection}/{record_id}")
    return raw["status"]["id"], str(Decimal(raw["outstanding_amount"]).quantize(Decimal("0.01")))  # Sage: "0.0"


async def current_account(client: Client) -> dict[str, Any]:
    accounts = (await ok(client, "list_bank_accounts"))["items"]
    return next(a for a in accounts if a["type"] == "CHECKING")


# -- customer receipts -----------------------------------------------------------------------------------


async def test_part_payment_against_two_invoices_then_the_rest_with_a_discount_and_money_on_account(
    client: Client,
) -> None:
    customer = await new_contact(client, "CUSTOMER")
    first = await sales_document(client, "sales_invoice", customer["id"], "100.00")
    second = await sales_document(client, "sales_invoice", customer["id"], "250.00")
    bank_before = (await current_account(client))["balance"]

    args = {
        "contact_id": customer["id"],
        "allocations": [
            {"id": first["id"], "amount": "100.00"},
            {"id": second["id"], "amount": "150.00"},
        ],
        "reference": "BACS 1001",
        "idempotency_key": f"receipt-{secrets.token_hex(4)}",
    }
    receipt = await ok(client, "record_payment", {**args, "type": "customer_receipt"})
    assert receipt["type"] == "customer_receipt" and receipt["total"] == "250.00" and receipt["date"] == TODAY
    assert receipt["bank_account"].startswith("Bank Current Account")  # the only current account is the default
    assert [(a["id"], a["amount"], a["status"], a["outstanding"]) for a in receipt["allocations"]] == [
        (first["id"], "100.00", "PAID", "0.00"),
        (second["id"], "150.00", "PART_PAID", "100.00"),
    ]
    assert "on_account" not in receipt and len(receipt["idempotency_id"]) == 32
    assert await state(client, "sales_invoices", first["id"]) == ("PAID", "0.00")
    assert await state(client, "sales_invoices", second["id"]) == ("PART_PAID", "100.00")
    bank_after = (await current_account(client))["balance"]
    assert Decimal(bank_after) - Decimal(bank_before) == Decimal("250.00")

    # The same key again: Sage replays the first receipt (the invoices now look paid, so it goes to Sage).
    again = await ok(client, "record_payment", {**args, "type": "customer_receipt"})
    assert again["id"] == receipt["id"] and again["idempotency_id"] == receipt["idempotency_id"]
    theirs = await ok(client, "list_payments", {"contact_id": customer["id"]})
    assert theirs["total"] == 1 and theirs["items"][0]["paid"].count(",") == 1
    assert await state(client, "sales_invoices", second["id"]) == ("PART_PAID", "100.00")
    assert (await current_account(client))["balance"] == bank_after

    # The rest of the second invoice, 5.00 of it as discount, and 30.00 more than is owed.
    rest = await ok(
        client,
        "record_payment",
        {
            "type": "customer_receipt",
            "contact_id": customer["id"],
            "allocations": [{"id": second["id"], "amount": "95.00", "discount": "5.00"}],
            "total_amount": "125.00",
            "date": TODAY,
        },
    )
    assert rest["allocations"] == [
        {
            "id": second["id"],
            "number": second["displayed_as"],
            "amount": "95.00",
            "discount": "5.00",
            "status": "PAID",
            "outstanding": "0.00",
        }
    ]
    assert rest["on_account"] == "30.00" and "payment on account" in rest["note"]
    assert await state(client, "sales_invoices", second["id"]) == ("PAID", "0.00")
    listed = await ok(client, "list_payments", {"contact_id": customer["id"], "type": "customer_receipt"})
    assert listed["total"] == 2 and listed["items"][0]["on_account"] == "30.00"


async def test_whole_receipt_on_account(client: Client) -> None:
    customer = await new_contact(client, "CUSTOMER")
    receipt = await ok(
        client, "record_payment", {"type": "customer_receipt", "contact_id": customer["id"], "total_amount": "40.00"}
    )
    assert receipt["on_account"] == "40.00" and "allocations" not in receipt
    message = await err(client, "record_payment", {"type": "customer_receipt", "contact_id": customer["id"]})
    assert "total_amount is required" in message


async def test_receipt_checks_name_the_argument_before_sending(client: Client) -> None:
    customer = await new_contact(client, "CUSTOMER")
    other = await new_contact(client, "CUSTOMER")
    supplier = await new_contact(client, "VENDOR")
    invoice = await sales_document(client, "sales_invoice", customer["id"], "80.00")
    theirs = await sales_document(client, "sales_invoice", other["id"], "10.00")

    async def refused(allocations: list[dict[str, Any]], **extra: Any) -> str:
        return await err(
            client,
            "record_payment",
            {"type": "customer_receipt", "contact_id": customer["id"], "allocations": allocations, **extra},
        )

    # argument validation (the schema)
    message = await refused([{"id": invoice["id"], "amount": "12,50"}])
    assert "allocations[0].amount" in message and "decimal" in message and "Nothing was sent" in message
    message = await refused([{"id": invoice["id"]}])
    assert "allocations[0].amount: required" in message
    # ToolErrors before anything is sent
    message = await refused([{"id": invoice["id"], "amount": "1.005"}])
    assert "allocations[0].amount" in message and "two decimals" in message
    message = await refused([{"id": invoice["id"], "amount": "-5.00"}])
    assert "allocations[0].amount" in message and "greater than 0" in message
    message = await refused([{"id": invoice["id"], "amount": "50.00"}], total_amount="40.00")
    assert "total_amount 40.00 is less than the 50.00 allocated" in message
    message = await refused([{"id": invoice["id"], "amount": "80.01"}])
    assert "allocations[0].amount: 80.01 is more than the 80.00 outstanding" in message
    message = await refused([{"id": invoice["id"], "amount": "75.00", "discount": "5.01"}])
    assert "allocations[0].amount: 75.00 plus discount 5.01" in message
    message = await refused([{"id": invoice["id"], "amount": "1.00"}, {"id": theirs["id"], "amount": "1.00"}])
    assert "allocations[1].id" in message and f"not {customer['name']}" in message
    message = await refused([{"id": invoice["id"], "amount": "1.00"}] * 2)
    assert "allocations[1].id" in message and "twice" in message
    message = await err(
        client, "record_payment", {"type": "customer_receipt", "contact_id": supplier["id"], "total_amount": "1.00"}
    )
    assert "contact_id" in message and "not a customer" in message
    # not found
    message = await refused([{"id": "0" * 32, "amount": "1.00"}])
    assert "allocations[0].id" in message and "list_invoices" in message
    message = await err(
        client, "record_payment", {"type": "customer_receipt", "contact_id": "0" * 32, "total_amount": "1.00"}
    )
    assert "contact_id" in message and "list_contacts" in message
    # Sage's 422, with the field it names
    message = await refused([{"id": invoice["id"], "amount": "1.00"}], bank_account_id="f" * 32)
    assert "HTTP 422" in message and "bank_account_id" in message
    assert await state(client, "sales_invoices", invoice["id"]) == ("UNPAID", "80.00")
    assert (await ok(client, "list_payments", {"contact_id": customer["id"]}))["total"] == 0

    # A paid invoice is refused locally; with a key the call goes to Sage, which refuses it too.
    await ok(
        client,
        "record_payment",
        {
            "type": "customer_receipt",
            "contact_id": customer["id"],
            "allocations": [{"id": invoice["id"], "amount": "80.00"}],
        },
    )
    message = await refused([{"id": invoice["id"], "amount": "1.00"}])
    assert "allocations[0].id" in message and "is PAID" in message and "Nothing was sent" in message
    message = await refused([{"id": invoice["id"], "amount": "1.00"}], idempotency_key="fresh-key-1")
    assert "is PAID" in message and "Sage refused it too" in message


async def test_bank_account_must_be_chosen_when_there_is_no_single_current_account(client: Client) -> None:
    from sage_mcp.sandbox import SECOND_BUSINESS_ID

    second = {"business_id": SECOND_BUSINESS_ID}
    contact = {"contact": {"name": "Two Banks Ltd", "contact_type_ids": ["CUSTOMER"]}}
    customer = await sage_post(client, "/contacts", contact, **second)
    spare = {"bank_account_type_id": "CHECKING", "bank_account_details": {"account_name": "Spare"}}
    extra = await sage_post(client, "/bank_accounts", {"bank_account": spare}, **second)
    try:
        message = await err(
            client,
            "record_payment",
            {"type": "customer_receipt", "contact_id": customer["id"], "total_amount": "5.00", **second},
        )
        assert "bank_account_id is required" in message and "2 active current accounts" in message
        assert extra["id"] in message and "Spare" in message
    finally:
        await ok(client, "sage_api_write", {"method": "DELETE", "path": f"/bank_accounts/{extra['id']}", **second})


# -- supplier payments ---------------------------------------------------------------------------------------


async def test_supplier_payment_of_a_bill(client: Client) -> None:
    supplier = await new_contact(client, "VENDOR")
    customer = await new_contact(client, "CUSTOMER")
    purchase = await bill(client, supplier["id"], "240.00")
    account = await current_account(client)

    paid = await ok(
        client,
        "record_payment",
        {
            "type": "supplier_payment",
            "contact_id": supplier["id"],
            "allocations": [{"id": purchase["id"], "amount": "240.00"}],
            "bank_account_id": account["id"],
            "reference": "BACS 77",
        },
    )
    assert paid["type"] == "supplier_payment" and paid["total"] == "240.00" and paid["bank_account_id"] == account["id"]
    assert paid["allocations"][0]["status"] == "PAID" and paid["allocations"][0]["outstanding"] == "0.00"
    assert await state(client, "purchase_invoices", purchase["id"]) == ("PAID", "0.00")

    rows = await ok(client, "list_bank_transactions", {"from_date": TODAY, "all_pages": True})
    row = next(r for r in rows["items"] if r["id"] == paid["id"])
    assert (row["type"], row["amount"], row["reference"]) == ("supplier_payment", "-240.00", "BACS 77")

    message = await err(
        client, "record_payment", {"type": "supplier_payment", "contact_id": customer["id"], "total_amount": "1.00"}
    )
    assert "not a supplier" in message
    message = await err(
        client,
        "record_payment",
        {"type": "supplier_payment", "contact_id": supplier["id"], "allocations": [{"id": "0" * 32, "amount": "1.00"}]},
    )
    assert "allocations[0].id" in message and "list_invoices" in message
    message = await err(
        client,
        "record_payment",
        {"type": "supplier_payment", "contact_id": supplier["id"], "total_amount": "1.00", "bank_account_id": "f" * 32},
    )
    assert "HTTP 422" in message and "bank_account_id" in message
    message = await err(
        client, "record_payment", {"type": "supplier_payment", "contact_id": supplier["id"], "date": "2026-02-30"}
    )
    assert "date" in message and "YYYY-MM-DD" in message


# -- credit notes ------------------------------------------------------------------------------------------------


async def test_credit_note_allocated_to_an_invoice(client: Client) -> None:
    customer = await new_contact(client, "CUSTOMER")
    invoice = await sales_document(client, "sales_invoice", customer["id"], "120.00")
    credit = await sales_document(client, "sales_credit_note", customer["id"], "50.00")
    args = {
        "credit_note_id": credit["id"],
        "allocations": [{"invoice_id": invoice["id"], "amount": "50.00"}],
        "idempotency_key": f"cn-{secrets.token_hex(4)}",
    }
    done = await ok(client, "allocate_credit_note", args)
    assert done["type"] == "customer_allocation" and done["contact_id"] == customer["id"]
    by_id = {a["id"]: a for a in done["allocations"]}
    assert (by_id[invoice["id"]]["amount"], by_id[invoice["id"]]["status"]) == ("50.00", "PART_PAID")
    assert by_id[invoice["id"]]["outstanding"] == "70.00"
    assert (by_id[credit["id"]]["amount"], by_id[credit["id"]]["status"]) == ("-50.00", "PAID")
    assert await state(client, "sales_invoices", invoice["id"]) == ("PART_PAID", "70.00")
    assert await state(client, "sales_credit_notes", credit["id"]) == ("PAID", "0.00")

    again = await ok(client, "allocate_credit_note", args)  # same key: nothing new
    assert again["id"] == done["id"]
    allocations = await sage_get(client, "/contact_allocations", {"contact_id": customer["id"]})
    assert allocations["$total"] == 1
    assert await state(client, "sales_invoices", invoice["id"]) == ("PART_PAID", "70.00")


async def test_credit_note_allocation_checks(client: Client) -> None:
    customer = await new_contact(client, "CUSTOMER")
    other = await new_contact(client, "CUSTOMER")
    invoice = await sales_document(client, "sales_invoice", customer["id"], "100.00")
    theirs = await sales_document(client, "sales_invoice", other["id"], "100.00")
    credit = await sales_document(client, "sales_credit_note", customer["id"], "30.00")

    def allocate(*rows: tuple[str, str], **extra: Any) -> dict[str, Any]:
        return {
            "credit_note_id": credit["id"],
            "allocations": [{"invoice_id": i, "amount": a} for i, a in rows],
            **extra,
        }

    message = await err(client, "allocate_credit_note", allocate((invoice["id"], "30.01")))
    assert "allocations[].amount" in message and "more than the 30.00 left" in message
    message = await err(client, "allocate_credit_note", allocate((theirs["id"], "10.00")))
    assert "allocations[0].invoice_id" in message and "belongs to" in message
    message = await err(client, "allocate_credit_note", {"credit_note_id": credit["id"], "allocations": []})
    assert "allocations" in message and "Nothing was sent" in message  # schema: minItems
    message = await err(
        client, "allocate_credit_note", {**allocate((invoice["id"], "1.00")), "credit_note_id": "0" * 32}
    )
    assert "credit_note_id" in message and "list_invoices" in message

    await ok(client, "allocate_credit_note", allocate((invoice["id"], "30.00")))
    message = await err(client, "allocate_credit_note", allocate((invoice["id"], "1.00")))
    assert "credit_note_id" in message and "is PAID" in message and "Nothing was sent" in message
    # With a key the used-up credit note goes to Sage (a retry would be replayed); Sage's 422 is reported.
    message = await err(client, "allocate_credit_note", allocate((invoice["id"], "1.00"), idempotency_key="k-cn-2"))
    assert "is PAID" in message and "Sage refused it too" in message


async def test_purchase_credit_note_settles_a_bill(client: Client) -> None:
    supplier = await new_contact(client, "VENDOR")
    purchase = await bill(client, supplier["id"], "60.00")
    line = {
        "description": "Returned",
        "ledger_account_id": await ledger_account(client, "expenses", 7500),
        "quantity": 1,
        "unit_price": "60.00",
        "tax_rate_id": "GB_ZERO",
    }
    credit = await sage_post(
        client,
        "/purchase_credit_notes",
        {"purchase_credit_note": {"contact_id": supplier["id"], "date": TODAY, "credit_note_lines": [line]}},
    )
    done = await ok(
        client,
        "allocate_credit_note",
        {"credit_note_id": credit["id"], "allocations": [{"invoice_id": purchase["id"], "amount": "60.00"}]},
    )
    assert done["type"] == "supplier_allocation"
    assert await state(client, "purchase_invoices", purchase["id"]) == ("PAID", "0.00")


# -- the list ----------------------------------------------------------------------------------------------------


async def test_list_payments_filters(client: Client) -> None:
    receipts = await ok(client, "list_payments", {"type": "customer_receipt", "items_per_page": 50})
    assert receipts["items"] and all(p["type"] == "customer_receipt" for p in receipts["items"])
    dates = [p["date"] for p in receipts["items"]]
    assert dates == sorted(dates, reverse=True)
    payments = await ok(client, "list_payments", {"type": "supplier_payment", "all_pages": True})
    assert payments["items"] and all(p["type"] == "supplier_payment" for p in payments["items"])

    window = await ok(client, "list_payments", {"from_date": dates[-1], "to_date": dates[0], "all_pages": True})
    assert all(dates[-1] <= p["date"] <= dates[0] for p in window["items"])
    account = await current_account(client)
    by_bank = await ok(client, "list_payments", {"bank_account_id": account["id"], "items_per_page": 5})
    assert by_bank["items"] and all(p["bank_account"].startswith("Bank Current Account") for p in by_bank["items"])

    # unknown ids filter to nothing (Sage does not 404 on list filters)
    nobody = await ok(client, "list_payments", {"contact_id": "0" * 32})
    assert nobody["total"] == 0 and nobody["items"] == []
    # argument validation names the field; Sage's own 422s are never reached (the schema checks first)
    message = await err(client, "list_payments", {"type": "receipt"})
    assert "type" in message and "customer_receipt" in message
    message = await err(client, "list_payments", {"items_per_page": 500})
    assert "items_per_page" in message
