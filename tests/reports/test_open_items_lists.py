"""Invoice lists for open-item questions: several statuses or outstanding only, a due date range,
days overdue, and a truncated all_pages answer that says so first and names the report to use."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from mcp import Client

from tests.reports.open_items_support import call_with

pytestmark = pytest.mark.anyio
D = Decimal
TODAY = dt.date.today()


async def rows(client: Client, tool: str, **args: Any) -> dict[str, Any]:
    return await call_with(client, tool, {"all_pages": True, **args})


@pytest.mark.parametrize("kind", ["sales_invoice", "purchase_invoice"])
async def test_outstanding_is_unpaid_and_part_paid_together(client: Client, kind: str) -> None:
    both = await rows(client, "list_invoices", type=kind, outstanding=True)
    unpaid = await rows(client, "list_invoices", type=kind, statuses=["UNPAID"])
    part = await rows(client, "list_invoices", type=kind, statuses=["PART_PAID"])
    assert both["total"] == unpaid["total"] + part["total"] == len(both["items"]) > 0
    assert {i["id"] for i in both["items"]} == {i["id"] for i in unpaid["items"] + part["items"]}
    assert all(D(i["outstanding"]) > 0 for i in both["items"])
    dates = [i["date"] for i in both["items"]]
    assert dates == sorted(dates, reverse=True)
    for i in both["items"]:
        due = dt.date.fromisoformat(i["due_date"])
        if due < TODAY:
            assert i["overdue"] is True and i["days_overdue"] == (TODAY - due).days
        else:
            assert "days_overdue" not in i


async def test_several_statuses_and_paging(client: Client) -> None:
    out = await rows(client, "list_invoices", statuses=["PAID", "VOID"])
    assert {i["status"] for i in out["items"]} <= {"PAID", "VOID"}
    assert len({i["status"] for i in out["items"]}) == 2
    page1 = await call_with(client, "list_invoices", {"statuses": ["PAID", "VOID"], "items_per_page": 5})
    page2 = await call_with(client, "list_invoices", {"statuses": ["PAID", "VOID"], "items_per_page": 5, "page": 2})
    assert page1["total"] == out["total"] and page1["next_page"] == 2
    assert [i["id"] for i in page1["items"] + page2["items"]] == [i["id"] for i in out["items"][:10]]


async def test_due_date_range(client: Client) -> None:
    start, end = (TODAY - dt.timedelta(days=60)).isoformat(), TODAY.isoformat()
    everything = await rows(client, "list_invoices", outstanding=True)
    out = await rows(client, "list_invoices", outstanding=True, due_from=start, due_to=end)
    expected = [i["id"] for i in everything["items"] if start <= i["due_date"] <= end]
    assert [i["id"] for i in out["items"]] == expected and expected
    assert out["total"] == len(expected)


async def test_a_truncated_list_says_so_first_and_names_the_report(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sage_mcp.tools._resource.ALL_PAGES_CAP", 3)
    for kind, report in (("sales_invoice", "get_aged_debtors"), ("purchase_invoice", "get_aged_creditors")):
        for args in ({}, {"outstanding": True}):
            out = await rows(client, "list_invoices", type=kind, **args)
            assert next(k for k in out if k != "business") == "truncated"
            assert report in out["truncated"]
            assert out["total"] > len(out["items"])
