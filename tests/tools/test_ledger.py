"""Ledger toolset: chart of accounts with balances, journals, ledger entries and transactions."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from sage_mcp.config import Settings
from sage_mcp.demo import sandbox_settings
from sage_mcp.sandbox import SandboxServer
from tests.test_tools import err, ok

pytestmark = pytest.mark.anyio
MISSING = "0" * 32
JOURNALS_POSTED = ("POST", "/v3.1/journals")


@pytest.fixture
def settings(sandbox: SandboxServer, tmp_path: Path) -> Settings:
    """The ledger toolset is off by default."""
    return sandbox_settings(sandbox, tmp_path, toolsets="ledger,contacts")


def unused_date() -> str:
    """A day in the 2030s no other test posts on, so balances for it are exactly this test's."""
    return (dt.date(2031, 1, 1) + dt.timedelta(days=secrets.randbelow(3000))).isoformat()


def by_code(page: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {a["nominal_code"]: a for a in page["items"]}


async def post_accrual(client: Client, day: str, amount: str = "123.45", **extra: Any) -> dict[str, Any]:
    return await ok(
        client,
        "create_journal",
        {
            "date": day,
            "reference": f"ACCRUAL {day}",
            "description": "Audit fee accrued",
            "lines": [
                {"ledger_account_id": "7600", "debit": amount, "details": "Audit fee"},
                {"ledger_account_id": "2109", "credit": amount},
            ],
            **extra,
        },
    )


# -- ledger accounts ---------------------------------------------------------------------------------


async def test_list_ledger_accounts_filters_and_balances(client: Client) -> None:
    chart = await ok(client, "list_ledger_accounts", {"all_pages": True})
    assert chart["total"] == len(chart["items"]) >= 40
    accounts = by_code(chart)
    assert accounts[7600]["name"] == "Legal and Professional Fees" and "balance" not in accounts[7600]

    sales = await ok(client, "list_ledger_accounts", {"type": "sales"})
    assert sales["items"] and {a["type"] for a in sales["items"]} == {"SALES"}
    banking = await ok(client, "list_ledger_accounts", {"visible_in": "banking"})
    assert "BANK" in {a["type"] for a in banking["items"]} and "SALES" not in {a["type"] for a in banking["items"]}
    found = await ok(client, "list_ledger_accounts", {"search": "stationery"})
    assert [a["nominal_code"] for a in found["items"]] == [7504]

    year = await ok(
        client, "list_ledger_accounts", {"from_date": "2025-01-01", "to_date": "2027-12-31", "all_pages": True}
    )
    for account in year["items"]:
        debits, credits = float(account["debits"]), float(account["credits"])
        assert account["balance"] == f"{debits - credits:.2f}"
    assert float(by_code(year)[4000]["balance"]) < 0 < float(by_code(year)[1100]["balance"])

    to_today = by_code(await ok(client, "list_ledger_accounts", {"to_date": "2027-12-31", "all_pages": True}))
    assert to_today[1100]["balance"] == by_code(year)[1100]["balance"]  # nothing is dated before 2025


async def test_list_ledger_accounts_errors(client: Client) -> None:
    future = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    refused = await err(client, "list_ledger_accounts", {"from_date": future})
    assert "HTTP 422" in refused and "to_date" in refused
    assert "Valid:" in await err(client, "list_ledger_accounts", {"type": "GADGETS"})
    backwards = await err(client, "list_ledger_accounts", {"from_date": "2026-02-01", "to_date": "2026-01-01"})
    assert "to_date" in backwards
    assert "not one of sales" in await err(client, "list_ledger_accounts", {"visible_in": "nowhere"})
    assert (await ok(client, "list_ledger_accounts", {"search": "zzzz"}))["total"] == 0


async def test_find_ledger_account(client: Client) -> None:
    code = await ok(client, "find_ledger_account", {"query": "7600"})
    assert code["items"][0]["name"] == "Legal and Professional Fees" and code["items"][0]["score"] == 1.0
    typo = await ok(client, "find_ledger_account", {"query": "offce stationary"})
    assert typo["items"][0]["nominal_code"] == 7504 and typo["items"][0]["match"] == "name"
    assert typo["items"][0]["score"] >= 0.85
    sales_only = await ok(client, "find_ledger_account", {"query": "sales", "visible_in": "sales"})
    assert sales_only["ambiguous"] is True and all(a["type"] in {"SALES", "OTHER_INCOME"} for a in sales_only["items"])
    nothing = await ok(client, "find_ledger_account", {"query": "qqqzzz"})
    assert nothing["items"] == [] and "list_ledger_accounts" in nothing["note"]
    assert "query" in await err(client, "find_ledger_account", {"query": "---"})
    assert "query: required" in await err(client, "find_ledger_account", {})


async def test_create_ledger_account(client: Client) -> None:
    code = 8000 + secrets.randbelow(1000) * 10 + 3
    key = f"la-{code}"
    args = {"name": f"Staff Training {code}", "nominal_code": code, "type": "overheads", "idempotency_key": key}
    created = await ok(client, "create_ledger_account", args)
    assert created["nominal_code"] == code and created["type"] == "OVERHEADS"
    assert set(created["visible_in"]) == {"expenses", "other_payments", "journals", "reporting"}
    again = await ok(client, "create_ledger_account", args)
    assert again["id"] == created["id"]
    assert (await ok(client, "list_ledger_accounts", {"search": f"Staff Training {code}"}))["total"] == 1
    found = await ok(client, "find_ledger_account", {"query": str(code)})
    assert found["items"][0]["id"] == created["id"]

    taken = await err(client, "create_ledger_account", {"name": "Dup", "nominal_code": 7600, "type": "OVERHEADS"})
    assert "HTTP 422" in taken and "nominal_code: has already been taken" in taken
    bad_rate = await err(
        client,
        "create_ledger_account",
        {"name": "X", "nominal_code": code + 1, "type": "SALES", "tax_rate_id": "GB_NOPE"},
    )
    assert "HTTP 422" in bad_rate and "tax_rate_id" in bad_rate and "not found" in bad_rate
    wrong_type = await err(client, "create_ledger_account", {"name": "X", "nominal_code": code + 2, "type": "GADGETS"})
    assert "type" in wrong_type and "OVERHEADS" in wrong_type
    assert "nominal_code" in await err(
        client, "create_ledger_account", {"name": "X", "nominal_code": "12", "type": "X"}
    )


# -- journals ----------------------------------------------------------------------------------------


async def test_balanced_journal_is_posted_listed_and_in_the_balances(client: Client, sandbox: SandboxServer) -> None:
    day = unused_date()
    posts = sandbox.counters[JOURNALS_POSTED]
    journal = await post_accrual(client, day)
    assert sandbox.counters[JOURNALS_POSTED] == posts + 1
    assert journal["total"] == "123.45" and journal["date"] == day and len(journal["idempotency_id"]) == 32
    assert journal["lines"] == [
        {"account": "Legal and Professional Fees (7600)", "debit": "123.45", "details": "Audit fee"},
        {"account": "Accruals (2109)", "credit": "123.45"},
    ]

    listed = await ok(client, "list_journals", {"from_date": day, "to_date": day})
    assert [j["id"] for j in listed["items"]] == [journal["id"]]
    recent = await ok(client, "list_journals", {"items_per_page": 200})
    assert journal["id"] in {j["id"] for j in recent["items"]}

    balances = by_code(await ok(client, "list_ledger_accounts", {"from_date": day, "to_date": day, "all_pages": True}))
    assert (balances[7600]["debits"], balances[7600]["credits"], balances[7600]["balance"]) == (
        "123.45",
        "0.00",
        "123.45",
    )
    assert (balances[2109]["debits"], balances[2109]["credits"], balances[2109]["balance"]) == (
        "0.00",
        "123.45",
        "-123.45",
    )
    assert balances[4000]["balance"] == "0.00"

    entries = await ok(client, "list_ledger_entries", {"transaction_id": journal["transaction_id"]})
    assert sorted((e["account"], e.get("debit"), e.get("credit")) for e in entries["items"]) == [
        ("Accruals (2109)", None, "123.45"),
        ("Legal and Professional Fees (7600)", "123.45", None),
    ]
    transactions = await ok(client, "list_transactions", {"type": "journal", "from_date": day, "to_date": day})
    assert [(t["id"], t["total"], t["type"]) for t in transactions["items"]] == [
        (journal["transaction_id"], "123.45", "JOURNAL")
    ]
    assert transactions["items"][0]["origin"] == f"/journals/{journal['id']}"


async def test_journal_with_a_key_posts_once(client: Client) -> None:
    day = unused_date()
    first = await post_accrual(client, day, idempotency_key=f"accrual-{day}")
    second = await post_accrual(client, day, idempotency_key=f"accrual-{day}")
    assert second["id"] == first["id"]
    assert len((await ok(client, "list_journals", {"from_date": day, "to_date": day}))["items"]) == 1
    balances = by_code(await ok(client, "list_ledger_accounts", {"from_date": day, "to_date": day, "search": "7600"}))
    assert balances[7600]["debits"] == "123.45"


async def test_unbalanced_journal_is_refused_before_anything_is_sent(client: Client, sandbox: SandboxServer) -> None:
    before = dict(sandbox.counters)
    message = await err(
        client,
        "create_journal",
        {
            "date": "2031-06-30",
            "reference": "LOPSIDED",
            "lines": [
                {"ledger_account_id": "7600", "debit": "123.45"},
                {"ledger_account_id": "2109", "credit": "100.00"},
            ],
        },
    )
    assert "does not balance" in message and "123.45" in message and "100.00" in message and "23.45" in message
    assert sandbox.counters[JOURNALS_POSTED] == before.get(JOURNALS_POSTED, 0)
    assert sandbox.counters[("GET", "/v3.1/ledger_accounts")] == before.get(("GET", "/v3.1/ledger_accounts"), 0)


async def test_journal_line_problems_are_named(client: Client, sandbox: SandboxServer) -> None:
    posts = sandbox.counters[JOURNALS_POSTED]
    both = await err(
        client,
        "create_journal",
        {
            "date": "2031-06-30",
            "reference": "BAD",
            "lines": [
                {"ledger_account_id": "7600", "debit": "10.00", "credit": "10.00"},
                {"ledger_account_id": "2109", "debit": "-5", "credit": "0"},
                {"ledger_account_id": "2109", "credit": "1.005"},
            ],
        },
    )
    assert "lines[0]: give a debit or a credit, not both" in both
    assert "lines[1].debit: -5 is negative" in both and "lines[2].credit: 1.005 has more than two decimals" in both
    unknown = await err(
        client,
        "create_journal",
        {
            "date": "2031-06-30",
            "reference": "BAD",
            "lines": [{"ledger_account_id": "99999", "debit": "1"}, {"ledger_account_id": "1100", "credit": "1"}],
        },
    )
    assert "lines[0].ledger_account_id '99999'" in unknown and "find_ledger_account" in unknown
    assert "not a decimal string" in await err(
        client,
        "create_journal",
        {"date": "2031-06-30", "reference": "X", "lines": [{"ledger_account_id": "7600", "debit": "1,00"}] * 2},
    )
    assert sandbox.counters[JOURNALS_POSTED] == posts


async def test_journal_with_a_key_already_used_for_a_contact_is_refused_before_sage(client: Client) -> None:
    contact = await ok(client, "create_contact", {"name": "Key Reuser Ltd", "contact_type": "customer"})
    reused = await err(
        client,
        "create_journal",
        {
            "date": unused_date(),
            "reference": "REUSED KEY",
            "lines": [{"ledger_account_id": "7600", "debit": "1"}, {"ledger_account_id": "2109", "credit": "1"}],
            "idempotency_key": contact["idempotency_id"],
        },
    )
    assert "this call is create_journal, not create_contact" in reused and "Nothing was sent" in reused


async def test_reissue_journal(client: Client) -> None:
    day = unused_date()
    original = await post_accrual(client, day, amount="80.00")
    reissued = await ok(client, "reissue_journal", {"journal_id": original["id"]})
    assert reissued["id"] != original["id"] and reissued["replaces"] == original["id"]
    assert reissued["total"] == "80.00" and reissued["date"] == day
    listed = await ok(client, "list_journals", {"from_date": day, "to_date": day})
    assert [j["id"] for j in listed["items"]] == [reissued["id"]]
    balances = by_code(await ok(client, "list_ledger_accounts", {"from_date": day, "to_date": day, "search": "7600"}))
    assert balances[7600]["balance"] == "80.00"
    gone = await err(client, "reissue_journal", {"journal_id": original["id"]})
    assert f"/journals/{original['id']}" in gone and "list_journals" in gone
    assert "journal_id: required" in await err(client, "reissue_journal", {})


async def test_list_journals_errors(client: Client) -> None:
    assert "to_date" in await err(client, "list_journals", {"from_date": "2031-02-01", "to_date": "2031-01-01"})
    assert "from_date" in await err(client, "list_journals", {"from_date": "31/01/2031"})
    assert (await ok(client, "list_journals", {"from_date": "2099-01-01", "to_date": "2099-01-01"}))["items"] == []
    since = await ok(client, "list_journals", {"updated_since": "2099-01-01"})
    assert since["total"] == 0


# -- ledger entries and transactions -----------------------------------------------------------------


async def test_list_ledger_entries(client: Client) -> None:
    stationery = await ok(client, "list_ledger_entries", {"ledger_account_id": "7504", "items_per_page": 5})
    assert stationery["items"] and all(e["account"] == "Office Stationery (7504)" for e in stationery["items"])
    assert all(("debit" in e) != ("credit" in e) for e in stationery["items"])
    account_id = (await ok(client, "find_ledger_account", {"query": "7504"}))["items"][0]["id"]
    same = await ok(client, "list_ledger_entries", {"ledger_account_id": account_id, "items_per_page": 5})
    assert same["items"] == stationery["items"] and same["total"] == stationery["total"]
    window = await ok(
        client, "list_ledger_entries", {"from_date": "2026-01-01", "to_date": "2026-01-31", "all_pages": True}
    )
    assert window["items"] and all("2026-01-01" <= e["date"] <= "2026-01-31" for e in window["items"])
    receipts = await ok(client, "list_ledger_entries", {"type": "CUSTOMER_RECEIPT", "items_per_page": 3})
    assert receipts["items"] and all(e.get("contact") for e in receipts["items"])

    assert "ledger_account_id: '99999'" in await err(client, "list_ledger_entries", {"ledger_account_id": "99999"})
    assert "list_ledger_accounts" in await err(client, "list_ledger_entries", {"ledger_account_id": MISSING})
    assert "Valid:" in await err(client, "list_ledger_entries", {"type": "RECEIPT"})
    assert "maximum" in await err(client, "list_ledger_entries", {"items_per_page": 500})


async def test_list_transactions(client: Client) -> None:
    invoices = await ok(client, "list_transactions", {"type": "SALES_INVOICE", "items_per_page": 5})
    assert invoices["total"] > 5 and all(t["type"] == "SALES_INVOICE" for t in invoices["items"])
    assert all(t["origin"].startswith("/sales_invoices/") and t.get("contact") for t in invoices["items"])
    window = await ok(
        client, "list_transactions", {"from_date": "2026-03-01", "to_date": "2026-03-31", "all_pages": True}
    )
    assert window["items"] and all(t["date"].startswith("2026-03") for t in window["items"])
    assert (await ok(client, "list_transactions", {"updated_since": "2099-01-01"}))["total"] == 0
    assert "SALES_INVOICE" in await err(client, "list_transactions", {"type": "INVOICE"})
    assert "to_date" in await err(client, "list_transactions", {"from_date": "2026-03-31", "to_date": "2026-03-01"})
    assert "'typ'" in await err(client, "list_transactions", {"typ": "JOURNAL"})
    assert "business_id" in await err(client, "list_transactions", {"business_id": "f" * 32})
