"""The first tools through a real MCP client (in memory, both protocol eras) against the sandbox."""

from __future__ import annotations

import itertools
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from mcp import Client
from mcp.types import CallToolResult

from sage_mcp.config import Settings
from sage_mcp.demo import sandbox_settings
from sage_mcp.registry import Registry
from sage_mcp.sandbox import LEAD_BUSINESS_ID, SECOND_BUSINESS_ID, SandboxServer
from sage_mcp.server import create_server

pytestmark = pytest.mark.anyio
OUTPUT_SCHEMAS = {t.name: t.output_schema for t in Registry.build("all").list_tools()}


def text_of(result: CallToolResult) -> str:
    return "\n".join(getattr(c, "text", "") for c in result.content)


async def ok(client: Client, name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    result = await client.call_tool(name, args or {})
    assert not result.is_error, text_of(result)
    data = result.structured_content
    assert isinstance(data, dict)
    errors = list(Draft202012Validator(OUTPUT_SCHEMAS[name]).iter_errors(data))
    assert errors == [], errors
    assert text_of(result), "every result carries a text rendering too"
    return data


async def err(client: Client, name: str, args: dict[str, Any]) -> str:
    result = await client.call_tool(name, args)
    assert result.is_error, result.structured_content
    return text_of(result)


async def a_customer(client: Client) -> dict[str, Any]:
    page = await ok(client, "list_contacts", {"contact_type": "customer", "items_per_page": 5})
    return page["items"][0]


# -- businesses ------------------------------------------------------------------------------------


async def test_list_businesses_marks_lead_and_pin(client: Client) -> None:
    data = await ok(client, "list_businesses")
    ids = {b["id"] for b in data["items"]}
    assert {LEAD_BUSINESS_ID, SECOND_BUSINESS_ID} <= ids
    lead = next(b for b in data["items"] if b["id"] == LEAD_BUSINESS_ID)
    assert lead["lead"] is True and lead["pinned"] is True


async def test_get_business_defaults_to_pin_and_takes_business_id(client: Client) -> None:
    pinned = await ok(client, "get_business")
    assert pinned["id"] == LEAD_BUSINESS_ID == pinned["business"]["id"]
    other = await ok(client, "get_business", {"business_id": SECOND_BUSINESS_ID})
    assert other["id"] == SECOND_BUSINESS_ID and other["name"] != pinned["name"]


# -- contacts --------------------------------------------------------------------------------------


async def test_list_contacts_search_type_and_paging(client: Client) -> None:
    everyone = await ok(client, "list_contacts", {"items_per_page": 10})
    assert everyone["business"]["id"] == LEAD_BUSINESS_ID
    assert everyone["total"] >= 40 and len(everyone["items"]) == 10 and everyone["next_page"] == 2
    page2 = await ok(client, "list_contacts", {"items_per_page": 10, "page": 2})
    assert not {c["id"] for c in page2["items"]} & {c["id"] for c in everyone["items"]}

    name = everyone["items"][0]["name"]
    word = max(name.split(), key=len)
    found = await ok(client, "list_contacts", {"search": word.lower()})
    assert found["items"] and any(c["name"] == name for c in found["items"])
    assert all(word.lower() in " ".join(str(v) for v in c.values()).lower() for c in found["items"])

    suppliers = await ok(client, "list_contacts", {"contact_type": "supplier", "items_per_page": 50})
    assert suppliers["items"] and all(c["type"] == "supplier" for c in suppliers["items"])


async def test_get_contact_and_not_found(client: Client) -> None:
    customer = await a_customer(client)
    full = await ok(client, "get_contact", {"contact_id": customer["id"]})
    assert full["name"] == customer["name"] and full["type"] == "customer"
    message = await err(client, "get_contact", {"contact_id": "0" * 32})
    assert "list_contacts" in message


async def test_create_contact_then_read_it_back(client: Client) -> None:
    name = f"Quill & Ink Stationers {secrets.token_hex(2)}"  # an identical contact would be refused
    created = await ok(
        client,
        "create_contact",
        {
            "name": name,
            "contact_type": "supplier",
            "reference": f"Q{secrets.token_hex(4).upper()}",
            "email": "accounts@quill.example",
            "address": {"address_line_1": "4 Market Row", "city": "Leeds", "postal_code": "LS1 6AB"},
        },
    )
    assert len(created["idempotency_id"]) == 32
    read = await ok(client, "get_contact", {"contact_id": created["id"]})
    assert read["name"] == name and read["type"] == "supplier"
    assert read["reference"] == created["reference"]


# -- sales invoices ----------------------------------------------------------------------------------


async def test_list_sales_invoices_filters(client: Client) -> None:
    paid = await ok(client, "list_invoices", {"statuses": ["PAID"], "items_per_page": 20})
    assert paid["items"] and all(i["status"] == "PAID" and i["outstanding"] == "0.00" for i in paid["items"])
    unpaid = await ok(client, "list_invoices", {"statuses": ["UNPAID"], "items_per_page": 20})
    assert all(i["outstanding"] == i["total"] for i in unpaid["items"])

    contact_id = paid["items"][0]["contact_id"]
    theirs = await ok(client, "list_invoices", {"contact_id": contact_id, "items_per_page": 200})
    assert theirs["items"] and all(i["contact_id"] == contact_id for i in theirs["items"])

    dates = sorted(i["date"] for i in paid["items"])
    window = await ok(client, "list_invoices", {"from_date": dates[0], "to_date": dates[-1], "items_per_page": 200})
    assert window["items"] and all(dates[0] <= i["date"] <= dates[-1] for i in window["items"])


async def test_create_get_and_void_sales_invoice_with_exact_totals(client: Client) -> None:
    customer = await a_customer(client)
    created = await ok(
        client,
        "create_invoice",
        {
            "contact_id": customer["id"],
            "date": "2026-11-02",
            "reference": "PO-7781",
            "lines": [
                {"description": "Consulting", "quantity": "3", "unit_price": "3.335", "tax_rate_id": "GB_STANDARD"},
                {"description": "Books", "quantity": "1", "unit_price": "99.99", "tax_rate_id": "GB_ZERO"},
            ],
        },
    )
    # 3 × 3.335 = 10.005 → 10.01 (half up); VAT 20% of 10.01 = 2.002 → 2.00; zero-rated 99.99.
    assert (created["net"], created["tax"], created["total"]) == ("110.00", "2.00", "112.00")
    assert created["status"] == "UNPAID" and created["outstanding"] == "112.00"
    assert [line["net"] for line in created["lines"]] == ["10.01", "99.99"]
    assert "warning" not in created

    fetched = (await ok(client, "list_invoices", {"id": created["id"]}))["items"][0]
    assert fetched["number"] == created["number"] and fetched["total"] == "112.00"

    voided = await ok(client, "void_invoice", {"id": created["id"], "reason": "Raised in error"})
    assert voided["status"] == "VOID" and voided["void_reason"] == "Raised in error"
    again = await err(client, "void_invoice", {"id": created["id"], "reason": "twice"})
    assert "422" in again


async def test_invoice_for_a_supplier_is_refused_before_sending(client: Client) -> None:
    supplier = (await ok(client, "list_contacts", {"contact_type": "supplier"}))["items"][0]
    message = await err(
        client,
        "create_invoice",
        {"contact_id": supplier["id"], "lines": [{"description": "x", "unit_price": "1.00"}]},
    )
    assert "not a customer" in message


async def test_unknown_tax_rate_names_the_line_and_lists_valid_rates(client: Client) -> None:
    customer = await a_customer(client)
    message = await err(
        client,
        "create_invoice",
        {"contact_id": customer["id"], "lines": [{"description": "x", "unit_price": "1", "tax_rate_id": "GB_NOPE"}]},
    )
    assert "lines[0].tax_rate_id" in message and "GB_STANDARD" in message


# -- bad input never breaks the server ----------------------------------------------------------------


async def test_bad_arguments_are_explained_and_the_next_call_works(client: Client) -> None:
    wrong_type = await err(client, "list_contacts", {"items_per_page": "ten"})
    assert "items_per_page" in wrong_type and "integer" in wrong_type
    unknown = await err(client, "list_contacts", {"serch": "ltd"})
    assert "'serch'" in unknown and "search" in unknown
    missing = await err(client, "void_invoice", {"reason": "x"})
    assert "id: required" in missing
    bad_money = await err(
        client, "create_invoice", {"contact_id": "x", "lines": [{"description": "x", "unit_price": "12,50"}]}
    )
    assert "lines[0].unit_price" in bad_money and "decimal" in bad_money
    bad_date = await err(client, "list_invoices", {"from_date": "2026-13-01"})
    assert "from_date" in bad_date
    no_such_business = await err(client, "list_contacts", {"business_id": "f" * 32})
    assert "business_id" in no_such_business and LEAD_BUSINESS_ID in no_such_business
    unknown_tool = await err(client, "list_everything", {})
    assert "Unknown tool" in unknown_tool and "list_contacts" in unknown_tool
    assert (await ok(client, "list_contacts", {"items_per_page": 1}))["items"]


# -- several businesses, no pin -----------------------------------------------------------------------


async def test_unpinned_reads_use_lead_and_say_so_writes_refuse(sandbox: SandboxServer, tmp_path: Path) -> None:
    settings = sandbox_settings(sandbox, tmp_path, pin=None, toolsets="all")
    async with Client(create_server(settings)) as client:
        data = await ok(client, "list_contacts", {"items_per_page": 1})
        assert data["business"]["id"] == LEAD_BUSINESS_ID
        assert "lead business" in data["notice"]
        message = await err(client, "create_contact", {"name": "X", "contact_type": "customer"})
        assert "business_id" in message and SECOND_BUSINESS_ID in message
        explicit = await ok(client, "list_contacts", {"items_per_page": 1, "business_id": SECOND_BUSINESS_ID})
        assert explicit["business"]["id"] == SECOND_BUSINESS_ID and "notice" not in explicit


async def test_each_business_has_its_own_books(client: Client) -> None:
    lead = await ok(client, "list_contacts", {"items_per_page": 200})
    second = await ok(client, "list_contacts", {"items_per_page": 200, "business_id": SECOND_BUSINESS_ID})
    assert second["business"]["id"] == SECOND_BUSINESS_ID
    assert not {c["id"] for c in lead["items"]} & {c["id"] for c in second["items"]}
    assert second["total"] < lead["total"]


async def test_writes_are_audited_without_secrets(client: Client, settings: Settings) -> None:
    created = await ok(client, "create_contact", {"name": "Audit Trail Ltd", "contact_type": "customer"})
    refused = await err(client, "void_invoice", {"id": "0" * 32, "reason": "test"})
    assert "list_invoices" in refused
    lines = [json.loads(line) for line in settings.audit_log_path.read_text().splitlines()]
    assert [e["tool"] for e in lines[-2:]] == ["create_contact", "void_invoice"]
    first, second = lines[-2:]
    assert first["outcome"] == "ok" and first["record_id"] == created["id"]
    assert first["idempotency_id"] == created["idempotency_id"] and first["business"] == LEAD_BUSINESS_ID
    assert len(first["sage_request_ids"]) == 1
    assert second["outcome"].startswith("error")
    assert stat.S_IMODE(os.stat(settings.audit_log_path).st_mode) == 0o600
    text = settings.audit_log_path.read_text()
    assert settings.client_secret.get_secret_value() not in text and "Bearer" not in text


async def test_all_pages_reports_progress_while_it_pages(client: Client) -> None:
    seen: list[tuple[float, float | None, str | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total, message))

    result = await client.call_tool("list_ledger_entries", {"all_pages": True}, progress_callback=progress)
    assert not result.is_error, text_of(result)
    data = result.structured_content
    fetched = len(data["items"])
    assert data["total"] > 200 and fetched == min(data["total"], 1000), "every page, up to the cap"
    one_by_one: list[dict[str, Any]] = []
    for page in range(1, 6):
        one_by_one += (await ok(client, "list_ledger_entries", {"page": page, "items_per_page": 200}))["items"]
    assert data["items"] == one_by_one[:fetched], "the same rows in the same order as page by page"
    assert ("truncated" in data) == (data["total"] > 1000)
    assert len(seen) >= 2 and seen[-1][0] >= fetched
    assert all(b[0] >= a[0] for a, b in itertools.pairwise(seen))
