"""Tax toolset: tax rates, the business's tax profile and the tax schemes."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from sage_mcp.config import Settings
from sage_mcp.demo import sandbox_settings
from sage_mcp.sandbox import SECOND_BUSINESS_ID, SandboxServer
from tests.test_tools import err, ok

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(sandbox: SandboxServer, tmp_path: Path) -> Settings:
    """The tax toolset is off by default."""
    return sandbox_settings(sandbox, tmp_path, toolsets="tax")


async def test_list_tax_rates(client: Client) -> None:
    rates = {r["id"]: r for r in (await ok(client, "list_tax_rates"))["items"]}
    assert rates["GB_STANDARD"] == {"id": "GB_STANDARD", "name": "Standard", "percentage": "20"}
    assert rates["GB_LOWER"]["percentage"] == "5" and rates["GB_ZERO"]["percentage"] == "0"
    purchase = await ok(client, "list_tax_rates", {"usage": "purchase", "date": "2026-04-01"})
    assert "GB_STANDARD" in {r["id"] for r in purchase["items"]}
    assert "not one of sales" in await err(client, "list_tax_rates", {"usage": "both"})
    assert "date" in await err(client, "list_tax_rates", {"date": "April"})
    assert "business_id" in await err(client, "list_tax_rates", {"business_id": "f" * 32})


async def test_get_tax_profile(client: Client) -> None:
    vat = await ok(client, "get_tax_profile")
    assert vat["tax_type"] == "GB_VAT" and vat["tax_number"].startswith("GB") and vat["collect_tax"] is True
    assert vat["return_frequency"] == "QUARTERLY"
    by_id = await ok(client, "get_tax_profile", {"tax_profile_id": vat["id"], "detail": "full"})
    assert by_id["id"] == vat["id"] and by_id["tax_type"]["id"] == "GB_VAT"
    missing = await err(client, "get_tax_profile", {"tax_profile_id": "0" * 32})
    assert "tax_profile_id" in missing and "leave it out" in missing
    assert "'tax_type'" in await err(client, "get_tax_profile", {"tax_type": "GB_VAT"})
    second = await ok(client, "get_tax_profile", {"business_id": SECOND_BUSINESS_ID})
    assert second["business"]["id"] == SECOND_BUSINESS_ID and second["id"] != vat["id"]


async def test_list_tax_schemes(client: Client) -> None:
    schemes = await ok(client, "list_tax_schemes")
    current = [s["id"] for s in schemes["items"] if s.get("current")]
    assert current == ["STANDARD"] and {"CASH", "FLAT_RATE_INVOICE"} <= {s["id"] for s in schemes["items"]}
    assert "'scheme'" in await err(client, "list_tax_schemes", {"scheme": "CASH"})
    assert "business_id" in await err(client, "list_tax_schemes", {"business_id": "f" * 32})
