"""The generic tools on Sage's long tail in the demo: ``find_sage_endpoint`` tells what the demo sandbox serves
(so an assistant is not sent to a 404), ``sage_api_get``/``sage_api_write`` work on stock, opening balances,
analysis types, classifications and migrated VAT returns."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from sage_mcp.demo import sandbox_settings
from sage_mcp.sandbox import SandboxServer
from sage_mcp.server import create_server

pytestmark = pytest.mark.anyio


async def call(client: Client, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


def test_the_sandbox_publishes_what_it_serves(sandbox: SandboxServer) -> None:
    served = set(sandbox.emulated_operations())
    for operation in (
        "GET /stock_items",
        "POST /stock_movements",
        "GET /analysis_types",
        "POST /analysis_type_categories",
        "POST /contact_opening_balances",
        "POST /ledger_account_opening_balances",
        "POST /bank_opening_balances",
        "POST /opening_balance_journals",
        "GET /ledger_account_classifications",
        "POST /migration_tax_returns",
        "GET /sales_invoices/{key}",
        "POST /sales_invoices/{key}/release",
    ):
        assert operation in served, operation
    assert "GET /purchase_quick_entries" not in served
    assert "PUT /opening_balance_journals/{key}" not in served, "Sage has no such operation"


async def test_find_sage_endpoint_marks_what_the_demo_does_not_serve(client: Client) -> None:
    stock = await call(client, "find_sage_endpoint", {"query": "stock movements"})
    assert stock["items"] and all("available" not in item for item in stock["items"]), stock
    quick = await call(client, "find_sage_endpoint", {"query": "purchase quick entries"})
    marked = [item for item in quick["items"] if item.get("available") is False]
    assert any(item["path"] == "/purchase_quick_entries" for item in marked), quick
    assert "404" in quick["note"]
    refused = await client.call_tool("sage_api_get", {"path": "/purchase_quick_entries"})
    assert refused.is_error and "nothing was sent" in refused.content[0].text


async def test_without_an_emulator_nothing_is_marked(sandbox: SandboxServer, tmp_path: Path) -> None:
    settings = sandbox_settings(sandbox, tmp_path, toolsets="all", emulated_operations=None)
    async with Client(create_server(settings)) as client:
        quick = await call(client, "find_sage_endpoint", {"query": "purchase quick entries"})
    assert all("available" not in item for item in quick["items"]) and "note" not in quick


async def test_stock_and_opening_balances_through_the_generic_tools(client: Client) -> None:
    accounts = await call(
        client,
        "sage_api_get",
        {"path": "/ledger_accounts", "query": {"attributes": "nominal_code", "items_per_page": 200}},
    )
    code = {a["nominal_code"]: a["id"] for a in accounts["data"]["$items"]}
    item = await call(
        client,
        "sage_api_write",
        {
            "method": "POST",
            "path": "/stock_items",
            "body": {
                "stock_item": {
                    "item_code": f"VENEER-{uuid.uuid4().hex[:8]}",
                    "description": "Walnut veneer sheet",
                    "sales_ledger_account_id": code[4000],
                    "purchase_ledger_account_id": code[5000],
                }
            },
        },
    )
    assert item["status"] == 201 and item["idempotency_id"]
    stock_id = item["data"]["id"]
    movement = {"stock_item_id": stock_id, "date": "2025-01-10", "quantity": 3, "cost_price": 12, "details": "In"}
    moved = await call(
        client, "sage_api_write", {"method": "POST", "path": "/stock_movements", "body": {"stock_movement": movement}}
    )
    assert moved["status"] == 201
    read = await call(client, "sage_api_get", {"path": f"/stock_items/{stock_id}"})
    assert read["data"]["quantity_in_stock"] == "3.0", "Sage writes decimals with one place where it can"
    types = await call(client, "sage_api_get", {"path": "/analysis_types"})
    assert types["data"]["$total"] == 3
    classes = await call(client, "sage_api_get", {"path": "/ledger_account_classifications"})
    assert classes["data"]["$total"] >= 5
    balances = await call(client, "sage_api_get", {"path": "/contact_opening_balances", "query": {"attributes": "all"}})
    assert balances["data"]["$total"] >= 1, "the demo has opening balances"
    returns = await call(client, "sage_api_get", {"path": "/migration_tax_returns", "query": {"attributes": "all"}})
    assert returns["data"]["$total"] >= 1, "the demo business migrated its earlier VAT returns"
