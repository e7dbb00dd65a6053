"""Banking over real HTTP: bank accounts, transfers, deposits, reconciliations and other payments,
with the ledger entries they post and the balances that follow from them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx2
import pytest
from sandbox_support import TODAY, couldnt_find, error_of, items, sources

from sage_mcp.sandbox import LEAD_BUSINESS_ID, SANDBOX_USER_ID, SECOND_BUSINESS_ID, SandboxServer
from sage_mcp.sandbox.ledger import trial_balance

WIDE = {"show_balance_details": "true", "from_date": "2000-01-01", "to_date": "2099-12-31"}


@pytest.fixture(scope="module")
def banks(wapi: httpx2.Client) -> dict[str, dict[str, Any]]:
    return {a["bank_account_type"]["id"]: a for a in items(wapi, "/bank_accounts")}


def balance(api: httpx2.Client, bank: dict[str, Any]) -> Decimal:
    return Decimal(api.get(bank["$path"]).json()["balance"])


def entries(api: httpx2.Client, transaction_id: str) -> list[tuple[str, str, str]]:
    """(nominal code, debit, credit) of every entry of a transaction."""
    found = items(api, "/ledger_entries", transaction_id=transaction_id)
    result = []
    for entry in found:
        account = api.get(entry["ledger_account"]["$path"]).json()
        result.append((str(account["nominal_code"]), entry["debit"], entry["credit"]))
    return sorted(result)


# ---------------------------------------------------------------------------------------------- accounts


def test_seeded_bank_accounts_and_their_ledger_accounts(wapi: httpx2.Client, banks: dict[str, dict[str, Any]]) -> None:
    names = {type_id: (a["displayed_as"], a["nominal_code"]) for type_id, a in banks.items()}
    assert names == {
        "CHECKING": ("Bank Current Account (1200)", 1200),
        "SAVINGS": ("Bank Deposit Account (1210)", 1210),
        "CASH_IN_HAND": ("Petty Cash (1230)", 1230),
        "CREDIT_CARD": ("Company Credit Card (1240)", 1240),
    }
    for account in banks.values():
        ledger = wapi.get(account["ledger_account"]["$path"], params=WIDE).json()
        assert ledger["nominal_code"] == account["nominal_code"]
        details = ledger["balance_details"]
        signed = Decimal(details["balance"]) * (1 if details["credit_or_debit"] == "debit" else -1)
        assert signed == Decimal(account["balance"]), account["displayed_as"]
    assert banks["CHECKING"]["deletable"] is False and banks["CASH_IN_HAND"]["deletable"] is False
    assert Decimal(banks["CHECKING"]["balance"]) > 0
    assert Decimal(banks["CREDIT_CARD"]["balance"]) <= 0  # a liability: spending not yet paid off
    card_ledger = wapi.get(banks["CREDIT_CARD"]["ledger_account"]["$path"]).json()
    assert card_ledger["ledger_account_type"]["id"] == "CURRENT_LIABILITY"
    second = wapi.get("/bank_accounts", headers={"X-Business": SECOND_BUSINESS_ID}).json()
    assert [a["displayed_as"] for a in second["$items"]] == ["Bank Current Account (1200)", "Petty Cash (1230)"]


def test_create_update_delete_bank_account(wapi: httpx2.Client) -> None:
    body = {
        "bank_account": {
            "bank_account_type_id": "SAVINGS",
            "bank_account_details": {"account_name": "Rainy Day Account", "sort_code": "40-11-62"},
            "main_address": {"address_line_1": "1 Bank Street", "city": "Leeds"},
        }
    }
    created = wapi.post("/bank_accounts", json=body)
    assert created.status_code == 201, created.text
    account = created.json()
    assert account["nominal_code"] == 1201  # the first free code of 1200-1299
    assert account["displayed_as"] == "Rainy Day Account (1201)"
    assert account["balance"] == "0.0" and account["deletable"] is True
    assert account["default_payment_method"]["id"] == "BANK_TRANSFER"
    assert set(account["main_address"]) == {"id", "displayed_as", "$path"}, "a link unless asked for"
    address = wapi.get(account["$path"], params={"nested_attributes": "main_address"}).json()["main_address"]
    assert address["bank_account"]["id"] == account["id"]
    ledger = wapi.get(account["ledger_account"]["$path"]).json()
    assert ledger["displayed_as"] == "Rainy Day Account (1201)"
    assert ledger["ledger_account_type"]["id"] == "BANK" and ledger["visible_in_banking"] is True

    renamed = wapi.put(
        account["$path"],
        json={"bank_account": {"bank_account_details": {"account_name": "Reserve"}, "nominal_code": 1205}},
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["displayed_as"] == "Reserve (1205)"
    assert renamed.json()["bank_account_details"]["sort_code"] == "40-11-62"
    assert wapi.get(account["ledger_account"]["$path"]).json()["displayed_as"] == "Reserve (1205)"

    assert wapi.delete(account["$path"]).status_code == 204
    assert wapi.get(account["$path"]).status_code == 404
    assert wapi.get(account["ledger_account"]["$path"]).status_code == 404
    gone = wapi.get("/bank_accounts", params={"deleted_since": "2000-01-01", "attributes": "deleted_at"}).json()
    assert [a["id"] for a in gone["$items"]] == [account["id"]]
    assert gone["$items"][0]["deleted_at"]


def test_bank_account_422s(wapi: httpx2.Client, banks: dict[str, dict[str, Any]], codes: dict[int, str]) -> None:
    missing = wapi.post("/bank_accounts", json={"bank_account": {"bank_account_type_id": "SAVINGS"}})
    assert sources(missing) == {"bank_account_details.account_name"}
    bad = {"bank_account_type_id": "PIGGY_BANK", "bank_account_details": {"account_name": "X"}, "nominal_code": 1200}
    assert sources(wapi.post("/bank_accounts", json={"bank_account": bad})) == {"bank_account_type_id"}
    taken = {"bank_account_type_id": "OTHER", "bank_account_details": {"account_name": "X"}, "nominal_code": 4000}
    assert sources(wapi.post("/bank_accounts", json={"bank_account": taken})) == {"nominal_code"}
    linked = {
        "bank_account_type_id": "OTHER",
        "bank_account_details": {"account_name": "X"},
        "ledger_account_id": codes[1200],
    }
    assert sources(wapi.post("/bank_accounts", json={"bank_account": linked})) == {"ledger_account_id"}
    default = wapi.delete(banks["CHECKING"]["$path"])
    assert default.status_code == 422 and error_of(default)["$source"] == "base"
    used = wapi.delete(banks["SAVINGS"]["$path"])
    assert used.status_code == 422 and "transactions" in error_of(used)["$message"]
    retype = wapi.put(banks["SAVINGS"]["$path"], json={"bank_account": {"bank_account_type_id": "LOAN"}})
    assert sources(retype) == {"bank_account_type_id"}


# ---------------------------------------------------------------------------------------------- transfers, deposits


def test_bank_transfer_moves_balances(wapi: httpx2.Client, banks: dict[str, dict[str, Any]]) -> None:
    current, savings = banks["CHECKING"], banks["SAVINGS"]
    before = balance(wapi, current), balance(wapi, savings)
    body = {
        "bank_transfer": {
            "from_bank_account_id": current["id"],
            "to_bank_account_id": savings["id"],
            "date": TODAY.isoformat(),
            "amount": "250.0",
            "reference": "TEST TRANSFER",
        }
    }
    created = wapi.post("/bank_transfers", json=body)
    assert created.status_code == 201, created.text
    transfer = created.json()
    assert transfer["transaction_type"]["id"] == "BANK_TRANSFER" and transfer["amount"] == "250.0"
    assert (balance(wapi, current), balance(wapi, savings)) == (before[0] - 250, before[1] + 250)
    assert entries(wapi, transfer["transaction"]["id"]) == [("1200", "0.0", "250.0"), ("1210", "250.0", "0.0")]

    updated = wapi.put(transfer["$path"], json={"bank_transfer": {"amount": 300, "description": "More"}})
    assert updated.status_code == 200, updated.text
    assert updated.json()["transaction"]["id"] == transfer["transaction"]["id"]
    assert (balance(wapi, current), balance(wapi, savings)) == (before[0] - 300, before[1] + 300)

    assert wapi.delete(transfer["$path"]).status_code == 204
    assert (balance(wapi, current), balance(wapi, savings)) == before
    deleted = items(wapi, "/ledger_entries", transaction_id=transfer["transaction"]["id"])
    assert len(deleted) == 4 and all(e["deleted"] for e in deleted)
    gone = items(wapi, "/bank_transfers", deleted_since="2000-01-01")
    assert [t["id"] for t in gone] == [transfer["id"]]


def test_bank_transfer_422s_and_listing(wapi: httpx2.Client, banks: dict[str, dict[str, Any]]) -> None:
    current = banks["CHECKING"]
    same = {
        "from_bank_account_id": current["id"],
        "to_bank_account_id": current["id"],
        "date": "2025-06-01",
        "amount": 5,
    }
    assert sources(wapi.post("/bank_transfers", json={"bank_transfer": same})) == {"to_bank_account_id"}
    zero = dict(same, to_bank_account_id=banks["SAVINGS"]["id"], amount=0)
    assert sources(wapi.post("/bank_transfers", json={"bank_transfer": zero})) == {"amount"}
    unknown = dict(same, from_bank_account_id="nope", to_bank_account_id=banks["SAVINGS"]["id"])
    assert couldnt_find(wapi.post("/bank_transfers", json={"bank_transfer": unknown})) == {"BankAccount"}
    dated = items(wapi, "/bank_transfers", from_date="2025-01-01", to_date="2025-03-31", sort="date:asc")
    assert dated and all("2025-01-01" <= t["date"] <= "2025-03-31" for t in dated)
    assert [t["date"] for t in dated] == sorted(t["date"] for t in dated)
    savings = items(wapi, "/bank_transfers", search="to savings")
    assert savings and all(t["to_bank_account"]["id"] == banks["SAVINGS"]["id"] for t in savings)
    assert wapi.get("/bank_transfers", params={"sort": "amount"}).status_code == 422


def test_bank_deposit_from_cash_in_hand(wapi: httpx2.Client, banks: dict[str, dict[str, Any]]) -> None:
    cash, current = banks["CASH_IN_HAND"], banks["CHECKING"]
    body = {
        "from_bank_account_id": current["id"],
        "to_bank_account_id": banks["SAVINGS"]["id"],
        "date": TODAY.isoformat(),
        "reference": "WRONG",
        "cash_amount": "10.0",
    }
    assert sources(wapi.post("/bank_deposits", json={"bank_deposit": body})) == {"from_bank_account_id"}
    body.update(from_bank_account_id=cash["id"], to_bank_account_id=current["id"], total_amount="11.0")
    assert sources(wapi.post("/bank_deposits", json={"bank_deposit": body})) == {"total_amount"}
    before = balance(wapi, cash), balance(wapi, current)
    body.update(reference="PAYING IN", cheque_amount="15.5", total_amount="25.5")
    created = wapi.post("/bank_deposits", json={"bank_deposit": body})
    assert created.status_code == 201, created.text
    deposit = created.json()
    assert (deposit["cash_amount"], deposit["cheque_amount"], deposit["total_amount"]) == ("10.0", "15.5", "25.5")
    assert (balance(wapi, cash), balance(wapi, current)) == (before[0] - Decimal("25.5"), before[1] + Decimal("25.5"))
    assert wapi.put(deposit["$path"], json={"bank_deposit": {}}).status_code == 405
    assert wapi.delete(deposit["$path"]).status_code == 204
    assert (balance(wapi, cash), balance(wapi, current)) == before


# ---------------------------------------------------------------------------------------------- other payments


def _payment(bank_id: str, type_id: str, total: str, lines: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "other_payment": {
            "transaction_type_id": type_id,
            "bank_account_id": bank_id,
            "date": TODAY.isoformat(),
            "total_amount": total,
            "payment_lines": lines,
            **extra,
        }
    }


def test_other_payment_splits_vat(wapi: httpx2.Client, banks: dict[str, dict[str, Any]], codes: dict[int, str]) -> None:
    current = banks["CHECKING"]
    supplier = items(wapi, "/contacts", search="Metro Stationery")[0]
    lines = [
        {"ledger_account_id": codes[7504], "total_amount": "120.0", "tax_rate_id": "GB_STANDARD", "details": "Paper"},
        {"ledger_account_id": codes[7400], "total_amount": "10.5", "tax_rate_id": "GB_ZERO"},
        # 0.03 at 20% contains 0.005 of VAT: half-up makes it 0.01
        {"ledger_account_id": codes[7504], "total_amount": "0.03", "tax_rate_id": "GB_STANDARD"},
    ]
    before = balance(wapi, current)
    body = _payment(current["id"], "OTHER_PAYMENT", "130.53", lines, contact_id=supplier["id"], reference="PAPER-1")
    created = wapi.post("/other_payments", json=body)
    assert created.status_code == 201, created.text
    payment = created.json()
    assert (payment["net_amount"], payment["tax_amount"], payment["total_amount"]) == ("110.52", "20.01", "130.53")
    assert [(x["net_amount"], x["tax_amount"]) for x in payment["payment_lines"]] == [
        ("100.0", "20.0"),
        ("10.5", "0.0"),
        ("0.02", "0.01"),
    ]
    assert payment["contact"]["id"] == supplier["id"] and payment["payment_method"]["id"] == "BANK_TRANSFER"
    assert entries(wapi, payment["transaction"]["id"]) == [
        ("1200", "0.0", "130.53"),
        ("2201", "20.01", "0.0"),
        ("7400", "10.5", "0.0"),
        ("7504", "100.02", "0.0"),
    ]
    assert balance(wapi, current) == before - Decimal("130.53")
    transaction = wapi.get(payment["transaction"]["$path"]).json()
    assert transaction["transaction_type"]["id"] == "OTHER_PAYMENT" and transaction["total"] == "130.53"

    edited = wapi.put(
        payment["$path"],
        json={"other_payment": {"payment_lines": [{"ledger_account_id": codes[7504], "total_amount": "60.0"}]}},
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["net_amount"], edited.json()["tax_amount"]) == ("50.0", "10.0")  # 7504's default rate
    assert entries(wapi, payment["transaction"]["id"]) == [
        ("1200", "0.0", "60.0"),
        ("2201", "10.0", "0.0"),
        ("7504", "50.0", "0.0"),
    ]
    assert balance(wapi, current) == before - 60
    assert wapi.delete(payment["$path"]).status_code == 204
    assert balance(wapi, current) == before
    assert wapi.get(payment["$path"]).status_code == 404


def test_other_receipts_and_refunds(
    wapi: httpx2.Client, banks: dict[str, dict[str, Any]], codes: dict[int, str]
) -> None:
    current = banks["CHECKING"]
    line = [{"ledger_account_id": codes[4900], "total_amount": "60.0", "tax_rate_id": "GB_STANDARD"}]
    receipt = wapi.post("/other_payments", json=_payment(current["id"], "OTHER_RECEIPT", "60.0", line)).json()
    assert entries(wapi, receipt["transaction"]["id"]) == [
        ("1200", "60.0", "0.0"),
        ("2200", "0.0", "10.0"),
        ("4900", "0.0", "50.0"),
    ]
    refund = wapi.post("/other_payments", json=_payment(current["id"], "OTHER_RECEIPT_REFUND", "60.0", line)).json()
    assert entries(wapi, refund["transaction"]["id"]) == [
        ("1200", "0.0", "60.0"),
        ("2200", "10.0", "0.0"),
        ("4900", "50.0", "0.0"),
    ]
    back = [{"ledger_account_id": codes[7504], "total_amount": "12.0", "tax_rate_id": "GB_STANDARD"}]
    payment_refund = wapi.post("/other_payments", json=_payment(current["id"], "OTHER_PAYMENT_REFUND", "12", back))
    assert payment_refund.status_code == 201, payment_refund.text
    assert entries(wapi, payment_refund.json()["transaction"]["id"]) == [
        ("1200", "12.0", "0.0"),
        ("2201", "0.0", "2.0"),
        ("7504", "0.0", "10.0"),
    ]
    refunds = items(wapi, "/other_payments", transaction_type_id="OTHER_RECEIPT_REFUND", from_date=TODAY.isoformat())
    assert [r["id"] for r in refunds] == [refund["id"]]


def test_other_payment_422s(wapi: httpx2.Client, banks: dict[str, dict[str, Any]], codes: dict[int, str]) -> None:
    current = banks["CHECKING"]["id"]
    line = {"ledger_account_id": codes[7504], "total_amount": "12.0", "tax_rate_id": "GB_STANDARD"}
    assert sources(wapi.post("/other_payments", json=_payment(current, "OTHER_PAYMENT", "13.0", [line]))) == {
        "total_amount"
    }
    sales = dict(line, ledger_account_id=codes[4000])
    assert sources(wapi.post("/other_payments", json=_payment(current, "OTHER_PAYMENT", "12.0", [sales]))) == {
        "payment_lines.ledger_account_id"
    }
    wrong_tax = dict(line, tax_amount="1.0")
    response = wapi.post("/other_payments", json=_payment(current, "OTHER_PAYMENT", "24.0", [line, wrong_tax]))
    assert sources(response) == {"payment_lines.tax_amount"}
    assert "(payment_lines item 2)" in response.json()[0]["$message"]
    no_bank = _payment(current, "OTHER_PAYMENT", "12.0", [line])
    del no_bank["other_payment"]["bank_account_id"]
    assert sources(wapi.post("/other_payments", json=no_bank)) == {"bank_account_id"}
    assert sources(wapi.post("/other_payments", json=_payment(current, "GIFT", "12.0", [line]))) == {
        "transaction_type_id"
    }
    negative = dict(line, total_amount="-12.0")
    assert "payment_lines.total_amount" in sources(
        wapi.post("/other_payments", json=_payment(current, "OTHER_PAYMENT", "-12.0", [negative]))
    )
    seeded = items(wapi, "/other_payments", search="STORE RENT")[0]
    change = wapi.put(seeded["$path"], json={"other_payment": {"transaction_type_id": "OTHER_RECEIPT"}})
    assert sources(change) == {"transaction_type_id"}


def test_seeded_other_payments_and_filters(wapi: httpx2.Client, banks: dict[str, dict[str, Any]]) -> None:
    rent = items(wapi, "/other_payments", search="store rent")
    assert len(rent) == 12
    assert all(p["total_amount"] == "540.0" and p["tax_amount"] == "90.0" for p in rent)
    card = items(wapi, "/other_payments", bank_account_id=banks["CREDIT_CARD"]["id"])
    assert card and all(p["bank_account"]["id"] == banks["CREDIT_CARD"]["id"] for p in card)
    receipts = items(wapi, "/other_payments", transaction_type_id="other_receipt")
    assert receipts and all(p["transaction_type"]["id"] == "OTHER_RECEIPT" for p in receipts)
    ordered = items(wapi, "/other_payments", sort="date:desc")
    assert [p["date"] for p in ordered] == sorted((p["date"] for p in ordered), reverse=True)
    assert wapi.get("/other_payments", params={"has_attachments": "maybe"}).status_code == 422
    assert wapi.get("/other_payments", params={"from_date": "June"}).status_code == 422


# ---------------------------------------------------------------------------------------------- reconciliations


def test_bank_reconciliation(wapi: httpx2.Client, banks: dict[str, dict[str, Any]]) -> None:
    seeded = items(wapi, "/bank_reconciliations", bank_account_id=banks["CHECKING"]["id"])
    assert len(seeded) == 1 and seeded[0]["status"]["id"] == "RECONCILED"
    assert seeded[0]["balance_difference"] == "0.0"
    savings = banks["SAVINGS"]
    ledger_balance = balance(wapi, savings)
    body = {
        "bank_account_id": savings["id"],
        "statement_date": TODAY.isoformat(),
        "statement_end_balance": str(ledger_balance + 1),
        "status_id": "RECONCILED",
    }
    assert sources(wapi.post("/bank_reconciliations", json={"bank_reconciliation": body})) == {"status_id"}
    del body["status_id"]
    created = wapi.post("/bank_reconciliations", json={"bank_reconciliation": body})
    assert created.status_code == 201, created.text
    draft = created.json()
    assert draft["status"]["id"] == "DRAFT" and draft["starting_balance"] == "0.0"
    assert Decimal(draft["closing_balance"]) == ledger_balance and draft["balance_difference"] == "1.0"
    assert Decimal(draft["total_received"]) - Decimal(draft["total_paid"]) == ledger_balance
    second = wapi.post("/bank_reconciliations", json={"bank_reconciliation": {"bank_account_id": savings["id"]}})
    assert second.status_code == 422 and error_of(second)["$source"] == "base"
    done = wapi.put(
        draft["$path"],
        json={"bank_reconciliation": {"statement_end_balance": str(ledger_balance), "status_id": "RECONCILED"}},
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"]["id"] == "RECONCILED" and done.json()["balance_difference"] == "0.0"
    frozen = wapi.put(draft["$path"], json={"bank_reconciliation": {"reference": "late"}})
    assert frozen.status_code == 422 and error_of(frozen)["$source"] == "base"
    cash = wapi.post(
        "/bank_reconciliations", json={"bank_reconciliation": {"bank_account_id": banks["CASH_IN_HAND"]["id"]}}
    )
    assert sources(cash) == {"bank_account_id"}


# ---------------------------------------------------------------------------------------------- cross-cutting


def test_idempotent_bank_writes(wapi: httpx2.Client, banks: dict[str, dict[str, Any]]) -> None:
    key = "5b1f0c2e9a7d4c3b8e6f1a2d3c4b5a69"
    body = {
        "bank_transfer": {
            "idempotency_id": key,
            "from_bank_account_id": banks["CHECKING"]["id"],
            "to_bank_account_id": banks["CASH_IN_HAND"]["id"],
            "date": TODAY.isoformat(),
            "amount": "20.0",
        }
    }
    before = balance(wapi, banks["CASH_IN_HAND"])
    first, again = wapi.post("/bank_transfers", json=body), wapi.post("/bank_transfers", json=body)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert balance(wapi, banks["CASH_IN_HAND"]) == before + 20
    mismatch = wapi.post("/bank_accounts", json={"bank_account": {"idempotency_id": key, "bank_account_type_id": "X"}})
    assert error_of(mismatch)["$dataCode"] == "IdempotencyResourceMismatch"


def test_books_balance_after_the_banking_writes(writable_server: SandboxServer, wapi: httpx2.Client) -> None:
    assert wapi.get("/bank_accounts").status_code == 200
    ctx = writable_server.sandbox.context(LEAD_BUSINESS_ID, SANDBOX_USER_ID)
    assert sum(trial_balance(ctx).values(), Decimal(0)) == 0
    for window in (("2000-01-01", "2099-12-31"), ("2025-01-01", "2025-03-31"), (TODAY.isoformat(), TODAY.isoformat())):
        accounts = items(wapi, "/ledger_accounts", show_balance_details="true", from_date=window[0], to_date=window[1])
        debits = sum(Decimal(a["balance_details"]["debits"]) for a in accounts)
        credits = sum(Decimal(a["balance_details"]["credits"]) for a in accounts)
        assert debits == credits, window
