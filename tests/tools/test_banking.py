"""Banking toolset through a real MCP client against the sandbox: accounts, transfers, deposits, other
payments and receipts, one account's signed movements, and reconciliations.

Tests that check balances open their own savings account (through sage_api_write), so nothing else in the
shared sandbox moves the numbers they compare; the business keeps exactly one current account.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from typing import Any

import pytest
from mcp import Client

from tests.test_tools import err, ok

pytestmark = pytest.mark.anyio
TODAY = dt.date.today().isoformat()
TOMORROW = (dt.date.today() + dt.timedelta(days=1)).isoformat()


async def new_savings_account(client: Client) -> dict[str, Any]:
    name = f"Test Savings {secrets.token_hex(3)}"
    body = {"bank_account": {"bank_account_type_id": "SAVINGS", "bank_account_details": {"account_name": name}}}
    created = await ok(client, "sage_api_write", {"method": "POST", "path": "/bank_accounts", "body": body})
    return dict(created["data"])


async def new_customer(client: Client) -> dict[str, Any]:
    body = {"contact": {"name": f"Customer {secrets.token_hex(3)}", "contact_type_ids": ["CUSTOMER"]}}
    created = await ok(client, "sage_api_write", {"method": "POST", "path": "/contacts", "body": body})
    return dict(created["data"])


async def accounts_by_type(client: Client) -> dict[str, dict[str, Any]]:
    items = (await ok(client, "list_bank_accounts"))["items"]
    return {a["type"]: a for a in items if a["type"] in ("CHECKING", "CASH_IN_HAND")}


async def balance(client: Client, account_id: str) -> Decimal:
    return Decimal((await ok(client, "get_bank_account", {"bank_account_id": account_id}))["balance"])


async def rows_of(client: Client, account_id: str, **args: Any) -> list[dict[str, Any]]:
    data = await ok(client, "list_bank_transactions", {"bank_account_id": account_id, "all_pages": True, **args})
    assert data["total"] == len(data["items"])
    return list(data["items"])


# -- accounts ---------------------------------------------------------------------------------------------------


async def test_list_and_get_bank_accounts(client: Client) -> None:
    listed = await ok(client, "list_bank_accounts")
    assert listed["total"] == len(listed["items"]) >= 4
    current = next(a for a in listed["items"] if a["type"] == "CHECKING")
    assert current["name"] == "Bank Current Account" and current["nominal_code"] == 1200
    assert Decimal(current["balance"]).as_tuple().exponent == -2

    one = await ok(client, "get_bank_account", {"bank_account_id": current["id"]})
    assert one["balance"] == current["balance"] and one["sort_code"] == "40-11-62" and one["ledger_account_id"]
    full = await ok(client, "get_bank_account", {"bank_account_id": current["id"], "detail": "full"})
    assert full["bank_account_details"]["account_number"] == "41203377"

    missing = await err(client, "get_bank_account", {"bank_account_id": "0" * 32})
    assert "list_bank_accounts" in missing
    invalid = await err(client, "get_bank_account", {})
    assert "bank_account_id: required" in invalid
    invalid = await err(client, "list_bank_accounts", {"page": 2})  # no paging: every account is listed
    assert "'page'" in invalid


# -- transfers ----------------------------------------------------------------------------------------------------


async def test_bank_transfer_moves_balances_exactly_and_once(client: Client) -> None:
    current = (await accounts_by_type(client))["CHECKING"]
    savings = await new_savings_account(client)
    before = await balance(client, current["id"])
    args = {
        "from_bank_account_id": current["id"],
        "to_bank_account_id": savings["id"],
        "amount": "250.10",
        "reference": "To savings",
        "idempotency_key": f"tr-{secrets.token_hex(4)}",
    }
    transfer = await ok(client, "create_bank_transfer", args)
    assert (transfer["amount"], transfer["date"], transfer["reference"]) == ("250.10", TODAY, "To savings")
    assert transfer["from_bank_account_id"] == current["id"] and transfer["to_bank_account_id"] == savings["id"]
    assert await balance(client, current["id"]) == before - Decimal("250.10")
    assert await balance(client, savings["id"]) == Decimal("250.10")

    again = await ok(client, "create_bank_transfer", args)
    assert again["id"] == transfer["id"] and again["idempotency_id"] == transfer["idempotency_id"]
    assert await balance(client, savings["id"]) == Decimal("250.10")
    assert await balance(client, current["id"]) == before - Decimal("250.10")

    rows = await rows_of(client, savings["id"])
    assert [(r["type"], r["amount"], r["id"]) for r in rows] == [("transfer_in", "250.10", transfer["id"])]
    out_row = next(r for r in await rows_of(client, current["id"], from_date=TODAY) if r["id"] == transfer["id"])
    assert (out_row["type"], out_row["amount"], out_row["other_bank_account_id"]) == (
        "transfer_out",
        "-250.10",
        savings["id"],
    )

    base = {"from_bank_account_id": current["id"], "to_bank_account_id": savings["id"]}
    message = await err(client, "create_bank_transfer", {**base, "to_bank_account_id": current["id"], "amount": "1"})
    assert "to_bank_account_id" in message and "two different accounts" in message
    message = await err(client, "create_bank_transfer", {**base, "amount": "0"})
    assert "amount" in message and "greater than 0" in message
    message = await err(client, "create_bank_transfer", {**base, "amount": "1.005"})
    assert "amount" in message and "two decimals" in message
    message = await err(client, "create_bank_transfer", {**base, "amount": 12.5})
    assert "amount: expected string" in message
    message = await err(client, "create_bank_transfer", {**base, "to_bank_account_id": "0" * 32, "amount": "1.00"})
    assert "HTTP 422" in message and "to_bank_account_id" in message and "not found" in message
    assert await balance(client, savings["id"]) == Decimal("250.10")


# -- deposits -----------------------------------------------------------------------------------------------------


async def test_bank_deposit_from_petty_cash(client: Client) -> None:
    accounts = await accounts_by_type(client)
    cash = accounts["CASH_IN_HAND"]
    savings = await new_savings_account(client)
    cash_before = await balance(client, cash["id"])
    deposit = await ok(
        client,
        "create_bank_deposit",
        {"to_bank_account_id": savings["id"], "cash_amount": "40.00", "cheque_amount": "10.50", "reference": "Slip 9"},
    )
    assert deposit["from_bank_account_id"] == cash["id"]  # the only cash in hand account is the default
    assert (deposit["cash"], deposit["cheque"], deposit["total"]) == ("40.00", "10.50", "50.50")
    assert await balance(client, savings["id"]) == Decimal("50.50")
    assert await balance(client, cash["id"]) == cash_before - Decimal("50.50")
    assert [(r["type"], r["amount"]) for r in await rows_of(client, savings["id"])] == [("deposit_in", "50.50")]

    message = await err(client, "create_bank_deposit", {"to_bank_account_id": savings["id"], "reference": "x"})
    assert "cash_amount" in message
    message = await err(client, "create_bank_deposit", {"cash_amount": "5.00"})
    assert "reference: required" in message
    message = await err(
        client,
        "create_bank_deposit",
        {
            "from_bank_account_id": savings["id"],
            "to_bank_account_id": accounts["CHECKING"]["id"],
            "cash_amount": "5.00",
            "reference": "x",
        },
    )
    assert "HTTP 422" in message and "from_bank_account_id" in message and "cash in hand" in message
    message = await err(
        client, "create_bank_deposit", {"from_bank_account_id": "0" * 32, "cash_amount": "5.00", "reference": "x"}
    )
    assert "HTTP 422" in message and "from_bank_account_id" in message and "not found" in message


# -- other payments and receipts ------------------------------------------------------------------------------


async def test_expense_and_receipt_with_vat_taken_out_per_line(client: Client) -> None:
    current = (await accounts_by_type(client))["CHECKING"]
    savings = await new_savings_account(client)
    await ok(
        client,
        "create_bank_transfer",
        {"from_bank_account_id": current["id"], "to_bank_account_id": savings["id"], "amount": "100.00"},
    )
    args = {
        "bank_account_id": savings["id"],
        "reference": "Receipt 118",
        "lines": [
            {"ledger_account_id": "7502", "total_amount": "24.00", "details": "Phone"},
            {"ledger_account_id": "7502", "total_amount": "10.01", "tax_rate_id": "GB_STANDARD"},
            {"ledger_account_id": "7502", "total_amount": "5.00", "tax_rate_id": "GB_ZERO"},
        ],
        "idempotency_key": f"exp-{secrets.token_hex(4)}",
    }
    expense = await ok(client, "record_payment", {**args, "type": "other_payment"})
    # 24.00 gross at 20%: VAT 4.00; 10.01 gross: VAT 10.01/6 = 1.668 -> 1.67 (half up), net 8.34; zero rated 5.00.
    assert [(x["net"], x["tax"], x["total"]) for x in expense["lines"]] == [
        ("20.00", "4.00", "24.00"),
        ("8.34", "1.67", "10.01"),
        ("5.00", "0.00", "5.00"),
    ]
    assert (expense["net"], expense["tax"], expense["total"]) == ("33.34", "5.67", "39.01")
    assert expense["type"] == "other_payment" and "warning" not in expense
    assert expense["lines"][0]["tax_rate_id"] == "GB_STANDARD"  # the ledger account's default rate
    assert await balance(client, savings["id"]) == Decimal("60.99")
    again = await ok(client, "record_payment", {**args, "type": "other_payment"})
    assert again["id"] == expense["id"]
    assert await balance(client, savings["id"]) == Decimal("60.99")

    customer = await new_customer(client)
    receipt = await ok(
        client,
        "record_payment",
        {
            "type": "other_receipt",
            "bank_account_id": savings["id"],
            "contact_id": customer["id"],
            "lines": [{"ledger_account_id": "4000", "total_amount": "12.00", "tax_rate_id": "GB_STANDARD"}],
        },
    )
    assert (receipt["type"], receipt["net"], receipt["tax"], receipt["total"]) == (
        "other_receipt",
        "10.00",
        "2.00",
        "12.00",
    )
    assert receipt["contact_id"] == customer["id"]
    assert await balance(client, savings["id"]) == Decimal("72.99")

    default_bank = await ok(
        client,
        "record_payment",
        {"type": "other_payment", "lines": [{"ledger_account_id": "7502", "total_amount": "1.20"}]},
    )
    assert default_bank["bank_account_id"] == current["id"] and default_bank["date"] == TODAY

    line = {"ledger_account_id": "7502", "total_amount": "1.00"}
    message = await err(
        client, "record_payment", {"type": "other_payment", "lines": [{**line, "ledger_account_id": "9999"}]}
    )
    assert "lines[0].ledger_account_id" in message and "7502" in message
    message = await err(
        client, "record_payment", {"type": "other_receipt", "lines": [line]}
    )  # 7502 is not for receipts
    assert "lines[0].ledger_account_id" in message and "other receipts" in message
    message = await err(
        client, "record_payment", {"type": "other_payment", "lines": [line, {**line, "tax_rate_id": "GB_NOPE"}]}
    )
    assert "lines[1].tax_rate_id" in message and "GB_STANDARD" in message
    message = await err(
        client, "record_payment", {"type": "other_payment", "lines": [{**line, "total_amount": "0.00"}]}
    )
    assert "lines[0].total_amount" in message and "greater than 0" in message
    message = await err(client, "record_payment", {"type": "other_payment", "lines": []})
    assert "lines" in message and "Nothing was sent" in message
    message = await err(client, "record_payment", {"type": "other_payment", "lines": [line], "contact_id": "0" * 32})
    assert "HTTP 422" in message and "contact_id" in message and "not found" in message
    message = await err(
        client, "record_payment", {"type": "other_payment", "lines": [line], "bank_account_id": "0" * 32}
    )
    assert "HTTP 422" in message and "bank_account_id" in message
    assert await balance(client, savings["id"]) == Decimal("72.99")


# -- one account's movements ---------------------------------------------------------------------------------


async def test_bank_transactions_are_signed_typed_and_sum_to_the_balance(client: Client) -> None:
    accounts = await accounts_by_type(client)
    current, cash = accounts["CHECKING"], accounts["CASH_IN_HAND"]
    savings = await new_savings_account(client)
    sid = savings["id"]
    moved_in = await ok(
        client,
        "create_bank_transfer",
        {"from_bank_account_id": current["id"], "to_bank_account_id": sid, "amount": "500.00", "date": "2026-01-05"},
    )
    moved_out = await ok(
        client,
        "create_bank_transfer",
        {"from_bank_account_id": sid, "to_bank_account_id": current["id"], "amount": "75.25", "date": "2026-02-01"},
    )
    expense = await ok(
        client,
        "record_payment",
        {
            "type": "other_payment",
            "bank_account_id": sid,
            "date": "2026-03-10",
            "lines": [{"ledger_account_id": "7502", "total_amount": "36.00"}],
        },
    )
    income = await ok(
        client,
        "record_payment",
        {
            "type": "other_receipt",
            "bank_account_id": sid,
            "date": "2026-03-11",
            "lines": [{"ledger_account_id": "4900", "total_amount": "3.10"}],
        },
    )
    deposit = await ok(
        client,
        "create_bank_deposit",
        {
            "from_bank_account_id": cash["id"],
            "to_bank_account_id": sid,
            "cash_amount": "20.00",
            "reference": "S1",
            "date": "2026-03-12",
        },
    )
    customer = await new_customer(client)
    receipt = await ok(
        client,
        "record_payment",
        {
            "type": "customer_receipt",
            "contact_id": customer["id"],
            "total_amount": "9.99",
            "bank_account_id": sid,
            "date": "2026-04-01",
        },
    )

    rows = await rows_of(client, sid)
    assert [(r["date"], r["type"], r["amount"], r["id"]) for r in rows] == [
        ("2026-04-01", "customer_receipt", "9.99", receipt["id"]),
        ("2026-03-12", "deposit_in", "20.00", deposit["id"]),
        ("2026-03-11", "other_receipt", "3.10", income["id"]),
        ("2026-03-10", "other_payment", "-36.00", expense["id"]),
        ("2026-02-01", "transfer_out", "-75.25", moved_out["id"]),
        ("2026-01-05", "transfer_in", "500.00", moved_in["id"]),
    ]
    assert rows[0]["contact_id"] == customer["id"] and rows[4]["other_bank_account_id"] == current["id"]
    assert sum(Decimal(r["amount"]) for r in rows) == await balance(client, sid) == Decimal("421.84")

    window = await rows_of(client, sid, from_date="2026-02-01", to_date="2026-03-11")
    assert [r["type"] for r in window] == ["other_receipt", "other_payment", "transfer_out"]
    pages = [
        await ok(client, "list_bank_transactions", {"bank_account_id": sid, "items_per_page": 4, "page": n})
        for n in (1, 2)
    ]
    assert pages[0]["total"] == 6 and pages[0]["next_page"] == 2 and pages[1]["next_page"] is None
    assert [r["id"] for r in pages[0]["items"] + pages[1]["items"]] == [r["id"] for r in rows]
    assert pages[0]["bank_account"] == {
        "id": sid,
        "name": savings["bank_account_details"]["account_name"],
        "balance": "421.84",
    }

    default = await ok(client, "list_bank_transactions", {"items_per_page": 1})
    assert default["bank_account"]["id"] == current["id"]
    message = await err(client, "list_bank_transactions", {"bank_account_id": "0" * 32})
    assert "list_bank_accounts" in message
    message = await err(client, "list_bank_transactions", {"from_date": "01/02/2026"})
    assert "from_date" in message and "YYYY-MM-DD" in message


# -- reconciliations -----------------------------------------------------------------------------------------


async def test_reconcile_an_account_to_a_statement(client: Client) -> None:
    current = (await accounts_by_type(client))["CHECKING"]
    savings = await new_savings_account(client)
    await ok(
        client,
        "create_bank_transfer",
        {"from_bank_account_id": current["id"], "to_bank_account_id": savings["id"], "amount": "123.45"},
    )
    args = {
        "bank_account_id": savings["id"],
        "statement_date": TODAY,
        "statement_end_balance": "123.45",
        "reconcile": True,
        "idempotency_key": f"rec-{secrets.token_hex(4)}",
    }
    done = await ok(client, "create_bank_reconciliation", args)
    assert (done["status"], done["closing_balance"], done["difference"]) == ("RECONCILED", "123.45", "0.00")
    assert (done["received"], done["paid"], done["starting_balance"]) == ("123.45", "0.00", "0.00")
    again = await ok(client, "create_bank_reconciliation", args)
    assert again["id"] == done["id"]

    wrong = {"bank_account_id": savings["id"], "statement_date": TOMORROW, "statement_end_balance": "100.00"}
    message = await err(client, "create_bank_reconciliation", {**wrong, "reconcile": True})
    assert "HTTP 422" in message and "status_id" in message and "differ by -23.45" in message
    draft = await ok(client, "create_bank_reconciliation", wrong)
    assert (draft["status"], draft["starting_balance"], draft["difference"]) == ("DRAFT", "123.45", "-23.45")

    listed = await ok(client, "list_bank_reconciliations", {"bank_account_id": savings["id"]})
    assert [r["id"] for r in listed["items"]] == [draft["id"], done["id"]] and listed["total"] == 2
    everything = await ok(client, "list_bank_reconciliations")
    assert {draft["id"], done["id"]} <= {r["id"] for r in everything["items"]}

    nothing = await ok(client, "list_bank_reconciliations", {"bank_account_id": "0" * 32})
    assert nothing["total"] == 0
    message = await err(client, "create_bank_reconciliation", {**wrong, "bank_account_id": "0" * 32})
    assert "HTTP 422" in message and "bank_account_id" in message and "not found" in message
    message = await err(client, "create_bank_reconciliation", {**wrong, "statement_end_balance": "1.001"})
    assert "statement_end_balance" in message and "two decimals" in message
    message = await err(client, "create_bank_reconciliation", {"statement_end_balance": "1.00"})
    assert "statement_date: required" in message
