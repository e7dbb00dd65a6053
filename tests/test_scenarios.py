"""What a bookkeeper asks of an agent, done with nothing but the tools (every toolset, as the demo offers)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from mcp import Client

from sage_mcp.config import Settings
from sage_mcp.server import create_server
from tests.test_tools import ok

pytestmark = pytest.mark.anyio


async def test_who_owes_us_money_and_how_much(client: Client) -> None:
    customers = await ok(client, "list_contacts", {"contact_type": "customer", "all_pages": True})
    owing = {c["id"]: Decimal(c["balance"]) for c in customers["items"] if Decimal(c.get("balance", "0")) > 0}
    assert owing, "the seeded books have customers who owe money"
    open_invoices: dict[str, Decimal] = {}
    for status in ("UNPAID", "PART_PAID"):
        page = await ok(client, "list_invoices", {"statuses": [status], "all_pages": True})
        for invoice in page["items"]:
            open_invoices[invoice["contact_id"]] = open_invoices.get(invoice["contact_id"], Decimal(0)) + Decimal(
                invoice["outstanding"]
            )
    # A customer's balance is what their open invoices still owe, less any unallocated credit.
    for contact_id, balance in owing.items():
        assert balance <= open_invoices.get(contact_id, Decimal(0))


async def test_part_payment_against_two_invoices(client: Client) -> None:
    customer = (await ok(client, "find_contact", {"query": "kestrel engineering"}))["items"][0]
    invoices = []
    for amount in ("100.00", "250.00"):
        created = await ok(
            client,
            "create_invoice",
            {
                "contact_id": customer["id"],
                "lines": [{"description": "Work", "unit_price": amount, "tax_rate_id": "GB_ZERO"}],
            },
        )
        invoices.append(created["id"])
    await ok(
        client,
        "record_payment",
        {
            "type": "customer_receipt",
            "contact_id": customer["id"],
            "allocations": [
                {"id": invoices[0], "amount": "100.00"},
                {"id": invoices[1], "amount": "50.00"},
            ],
        },
    )
    first = (await ok(client, "list_invoices", {"id": invoices[0]}))["items"][0]
    second = (await ok(client, "list_invoices", {"id": invoices[1]}))["items"][0]
    assert (first["status"], first["outstanding"]) == ("PAID", "0.00")
    assert (second["status"], second["outstanding"]) == ("PART_PAID", "200.00")


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_book_an_expense_with_its_receipt_attached(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory, mode: str
) -> None:
    receipts = tmp_path_factory.mktemp("receipts")  # a folder the user allowed with SAGE_MCP_FILE_ROOTS
    receipt = receipts / "fuel-receipt.png"
    receipt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    allowed = settings.model_copy(update={"file_roots": str(receipts)})
    async with Client(create_server(allowed), mode=mode) as client:
        expense = await ok(
            client,
            "record_payment",
            {
                "type": "other_payment",
                "reference": "FUEL-17",
                "lines": [{"ledger_account_id": "7300", "total_amount": "60.00", "tax_rate_id": "GB_STANDARD"}],
            },
        )
        attach_to = {"type": "other_payment", "id": expense["id"]}
        attached = await ok(client, "upload_attachment", {"attach_to": attach_to, "path": str(receipt)})
        listed = await ok(client, "list_attachments", {"attach_to": attach_to})
    assert [a["id"] for a in listed["items"]] == [attached["id"]]


async def test_post_a_balanced_journal(client: Client) -> None:
    journal = await ok(
        client,
        "create_journal",
        {
            "date": "2026-11-01",
            "reference": "ACCR-11",
            "lines": [
                {"ledger_account_id": "7600", "debit": "450.00", "details": "Accountancy accrual"},
                {"ledger_account_id": "2109", "credit": "450.00"},
            ],
        },
    )
    journals = await ok(client, "list_journals", {"all_pages": True})
    assert journal["id"] in {j["id"] for j in journals["items"]}


async def test_read_an_endpoint_no_curated_tool_covers(client: Client) -> None:
    found = await ok(client, "find_sage_endpoint", {"query": "payment methods", "method": "GET"})
    assert any(op["path"] == "/payment_methods" for op in found["items"])
    methods = await ok(client, "sage_api_get", {"path": "/payment_methods", "query": {"items_per_page": 5}})
    assert {m["id"] for m in methods["data"]["$items"]} >= {"BANK_TRANSFER"}
