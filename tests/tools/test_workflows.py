"""Workflow tools through a real MCP client against the sandbox: web-shop orders, payouts, bad debts.

Every test makes its own customers and documents (unique names, e-mails and order numbers), so the
shared sandbox's other data never changes the expected figures, which are worked out by hand below.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
from decimal import Decimal
from typing import Any

import pytest
from mcp import Client

from sage_mcp.config import Settings
from sage_mcp.sandbox import SECOND_BUSINESS_ID, THIRD_BUSINESS_ID, SandboxServer
from tests.test_tools import err, ok
from tests.test_transports import _inspector
from tests.tools.test_payments import ledger_account, new_contact, sage_get, sage_post, state

pytestmark = pytest.mark.anyio
TODAY = dt.date.today()


def tag() -> str:
    return secrets.token_hex(3)


async def current_account(client: Client) -> dict[str, Any]:
    """The seeded main current account (other tests add current accounts of their own)."""
    accounts = (await ok(client, "list_bank_accounts"))["items"]
    return next(a for a in accounts if a["name"] == "Bank Current Account")


async def invoices_for(client: Client, contact_id: str) -> list[dict[str, Any]]:
    page = await sage_get(
        client, "/sales_invoices", {"contact_id": contact_id, "attributes": "reference,total_amount,status"}
    )
    return list(page["$items"])


async def customers_named(client: Client, name: str) -> list[dict[str, Any]]:
    page = await sage_get(client, "/contacts", {"search": name, "contact_type_id": "CUSTOMER", "attributes": "name"})
    return [c for c in page["$items"] if c["name"] == name]


async def bank_lines(client: Client, account_id: str) -> tuple[int, Decimal]:
    """How many ledger entries the bank account's ledger account has today, and the account's balance."""
    account = await sage_get(client, f"/bank_accounts/{account_id}")
    page = await sage_get(
        client,
        "/ledger_entries",
        {"ledger_account_id": account["ledger_account"]["id"], "from_date": TODAY.isoformat(), "items_per_page": 1},
    )
    return int(page["$total"]), Decimal(account["balance"])


# -- sync_sales_order --------------------------------------------------------------------------------------


def order(number: str, name: str, email: str, address: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    """An order of 2 x 12.50 mugs (20%) and a 4.00 book (zero rated), 1.00 off the mugs."""
    return {
        "order_number": number,
        "customer": {"name": name, "email": email, **({"address": address} if address else {})},
        "lines": [
            {
                "description": "Mug",
                "quantity": "2",
                "unit_price": "12.50",
                "discount_amount": "1.00",
                "tax_rate_id": "GB_STANDARD",
            },
            {"description": "Book", "quantity": "1", "unit_price": "4.00", "tax_rate_id": "GB_ZERO"},
        ],
        **extra,
    }


async def test_three_orders_pushed_twice_without_keys_make_three_invoices_and_one_customer(client: Client) -> None:
    t = tag()
    name, email = f"Ada Shopper {t}", f"ada.{t}@example.com"
    numbers = [f"#{t}-{n}" for n in (1001, 1002, 1003)]
    address = {"address_line_1": "4 Market Row", "city": "Leeds", "postal_code": "LS1 6AB", "country_id": "GB"}
    first = [await ok(client, "sync_sales_order", order(n, name, email, address=address)) for n in numbers]
    again = [await ok(client, "sync_sales_order", order(n, name, email)) for n in numbers]

    # Mugs: 2 x 12.50 - 1.00 = 24.00 net, VAT 4.80; book 4.00 at 0%: total 32.80.
    assert [(x["existing"], x["total"], x["net"], x["tax"], x["reference"]) for x in first] == [
        (False, "32.80", "28.00", "4.80", n) for n in numbers
    ]
    assert first[0]["customer"]["matched_by"] == "created"
    created = await sage_get(client, f"/contacts/{first[0]['customer']['id']}", {"nested_attributes": "main_address"})
    assert created["email"] == email and created["main_address"]["postal_code"] == "LS1 6AB"
    assert {x["customer"]["matched_by"] for x in first[1:]} == {"email"}
    assert [(x["existing"], x["id"]) for x in again] == [(True, x["id"]) for x in first]
    assert all("already invoiced" in x["note"] for x in again)

    customers = await customers_named(client, name)
    assert len(customers) == 1
    invoices = await invoices_for(client, customers[0]["id"])
    assert sorted(i["reference"] for i in invoices) == sorted(numbers)


def test_the_same_order_from_two_server_processes_is_invoiced_once(settings: Settings) -> None:
    """Two separate `sage-mcp serve` processes (the Inspector CLI over stdio), no key: nothing shared in memory."""
    t = tag()
    args = json.dumps(order(f"X{t}", f"Two Process {t}", f"two.{t}@example.com"))
    runs = [_inspector(settings, "--method", "tools/call", "--tool-name", "sync_sales_order", "--tool-args-json", args)]
    runs.append(
        _inspector(settings, "--method", "tools/call", "--tool-name", "sync_sales_order", "--tool-args-json", args)
    )
    assert [r.returncode for r in runs] == [0, 0], [r.stderr for r in runs]
    first, second = (json.loads(r.stdout)["result"]["structuredContent"] for r in runs)
    assert (first["existing"], second["existing"], second["id"]) == (False, True, first["id"])
    assert second["customer"] == {**first["customer"], "matched_by": "email"}


async def test_customer_matched_by_reference_then_name_case_insensitive(client: Client) -> None:
    t = tag()
    ref = f"R{t}"[:10]
    by_ref = await sage_post(
        client, "/contacts", {"contact": {"name": f"Ref Co {t}", "reference": ref, "contact_type_ids": ["CUSTOMER"]}}
    )
    by_name = await sage_post(
        client, "/contacts", {"contact": {"name": f"Name Co {t}", "contact_type_ids": ["CUSTOMER"]}}
    )
    one = await ok(
        client,
        "sync_sales_order",
        {
            **order(f"O{t}-1", "Someone Else", f"x.{t}@example.com"),
            "customer": {"name": "Other", "reference": ref.lower()},
        },
    )
    assert one["customer"] == {"id": by_ref["id"], "name": f"Ref Co {t}", "matched_by": "reference"}
    two = await ok(
        client, "sync_sales_order", {**order(f"O{t}-2", "", ""), "customer": {"name": f"NAME  co {t}".upper()}}
    )
    assert two["customer"]["id"] == by_name["id"] and two["customer"]["matched_by"] == "name"


async def test_paid_order_with_shipping_records_the_receipt_and_the_invoice_is_paid(client: Client) -> None:
    t = tag()
    bank = await current_account(client)
    before = Decimal(bank["balance"])
    args = order(
        f"P{t}", f"Paid Shopper {t}", f"paid.{t}@example.com", shipping="5.00", total="38.80", paid_into=bank["name"]
    )
    # Shipping 5.00 shared by the goods' net per rate: 24.00 of 28.00 at 20% -> 4.29 (VAT 0.86), 0.71 at 0%.
    # Total: 32.80 + 4.29 + 0.86 + 0.71 = 38.66.
    args["total"] = "38.66"
    paid = await ok(client, "sync_sales_order", args)
    assert (paid["total"], paid["tax"], paid["status"], paid["outstanding"]) == ("38.66", "5.66", "PAID", "0.00")
    assert paid["receipt"]["total"] == "38.66" and paid["receipt"]["bank_account"] == bank["name"]
    after = Decimal((await current_account(client))["balance"])
    assert after - before == Decimal("38.66")
    lines = (await sage_get(client, f"/sales_invoices/{paid['id']}"))["invoice_lines"]
    shipping = [(x["tax_rate"]["id"], x["net_amount"]) for x in lines if x["description"] == "Shipping"]
    assert shipping == [("GB_STANDARD", "4.29"), ("GB_ZERO", "0.71")]

    again = await ok(client, "sync_sales_order", args)
    assert again["existing"] is True and "receipt" not in again and again["status"] == "PAID"
    assert Decimal((await current_account(client))["balance"]) == after


async def test_a_wrong_shop_total_is_refused_before_anything_is_created(client: Client) -> None:
    t = tag()
    name = f"Total Check {t}"
    message = await err(client, "sync_sales_order", order(f"T{t}", name, f"t.{t}@example.com", total="33.00"))
    assert "33.00" in message and "32.80" in message and "0.20 apart" in message and "Nothing was posted" in message
    assert await customers_named(client, name) == []


async def test_two_pushes_of_one_order_at_once_create_one_invoice(client: Client) -> None:
    t = tag()
    name = f"Racer {t}"
    args = order(f"C{t}", name, f"race.{t}@example.com")
    a, b = await asyncio.gather(ok(client, "sync_sales_order", args), ok(client, "sync_sales_order", args))
    assert a["id"] == b["id"] and sorted([a["existing"], b["existing"]]) == [False, True]
    customers = await customers_named(client, name)
    assert len(customers) == 1 and len(await invoices_for(client, customers[0]["id"])) == 1


async def test_unknown_paid_into_account_is_refused_naming_the_accounts(client: Client) -> None:
    t = tag()
    message = await err(client, "sync_sales_order", order(f"U{t}", f"U {t}", f"u.{t}@example.com", paid_into="Nowhere"))
    assert "paid_into" in message and "Bank Current Account" in message
    assert await customers_named(client, f"U {t}") == []


# -- reconcile_payout -----------------------------------------------------------------------------------------


async def zero_rated_invoice(client: Client, contact_id: str, amount: str) -> dict[str, Any]:
    line = {
        "description": "Goods",
        "ledger_account_id": await ledger_account(client, "sales", 4000),
        "quantity": 1,
        "unit_price": amount,
        "tax_rate_id": "GB_ZERO",
    }
    body = {"sales_invoice": {"contact_id": contact_id, "date": TODAY.isoformat(), "invoice_lines": [line]}}
    return await sage_post(client, "/sales_invoices", body)


async def test_payout_that_adds_up_shows_one_net_line_in_the_bank_and_is_safe_to_repeat(client: Client) -> None:
    first_customer = await new_contact(client, "CUSTOMER")
    second_customer = await new_contact(client, "CUSTOMER")
    a = await zero_rated_invoice(client, first_customer["id"], "100.00")
    b = await zero_rated_invoice(client, second_customer["id"], "150.00")
    bank = await current_account(client)
    lines_before, balance_before = await bank_lines(client, bank["id"])
    payout_id = f"po_{secrets.token_hex(12)}"  # 27 characters, like Stripe's
    # 100.00 + 150.00 received, 7.55 fees: 242.45 paid out.
    args = {
        "payout_id": payout_id,
        "provider": "Stripe",
        "bank_account_id": bank["id"],
        "amount": "242.45",
        "fees": "7.55",
        "receipts": [
            {"document": a["invoice_number"], "amount": "100.00"},
            {"document": b["id"], "amount": "150.00"},
        ],
    }
    done = await ok(client, "reconcile_payout", args)
    assert done["existing"] is False and done["amount"] == "242.45" and done["clearing_account"] == "Stripe clearing"
    assert [(p["document"], p["type"], p["amount"]) for p in done["payments"]] == [
        (a["invoice_number"], "receipt", "100.00"),
        (b["invoice_number"], "receipt", "150.00"),
    ]
    assert done["fees"] == {
        "id": done["fees"]["id"],
        "amount": "7.55",
        "ledger_account": "7900 Bank Charges and Interest",
    }
    assert await state(client, "sales_invoices", a["id"]) == ("PAID", "0.00")
    assert await state(client, "sales_invoices", b["id"]) == ("PAID", "0.00")

    lines_after, balance_after = await bank_lines(client, bank["id"])
    assert (lines_after - lines_before, balance_after - balance_before) == (1, Decimal("242.45"))
    clearing = await sage_get(client, f"/bank_accounts/{done['clearing_account_id']}")
    assert Decimal(clearing["balance"]) == Decimal(0)  # everything received went on to the bank

    again = await ok(client, "reconcile_payout", args)
    assert again["existing"] is True and again["id"] == done["id"] and "nothing was posted" in again["note"]
    assert await bank_lines(client, bank["id"]) == (lines_after, balance_after)


async def test_payout_whose_fees_do_not_add_up_is_refused_and_nothing_is_posted(client: Client) -> None:
    customer = await new_contact(client, "CUSTOMER")
    invoice = await zero_rated_invoice(client, customer["id"], "80.00")
    bank = await current_account(client)
    before = await bank_lines(client, bank["id"])
    args = {
        "payout_id": f"po_{secrets.token_hex(12)}",
        "provider": "Stripe",
        "bank_account_id": bank["id"],
        "amount": "77.50",
        "fees": "2.60",
        "receipts": [{"document": invoice["invoice_number"], "amount": "80.00"}],
    }
    # 80.00 - 0.00 - 2.60 = 77.40, but the payout is 77.50: 0.10 more than the figures.
    message = await err(client, "reconcile_payout", args)
    assert "= 77.40" in message and "77.50" in message and "0.10 more" in message and "Nothing was posted" in message
    assert await state(client, "sales_invoices", invoice["id"]) == ("UNPAID", "80.00")
    assert await bank_lines(client, bank["id"]) == before


async def test_payout_with_a_refund_of_a_credit_note(client: Client) -> None:
    customer = await new_contact(client, "CUSTOMER")
    invoice = await zero_rated_invoice(client, customer["id"], "60.00")
    line = {
        "description": "Returned",
        "ledger_account_id": await ledger_account(client, "sales", 4000),
        "quantity": 1,
        "unit_price": "20.00",
        "tax_rate_id": "GB_ZERO",
    }
    credit = await sage_post(
        client,
        "/sales_credit_notes",
        {"sales_credit_note": {"contact_id": customer["id"], "date": TODAY.isoformat(), "credit_note_lines": [line]}},
    )
    # 60.00 received - 20.00 refunded - 1.20 fees = 38.80.
    done = await ok(
        client,
        "reconcile_payout",
        {
            "payout_id": f"GC_{tag()}",
            "provider": "GoCardless",
            "bank_account_id": (await current_account(client))["id"],
            "amount": "38.80",
            "fees": "1.20",
            "fees_account": "7900",
            "fees_tax_rate_id": "GB_STANDARD",
            "receipts": [
                {"document": invoice["invoice_number"], "amount": "60.00"},
                {"document": credit["credit_note_number"], "amount": "20.00"},
            ],
        },
    )
    assert [p["type"] for p in done["payments"]] == ["receipt", "refund"]
    assert done["clearing_account"] == "GoCardless clearing"
    # GoCardless charges VAT on its fees: 1.20 gross holds 0.20 VAT (1.20 x 20/120).
    fees = await sage_get(client, f"/other_payments/{done['fees']['id']}")
    figures = (fees["net_amount"], fees["tax_amount"], fees["total_amount"])
    assert tuple(Decimal(x) for x in figures) == (Decimal("1.00"), Decimal("0.20"), Decimal("1.20"))
    assert await state(client, "sales_credit_notes", credit["id"]) == ("PAID", "0.00")


async def test_a_payout_interrupted_before_its_transfer_is_finished_by_the_repeat_without_posting_twice(
    client: Client, sandbox: SandboxServer
) -> None:
    customer = await new_contact(client, "CUSTOMER")
    invoice = await zero_rated_invoice(client, customer["id"], "90.00")
    bank = await current_account(client)
    lines_before, balance_before = await bank_lines(client, bank["id"])
    # 90.00 received, 2.70 fees: 87.30 paid out.
    args = {
        "payout_id": f"po_{secrets.token_hex(12)}",
        "provider": "Stripe",
        "bank_account_id": bank["id"],
        "amount": "87.30",
        "fees": "2.70",
        "receipts": [{"document": invoice["invoice_number"], "amount": "90.00"}],
    }
    sandbox.faults.script("503", "POST", "/bank_transfers", count=3, retry_after=0)  # the try and both retries
    try:
        await err(client, "reconcile_payout", args)
    finally:
        sandbox.faults.clear()
    assert await state(client, "sales_invoices", invoice["id"]) == ("PAID", "0.00")  # the receipt was posted
    assert await bank_lines(client, bank["id"]) == (lines_before, balance_before)  # the transfer was not

    done = await ok(client, "reconcile_payout", args)
    assert done["existing"] is False and done["payments"][0]["existing"] is True and done["fees"]["existing"] is True
    lines_after, balance_after = await bank_lines(client, bank["id"])
    assert (lines_after - lines_before, balance_after - balance_before) == (1, Decimal("87.30"))
    clearing = await sage_get(client, f"/bank_accounts/{done['clearing_account_id']}")
    assert Decimal(clearing["balance"]) == Decimal(0)
    receipts = await sage_get(client, "/contact_payments", {"contact_id": customer["id"]})
    assert receipts["$total"] == 1


# -- write_off_bad_debt --------------------------------------------------------------------------------------


async def vat_invoice(client: Client, contact_id: str, day: dt.date, net: str = "100.00") -> dict[str, Any]:
    line = {
        "description": "Services",
        "ledger_account_id": await ledger_account(client, "sales", 4000),
        "quantity": 1,
        "unit_price": net,
        "tax_rate_id": "GB_STANDARD",
        "tax_amount": str((Decimal(net) * Decimal("0.2")).quantize(Decimal("0.01"))),
    }
    body = {
        "sales_invoice": {
            "contact_id": contact_id,
            "date": day.isoformat(),
            "due_date": (day + dt.timedelta(days=30)).isoformat(),
            "invoice_lines": [line],
        }
    }
    return await sage_post(client, "/sales_invoices", body)


async def test_write_off_with_vat_relief_of_an_old_part_paid_invoice(client: Client) -> None:
    customer = await new_contact(client, "CUSTOMER")
    invoice = await vat_invoice(client, customer["id"], TODAY - dt.timedelta(days=250))  # due 220 days ago
    bank = await current_account(client)
    receipt = {
        "transaction_type_id": "CUSTOMER_RECEIPT",
        "contact_id": customer["id"],
        "bank_account_id": bank["id"],
        "date": TODAY.isoformat(),
        "total_amount": "60.00",
        "allocated_artefacts": [{"artefact_id": invoice["id"], "amount": "60.00"}],
    }
    await sage_post(client, "/contact_payments", {"contact_payment": receipt})
    # 120.00 invoiced (100.00 + 20.00 VAT), 60.00 paid: 60.00 outstanding = 50.00 net + 10.00 VAT reclaimed.
    done = await ok(client, "write_off_bad_debt", {"invoice_id": invoice["id"]})
    assert (done["vat"], done["net"], done["tax"], done["total"]) == ("relief", "50.00", "10.00", "60.00")
    assert done["invoice"]["status"] == "PAID" and done["invoice"]["outstanding"] == "0.00"
    assert done["ledger_account"] == "8100 Bad Debt Write Off"
    assert await state(client, "sales_invoices", invoice["id"]) == ("PAID", "0.00")

    again = await ok(client, "write_off_bad_debt", {"invoice_id": invoice["id"]})
    assert again["existing"] is True and again["id"] == done["id"]


async def test_write_off_of_a_recent_invoice_has_no_vat_relief_and_relief_is_refused_if_asked(client: Client) -> None:
    customer = await new_contact(client, "CUSTOMER")
    invoice = await vat_invoice(client, customer["id"], TODAY - dt.timedelta(days=40))  # due 10 days ago
    message = await err(client, "write_off_bad_debt", {"invoice_id": invoice["id"], "vat_relief": True})
    assert "vat_relief" in message and "six months" in message and "Nothing was posted" in message
    assert await state(client, "sales_invoices", invoice["id"]) == ("UNPAID", "120.00")
    # Without relief the whole 120.00 goes to bad debts at No VAT; the 20.00 output VAT stays declared.
    done = await ok(client, "write_off_bad_debt", {"invoice_id": invoice["id"]})
    assert (done["vat"], done["net"], done["tax"], done["total"]) == ("no_relief", "120.00", "0.00", "120.00")
    assert await state(client, "sales_invoices", invoice["id"]) == ("PAID", "0.00")


async def test_write_off_of_an_old_invoice_without_relief_when_told(client: Client) -> None:
    customer = await new_contact(client, "CUSTOMER")
    invoice = await vat_invoice(client, customer["id"], TODAY - dt.timedelta(days=300))
    done = await ok(client, "write_off_bad_debt", {"invoice_id": invoice["id"], "vat_relief": False})
    assert (done["vat"], done["tax"], done["total"]) == ("no_relief", "0.00", "120.00")
    assert done["invoice"]["status"] == "PAID"


async def test_write_off_on_vat_cash_accounting_cancels_the_vat_instead_of_claiming_relief(client: Client) -> None:
    fern = {"business_id": SECOND_BUSINESS_ID}
    customer = await sage_post(
        client, "/contacts", {"contact": {"name": f"Cash Client {tag()}", "contact_type_ids": ["CUSTOMER"]}}, **fern
    )
    page = (
        await ok(
            client,
            "sage_api_get",
            {
                "path": "/ledger_accounts",
                "query": {"visible_in": "sales", "attributes": "nominal_code", "items_per_page": 200},
                **fern,
            },
        )
    )["data"]
    sales = next(str(a["id"]) for a in page["$items"] if a["nominal_code"] == 4000)
    line = {
        "description": "Design",
        "ledger_account_id": sales,
        "quantity": 1,
        "unit_price": "50.00",
        "tax_rate_id": "GB_STANDARD",
        "tax_amount": "10.00",
    }
    day = TODAY - dt.timedelta(days=20)
    invoice = await sage_post(
        client,
        "/sales_invoices",
        {"sales_invoice": {"contact_id": customer["id"], "date": day.isoformat(), "invoice_lines": [line]}},
        **fern,
    )
    # 60.00 unpaid (50.00 + 10.00 VAT never due under cash accounting): credited 50.00 + 10.00.
    done = await ok(client, "write_off_bad_debt", {"invoice_id": invoice["id"], "vat_relief": False, **fern})
    assert (done["vat"], done["net"], done["tax"], done["total"]) == ("cash_accounting", "50.00", "10.00", "60.00")
    assert done["invoice"]["status"] == "PAID" and done["invoice"]["outstanding"] == "0.00"


async def test_write_off_without_a_bad_debt_account_is_refused_saying_how_to_make_one(client: Client) -> None:
    moorside = {"business_id": THIRD_BUSINESS_ID}
    chart = (
        await ok(
            client,
            "sage_api_get",
            {
                "path": "/ledger_accounts",
                "query": {"attributes": "name,nominal_code", "items_per_page": 200},
                **moorside,
            },
        )
    )["data"]["$items"]
    bad_debts = next(a for a in chart if a["nominal_code"] == 8100)
    customer = await sage_post(
        client, "/contacts", {"contact": {"name": f"Gone Away {tag()}", "contact_type_ids": ["CUSTOMER"]}}, **moorside
    )
    sales = next(str(a["id"]) for a in chart if a["nominal_code"] == 4000)
    line = {
        "description": "Bike",
        "ledger_account_id": sales,
        "quantity": 1,
        "unit_price": "300.00",
        "tax_rate_id": "GB_STANDARD",
        "tax_amount": "60.00",
    }
    invoice = await sage_post(
        client,
        "/sales_invoices",
        {"sales_invoice": {"contact_id": customer["id"], "date": TODAY.isoformat(), "invoice_lines": [line]}},
        **moorside,
    )
    rename = {"method": "PUT", "path": f"/ledger_accounts/{bad_debts['id']}", **moorside}
    await ok(client, "sage_api_write", {**rename, "body": {"ledger_account": {"name": "Irrecoverable Write Off"}}})
    try:
        message = await err(client, "write_off_bad_debt", {"invoice_id": invoice["id"], **moorside})
    finally:
        await ok(client, "sage_api_write", {**rename, "body": {"ledger_account": {"name": bad_debts["name"]}}})
    assert "no bad-debt ledger account" in message and "8100 'Bad Debt Write Off'" in message
    assert "Nothing was posted" in message
    invoice_now = (await ok(client, "sage_api_get", {"path": f"/sales_invoices/{invoice['id']}", **moorside}))["data"]
    assert invoice_now["status"]["id"] == "UNPAID" and Decimal(invoice_now["outstanding_amount"]) == Decimal("360.00")


# -- natural duplicates ---------------------------------------------------------------------------------------


def invoice_args(contact_id: str, reference: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "sales_invoice",
        "contact_id": contact_id,
        "reference": reference,
        "lines": [{"description": "Widgets", "quantity": "4", "unit_price": "12.50", "tax_rate_id": "GB_STANDARD"}],
        **extra,
    }


async def test_an_invoice_reference_already_used_for_the_customer_is_refused_unless_allowed(client: Client) -> None:
    customer = await new_contact(client, "CUSTOMER")
    other = await new_contact(client, "CUSTOMER")
    reference = f"PO-{tag()}"
    first = await ok(client, "create_invoice", invoice_args(customer["id"], reference))
    message = await err(client, "create_invoice", invoice_args(customer["id"], reference.lower()))
    assert first["id"] in message and "allow_duplicate" in message and "Nothing was created" in message
    assert len(await invoices_for(client, customer["id"])) == 1
    # another customer may use the same reference, and the caller may say a second one is intended
    await ok(client, "create_invoice", invoice_args(other["id"], reference))
    second = await ok(client, "create_invoice", invoice_args(customer["id"], reference, allow_duplicate=True))
    assert second["id"] != first["id"] and len(await invoices_for(client, customer["id"])) == 2


async def test_a_voided_invoice_does_not_block_its_reference(client: Client) -> None:
    customer = await new_contact(client, "CUSTOMER")
    reference = f"PO-{tag()}"
    first = await ok(client, "create_invoice", invoice_args(customer["id"], reference))
    await ok(
        client,
        "sage_api_write",
        {"method": "DELETE", "path": f"/sales_invoices/{first['id']}", "query": {"void_reason": "wrong price"}},
    )
    again = await ok(client, "create_invoice", invoice_args(customer["id"], reference))
    assert again["id"] != first["id"]


async def test_an_identical_contact_is_refused_unless_allowed(client: Client) -> None:
    t = tag()
    contact = {"name": f"Twin Ltd {t}", "contact_type": "customer", "email": f"twin.{t}@example.com"}
    first = await ok(client, "create_contact", contact)
    message = await err(
        client, "create_contact", {**contact, "name": f"TWIN  ltd {t}", "email": contact["email"].upper()}
    )
    assert first["id"] in message and "allow_duplicate" in message and "Nothing was created" in message
    # same name with another e-mail is another contact; an intended twin is allowed
    await ok(client, "create_contact", {**contact, "email": f"other.{t}@example.com"})
    twin = await ok(client, "create_contact", {**contact, "allow_duplicate": True})
    assert twin["id"] != first["id"]
    assert len(await customers_named(client, contact["name"])) == 3


async def test_a_keyed_repeat_of_an_invoice_whose_answer_was_lost_gets_that_invoice_not_a_refusal(
    client: Client, sandbox: SandboxServer
) -> None:
    customer = await new_contact(client, "CUSTOMER")
    reference = f"PO-{tag()}"
    sandbox.faults.script("commit_then_500", "POST", "/sales_invoices", count=3)  # the try and both retries
    try:
        message = await err(client, "create_invoice", invoice_args(customer["id"], reference))
    finally:
        sandbox.faults.clear()
    key = message.split("idempotency_key '")[1].split("'")[0]
    [made] = await invoices_for(client, customer["id"])

    again = await ok(client, "create_invoice", {**invoice_args(customer["id"], reference), "idempotency_key": key})
    assert (again["id"], again["existing"], again["idempotency_id"]) == (made["id"], True, key)
    # the same reference with other lines is another invoice: refused, key or not
    other = invoice_args(customer["id"], reference, idempotency_key=f"other-{tag()}")
    other["lines"][0]["quantity"] = "5"
    assert made["id"] in await err(client, "create_invoice", other)
    assert len(await invoices_for(client, customer["id"])) == 1
