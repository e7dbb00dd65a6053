"""Reference lists, settings, tax profiles, the catalogue and contacts' addresses and people."""

from __future__ import annotations

from typing import Any

import httpx2
from sandbox_support import couldnt_find, error_of, items, sources

from sage_mcp.sandbox import SECOND_BUSINESS_ID

# ---------------------------------------------------------------------------------------------- lookups


def test_reference_lists(api: httpx2.Client) -> None:
    def ids(path: str) -> list[str]:
        return [x["id"] for x in items(api, path)]

    assert ids("/contact_types") == ["CUSTOMER", "VENDOR"]
    assert {"GB", "IE", "FR", "DE", "US"} <= set(ids("/countries"))
    assert {"GBP", "EUR", "USD"} <= set(ids("/currencies"))
    assert set(ids("/artefact_statuses")) >= {"DRAFT", "PRO_FORMA", "UNPAID", "PART_PAID", "PAID", "VOID"}
    assert api.get("/artefact_statuses/PART_PAID").json()["displayed_as"] == "Part Paid"
    assert {"BANK_TRANSFER", "CASH", "CHEQUE", "CREDIT_DEBIT"} <= set(ids("/payment_methods"))
    assert set(ids("/bank_account_types")) >= {"CHECKING", "SAVINGS", "CREDIT_CARD", "CASH_IN_HAND"}
    assert set(ids("/address_types")) >= {"ACCOUNTS", "DELIVERY"}
    assert set(ids("/contact_person_types")) >= {"ACCOUNTS", "SALES"}
    assert "STANDARD" in ids("/tax_schemes") and "QUARTERLY" in ids("/tax_return_frequencies")
    assert api.get("/tax_types/GB_VAT").json()["country"]["id"] == "GB"
    rate = api.get("/exchange_rates/EUR").json()
    assert rate["base_currency"]["id"] == "GBP" and rate["currency"]["id"] == "EUR" and rate["rate"]
    assert api.get("/countries/GB").json() == {
        "id": "GB",
        "displayed_as": "United Kingdom (GB)",
        "$path": "/countries/GB",
    }
    assert api.get("/countries/XX").status_code == 404
    assert api.post("/countries", json={}).status_code == 405


# ---------------------------------------------------------------------------------------------- settings


def test_settings_singletons(wapi: httpx2.Client, codes: dict[int, str]) -> None:
    financial = wapi.get("/financial_settings")
    assert financial.status_code == 200, financial.text
    settings = financial.json()
    assert "$items" not in settings and settings["$path"] == "/financial_settings"
    assert settings["base_currency"]["id"] == "GBP" and settings["accounting_type"] == "accrual"
    assert settings["year_end_date"] == "2026-03-31" and settings["tax_number"] == "GB284619357"
    assert settings["tax_return_frequency"]["id"] == "QUARTERLY" and settings["tax_scheme"]["id"] == "STANDARD"
    changed = wapi.put(
        "/financial_settings",
        json={"financial_settings": {"tax_return_frequency_id": "MONTHLY", "year_end_lockdown_date": "2024-03-31"}},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["tax_return_frequency"]["id"] == "MONTHLY"
    profile = items(wapi, "/tax_profiles")[0]
    assert profile["tax_return_frequency"]["id"] == "MONTHLY"
    refused = wapi.put("/financial_settings", json={"financial_settings": {"base_currency_id": "EUR"}})
    assert sources(refused) == {"base_currency_id"}
    assert sources(wapi.put("/financial_settings", json={"financial_settings": {"accounting_type": "magic"}})) == {
        "accounting_type"
    }
    assert wapi.post("/financial_settings", json={}).status_code == 405
    assert wapi.get("/financial_settings/1").status_code == 404
    other = wapi.get("/financial_settings", headers={"X-Business": SECOND_BUSINESS_ID}).json()
    assert other["tax_number"] == "GB318204756" and other["tax_scheme"]["id"] == "CASH"

    invoice = wapi.get("/invoice_settings").json()
    assert invoice["next_invoice_number"] == 206 and invoice["sales_invoice_number_prefix"] == "SI-"
    moved = wapi.put(
        "/invoice_settings", json={"invoice_settings": {"next_invoice_number": 500, "customer_credit_days": 14}}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["next_invoice_number"] == 500 and moved.json()["customer_credit_days"] == 14
    assert sources(wapi.put("/invoice_settings", json={"invoice_settings": {"next_invoice_number": 3}})) == {
        "next_invoice_number"
    }
    assert sources(
        wapi.put("/invoice_settings", json={"invoice_settings": {"sales_invoice_number_prefix": "INV"}})
    ) == {"sales_invoice_number_prefix"}
    headings = wapi.put(
        "/invoice_settings", json={"invoice_settings": {"document_headings": {"sales_invoice": "Invoice"}}}
    )
    assert headings.json()["document_headings"]["sales_invoice"] == "Invoice"
    assert headings.json()["document_headings"]["statement"] == "Statement"

    business = wapi.get("/business_settings").json()
    assert business["business_type"]["id"] == "LIMITED_COMPANY"
    assert business["default_ledger_accounts"]["bank_charges_ledger_account"]["id"] == codes[7900]
    updated = wapi.put(
        "/business_settings",
        json={"business_settings": {"default_ledger_accounts": {"other_payment_ledger_account_id": codes[7504]}}},
    )
    assert updated.json()["default_ledger_accounts"]["other_payment_ledger_account"]["id"] == codes[7504]
    bad = {"business_settings": {"default_ledger_accounts": {"sales_ledger_account_id": "nope"}}}
    assert couldnt_find(wapi.put("/business_settings", json=bad)) == {"LedgerAccount"}


def test_lockdown_date_closes_the_books(wapi: httpx2.Client, codes: dict[int, str]) -> None:
    locked = wapi.put("/financial_settings", json={"financial_settings": {"year_end_lockdown_date": "2024-12-31"}})
    assert locked.status_code == 200 and locked.json()["year_end_lockdown_date"] == "2024-12-31"
    body = {
        "journal": {
            "date": "2024-12-31",
            "reference": "LATE",
            "journal_lines": [
                {"ledger_account_id": codes[7600], "debit": "1", "credit": "0"},
                {"ledger_account_id": codes[2109], "debit": "0", "credit": "1"},
            ],
        }
    }
    assert sources(wapi.post("/journals", json=body)) == {"date"}
    body["journal"]["date"] = "2025-01-01"
    assert wapi.post("/journals", json=body).status_code == 201
    unlocked = wapi.put("/financial_settings", json={"financial_settings": {"year_end_lockdown_date": None}})
    assert unlocked.json()["year_end_lockdown_date"] is None


def test_tax_profile_updates(wapi: httpx2.Client) -> None:
    profile = items(wapi, "/tax_profiles")[0]
    assert profile["tax_type"]["id"] == "GB_VAT" and profile["collect_tax"] is True
    bad = wapi.put(profile["$path"], json={"tax_profile": {"tax_number": "GB12"}})
    assert sources(bad) == {"tax_number"}
    good = wapi.put(profile["$path"], json={"tax_profile": {"tax_number": "GB 123 4567 89"}})
    assert good.status_code == 200 and good.json()["tax_number"] == "GB123456789"
    assert wapi.get("/financial_settings").json()["tax_number"] == "GB123456789"
    assert sources(wapi.put(profile["$path"], json={"tax_profile": {"tax_type_id": "CA_GST_HST"}})) == {"tax_type_id"}
    assert wapi.post("/tax_profiles", json={}).status_code == 405


# ---------------------------------------------------------------------------------------------- catalogue


def test_products_and_services(wapi: httpx2.Client, codes: dict[int, str]) -> None:
    seeded = items(wapi, "/products", search="oak")
    assert [p["item_code"] for p in seeded] == ["OAK-WT"]
    assert seeded[0]["sales_prices"][0]["price"] == "189.99" and seeded[0]["sales_tax_rate"]["id"] == "GB_STANDARD"
    assert len(items(wapi, "/services")) == 4
    supplier = items(wapi, "/contacts", search="Northern Paper")[0]
    body = {
        "product": {
            "item_code": "PAPER-A4",
            "description": "A4 paper (box)",
            "sales_ledger_account_id": codes[4001],
            "purchase_ledger_account_id": codes[5000],
            "usual_supplier_id": supplier["id"],
            "cost_price": "18.4",
            "sales_prices": [{"price_name": "Selling Price", "price": "24.99", "price_includes_tax": False}],
        }
    }
    created = wapi.post("/products", json=body)
    assert created.status_code == 201, created.text
    product = created.json()
    assert product["usual_supplier"]["id"] == supplier["id"] and product["catalog_item_type"]["id"] == "NON_STOCK_ITEM"
    assert sources(wapi.post("/products", json=body)) == {"item_code"}
    wrong = dict(
        body["product"],
        item_code="X",
        sales_ledger_account_id=codes[7100],
        usual_supplier_id=items(wapi, "/contacts", search="Kestrel")[0]["id"],
    )
    refused = wapi.post("/products", json={"product": wrong})
    assert sources(refused) == {"sales_ledger_account_id", ""} and couldnt_find(refused) == {"Supplier"}
    off = wapi.put(product["$path"], json={"product": {"active": False}})
    assert off.status_code == 200 and off.json()["active"] is False
    assert product["id"] in {p["id"] for p in items(wapi, "/products", active="false")}
    assert product["id"] not in {p["id"] for p in items(wapi, "/products", active="true")}
    assert wapi.delete(product["$path"]).status_code == 204
    assert [p["id"] for p in items(wapi, "/products", deleted_since="2000-01-01")] == [product["id"]]

    service = wapi.post(
        "/services",
        json={
            "service": {
                "description": "Fitting (per hour)",
                "sales_ledger_account_id": codes[4000],
                "sales_rates": [{"rate_name": "Hourly", "rate": 40}],
            }
        },
    )
    assert service.status_code == 201, service.text
    assert service.json()["sales_rates"][0]["rate"] == "40.0" and service.json()["displayed_as"] == "Fitting (per hour)"
    missing = wapi.post("/services", json={"service": {"description": "No account"}})
    assert sources(missing) == {"sales_ledger_account_id"}


# ---------------------------------------------------------------------------------------------- contacts' children


def test_addresses_of_a_contact(wapi: httpx2.Client) -> None:
    contact = items(wapi, "/contacts", search="Bluebell")[0]
    main = contact["main_address"]
    listed = items(wapi, "/addresses", contact_id=contact["id"])
    assert [a["id"] for a in listed] == [main["id"]]
    assert wapi.get(f"/addresses/{main['id']}").json()["contact"]["id"] == contact["id"]
    body = {
        "address": {
            "contact_id": contact["id"],
            "address_type_id": "DELIVERY",
            "name": "Bakery unit",
            "is_main_address": False,
            "address_line_1": "7 Oven Lane",
            "city": "York",
        }
    }
    created = wapi.post("/addresses", json=body)
    assert created.status_code == 201, created.text
    extra = created.json()
    assert extra["address_type"]["id"] == "DELIVERY" and extra["is_main_address"] is False
    assert len(items(wapi, "/addresses", contact_id=contact["id"])) == 2
    promoted = wapi.put(extra["$path"], json={"address": {"is_main_address": True}})
    assert promoted.status_code == 200, promoted.text
    after = wapi.get(contact["$path"], params={"nested_attributes": "main_address"}).json()
    assert after["main_address"]["id"] == extra["id"] and after["main_address"]["city"] == "York"
    old = wapi.get(f"/addresses/{main['id']}").json()
    assert old["is_main_address"] is False
    refused = wapi.delete(extra["$path"])
    assert refused.status_code == 422 and error_of(refused)["$source"] == "base"
    assert sources(wapi.put(extra["$path"], json={"address": {"is_main_address": False}})) == {"is_main_address"}
    assert wapi.delete(old["$path"]).status_code == 204
    assert [a["id"] for a in items(wapi, "/addresses", contact_id=contact["id"])] == [extra["id"]]
    assert old["id"] in {a["id"] for a in items(wapi, "/addresses", deleted_since="2000-01-01")}
    no_owner = dict(body["address"])
    del no_owner["contact_id"]
    assert sources(wapi.post("/addresses", json={"address": no_owner})) == {"contact_id"}


def test_contact_persons(wapi: httpx2.Client) -> None:
    contact = items(wapi, "/contacts", search="Kestrel")[0]
    main = contact["main_contact_person"]
    people = items(wapi, "/contact_persons", contact_id=contact["id"])
    assert [p["id"] for p in people] == [main["id"]]
    assert people[0]["address"]["id"] == contact["main_address"]["id"]
    body = {
        "contact_person": {
            "address_id": contact["main_address"]["id"],
            "name": "Priya Kestrel",
            "contact_person_type_ids": ["SALES"],
            "email": "priya@kestrel.example",
            "job_title": "Buyer",
        }
    }
    created = wapi.post("/contact_persons", json=body)
    assert created.status_code == 201, created.text
    person = created.json()
    assert person["is_main_contact"] is False and person["contact_person_types"][0]["id"] == "SALES"
    by_address = items(wapi, "/contact_persons", address_id=contact["main_address"]["id"])
    assert {p["id"] for p in by_address} == {main["id"], person["id"]}
    made_main = wapi.put(person["$path"], json={"contact_person": {"is_main_contact": True}})
    assert made_main.status_code == 200, made_main.text
    after = wapi.get(contact["$path"]).json()
    assert after["main_contact_person"]["id"] == person["id"] and after["email"] == "priya@kestrel.example"
    assert wapi.get(f"/contact_persons/{main['id']}").json()["is_main_contact"] is False
    refused = wapi.delete(person["$path"])
    assert refused.status_code == 422 and error_of(refused)["$source"] == "base"
    assert wapi.delete(f"/contact_persons/{main['id']}").status_code == 204
    bad = dict(body["contact_person"], email="not an email", contact_person_type_ids=["BOSS"])
    assert sources(wapi.post("/contact_persons", json={"contact_person": bad})) == {"email", "contact_person_type_ids"}
    nowhere = dict(body["contact_person"], address_id="nope")
    assert couldnt_find(wapi.post("/contact_persons", json={"contact_person": nowhere})) == {"Address"}


# ---------------------------------------------------------------------------------------------- idempotency


def test_idempotency_on_sages_listed_resources(wapi: httpx2.Client, codes: dict[int, str]) -> None:
    contact = items(wapi, "/contacts", search="Thistle")[0]
    bodies: dict[str, dict[str, Any]] = {
        "/products": {
            "product": {
                "description": "Dowels",
                "sales_ledger_account_id": codes[4001],
                "purchase_ledger_account_id": codes[5001],
            }
        },
        "/services": {"service": {"description": "Sanding", "sales_ledger_account_id": codes[4000]}},
        "/ledger_accounts": {
            "ledger_account": {
                "ledger_account_type_id": "OVERHEADS",
                "included_in_chart": True,
                "name": "Tools",
                "display_name": "Tools",
                "nominal_code": 7701,
            }
        },
        "/journal_codes": {"journal_code": {"name": "Achats", "code": "AC", "journal_code_type_id": "PURCHASES"}},
        "/addresses": {
            "address": {
                "contact_id": contact["id"],
                "address_type_id": "SALES",
                "name": "Showroom",
                "is_main_address": False,
            }
        },
        "/contact_persons": {
            "contact_person": {
                "address_id": contact["main_address"]["id"],
                "name": "Ola",
                "contact_person_type_ids": ["CONTACT"],
            }
        },
    }
    for number, (path, body) in enumerate(bodies.items()):
        root = next(iter(body))
        body[root]["idempotency_id"] = f"{number:02d}c0ffee0000000000000000000000ab"
        before = wapi.get(path).json()["$total"]
        first, again = wapi.post(path, json=body), wapi.post(path, json=body)
        assert first.status_code == again.status_code == 201, (path, first.text)
        assert first.json() == again.json(), path
        assert wapi.get(path).json()["$total"] == before + 1, path
    profile = items(wapi, "/tax_profiles")[0]
    put = {"tax_profile": {"tax_number": "GB999999973", "idempotency_id": "feedc0ffee0000000000000000000001"}}
    first, again = wapi.put(profile["$path"], json=put), wapi.put(profile["$path"], json=put)
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    settings = {"invoice_settings": {"idempotency_id": "feedc0ffee0000000000000000000002", "vendor_credit_days": 21}}
    assert wapi.put("/invoice_settings", json=settings).status_code == 200  # ignored (not on Sage's list), no 422


def test_lockdown_date_closes_invoices_and_payments_too(wapi: httpx2.Client) -> None:
    customers = wapi.get("/contacts", params={"contact_type_id": "CUSTOMER", "items_per_page": 1}).json()["$items"]
    sales = wapi.get("/ledger_accounts", params={"search": "4000", "items_per_page": 1}).json()["$items"][0]["id"]
    bank = wapi.get("/bank_accounts", params={"items_per_page": 1}).json()["$items"][0]["id"]
    contact = customers[0]["id"]

    def invoice(date: str) -> dict[str, object]:
        line = {"description": "x", "ledger_account_id": sales, "unit_price": "10.0", "tax_rate_id": "GB_ZERO"}
        return {"sales_invoice": {"contact_id": contact, "date": date, "invoice_lines": [line]}}

    before = wapi.post("/sales_invoices", json=invoice("2024-11-30"))
    assert before.status_code == 201
    draft_body = invoice("2024-12-15")
    draft_body["sales_invoice"]["status_id"] = "DRAFT"  # type: ignore[index]
    draft = wapi.post("/sales_invoices", json=draft_body).json()
    assert wapi.put(
        "/financial_settings", json={"financial_settings": {"year_end_lockdown_date": "2024-12-31"}}
    ).is_success
    try:
        assert sources(wapi.post("/sales_invoices", json=invoice("2024-12-31"))) == {"date"}
        assert wapi.post("/sales_invoices", json=invoice("2025-01-01")).status_code == 201
        closed = before.json()["id"]
        assert sources(wapi.delete(f"/sales_invoices/{closed}", params={"void_reason": "late"})) == {"date"}
        assert sources(wapi.put(f"/sales_invoices/{closed}", json={"sales_invoice": {"notes": "n"}})) == {"date"}
        assert sources(wapi.post(f"/sales_invoices/{draft['id']}/release")) == {"date"}
        receipt = {
            "contact_payment": {
                "transaction_type_id": "CUSTOMER_RECEIPT",
                "contact_id": contact,
                "bank_account_id": bank,
                "date": "2024-12-01",
                "total_amount": "10.0",
                "allocated_artefacts": [{"artefact_id": closed, "amount": "10.0"}],
            }
        }
        assert sources(wapi.post("/contact_payments", json=receipt)) == {"date"}
    finally:
        wapi.put("/financial_settings", json={"financial_settings": {"year_end_lockdown_date": None}})
