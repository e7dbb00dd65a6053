"""Business toolset: the signed-in user, a business with its financial and invoice settings, currencies and
exchange rates."""

from __future__ import annotations

import pytest
from mcp import Client

from sage_mcp.sandbox import LEAD_BUSINESS_ID, SECOND_BUSINESS_ID
from tests.test_tools import err, ok

pytestmark = pytest.mark.anyio
NO_SUCH_BUSINESS = "f" * 32


async def test_get_user(client: Client) -> None:
    user = await ok(client, "get_user")
    assert user["name"] == "Sam Hartley" and user["email"] == "sam@hartleyfinch.co.uk" and user["locale"] == "en-GB"
    assert user["business"]["id"] == LEAD_BUSINESS_ID
    assert "business_id" in await err(client, "get_user", {"business_id": NO_SUCH_BUSINESS})
    assert "unknown field 'user_id'" in await err(client, "get_user", {"user_id": "x"})


async def test_get_business_with_its_financial_and_invoice_settings(client: Client) -> None:
    plain = await ok(client, "get_business")
    assert plain["id"] == LEAD_BUSINESS_ID and "financial_settings" not in plain
    both = await ok(client, "get_business", {"settings": ["financial", "invoice"]})
    fin, inv = both["financial_settings"], both["invoice_settings"]
    assert fin["base_currency"] == "GBP" and fin["tax_scheme"] == "STANDARD" and fin["accounting_type"] == "accrual"
    assert fin["year_end_date"] > fin["accounts_start_date"] and fin["tax_number"].startswith("GB")
    assert fin["tax_return_frequency"] == "QUARTERLY" and "lockdown_date" not in fin
    assert inv["invoice_prefix"] == "SI-" and isinstance(inv["next_invoice_number"], int)
    assert inv["customer_credit_days"] == 30 and inv["terms_and_conditions"]
    other = await ok(client, "get_business", {"business_id": SECOND_BUSINESS_ID, "settings": ["financial"]})
    assert other["id"] == SECOND_BUSINESS_ID and "invoice_settings" not in other and other["financial_settings"]
    assert LEAD_BUSINESS_ID in await err(client, "get_business", {"business_id": NO_SUCH_BUSINESS})
    assert "settings" in await err(client, "get_business", {"settings": ["payroll"]})


async def test_list_currencies(client: Client) -> None:
    everything = await ok(client, "list_currencies")
    assert {"GBP", "EUR", "USD"} <= {c["id"] for c in everything["items"]}
    euro = await ok(client, "list_currencies", {"search": "euro"})
    assert [c["id"] for c in euro["items"]] == ["EUR"] and euro["total"] == 1
    nothing = await ok(client, "list_currencies", {"search": "doubloon"})
    assert nothing["total"] == 0 and nothing["items"] == []
    assert "business_id" in await err(client, "list_currencies", {"business_id": NO_SUCH_BUSINESS})
    assert "expected string" in await err(client, "list_currencies", {"search": 3})


async def test_list_exchange_rates(client: Client) -> None:
    rates = await ok(client, "list_exchange_rates")
    by_currency = {r["currency"]: r for r in rates["items"]}
    assert by_currency["EUR"]["rate"] == "1.165" and by_currency["EUR"]["base_currency"] == "GBP"
    usd = await ok(client, "list_exchange_rates", {"currency": "usd"})
    assert usd["total"] == 1 and usd["items"][0]["currency"] == "USD" and usd["items"][0]["rate"] == "1.27"
    missing = await err(client, "list_exchange_rates", {"currency": "XYZ"})
    assert "/exchange_rates/XYZ" in missing and "list_exchange_rates" in missing
    assert "'rate'" in await err(client, "list_exchange_rates", {"rate": "1"})
