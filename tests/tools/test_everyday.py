"""The default catalogue's everyday jobs through a real MCP client against the sandbox: money allocated
oldest first, a bill and a money-out entry with their receipt attached in the same call, refunds, a journal
that reverses itself, bank and clearing accounts, closest-match searches, a tool of another toolset, and
the group reports with business_id "all"."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from sage_mcp.config import Settings
from sage_mcp.demo import sandbox_settings
from sage_mcp.sandbox import LEAD_BUSINESS_ID, SECOND_BUSINESS_ID, SandboxConfig, running_sandbox
from sage_mcp.server import create_server
from tests.test_tools import err, ok

pytestmark = pytest.mark.anyio
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def tag(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4).upper()}"


async def new_contact(client: Client, kind: str) -> dict[str, Any]:
    return await ok(
        client, "create_contact", {"name": f"{kind.title()} {secrets.token_hex(3)} Ltd", "contact_type": kind}
    )


async def invoice(
    client: Client, contact_id: str, amount: str, date: str, kind: str = "sales_invoice"
) -> dict[str, Any]:
    return await ok(
        client,
        "create_invoice",
        {
            "type": kind,
            "contact_id": contact_id,
            "date": date,
            "due_date": date,
            "lines": [{"description": "Work", "unit_price": amount, "tax_rate_id": "GB_ZERO"}],
        },
    )


async def status(client: Client, doc_id: str, kind: str = "sales_invoice") -> tuple[str, str]:
    doc = (await ok(client, "list_invoices", {"type": kind, "id": doc_id}))["items"][0]
    return doc["status"], doc["outstanding"]


async def test_a_receipt_is_allocated_oldest_first_and_the_rest_stays_on_account(client: Client) -> None:
    customer = await new_contact(client, "customer")
    newest = await invoice(client, customer["id"], "50.00", "2026-10-20")
    oldest = await invoice(client, customer["id"], "100.00", "2026-09-01")
    middle = await invoice(client, customer["id"], "80.00", "2026-10-01")
    key = tag("oldest")
    args = {
        "type": "customer_receipt",
        "contact_id": customer["id"],
        "total_amount": "250.00",
        "allocate": "oldest_first",
        "idempotency_key": key,
    }
    paid = await ok(client, "record_payment", args)
    allocated = {a["id"]: a["amount"] for a in paid["allocations"]}
    assert allocated == {oldest["id"]: "100.00", middle["id"]: "80.00", newest["id"]: "50.00"}
    assert paid["on_account"] == "20.00" and "on account" in paid["note"]
    for doc in (oldest, middle, newest):
        assert await status(client, doc["id"]) == ("PAID", "0.00")
    assert (await ok(client, "record_payment", args))["id"] == paid["id"], "a repeat with the key records nothing"

    later = await invoice(client, customer["id"], "70.00", "2026-11-01")
    part = await ok(
        client,
        "record_payment",
        {"type": "customer_receipt", "contact_id": customer["id"], "total_amount": "30.00", "allocate": "oldest_first"},
    )
    assert [(a["id"], a["amount"]) for a in part["allocations"]] == [(later["id"], "30.00")]
    assert await status(client, later["id"]) == ("PART_PAID", "40.00")

    both = await err(
        client,
        "record_payment",
        {
            "type": "customer_receipt",
            "contact_id": customer["id"],
            "total_amount": "1.00",
            "allocate": "oldest_first",
            "allocations": [{"id": later["id"], "amount": "1.00"}],
        },
    )
    assert "allocate" in both and "not both" in both
    no_total = await err(
        client, "record_payment", {"type": "customer_receipt", "contact_id": customer["id"], "allocate": "oldest_first"}
    )
    assert "total_amount" in no_total


async def test_supplier_payment_oldest_first_and_a_refund_against_a_credit_note(client: Client) -> None:
    supplier = await new_contact(client, "supplier")
    first = await invoice(client, supplier["id"], "40.00", "2026-08-01", "purchase_invoice")
    second = await invoice(client, supplier["id"], "60.00", "2026-08-15", "purchase_invoice")
    paid = await ok(
        client,
        "record_payment",
        {"type": "supplier_payment", "contact_id": supplier["id"], "total_amount": "70.00", "allocate": "oldest_first"},
    )
    assert [(a["id"], a["amount"]) for a in paid["allocations"]] == [(first["id"], "40.00"), (second["id"], "30.00")]
    assert await status(client, second["id"], "purchase_invoice") == ("PART_PAID", "30.00")
    wrong_type = await err(client, "list_invoices", {"id": second["id"]})
    assert "not a sales_invoice" in wrong_type and "purchase_invoice" in wrong_type, "the answer says to give the type"

    customer = await new_contact(client, "customer")
    credit = await ok(
        client,
        "create_invoice",
        {
            "type": "sales_credit_note",
            "contact_id": customer["id"],
            "lines": [{"description": "Returned", "unit_price": "25.00", "tax_rate_id": "GB_ZERO"}],
        },
    )
    refund = await ok(
        client,
        "record_payment",
        {
            "type": "customer_refund",
            "contact_id": customer["id"],
            "allocations": [{"id": credit["id"], "amount": "25.00"}],
        },
    )
    assert refund["type"] == "customer_refund" and refund["total"] == "25.00"
    assert await status(client, credit["id"], "sales_credit_note") == ("PAID", "0.00")
    lines = await err(
        client,
        "record_payment",
        {
            "type": "customer_refund",
            "contact_id": customer["id"],
            "lines": [{"ledger_account_id": "4000", "total_amount": "1"}],
        },
    )
    assert "lines" in lines and "customer_refund" in lines


async def test_a_bill_and_a_money_out_entry_carry_their_receipt(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    receipts = tmp_path_factory.mktemp("receipts")  # a folder the user allowed with SAGE_MCP_FILE_ROOTS
    (receipts / "bill.png").write_bytes(PNG)
    allowed = settings.model_copy(update={"file_roots": str(receipts)})
    async with Client(create_server(allowed)) as client:
        supplier = await new_contact(client, "supplier")
        key = tag("bill")
        args = {
            "type": "purchase_invoice",
            "contact_id": supplier["id"],
            "vendor_reference": key,
            "idempotency_key": key,
            "lines": [{"description": "Printer paper", "unit_price": "20.00"}],
            "attachment": {"path": str(receipts / "bill.png")},
        }
        bill = await ok(client, "create_invoice", args)
        assert bill["attachment"]["file_name"] == "bill.png" and bill["vendor_reference"] == key
        listed = await ok(client, "list_attachments", {"attach_to": {"type": "purchase_invoice", "id": bill["id"]}})
        assert [a["id"] for a in listed["items"]] == [bill["attachment"]["id"]]
        again = await ok(client, "create_invoice", args)
        assert again["id"] == bill["id"] and again["attachment"]["existing"] is True, "no second bill, no second file"

        expense = await ok(
            client,
            "record_payment",
            {
                "type": "other_payment",
                "reference": "TAXI-9",
                "lines": [{"ledger_account_id": "7400", "total_amount": "18.00", "tax_rate_id": "GB_STANDARD"}],
                "attachment": {"content_base64": base64.b64encode(PNG).decode(), "file_name": "taxi.png"},
            },
        )
        assert expense["type"] == "other_payment" and (expense["net"], expense["tax"]) == ("15.00", "3.00")
        assert expense["attachment"]["file_name"] == "taxi.png"
        on_it = await ok(client, "list_attachments", {"attach_to": {"type": "other_payment", "id": expense["id"]}})
        assert [a["file_name"] for a in on_it["items"]] == ["taxi.png"]

        before = (await ok(client, "list_invoices", {"type": "purchase_invoice", "search": "NOPE-1"}))["total"]
        outside = await err(
            client,
            "create_invoice",
            {**args, "vendor_reference": "NOPE-1", "idempotency_key": tag("k"), "attachment": {"path": "/etc/passwd"}},
        )
        assert "attachment" in outside
        after = (await ok(client, "list_invoices", {"type": "purchase_invoice", "search": "NOPE-1"}))["total"]
        assert before == after, "a receipt that cannot be read stops the call before the bill is recorded"
        quote = await err(
            client,
            "create_invoice",
            {
                "type": "sales_quote",
                "contact_id": supplier["id"],
                "lines": [{"description": "x", "unit_price": "1"}],
                "attachment": {"path": str(receipts / "bill.png")},
            },
        )
        assert "attachment" in quote and "cannot carry" in quote


async def test_a_journal_reverses_itself_on_the_first_day_of_next_month(client: Client) -> None:
    ref = tag("ACCR")
    args = {
        "date": "2026-11-30",
        "reference": ref,
        "reverse": True,
        "idempotency_key": ref,
        "lines": [
            {"ledger_account_id": "7600", "debit": "450.00", "details": "Audit accrual"},
            {"ledger_account_id": "2109", "credit": "450.00"},
        ],
    }
    journal = await ok(client, "create_journal", args)
    reversal = journal["reversal"]
    assert reversal["date"] == "2026-12-01" and reversal["reference"] == f"REV {ref}"
    debit_lines = {line["account"]: line for line in reversal["lines"]}
    assert any(line.get("credit") == "450.00" for line in debit_lines.values())
    repeat = await ok(client, "create_journal", args)
    assert repeat["id"] == journal["id"] and repeat["reversal"]["id"] == reversal["id"], "neither is posted twice"
    nov = await ok(
        client,
        "get_account_activity",
        {"ledger_account_id": "7600", "from_date": "2026-11-30", "to_date": "2026-11-30"},
    )
    dec = await ok(
        client,
        "get_account_activity",
        {"ledger_account_id": "7600", "from_date": "2026-12-01", "to_date": "2026-12-01"},
    )
    assert Decimal(nov["debits"]) >= Decimal("450.00") and Decimal(dec["credits"]) >= Decimal("450.00")
    year_end = await ok(client, "create_journal", {**args, "date": "2026-12-31", "idempotency_key": tag("k")})
    assert year_end["reversal"]["date"] == "2027-01-01"


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_bank_and_clearing_accounts_are_created_once(tmp_path: Path, mode: str) -> None:
    """On books of their own: a second current account ends the "only current account" default."""
    with running_sandbox(SandboxConfig()) as server:
        async with Client(create_server(sandbox_settings(server, tmp_path, toolsets="all")), mode=mode) as client:
            await _bank_and_clearing_accounts(client)


async def _bank_and_clearing_accounts(client: Client) -> None:
    name = f"Stripe clearing {secrets.token_hex(3)}"
    clearing = await ok(client, "create_bank_account", {"name": name, "type": "OTHER"})
    assert clearing["name"] == name and clearing["type"] == "OTHER" and clearing["ledger_account_id"]
    listed = await ok(client, "list_bank_accounts")
    assert clearing["id"] in {a["id"] for a in listed["items"]}
    twice = await err(client, "create_bank_account", {"name": name.upper(), "type": "OTHER"})
    assert clearing["id"] in twice and "already exists" in twice
    chart = await ok(client, "list_ledger_accounts", {"all_pages": True})
    free = next(c for c in range(1250, 1300) if c not in {a.get("nominal_code") for a in chart["items"]})
    reserve = {"name": f"Reserve {secrets.token_hex(3)}", "nominal_code": str(free)}
    current = await ok(client, "create_bank_account", reserve)
    assert current["type"] == "CHECKING" and int(current["nominal_code"]) == free
    moved = await ok(
        client,
        "create_bank_transfer",
        {"from_bank_account_id": current["id"], "to_bank_account_id": clearing["id"], "amount": "12.34"},
    )
    assert moved["amount"] == "12.34"
    bad = await err(client, "create_bank_account", {"name": "x", "type": "PIGGY_BANK"})
    assert "type" in bad


async def test_searches_fall_back_to_the_closest_matches(client: Client) -> None:
    exact = await ok(client, "list_contacts", {"search": "ltd", "items_per_page": 5})
    assert exact["items"] and "fuzzy" not in exact
    name = exact["items"][0]["name"]
    typo = name[:3] + name[4] + name[3] + name[5:]  # two letters swapped: Sage's text search finds nothing
    fuzzy = await ok(client, "list_contacts", {"search": typo})
    assert fuzzy["fuzzy"] is True and fuzzy["items"][0]["name"] == name and "Nothing contains" in fuzzy["note"]
    accounts = await ok(client, "list_ledger_accounts", {"search": "offce stationary"})
    assert accounts["fuzzy"] is True and accounts["items"][0]["nominal_code"] == 7504


async def test_a_tool_of_another_toolset_names_the_toolset_and_the_flag(settings: Settings) -> None:
    default = settings.model_copy(update={"toolsets": "default"})
    async with Client(create_server(default)) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert "list_tax_rates" not in names and "record_payment" in names
        message = await err(client, "list_tax_rates", {})
        assert "'tax' toolset" in message and "--toolsets default,tax" in message and "SAGE_MCP_TOOLSETS" in message
        unknown = await err(client, "no_such_tool", {})
        assert "Unknown tool" in unknown
        instructions = client.instructions or ""
        assert "list_contacts" in instructions and "get_aged_debtors" in instructions
        assert "Toolsets offered:" in instructions and "tax (" not in instructions
    narrow = settings.model_copy(update={"toolsets": "invoices,reports"})
    async with Client(create_server(narrow)) as client:
        instructions = client.instructions or ""
        assert "list_invoices" in instructions and "list_contacts" not in instructions, "built from the toolsets"


async def test_group_reports_take_business_id_all(client: Client) -> None:
    for tool in ("get_profit_and_loss", "get_balance_sheet", "get_business_summary"):
        out = await ok(client, tool, {"business_id": "all"})
        assert {LEAD_BUSINESS_ID, SECOND_BUSINESS_ID} <= {b["id"] for b in out["businesses"]}, tool
    same = await ok(client, "get_business_summary", {"businesses": ["all"]})
    assert [b["id"] for b in same["businesses"]] == [
        b["id"] for b in (await ok(client, "get_business_summary", {"business_id": "all"}))["businesses"]
    ]
    assert "business_id" in await err(client, "list_contacts", {"business_id": "all"}), "only group reports take all"


async def test_update_releases_a_draft_and_a_quote_becomes_an_invoice(client: Client) -> None:
    customer = await new_contact(client, "customer")
    draft = await ok(
        client,
        "create_invoice",
        {"contact_id": customer["id"], "status": "DRAFT", "lines": [{"description": "Hours", "unit_price": "90.00"}]},
    )
    posted = await ok(client, "update_invoice", {"id": draft["id"], "notes": "Thanks", "release": True})
    assert posted["status"] == "UNPAID" and posted["number"] and posted["idempotency_id"]
    again = await ok(client, "update_invoice", {"id": draft["id"], "notes": "Thanks again", "release": True})
    assert again["status"] == "UNPAID" and "updated, not released" in again["note"]
    quote = await ok(
        client,
        "create_invoice",
        {
            "type": "sales_quote",
            "contact_id": customer["id"],
            "lines": [{"description": "Plan", "unit_price": "10.00"}],
        },
    )
    made = await ok(client, "create_invoice", {"quote_id": quote["id"], "due_date": dt.date.today().isoformat()})
    assert made["quote_id"] == quote["id"] and made["contact_id"] == customer["id"]
    assert "contact_id" in await err(
        client, "create_invoice", {"quote_id": quote["id"], "contact_id": customer["id"], "idempotency_key": tag("k")}
    )
