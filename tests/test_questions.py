"""The six questions owners and bookkeepers ask most, each answered on the demo books with the default
toolsets in at most three tool calls, and each answer checked against the sandbox's own ledger
(read raw over HTTP, not through our report code)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2
import jsonschema
import pytest
from mcp import Client

from sage_mcp.demo import sandbox_settings
from sage_mcp.sandbox import LEAD_BUSINESS_ID, SandboxConfig, SandboxServer, running_sandbox
from sage_mcp.server import create_server

D = Decimal
pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def demo() -> Iterator[SandboxServer]:
    """The demo's books, private to this module so no other test's postings move the figures."""
    with running_sandbox(SandboxConfig()) as server:
        yield server


class Assistant:
    """An MCP client on the default catalogue that counts the tool calls each question costs."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.calls = 0
        self.schemas: dict[str, Any] = {}

    async def ask(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        if not self.schemas:
            self.schemas = {t.name: t.output_schema for t in (await self.client.list_tools()).tools}
        assert name in self.schemas, f"{name} is not in the default catalogue"
        self.calls += 1
        result = await self.client.call_tool(name, args)
        assert not result.is_error, result.content[0].text  # type: ignore[union-attr]
        data = result.structured_content
        assert isinstance(data, dict)
        jsonschema.validate(data, self.schemas[name] or {})
        return data

    def question(self) -> None:
        self.calls = 0


@pytest.fixture(params=["auto", "legacy"])
async def assistant(request: pytest.FixtureRequest, demo: SandboxServer, tmp_path: Path) -> AsyncIterator[Assistant]:
    settings = sandbox_settings(demo, tmp_path, toolsets="default")
    async with Client(create_server(settings), mode=request.param) as client:
        yield Assistant(client)


@pytest.fixture(scope="module")
def raw(demo: SandboxServer) -> Iterator[httpx2.Client]:
    token = demo.mint_tokens()["access_token"]
    with httpx2.Client(base_url=demo.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as api:
        yield api


def ledger(raw: httpx2.Client, business: str, from_date: dt.date, to_date: dt.date) -> dict[int, dict[str, D]]:
    """Sage's trial balance for a period, per nominal code: period movement and closing balance (debit − credit)."""
    r = raw.get(
        "/trial_balance",
        params={"from_date": from_date.isoformat(), "to_date": to_date.isoformat()},
        headers={"X-Business": business},
    )
    assert r.status_code == 200, r.text
    out = {}
    for a in r.json()["ledger_accounts"]:
        closing = a["closing_balance"]
        out[int(a["nominal_code"])] = {
            "movement": D(a["debit"]) - D(a["credit"]),
            "closing": D(closing["debit"]) - D(closing["credit"]),
        }
    return out


def profit(book: dict[int, dict[str, D]]) -> D:
    """Net profit of a period: the credit movement of the income and expense accounts (codes 4000–9999)."""
    return -sum((a["movement"] for code, a in book.items() if code >= 4000), D(0))


async def test_who_owes_us_and_how_overdue(assistant: Assistant, raw: httpx2.Client) -> None:
    assistant.question()
    aged = await assistant.ask("get_aged_debtors", {})
    assert assistant.calls <= 3
    today = dt.date.fromisoformat(aged["as_at"])
    control = ledger(raw, LEAD_BUSINESS_ID, today.replace(day=1), today)[1100]["closing"]
    assert D(aged["total"]) == control > 0
    assert sum(D(v) for v in aged["buckets"].values()) == D(aged["total"])
    assert D(aged["overdue"]) == D(aged["total"]) - D(aged["buckets"]["current"])
    shown = sum((D(r["total"]) for r in aged["rows"]), D(0)) + D(aged.get("more", {}).get("total", "0"))
    assert shown == D(aged["total"])
    totals = [D(r["total"]) for r in aged["rows"]]
    assert totals == sorted(totals, reverse=True), "largest first"
    overdue_buckets = ("1-30", "31-60", "61-90", "90+")
    assert all(D(aged["buckets"][b]) > 0 for b in overdue_buckets), "the demo is overdue in every bucket"


async def test_profit_last_quarter_against_the_one_before(assistant: Assistant, raw: httpx2.Client) -> None:
    assistant.question()
    pnl = await assistant.ask("get_profit_and_loss", {"period": "last_quarter", "compare": "previous_period"})
    assert assistant.calls <= 3
    for period, summary in ((pnl["period"], pnl["summary"]), (pnl["compare_period"], pnl["compare_summary"])):
        start, end = (dt.date.fromisoformat(period[k]) for k in ("from_date", "to_date"))
        assert D(summary["net_profit"]) == profit(ledger(raw, LEAD_BUSINESS_ID, start, end))
    assert D(pnl["change"]["net_profit"]) == D(pnl["summary"]["net_profit"]) - D(pnl["compare_summary"]["net_profit"])
    assert pnl["compare_period"]["to_date"] < pnl["period"]["from_date"]


async def test_balance_sheet_at_month_end(assistant: Assistant, raw: httpx2.Client) -> None:
    month_end = dt.date.today().replace(day=1) - dt.timedelta(days=1)
    assistant.question()
    bs = await assistant.ask("get_balance_sheet", {"as_at": month_end.isoformat()})
    assert assistant.calls <= 3
    s = bs["summary"]
    assert bs["balanced"] is True
    assert D(s["total_assets"]) - D(s["total_liabilities"]) == D(s["net_assets"]) == D(s["total_equity"])
    book = ledger(raw, LEAD_BUSINESS_ID, month_end.replace(day=1), month_end)
    assert D(s["net_assets"]) == sum((a["closing"] for code, a in book.items() if code < 3000), D(0))
    assert D(s["total_equity"]) == -sum((a["closing"] for code, a in book.items() if code >= 3000), D(0))
    earned = D(s["retained_earnings"]) + D(s["current_year_earnings"])
    assert earned == -sum((a["closing"] for code, a in book.items() if code >= 4000), D(0))


async def test_trial_balance_does_it_balance(assistant: Assistant, raw: httpx2.Client) -> None:
    assistant.question()
    tb = await assistant.ask("get_trial_balance", {})
    assert assistant.calls <= 3
    assert tb["balanced"] is True and tb["totals"]["debit"] == tb["totals"]["credit"]
    today = dt.date.fromisoformat(tb["as_at"])
    book = ledger(raw, LEAD_BUSINESS_ID, today.replace(day=1), today)
    assert D(tb["totals"]["debit"]) == sum((a["closing"] for a in book.values() if a["closing"] > 0), D(0))
    assert tb["account_count"] == sum(1 for a in book.values() if a["closing"] != 0)


async def test_our_vat_return_for_the_last_period(assistant: Assistant, raw: httpx2.Client) -> None:
    assistant.question()
    ret = await assistant.ask("prepare_vat_return", {"period": "last_vat_period"})
    assert assistant.calls <= 3
    box = {int(k): D(v) for k, v in ret["boxes"].items()}
    assert box[3] == box[1] + box[2] and box[5] == abs(box[3] - box[4])
    start, end = dt.date.fromisoformat(ret["from_date"]), dt.date.fromisoformat(ret["to_date"])
    assert end < dt.date.today() and (end - start).days > 80, "a whole quarter that has ended"
    book = ledger(raw, LEAD_BUSINESS_ID, start, end)
    assert box[1] == -book[2200]["movement"], "output VAT posted in the period (invoice basis)"
    assert box[4] == book[2201]["movement"], "input VAT posted in the period"
    assert ret["reconciliation"]["reconciled"] is True
    assert "does not submit" in ret["submission"]


async def test_cash_debtors_and_creditors_for_each_business(assistant: Assistant, raw: httpx2.Client) -> None:
    assistant.question()
    summary = await assistant.ask("get_business_summary", {"businesses": ["all"]})
    assert assistant.calls <= 3
    listed = raw.get("/businesses").json()["$items"]
    rows = {r["id"]: r for r in summary["businesses"]}
    assert set(rows) == {b["id"] for b in listed}
    today = dt.date.fromisoformat(summary["as_at"])
    for business, row in rows.items():
        book = ledger(raw, business, today.replace(day=1), today)
        assert D(row["cash"]) == sum((book[c]["closing"] for c in book if 1200 <= c < 1300), D(0))
        assert D(row["owed_to_us"]) == book[1100]["closing"]
        assert D(row["we_owe"]) == -book[2100]["closing"]
        aged = await assistant.ask("get_aged_debtors", {"business_id": business})
        assert D(row["owed_to_us_overdue"]) == D(aged["overdue"]), "the summary and the aged report agree"
    for field in ("cash", "owed_to_us", "we_owe"):
        assert D(summary["group_total"][field]) == sum((D(r[field]) for r in rows.values()), D(0))
