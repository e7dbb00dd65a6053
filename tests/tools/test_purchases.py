"""Purchase tools through a real MCP client (both protocol eras) against the sandbox: purchase invoices
and purchase credit notes, each listed, read, recorded, changed and deleted."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import pytest
from mcp import Client

from tests.test_tools import a_customer, err, ok

pytestmark = pytest.mark.anyio
BOGUS = "0" * 32


def tag(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4).upper()}"


async def a_supplier(client: Client) -> dict[str, Any]:
    page = await ok(client, "list_contacts", {"contact_type": "supplier", "items_per_page": 5})
    return await ok(client, "get_contact", {"contact_id": page["items"][0]["id"]})


async def count(client: Client, search: str, kind: str = "purchase_invoice") -> int:
    return int((await ok(client, "list_invoices", {"type": kind, "search": search}))["total"])


# -- purchase invoices --------------------------------------------------------------------------------------


async def test_purchase_invoice_is_recorded_listed_changed_and_deleted(client: Client) -> None:
    supplier = await a_supplier(client)
    bill = tag("BILL")
    args = {
        "contact_id": supplier["id"],
        "date": "2026-11-06",
        "vendor_reference": bill,
        "idempotency_key": bill,
        "lines": [
            {"description": "Paper", "quantity": "3", "unit_price": "0.335"},
            {"description": "Phone line", "unit_price": "45.00", "ledger_account_id": "7502", "tax_rate_id": "GB_ZERO"},
        ],
    }
    created = await ok(client, "create_invoice", {**args, "type": "purchase_invoice"})
    # 3 x 0.335 = 1.005 -> 1.01, VAT at the account's 20%: 0.202 -> 0.20; 45.00 zero-rated.
    assert (created["net"], created["tax"], created["total"]) == ("46.01", "0.20", "46.21")
    assert created["status"] == "UNPAID" and created["outstanding"] == "46.21"
    assert created["number"] == bill and created["vendor_reference"] == bill
    terms = dt.timedelta(days=supplier.get("credit_days", 30))
    assert created["due_date"] == (dt.date(2026, 11, 6) + terms).isoformat(), "due date from the supplier's terms"
    assert (await ok(client, "create_invoice", {**args, "type": "purchase_invoice"}))["id"] == created["id"]
    assert await count(client, bill) == 1, "a repeated key records nothing new"

    full = (await ok(client, "sage_api_get", {"path": f"/purchase_invoices/{created['id']}"}))["data"]
    accounts = [line["ledger_account"]["displayed_as"] for line in full["invoice_lines"]]
    assert "5000" in accounts[0] and "7502" in accounts[1], "no account given: the first expense account"
    got = (await ok(client, "list_invoices", {"type": "purchase_invoice", "id": created["id"]}))["items"][0]
    assert got["lines"][0]["net"] == "1.01" and got["contact_id"] == supplier["id"]

    listed = await ok(
        client, "list_invoices", {"type": "purchase_invoice", "contact_id": supplier["id"], "statuses": ["UNPAID"]}
    )
    assert created["id"] in [i["id"] for i in listed["items"]]
    assert all(i["contact_id"] == supplier["id"] and i["status"] == "UNPAID" for i in listed["items"])
    window = await ok(
        client, "list_invoices", {"type": "purchase_invoice", "from_date": "2026-11-06", "to_date": "2026-11-06"}
    )
    assert window["items"] and all(i["date"] == "2026-11-06" for i in window["items"])

    changed = await ok(
        client,
        "update_invoice",
        {
            "type": "purchase_invoice",
            "id": created["id"],
            "reference": "PO-1",
            "lines": [{"description": "Toner", "quantity": "2", "unit_price": "19.995", "ledger_account_id": "7504"}],
        },
    )
    # 2 x 19.995 = 39.99; VAT 7.998 -> 8.00.
    assert (changed["net"], changed["tax"], changed["total"]) == ("39.99", "8.00", "47.99")
    assert changed["reference"] == "PO-1" and changed["vendor_reference"] == bill and len(changed["lines"]) == 1

    late = await err(
        client, "update_invoice", {"type": "purchase_invoice", "id": created["id"], "due_date": "2026-11-01"}
    )
    assert "422" in late and "due_date" in late
    zero = await err(
        client,
        "update_invoice",
        {
            "type": "purchase_invoice",
            "id": created["id"],
            "lines": [{"description": "x", "quantity": "0", "unit_price": "1"}],
        },
    )
    assert "422" in zero and "lines[].quantity" in zero

    gone = await ok(
        client, "void_invoice", {"type": "purchase_invoice", "reason": "Entered in error", "id": created["id"]}
    )
    assert gone == {**gone, "id": created["id"], "status": "DELETED"}
    assert "list_invoices" in await err(client, "list_invoices", {"type": "purchase_invoice", "id": created["id"]})
    assert await count(client, bill) == 0


async def test_purchase_invoice_refusals(client: Client) -> None:
    supplier = await a_supplier(client)
    customer = await a_customer(client)
    line = {"description": "x", "unit_price": "1"}
    not_supplier = await err(
        client, "create_invoice", {"type": "purchase_invoice", "contact_id": customer["id"], "lines": [line]}
    )
    assert "contact_id" in not_supplier and "not a supplier" in not_supplier
    discount = await err(
        client,
        "create_invoice",
        {"type": "purchase_invoice", "contact_id": supplier["id"], "lines": [{**line, "discount_amount": "1"}]},
    )
    assert "lines[0].discount_amount" in discount and "no discount" in discount
    late = await err(
        client,
        "create_invoice",
        {
            "type": "purchase_invoice",
            "contact_id": supplier["id"],
            "date": "2026-11-10",
            "due_date": "2026-11-01",
            "lines": [line],
        },
    )
    assert "422" in late and "due_date" in late
    rate = await err(
        client,
        "create_invoice",
        {"type": "purchase_invoice", "contact_id": supplier["id"], "lines": [{**line, "tax_rate_id": "GB_X"}]},
    )
    assert "lines[0].tax_rate_id" in rate and "GB_STANDARD" in rate
    assert "list_contacts" in await err(
        client, "create_invoice", {"type": "purchase_invoice", "contact_id": BOGUS, "lines": [line]}
    )

    assert "status" in await err(client, "list_invoices", {"type": "purchase_invoice", "statuses": ["OVERDUE"]})
    assert "'detail'" in await err(client, "list_invoices", {"type": "purchase_invoice", "detail": "all"})
    assert "list_invoices" in await err(client, "list_invoices", {"type": "purchase_invoice", "id": BOGUS})
    assert "id: required" in await err(client, "update_invoice", {"type": "purchase_invoice", "notes": "x"})
    assert "list_invoices" in await err(
        client, "update_invoice", {"type": "purchase_invoice", "id": BOGUS, "reference": "x"}
    )
    assert "id: required" in await err(
        client, "void_invoice", {"type": "purchase_invoice", "reason": "Entered in error"}
    )
    assert "list_invoices" in await err(
        client, "void_invoice", {"type": "purchase_invoice", "reason": "Entered in error", "id": BOGUS}
    )
    paid = (await ok(client, "list_invoices", {"type": "purchase_invoice", "statuses": ["PAID"], "items_per_page": 1}))[
        "items"
    ][0]
    refused = await err(
        client, "void_invoice", {"type": "purchase_invoice", "reason": "Entered in error", "id": paid["id"]}
    )
    assert "422" in refused and "paid" in refused


# -- purchase credit notes -------------------------------------------------------------------------------------


async def test_purchase_credit_notes(client: Client) -> None:
    supplier = await a_supplier(client)
    bill = tag("SUPPLIER-CREDIT-REF")  # 28 characters: a vendor reference, too long for a reference
    invoice = await ok(
        client,
        "create_invoice",
        {
            "type": "purchase_invoice",
            "contact_id": supplier["id"],
            "date": "2026-11-07",
            "vendor_reference": bill,
            "lines": [{"description": "Chairs", "quantity": "4", "unit_price": "24.99", "ledger_account_id": "40"}],
        },
    )
    key = tag("pcn")
    whole = await ok(
        client, "create_invoice", {"type": "purchase_credit_note", "invoice_id": invoice["id"], "idempotency_key": key}
    )
    assert (whole["net"], whole["tax"], whole["total"]) == (invoice["net"], invoice["tax"], invoice["total"])
    assert whole["contact_id"] == supplier["id"] and whole["original_invoice_date"] == "2026-11-07"
    assert whole["reference"] == bill[:25], "Sage's reference holds 25 characters"
    again = await ok(
        client, "create_invoice", {"type": "purchase_credit_note", "invoice_id": invoice["id"], "idempotency_key": key}
    )
    assert again["id"] == whole["id"]

    credit = tag("CN")
    note = await ok(
        client,
        "create_invoice",
        {
            "type": "purchase_credit_note",
            "contact_id": supplier["id"],
            "vendor_reference": credit,
            "lines": [{"description": "Refund", "quantity": "1", "unit_price": "10.005", "tax_rate_id": "GB_LOWER"}],
        },
    )
    # 10.005 -> 10.01; VAT 5%: 0.5005 -> 0.50.
    assert (note["net"], note["tax"], note["total"]) == ("10.01", "0.50", "10.51") and note["number"] == credit
    assert [
        c["id"]
        for c in (await ok(client, "list_invoices", {"type": "purchase_credit_note", "search": credit}))["items"]
    ] == [note["id"]]
    got = (await ok(client, "list_invoices", {"type": "purchase_credit_note", "id": note["id"]}))["items"][0]
    assert got["lines"][0]["tax_rate_id"] == "GB_LOWER" and got["outstanding"] == "10.51"

    changed = await ok(
        client,
        "update_invoice",
        {"type": "purchase_credit_note", "id": note["id"], "lines": [{"description": "Refund", "unit_price": "12.00"}]},
    )
    assert (changed["net"], changed["tax"], changed["total"]) == ("12.00", "2.40", "14.40")
    zero = await err(
        client,
        "update_invoice",
        {
            "type": "purchase_credit_note",
            "id": note["id"],
            "lines": [{"description": "x", "quantity": "-1", "unit_price": "1"}],
        },
    )
    assert "422" in zero and "lines[].quantity" in zero

    assert (
        await ok(
            client, "void_invoice", {"type": "purchase_credit_note", "reason": "Entered in error", "id": note["id"]}
        )
    )["status"] == "DELETED"
    assert "list_invoices" in await err(
        client, "update_invoice", {"type": "purchase_credit_note", "id": note["id"], "vendor_reference": "x"}
    )


async def test_purchase_credit_note_refusals(client: Client) -> None:
    assert "statuses" in await err(client, "list_invoices", {"type": "purchase_credit_note", "statuses": ["open"]})
    assert "list_invoices" in await err(client, "list_invoices", {"type": "purchase_credit_note", "id": BOGUS})
    assert "lines" in await err(client, "create_invoice", {"type": "purchase_credit_note", "contact_id": BOGUS})
    assert "list_invoices" in await err(client, "create_invoice", {"type": "purchase_credit_note", "invoice_id": BOGUS})
    assert "date" in await err(
        client, "create_invoice", {"type": "purchase_credit_note", "invoice_id": BOGUS, "date": "7/11/2026"}
    )
    supplier = await a_supplier(client)
    quantity = await err(
        client,
        "create_invoice",
        {
            "type": "purchase_credit_note",
            "contact_id": supplier["id"],
            "lines": [{"description": "x", "quantity": "0", "unit_price": "1"}],
        },
    )
    assert "422" in quantity and "lines[].quantity" in quantity
    assert "id: required" in await err(client, "update_invoice", {"type": "purchase_credit_note", "date": "2026-11-01"})
    assert "id: required" in await err(
        client, "void_invoice", {"type": "purchase_credit_note", "reason": "Entered in error"}
    )
    assert "list_invoices" in await err(
        client, "void_invoice", {"type": "purchase_credit_note", "reason": "Entered in error", "id": BOGUS}
    )
    used = (await ok(client, "list_invoices", {"type": "purchase_credit_note", "statuses": ["PAID"]}))["items"][0]
    refused = await err(
        client, "void_invoice", {"type": "purchase_credit_note", "reason": "Entered in error", "id": used["id"]}
    )
    assert "422" in refused and "paid" in refused
