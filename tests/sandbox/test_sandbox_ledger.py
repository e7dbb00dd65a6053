"""The ledger over real HTTP: ledger accounts (create, update, balance details), ledger entries,
transactions and their lookups - all computed from the same balanced entries."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx2
from sandbox_support import TODAY, error_of, items, sources

from sage_mcp.sandbox import LEAD_BUSINESS_ID, SANDBOX_USER_ID, SandboxServer
from sage_mcp.sandbox.ledger import TRANSACTION_TYPES, trial_balance
from sage_mcp.sandbox.shapes import sage_decimal


def every(api: httpx2.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    """All pages of a list."""
    result: list[dict[str, Any]] = []
    page = 1
    while True:
        body = api.get(path, params={"attributes": "all", "items_per_page": 200, "page": page, **params}).json()
        result += body["$items"]
        if body["$next"] is None:
            return result
        page += 1


def test_create_and_update_ledger_account(wapi: httpx2.Client) -> None:
    body = {
        "ledger_account": {
            "ledger_account_type_id": "OVERHEADS",
            "included_in_chart": True,
            "name": "Software Subscriptions",
            "display_name": "Software",
            "nominal_code": 7505,
            "tax_rate_id": "GB_STANDARD",
            "visible_in_expenses": True,
            "visible_in_other_payments": True,
            "visible_in_journals": True,
        }
    }
    created = wapi.post("/ledger_accounts", json=body)
    assert created.status_code == 201, created.text
    account = created.json()
    assert account["displayed_as"] == "Software Subscriptions (7505)"
    assert account["ledger_account_group"]["id"] == "EXPENDITURE"
    assert account["visible_scopes"] == ["expenses", "other_payments", "journals"]
    assert account["tax_rate"]["id"] == "GB_STANDARD" and account["is_control_account"] is False
    assert [a["id"] for a in items(wapi, "/ledger_accounts", search="7505")] == [account["id"]]
    assert sources(wapi.post("/ledger_accounts", json=body)) == {"nominal_code"}
    updated = wapi.put(
        account["$path"], json={"ledger_account": {"name": "Software and Cloud", "visible_in_journals": False}}
    )
    assert updated.status_code == 200, updated.text
    after = updated.json()
    assert after["displayed_as"] == "Software and Cloud (7505)" and after["display_name"] == "Software"
    assert after["visible_in_journals"] is False and "journals" not in after["visible_scopes"]
    bad = {"ledger_account": {**body["ledger_account"], "nominal_code": 7506, "ledger_account_type_id": "STUFF"}}
    assert sources(wapi.post("/ledger_accounts", json=bad)) == {"ledger_account_type_id"}
    missing = {"ledger_account": {"ledger_account_type_id": "OVERHEADS", "included_in_chart": True}}
    assert sources(wapi.post("/ledger_accounts", json=missing)) == {"name", "display_name", "nominal_code"}


def test_control_accounts_keep_their_code(wapi: httpx2.Client, codes: dict[int, str]) -> None:
    debtors = f"/ledger_accounts/{codes[1100]}"
    refused = wapi.put(debtors, json={"ledger_account": {"nominal_code": 1105}})
    assert sources(refused) == {"nominal_code"}
    renamed = wapi.put(debtors, json={"ledger_account": {"display_name": "Debtors"}})
    assert renamed.status_code == 200 and renamed.json()["nominal_code"] == 1100


def test_balance_details_for_a_date_range(wapi: httpx2.Client, codes: dict[int, str]) -> None:
    window = {"show_balance_details": "true", "from_date": "2025-01-01", "to_date": "2025-03-31"}
    rent = wapi.get(f"/ledger_accounts/{codes[7100]}", params=window).json()["balance_details"]
    entries = every(
        wapi, "/ledger_entries", ledger_account_id=codes[7100], from_date="2025-01-01", to_date="2025-03-31"
    )
    debits = sum(Decimal(e["debit"]) for e in entries)
    credits = sum(Decimal(e["credit"]) for e in entries)
    assert rent == {
        "balance": str(abs(debits - credits)),
        "credit_or_debit": "debit",
        "credits": sage_decimal(f"{credits:.2f}"),
        "debits": sage_decimal(f"{debits:.2f}"),
        "from_date": "2025-01-01",
        "to_date": "2025-03-31",
    }
    assert debits >= 3 * 450  # three months of storage rent at least (plus the quarter's rent invoice)
    sales = items(wapi, "/ledger_accounts", ledger_account_type_id="SALES", **window)
    assert all(
        a["balance_details"]["credit_or_debit"] == "credit" for a in sales if a["balance_details"]["credits"] != "0.0"
    )
    plain = wapi.get(f"/ledger_accounts/{codes[7100]}").json()
    assert plain["balance_details"] is None
    missing = wapi.get("/ledger_accounts", params={"show_balance_details": "true", "from_date": "2025-01-01"})
    assert missing.status_code == 422 and error_of(missing)["$source"] == "to_date"
    backwards = wapi.get(f"/ledger_accounts/{codes[7100]}", params={**window, "from_date": "2025-04-01"})
    assert backwards.status_code == 422


def test_ledger_entries_and_filters(wapi: httpx2.Client, codes: dict[int, str]) -> None:
    page = wapi.get("/ledger_entries", params={"attributes": "all"}).json()
    assert page["$total"] > 1000
    first = page["$items"][0]
    assert wapi.get(first["$path"]).json() == first
    assert wapi.get("/ledger_entries/nope").status_code == 404
    journal_entries = every(wapi, "/ledger_entries", transaction_type_id="journal")
    assert journal_entries and {e["transaction"]["id"] for e in journal_entries}
    assert sum(Decimal(e["debit"]) for e in journal_entries) == sum(Decimal(e["credit"]) for e in journal_entries)
    one_day = every(wapi, "/ledger_entries", from_date="2025-03-01", to_date="2025-03-01")
    assert one_day and all(e["date"] == "2025-03-01" for e in one_day)
    bank = every(wapi, "/ledger_entries", ledger_account_id=codes[1200], to_date="2025-02-28")
    assert all(e["ledger_account"]["id"] == codes[1200] for e in bank)
    assert wapi.get("/ledger_entries", params={"journal_code_id": "x"}).json()["$total"] == 0
    assert wapi.get("/ledger_entries", params={"from_date": "soon"}).status_code == 422
    assert wapi.post("/ledger_entries", json={}).status_code == 405


def test_transactions_filters_and_types(wapi: httpx2.Client) -> None:
    kinds = {t["id"] for t in items(wapi, "/transaction_types")}
    assert kinds == set(TRANSACTION_TYPES)
    assert {"OTHER_PAYMENT", "OTHER_RECEIPT", "BANK_TRANSFER", "BANK_DEPOSIT", "JOURNAL"} <= kinds
    assert wapi.get("/transaction_types/BANK_TRANSFER").json()["displayed_as"] == "Bank Transfer"
    transfers = items(wapi, "/transactions", transaction_type_id="BANK_TRANSFER")
    assert transfers and all(t["origin"]["$path"].startswith("/bank_transfers/") for t in transfers)
    in_range = items(wapi, "/transactions", from_date="2025-02-01", to_date="2025-02-28")
    assert in_range and all("2025-02-01" <= t["date"] <= "2025-02-28" for t in in_range)
    updated = items(wapi, "/transactions", updated_from_date="2025-01-01", updated_to_date="2025-01-31")
    assert all("2025-01-01" <= t["updated_at"][:10] <= "2025-01-31" for t in updated)
    assert all(t["number_of_attachments"] == "0" for t in items(wapi, "/transactions", has_attachments="false"))
    types = {t["id"]: t["displayed_as"] for t in items(wapi, "/ledger_account_types")}
    assert types["BANK"] == "Bank" and types["OVERHEADS"] == "Overheads" and "EXPENSES" not in types


def test_trial_balance_is_zero_in_every_window(writable_server: SandboxServer, wapi: httpx2.Client) -> None:
    ctx = writable_server.sandbox.context(LEAD_BUSINESS_ID, SANDBOX_USER_ID)
    assert sum(trial_balance(ctx).values(), Decimal(0)) == 0
    for start, end in (("2024-07-01", "2024-09-30"), ("2025-04-01", TODAY.isoformat()), ("2000-01-01", "2099-12-31")):
        accounts = items(wapi, "/ledger_accounts", show_balance_details="true", from_date=start, to_date=end)
        assert sum(Decimal(a["balance_details"]["debits"]) for a in accounts) == sum(
            Decimal(a["balance_details"]["credits"]) for a in accounts
        )
        live = items(
            wapi,
            "/ledger_accounts",
            show_balance_details="true",
            from_date=start,
            to_date=end,
            exclude_deleted_entries="true",
        )
        assert sum(Decimal(a["balance_details"]["debits"]) for a in live) == sum(
            Decimal(a["balance_details"]["credits"]) for a in live
        )
