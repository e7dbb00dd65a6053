"""Sage's less used resources, served: stock, analysis types, opening balances, classifications and migrated
VAT returns (every answer checked against the spec by the test client)."""

from __future__ import annotations

from typing import Any

import httpx2
from sandbox_support import error_of, items, sources


def created(response: httpx2.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_stock_moves_with_its_movements(wapi: httpx2.Client, codes: dict[int, str]) -> None:
    item = created(
        wapi.post(
            "/stock_items",
            json={
                "stock_item": {
                    "item_code": "OAK-BOARD",
                    "description": "Oak board 2m",
                    "sales_ledger_account_id": codes[4000],
                    "purchase_ledger_account_id": codes[5000],
                    "reorder_level": 5,
                    "location": "Bay 3",
                    "sales_prices": [{"price_name": "Selling Price", "price": "24.00"}],
                }
            },
        )
    )
    assert item["quantity_in_stock"] in ("0.0", "0.00") and item["location"] == "Bay 3"
    assert item["sales_tax_rate"]["id"] == "GB_STANDARD", "rates default to the ledger account's"
    move_in = created(
        wapi.post(
            "/stock_movements",
            json={
                "stock_movement": {
                    "stock_item_id": item["id"],
                    "date": "2025-06-02",
                    "quantity": 12,
                    "cost_price": "9.50",
                    "details": "Delivery",
                }
            },
        )
    )
    assert move_in["movement_number"].isdigit() and move_in["stock_item"]["id"] == item["id"]
    out = {"stock_item_id": item["id"], "date": "2025-06-03", "quantity": -20, "cost_price": 0, "details": "Sold"}
    too_many = wapi.post("/stock_movements", json={"stock_movement": out})
    assert sources(too_many) == {"quantity"} and "below zero" in error_of(too_many)["$message"]
    created(wapi.post("/stock_movements", json={"stock_movement": {**out, "quantity": -5}}))
    assert wapi.get(f"/stock_items/{item['id']}").json()["quantity_in_stock"] in ("7.0", "7.00")
    refused = wapi.delete(f"/stock_items/{item['id']}")
    assert refused.status_code == 422 and "stock movements" in error_of(refused)["$message"]
    assert wapi.delete(f"/stock_movements/{move_in['id']}").status_code == 422, "would leave -5 in stock"
    listed = items(wapi, "/stock_movements", stock_item_id=item["id"])
    assert len(listed) == 2


def test_analysis_types_and_their_categories(wapi: httpx2.Client) -> None:
    types = items(wapi, "/analysis_types")
    assert [t["name"] for t in types] == ["Department", "Cost Centre", "Region"]
    renamed = wapi.put(f"/analysis_types/{types[0]['id']}", json={"analysis_type": {"name": "Workshop"}})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Workshop"
    body = {"analysis_type_category": {"analysis_type_id": types[0]["id"], "code": "JOIN", "name": "Joinery"}}
    category = created(wapi.post("/analysis_type_categories", json=body))
    assert category["analysis_type"]["id"] == types[0]["id"]
    assert sources(wapi.post("/analysis_type_categories", json=body)) == {"code"}
    again = wapi.get(f"/analysis_types/{types[0]['id']}").json()
    assert [c["id"] for c in again["analysis_type_categories"]] == [category["id"]]


def test_opening_balances_are_dated_at_the_start_and_balance(wapi: httpx2.Client, codes: dict[int, str]) -> None:
    start = wapi.get("/financial_settings").json()["accounts_start_date"]
    customer = items(wapi, "/contacts", contact_type_id="CUSTOMER")[0]
    body = {
        "contact_opening_balance_type_id": "INVOICE",
        "contact_id": customer["id"],
        "date": start,
        "reference": "OB-1",
        "total_amount": "240.00",
        "net_amount": "200.00",
        "tax_amount": "40.00",
    }
    opening = created(wapi.post("/contact_opening_balances", json={"contact_opening_balance": body}))
    assert opening["transaction_type"]["id"] == "SALES_OPENING_BALANCE_INVOICE"
    late = wapi.post("/contact_opening_balances", json={"contact_opening_balance": {**body, "date": "2025-06-01"}})
    assert sources(late) == {"date"} and "accounts start date" in error_of(late)["$message"]
    wrong = wapi.post("/contact_opening_balances", json={"contact_opening_balance": {**body, "tax_amount": "41.00"}})
    assert sources(wrong) == {"total_amount"}
    both = {"ledger_account_id": codes[1200], "debit": "10.00", "credit": "10.00"}
    assert sources(wapi.post("/ledger_account_opening_balances", json={"ledger_account_opening_balance": both})) == {
        "debit"
    }
    created(
        wapi.post("/ledger_account_opening_balances", json={"ledger_account_opening_balance": {**both, "credit": 0}})
    )
    bank = next(b for b in items(wapi, "/bank_accounts") if b["bank_account_type"]["id"] != "CHECKING")
    created(
        wapi.post(
            "/bank_opening_balances",
            json={
                "bank_opening_balance": {"bank_account_id": bank["id"], "date": start, "debit": "1500.00", "credit": 0}
            },
        )
    )
    lines = [
        {"ledger_account_id": codes[1200], "debit": "500.00", "credit": 0},
        {"ledger_account_id": codes[3200], "debit": 0, "credit": "499.00"},
    ]
    unbalanced = wapi.post("/opening_balance_journals", json={"opening_balance_journal": {"journal_lines": lines}})
    assert sources(unbalanced) == {"journal_lines"}
    lines[1]["credit"] = "500.00"
    journal = created(
        wapi.post("/opening_balance_journals", json={"opening_balance_journal": {"journal_lines": lines}})
    )
    assert journal["date"] == start and len(journal["journal_lines"]) == 2


def test_classifications_types_and_migrated_vat_returns(wapi: httpx2.Client) -> None:
    assert {c["id"] for c in items(wapi, "/ledger_account_classifications")} >= {"CURRENT_ASSETS", "TURNOVER"}
    assert {t["id"] for t in items(wapi, "/contact_opening_balance_types")} == {"INVOICE", "CREDIT_NOTE"}
    boxes = {"box_1": "1200.00", "box_2": "0.00", "box_3": "1200.00", "box_4": "300.00", "box_5": "900.00"}
    body = {
        "from_date": "2024-01-01",
        "to_date": "2024-03-31",
        "total_amount": "900.00",
        "tax_return_frequency_id": "QUARTERLY",
        "gb": {**boxes, "box_6": "6000.00", "box_7": "1500.00", "box_8": "0.00", "box_9": "0.00"},
    }
    migrated = created(wapi.post("/migration_tax_returns", json={"migration_tax_return": body}))
    assert migrated["gb"]["box_5"] in ("900.0", "900.00") and migrated["tax_return_frequency"]["id"] == "QUARTERLY"
    wrong = {**body, "gb": {**body["gb"], "box_5": "901.00"}}
    assert sources(wapi.post("/migration_tax_returns", json={"migration_tax_return": wrong})) == {"gb.box_5"}
    listed = items(wapi, "/migration_tax_returns")
    assert migrated["id"] in [r["id"] for r in listed]
    assert [r["to_date"] for r in listed] == sorted((r["to_date"] for r in listed), reverse=True), "newest first"
