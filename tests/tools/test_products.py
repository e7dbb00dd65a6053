"""Products toolset: products and services as one family of tools with ``kind``."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from mcp import Client

from sage_mcp.config import Settings
from sage_mcp.demo import sandbox_settings
from sage_mcp.sandbox import SandboxServer
from tests.test_tools import err, ok

pytestmark = pytest.mark.anyio
MISSING = "0" * 32


@pytest.fixture
def settings(sandbox: SandboxServer, tmp_path: Path) -> Settings:
    """The products toolset is off by default."""
    return sandbox_settings(sandbox, tmp_path, toolsets="products")


def code() -> str:
    return f"T-{secrets.token_hex(3).upper()}"


async def test_list_products(client: Client) -> None:
    both = await ok(client, "list_products", {"items_per_page": 200})
    kinds = {p["kind"] for p in both["items"]}
    assert kinds == {"product", "service"} and both["total"] == len(both["items"])
    catalogue = next(p for p in both["items"] if p.get("item_code") == "CAT-PRINT")
    assert catalogue["description"] == "Printed product catalogue" and catalogue["sales_price"] == "3.34"
    services = await ok(client, "list_products", {"kind": "service", "all_pages": True})
    assert services["items"] and {p["kind"] for p in services["items"]} == {"service"}
    design = await ok(client, "list_products", {"search": "design-hr"})
    assert [(p["kind"], p["sales_price"]) for p in design["items"]] == [("service", "85.00")]
    paged = await ok(client, "list_products", {"items_per_page": 1})
    assert len(paged["items"]) == 2 and paged["next_page"] == 2  # one row of each kind per page
    assert (await ok(client, "list_products", {"search": "zzzz"}))["total"] == 0
    assert "not one of product" in await err(client, "list_products", {"kind": "widget"})
    assert "business_id" in await err(client, "list_products", {"business_id": "f" * 32})


async def test_get_product(client: Client) -> None:
    listed = await ok(client, "list_products", {"items_per_page": 200})
    service = next(p for p in listed["items"] if p["kind"] == "service")
    read = await ok(client, "get_product", {"product_id": service["id"]})
    assert read["kind"] == "service" and read["sales_ledger_account"].endswith("(4000)")
    assert read["sales_tax_rate_id"] == "GB_STANDARD" and "purchase_ledger_account_id" not in read
    full = await ok(client, "get_product", {"product_id": service["id"], "kind": "service", "detail": "full"})
    assert full["sales_rates"][0]["rate"] == "85.0" and full["kind"] == "service"
    missing = await err(client, "get_product", {"product_id": MISSING})
    assert "not a product or a service" in missing and "list_products" in missing
    assert "not a service of" in await err(client, "get_product", {"product_id": MISSING, "kind": "service"})
    assert "product_id: required" in await err(client, "get_product", {})


async def test_create_product_and_service(client: Client, sandbox: SandboxServer) -> None:
    item_code = code()
    args = {
        "description": "Walnut coasters (set of 4)",
        "item_code": item_code,
        "sales_price": "24.00",
        "cost_price": "9.50",
        "idempotency_key": item_code,
    }
    product = await ok(client, "create_product", args)
    assert product["kind"] == "product" and product["sales_price"] == "24.00" and product["cost_price"] == "9.50"
    assert product["sales_ledger_account"].endswith("(4000)")  # the business's default
    assert product["purchase_ledger_account"].endswith("(5000)")
    posts = sandbox.counters[("POST", "/v3.1/products")]
    again = await ok(client, "create_product", args)
    assert again["id"] == product["id"] and again["replayed"] is True
    assert sandbox.counters[("POST", "/v3.1/products")] == posts, "a replay sends nothing"
    assert (await ok(client, "list_products", {"search": item_code}))["total"] == 1

    service = await ok(
        client,
        "create_product",
        {
            "kind": "service",
            "description": "Furniture restoration (per hour)",
            "sales_price": "55.00",
            "price_includes_tax": True,
            "sales_ledger_account_id": "4001",
            "sales_tax_rate_id": "GB_LOWER",
        },
    )
    assert service["kind"] == "service" and service["sales_price"] == "55.00" and service["price_includes_tax"]
    assert service["sales_ledger_account"].endswith("(4001)") and service["sales_tax_rate_id"] == "GB_LOWER"

    taken = await err(client, "create_product", {"description": "Dup", "item_code": "CAT-PRINT"})
    assert "HTTP 422" in taken and "item_code: has already been taken" in taken
    no_supplier = await err(client, "create_product", {"description": "X", "usual_supplier_id": MISSING})
    assert "HTTP 422" in no_supplier and "usual_supplier_id" in no_supplier
    bad_account = await err(client, "create_product", {"description": "X", "sales_ledger_account_id": "99999"})
    assert "sales_ledger_account_id: '99999'" in bad_account
    assert "description: required" in await err(client, "create_product", {"item_code": "X"})
    assert "not a decimal string" in await err(client, "create_product", {"description": "X", "sales_price": "£5"})


async def test_update_product(client: Client) -> None:
    created = await ok(
        client, "create_product", {"description": "Linen napkins", "item_code": code(), "sales_price": "6"}
    )
    updated = await ok(
        client,
        "update_product",
        {"product_id": created["id"], "description": "Linen napkins (pair)", "sales_price": "11.50", "active": False},
    )
    assert updated["id"] == created["id"] and updated["description"] == "Linen napkins (pair)"
    assert updated["sales_price"] == "11.50" and updated["active"] is False
    read = await ok(client, "get_product", {"product_id": created["id"], "detail": "full"})
    assert read["sales_prices"][0]["price_name"] == "Selling Price" and read["active"] is False
    inactive = await ok(client, "list_products", {"kind": "product", "active": False, "all_pages": True})
    assert created["id"] in {p["id"] for p in inactive["items"]}

    taken = await err(client, "update_product", {"product_id": created["id"], "item_code": "CAT-PRINT"})
    assert "HTTP 422" in taken and "item_code" in taken
    assert "nothing to change" in await err(client, "update_product", {"product_id": created["id"]})
    missing = await err(client, "update_product", {"product_id": MISSING, "notes": "x"})
    assert "not a product or a service" in missing
    assert "'price'" in await err(client, "update_product", {"product_id": created["id"], "price": "1"})
