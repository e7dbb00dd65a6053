"""Contact payments and allocations over real HTTP: statuses and outstanding amounts move with part
and full payments, credit notes, refunds and payments on account; refusals; postings; balances."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx2
import pytest
from sandbox_support import couldnt_find, error_of, sources

from sage_mcp.sandbox import LEAD_BUSINESS_ID, SANDBOX_USER_ID, SECOND_BUSINESS_ID, SandboxServer
from sage_mcp.sandbox.ledger import CREDITORS_CONTROL, DEBTORS_CONTROL, account_by_nominal, entries_of, trial_balance

D = Decimal
_names = itertools.count(1)


def created(response: httpx2.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def bank_account_id(api: httpx2.Client, headers: dict[str, str] | None = None) -> str:
    """The current account: a ``/bank_accounts`` record when the sandbox has them, else ledger account 1200."""
    banks = api.get("/bank_accounts", headers=headers, params={"attributes": "nominal_code,ledger_account"})
    if banks.status_code == 200 and banks.json()["$items"]:
        items = banks.json()["$items"]
        return str(next((b for b in items if b.get("nominal_code") == 1200), items[0])["id"])
    ledger = api.get("/ledger_accounts", headers=headers, params={"search": "1200", "attributes": "nominal_code"})
    return str(next(a for a in ledger.json()["$items"] if a["nominal_code"] == 1200)["id"])


class Books:
    """Shortcuts for the tests: fresh contacts, invoices, credit notes, payments."""

    def __init__(self, api: httpx2.Client, server: SandboxServer) -> None:
        self.api = api
        self.server = server
        accounts = api.get("/ledger_accounts", params={"attributes": "nominal_code", "items_per_page": 200}).json()
        self.accounts = {a["nominal_code"]: a["id"] for a in accounts["$items"]}
        self.bank = bank_account_id(api)

    def contact(self, kind: str = "CUSTOMER") -> str:
        name = f"Payments Test {kind.title()} {next(_names)}"
        return str(
            created(self.api.post("/contacts", json={"contact": {"name": name, "contact_type_ids": [kind]}}))["id"]
        )

    def artefact(self, collection: str, contact: str, net: str, **extra: Any) -> dict[str, Any]:
        purchase = collection.startswith("purchase")
        root, lines_key = {
            "sales_invoices": ("sales_invoice", "invoice_lines"),
            "sales_credit_notes": ("sales_credit_note", "credit_note_lines"),
            "purchase_invoices": ("purchase_invoice", "invoice_lines"),
            "purchase_credit_notes": ("purchase_credit_note", "credit_note_lines"),
        }[collection]
        line = {
            "description": "Item",
            "ledger_account_id": self.accounts[7502 if purchase else 4000],
            "quantity": "1",
            "unit_price": net,
            "tax_rate_id": "GB_STANDARD",
        }
        body: dict[str, Any] = {"contact_id": contact, "date": "2025-06-01", lines_key: [line], **extra}
        if collection == "purchase_invoices":
            body.setdefault("due_date", "2025-07-01")
        return created(self.api.post(f"/{collection}", json={root: body}))

    def pay(self, type_id: str, contact: str, total: str, *lines: tuple[str, str], **extra: Any) -> httpx2.Response:
        allocated = [{"artefact_id": artefact, "amount": amount} for artefact, amount in lines]
        body = {
            "transaction_type_id": type_id,
            "contact_id": contact,
            "bank_account_id": self.bank,
            "date": "2025-06-20",
            "total_amount": total,
            "allocated_artefacts": allocated,
            **extra,
        }
        return self.api.post("/contact_payments", json={"contact_payment": body})

    def allocate(self, type_id: str, contact: str, *lines: tuple[str, str]) -> httpx2.Response:
        allocated = [{"artefact_id": artefact, "amount": amount} for artefact, amount in lines]
        body = {"transaction_type_id": type_id, "contact_id": contact, "allocated_artefacts": allocated}
        return self.api.post("/contact_allocations", json={"contact_allocation": body})

    def get(self, obj: dict[str, Any], **params: Any) -> dict[str, Any]:
        answer: dict[str, Any] = self.api.get(obj["$path"], params=params).json()
        return answer

    def state(self, obj: dict[str, Any]) -> tuple[str, str, str]:
        now = self.get(obj)
        return now["status"]["id"], now["outstanding_amount"], now["total_paid"]

    def balance(self, contact: str) -> Decimal:
        return D(self.api.get(f"/contacts/{contact}").json()["balance"])

    def postings(self, transaction_id: str) -> dict[int, Decimal]:
        ctx = self.server.sandbox.context(LEAD_BUSINESS_ID, SANDBOX_USER_ID)
        codes = {a["id"]: a["nominal_code"] for a in ctx.by_id("ledger_accounts").values()}
        banks = {b["id"]: b["ledger_account"]["id"] for b in ctx.store.all(LEAD_BUSINESS_ID, "bank_accounts")}
        result: dict[int, Decimal] = {}
        for p in entries_of(ctx, transaction_id):
            code = codes[banks.get(p.ledger_account_id, p.ledger_account_id)]
            result[code] = result.get(code, D(0)) + p.debit - p.credit
        return {k: v for k, v in result.items() if v}


@pytest.fixture(scope="module")
def books(wapi: httpx2.Client, writable_server: SandboxServer) -> Iterator[Books]:
    yield Books(wapi, writable_server)


# ---------------------------------------------------------------------------------------- receipts


def test_part_then_full_receipt(books: Books) -> None:
    customer = books.contact()
    invoice = books.artefact("sales_invoices", customer, "100")  # 120.00
    first = created(books.pay("CUSTOMER_RECEIPT", customer, "50.0", (invoice["id"], "50.0"), reference="Cheque 1"))
    assert first["transaction_type"] == {
        "id": "CUSTOMER_RECEIPT",
        "displayed_as": "Customer Receipt",
        "$path": "/transaction_types/CUSTOMER_RECEIPT",
    }
    assert first["displayed_as"] == "Cheque 1" and first["payment_method"]["id"] == "BANK_TRANSFER"
    assert first["bank_account"]["id"] == books.bank and first["payment_on_account"] is None
    assert [(a["artefact"]["id"], a["amount"], a["discount"]) for a in first["allocated_artefacts"]] == [
        (invoice["id"], "50.0", "0.0")
    ]
    assert books.postings(first["transaction"]["id"]) == {1200: D("50.0"), 1100: D("-50.0")}
    assert books.state(invoice) == ("PART_PAID", "70.0", "50.0")
    assert books.balance(customer) == D("70.0")
    shown = books.get(invoice, show_payments_allocations="true")
    assert [(a["amount"], a["contact_payment"]["id"], a["date"]) for a in shown["payments_allocations"]] == [
        ("50.0", first["id"], "2025-06-20")
    ]
    assert shown["last_paid"] == "2025-06-20" and shown["editable"] is False
    second = created(books.pay("CUSTOMER_RECEIPT", customer, "70.0", (invoice["id"], "70.0"), date="2025-06-25"))
    assert books.state(invoice) == ("PAID", "0.0", "120.0")
    assert books.get(invoice)["last_paid"] == "2025-06-25"
    assert books.balance(customer) == 0
    again = books.pay("CUSTOMER_RECEIPT", customer, "1.0", (invoice["id"], "1.0"))
    assert sources(again) == {"allocated_artefacts.artefact_id"}
    assert error_of(again)["$message"].startswith("You can only pay unpaid or part-paid invoices.")
    # the invoice can be neither voided nor edited while paid; deleting the payment reopens it
    assert sources(books.api.delete(invoice["$path"], params={"void_reason": "x"})) == {"base"}
    assert books.api.delete(second["$path"]).status_code == 204
    assert books.state(invoice) == ("PART_PAID", "70.0", "50.0")
    assert books.api.get(second["$path"]).status_code == 404
    assert books.postings(second["transaction"]["id"]) == {}


def test_receipt_refusals(books: Books) -> None:
    customer, other = books.contact(), books.contact()
    invoice = books.artefact("sales_invoices", customer, "10")  # 12.00
    theirs = books.artefact("sales_invoices", other, "10")
    draft = books.artefact("sales_invoices", customer, "10", status_id="DRAFT")
    void = books.artefact("sales_invoices", customer, "10")
    assert books.api.delete(void["$path"], params={"void_reason": "test"}).status_code == 200
    over = books.pay("CUSTOMER_RECEIPT", customer, "20.0", (invoice["id"], "12.01"))
    assert sources(over) == {"allocated_artefacts.amount"} and "12.0" in error_of(over)["$message"]
    assert sources(books.pay("CUSTOMER_RECEIPT", customer, "5.0", (invoice["id"], "6.0"))) == {"total_amount"}
    cross = books.pay("CUSTOMER_RECEIPT", customer, "5.0", (theirs["id"], "5.0"))
    assert sources(cross) == {"allocated_artefacts.artefact_id"} and "another contact" in error_of(cross)["$message"]
    for closed in (draft, void):
        refused = books.pay("CUSTOMER_RECEIPT", customer, "5.0", (closed["id"], "5.0"))
        assert error_of(refused)["$message"].startswith("You can only pay unpaid or part-paid invoices.")
    assert couldnt_find(books.pay("CUSTOMER_RECEIPT", customer, "5.0", ("0" * 32, "5.0"))) == {"Artefact"}
    twice = books.pay("CUSTOMER_RECEIPT", customer, "4.0", (invoice["id"], "2.0"), (invoice["id"], "2.0"))
    assert "more than once" in error_of(twice)["$message"]
    assert sources(books.pay("CUSTOMER_RECEIPT", customer, "5.0", (invoice["id"], "-5.0"))) == {
        "allocated_artefacts.amount"
    }
    vendor = books.contact("VENDOR")
    assert couldnt_find(books.pay("CUSTOMER_RECEIPT", vendor, "5.0")) == {"Customer"}
    bill = books.artefact("purchase_invoices", vendor, "10")
    assert sources(books.pay("CUSTOMER_RECEIPT", customer, "5.0", (bill["id"], "5.0"))) == {
        "allocated_artefacts.artefact_id"
    }
    assert sources(books.pay("CUSTOMER_RECEIPT", customer, "0.0")) == {"total_amount"}
    assert sources(books.pay("CUSTOMER_RECEIPT", customer, "5.001")) == {"total_amount"}
    not_a_bank = books.pay("CUSTOMER_RECEIPT", customer, "5.0", bank_account_id=books.accounts[4000])
    assert couldnt_find(not_a_bank) == {"BankAccount"}
    assert sources(books.pay("CUSTOMER_RECEIPT", customer, "5.0", tax_amount="1.0")) == {"tax_amount"}
    assert sources(books.pay("CUSTOMER_RECEIPT", customer, "5.0", payment_method_id="BARTER")) == {"payment_method_id"}
    assert sources(books.pay("OTHER_RECEIPT", customer, "5.0")) == {"transaction_type_id"}
    assert sources(books.pay("CUSTOMER_RECEIPT", customer, "5.0", reference="R" * 26)) == {"reference"}
    missing = books.api.post("/contact_payments", json={"contact_payment": {"transaction_type_id": "CUSTOMER_RECEIPT"}})
    assert sources(missing) == {"contact_id", "bank_account_id", "date", "total_amount"}
    # nothing of the refused requests stuck
    assert books.state(invoice) == ("UNPAID", "12.0", "0.0")
    assert books.balance(customer) == D("12.0")


def test_discount_and_payment_on_account(books: Books) -> None:
    customer = books.contact()
    first = books.artefact("sales_invoices", customer, "100")  # 120.00
    second = books.artefact("sales_invoices", customer, "50")  # 60.00
    body = {
        "transaction_type_id": "CUSTOMER_RECEIPT",
        "contact_id": customer,
        "bank_account_id": books.bank,
        "date": "2025-06-21",
        "total_amount": "150.0",
        "allocated_artefacts": [{"artefact_id": first["id"], "amount": "117.0", "discount": "3.0"}],
    }
    payment = created(books.api.post("/contact_payments", json={"contact_payment": body}))
    assert books.state(first) == ("PAID", "0.0", "120.0")
    poa = payment["payment_on_account"]
    assert (poa["total_amount"], poa["outstanding_amount"], poa["status"]["id"]) == ("33.0", "33.0", "UNPAID")
    assert poa["contact"]["id"] == customer and payment["editable"] is True
    assert books.postings(payment["transaction"]["id"]) == {1200: D("150.0"), 4009: D("3.0"), 1100: D("-153.0")}
    assert books.balance(customer) == D("60.0") - D("33.0")
    # the payment on account settles part of the second invoice
    allocation = created(books.allocate("CUSTOMER_ALLOCATION", customer, (second["id"], "33.0"), (poa["id"], "-33.0")))
    assert books.postings(allocation["transaction"]["id"]) == {}  # control account only, net nil
    assert books.state(second) == ("PART_PAID", "27.0", "33.0")
    used = books.get(payment)
    assert used["payment_on_account"]["outstanding_amount"] == "0.0" and used["editable"] is False
    assert books.balance(customer) == D("27.0")
    assert sources(books.api.put(payment["$path"], json={"contact_payment": {"reference": "x"}})) == {"base"}
    assert sources(books.api.delete(payment["$path"])) == {"base"}
    # undo the allocation, then the payment can change: no allocations at all makes it all on account
    assert books.api.delete(allocation["$path"]).status_code == 204
    assert books.state(second) == ("UNPAID", "60.0", "0.0")
    changed = books.api.put(payment["$path"], json={"contact_payment": {"allocated_artefacts": []}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["payment_on_account"]["total_amount"] == "150.0"
    assert changed.json()["allocated_artefacts"] == []
    assert books.state(first) == ("UNPAID", "120.0", "0.0")
    assert books.postings(payment["transaction"]["id"]) == {1200: D("150.0"), 1100: D("-150.0")}
    assert books.balance(customer) == D("180.0") - D("150.0")


def test_start_edition_refuses_payments_on_account(wapi: httpx2.Client) -> None:
    headers = {"X-Business": SECOND_BUSINESS_ID}
    invoice = wapi.get(
        "/sales_invoices", headers=headers, params={"status_id": "UNPAID", "attributes": "contact,outstanding_amount"}
    ).json()["$items"][0]
    body = {
        "transaction_type_id": "CUSTOMER_RECEIPT",
        "contact_id": invoice["contact"]["id"],
        "bank_account_id": bank_account_id(wapi, headers),
        "date": "2025-06-22",
        "total_amount": str(D(invoice["outstanding_amount"]) + 1),
        "allocated_artefacts": [{"artefact_id": invoice["id"], "amount": invoice["outstanding_amount"]}],
    }
    refused = wapi.post("/contact_payments", headers=headers, json={"contact_payment": body})
    assert sources(refused) == {"total_amount"} and "Accounting Start" in error_of(refused)["$message"]
    exact = dict(body, total_amount=invoice["outstanding_amount"])
    assert wapi.post("/contact_payments", headers=headers, json={"contact_payment": exact}).status_code == 201


# ---------------------------------------------------------------------------------------- credit notes, refunds


def test_credit_note_allocation_and_refund(books: Books) -> None:
    customer, other = books.contact(), books.contact()
    invoice = books.artefact("sales_invoices", customer, "200")  # 240.00
    note = books.artefact("sales_credit_notes", customer, "50")  # 60.00
    assert books.balance(customer) == D("180.0")
    unbalanced = books.allocate("CUSTOMER_ALLOCATION", customer, (invoice["id"], "60.0"), (note["id"], "-50.0"))
    assert sources(unbalanced) == {"allocated_artefacts"}
    wrong_sign = books.allocate("CUSTOMER_ALLOCATION", customer, (invoice["id"], "60.0"), (note["id"], "60.0"))
    assert sources(wrong_sign) == {"allocated_artefacts.amount"}
    too_much = books.allocate("CUSTOMER_ALLOCATION", customer, (invoice["id"], "61.0"), (note["id"], "-61.0"))
    assert sources(too_much) == {"allocated_artefacts.amount"}
    assert sources(books.allocate("CUSTOMER_ALLOCATION", customer, (invoice["id"], "60.0"))) == {"allocated_artefacts"}
    theirs = books.artefact("sales_invoices", other, "100")
    cross = books.allocate("CUSTOMER_ALLOCATION", customer, (theirs["id"], "60.0"), (note["id"], "-60.0"))
    assert sources(cross) == {"allocated_artefacts.artefact_id"}
    vendor_type = books.allocate("VENDOR_ALLOCATION", customer, (invoice["id"], "60.0"), (note["id"], "-60.0"))
    assert sources(vendor_type) == {"", "allocated_artefacts.artefact_id"}  # all problems at once
    assert couldnt_find(vendor_type) == {"Supplier"}
    allocation = created(
        books.allocate("CUSTOMER_ALLOCATION", customer, (invoice["id"], "60.0"), (note["id"], "-60.0"))
    )
    assert allocation["transaction_type"]["id"] == "CUSTOMER_ALLOCATION" and allocation["date"]
    assert [a["amount"] for a in allocation["allocated_artefacts"]] == ["60.0", "-60.0"]
    assert books.state(invoice) == ("PART_PAID", "180.0", "60.0")
    assert books.state(note) == ("PAID", "0.0", "60.0")
    assert books.balance(customer) == D("180.0")  # nothing changes hands
    shown = books.get(invoice, show_payments_allocations="true")["payments_allocations"]
    assert shown[0]["contact_allocation"]["id"] == allocation["id"] and shown[0]["artefact"]["id"] == note["id"]
    used = books.allocate("CUSTOMER_ALLOCATION", customer, (invoice["id"], "1.0"), (note["id"], "-1.0"))
    assert error_of(used)["$message"].startswith("You can only pay unpaid or part-paid invoices.")
    # a refund pays out a credit note, in full only
    refundable = books.artefact("sales_credit_notes", customer, "25")  # 30.00
    assert sources(books.pay("CUSTOMER_REFUND", customer, "40.0", (refundable["id"], "30.0"))) == {"total_amount"}
    discounted = [{"artefact_id": refundable["id"], "amount": "29.0", "discount": "1.0"}]
    assert sources(books.pay("CUSTOMER_REFUND", customer, "29.0", allocated_artefacts=discounted)) == {
        "allocated_artefacts.discount"
    }
    assert sources(books.pay("CUSTOMER_REFUND", customer, "30.0", (invoice["id"], "30.0"))) == {
        "allocated_artefacts.artefact_id"
    }
    refund = created(books.pay("CUSTOMER_REFUND", customer, "30.0", (refundable["id"], "30.0")))
    assert books.postings(refund["transaction"]["id"]) == {1100: D("30.0"), 1200: D("-30.0")}
    assert books.state(refundable) == ("PAID", "0.0", "30.0")
    assert books.balance(customer) == D("180.0")
    # an allocation can be changed, and deleted
    changed = books.api.put(
        allocation["$path"],
        json={
            "contact_allocation": {
                "allocated_artefacts": [
                    {"artefact_id": invoice["id"], "amount": "20.0"},
                    {"artefact_id": note["id"], "amount": "-20.0"},
                ]
            }
        },
    )
    assert changed.status_code == 200, changed.text
    assert books.state(invoice) == ("PART_PAID", "220.0", "20.0")
    assert books.state(note) == ("PART_PAID", "40.0", "20.0")
    assert books.api.delete(allocation["$path"]).status_code == 204
    assert books.state(invoice) == ("UNPAID", "240.0", "0.0")
    assert books.state(note) == ("UNPAID", "60.0", "0.0")
    gone = books.api.get("/contact_allocations", params={"deleted_since": "2000-01-01"}).json()["$items"]
    assert allocation["id"] in [a["id"] for a in gone]


# ---------------------------------------------------------------------------------------- suppliers


def test_supplier_payment_credit_and_refund(books: Books) -> None:
    supplier = books.contact("VENDOR")
    bill = books.artefact("purchase_invoices", supplier, "500")  # 600.00
    assert books.balance(supplier) == D("600.0")
    body = {
        "transaction_type_id": "VENDOR_PAYMENT",
        "contact_id": supplier,
        "bank_account_id": books.bank,
        "date": "2025-06-23",
        "total_amount": "290.0",
        "payment_method_id": "CHEQUE",
        "allocated_artefacts": [{"artefact_id": bill["id"], "amount": "290.0", "discount": "10.0"}],
    }
    payment = created(books.api.post("/contact_payments", json={"contact_payment": body}))
    assert payment["transaction_type"]["displayed_as"] == "Supplier Payment"
    assert books.postings(payment["transaction"]["id"]) == {2100: D("300.0"), 1200: D("-290.0"), 5009: D("-10.0")}
    assert books.state(bill) == ("PART_PAID", "300.0", "300.0")
    assert books.balance(supplier) == D("300.0")
    note = books.artefact("purchase_credit_notes", supplier, "50")  # 60.00
    assert books.balance(supplier) == D("240.0")
    allocation = created(books.allocate("VENDOR_ALLOCATION", supplier, (bill["id"], "40.0"), (note["id"], "-40.0")))
    assert allocation["transaction_type"]["displayed_as"] == "Supplier Allocation"
    assert books.state(bill) == ("PART_PAID", "260.0", "340.0")
    refund = created(books.pay("VENDOR_REFUND", supplier, "20.0", (note["id"], "20.0")))
    assert books.postings(refund["transaction"]["id"]) == {1200: D("20.0"), 2100: D("-20.0")}
    assert books.state(note) == ("PAID", "0.0", "60.0")
    assert books.balance(supplier) == D("260.0")
    customer = books.contact()
    assert couldnt_find(books.pay("VENDOR_PAYMENT", customer, "1.0")) == {"Supplier"}


# ---------------------------------------------------------------------------------------- lists, idempotency


def test_payment_list_filters(books: Books) -> None:
    api = books.api
    receipts = api.get("/contact_payments", params={"transaction_type_id": "customer_receipt", "attributes": "all"})
    assert receipts.json()["$total"] > 100
    assert {p["transaction_type"]["id"] for p in receipts.json()["$items"]} == {"CUSTOMER_RECEIPT"}
    assert sources(api.get("/contact_payments", params={"transaction_type_id": "JOURNAL"})) == {"transaction_type_id"}
    supplier_payments = api.get("/contact_payments", params={"transaction_type_id": "VENDOR_PAYMENT"}).json()
    assert supplier_payments["$total"] >= 25
    in_bank = api.get("/contact_payments", params={"bank_account_id": books.bank}).json()["$total"]
    assert in_bank == api.get("/contact_payments").json()["$total"]
    assert api.get("/contact_payments", params={"bank_account_id": "0" * 32}).json()["$total"] == 0
    window = api.get(
        "/contact_payments", params={"from_date": "2025-03-01", "to_date": "2025-03-31", "attributes": "date"}
    ).json()
    assert window["$total"] > 0 and all(p["date"].startswith("2025-03") for p in window["$items"])
    ordered = api.get("/contact_payments", params={"sort": "date", "attributes": "date", "items_per_page": 200})
    dates = [p["date"] for p in ordered.json()["$items"]]
    assert dates == sorted(dates)
    newest = api.get("/contact_payments", params={"attributes": "date"}).json()["$items"]
    assert [p["date"] for p in newest] == sorted((p["date"] for p in newest), reverse=True)
    allocations = api.get("/contact_allocations", params={"transaction_type_id": "VENDOR_ALLOCATION"}).json()
    assert allocations["$total"] >= 1
    assert sources(api.get("/contact_allocations", params={"sort": "due_date"})) == {"sort"}


def test_idempotent_payment_and_allocation(books: Books) -> None:
    customer = books.contact()
    invoice = books.artefact("sales_invoices", customer, "10")  # 12.00
    key = "7d2a6e3f4c5b6a7f8e9d0c1b2a3f4e5d"
    body = {
        "contact_payment": {
            "idempotency_id": key,
            "transaction_type_id": "CUSTOMER_RECEIPT",
            "contact_id": customer,
            "bank_account_id": books.bank,
            "date": "2025-06-24",
            "total_amount": "5.0",
            "allocated_artefacts": [{"artefact_id": invoice["id"], "amount": "5.0"}],
        }
    }
    first = books.api.post("/contact_payments", json=body)
    second = books.api.post("/contact_payments", json=body)
    assert first.status_code == second.status_code == 201 and first.json() == second.json()
    assert books.state(invoice) == ("PART_PAID", "7.0", "5.0")  # paid once
    note = books.artefact("sales_credit_notes", customer, "5")  # 6.00
    allocation = {
        "contact_allocation": {
            "idempotency_id": "8e3b7f4a5d6c7b8a9f0e1d2c3b4a5f6e",
            "transaction_type_id": "CUSTOMER_ALLOCATION",
            "contact_id": customer,
            "allocated_artefacts": [
                {"artefact_id": invoice["id"], "amount": "6.0"},
                {"artefact_id": note["id"], "amount": "-6.0"},
            ],
        }
    }
    once = books.api.post("/contact_allocations", json=allocation)
    assert once.status_code == 201 and books.api.post("/contact_allocations", json=allocation).json() == once.json()
    assert books.state(invoice) == ("PART_PAID", "1.0", "11.0")
    reused = dict(body["contact_payment"], idempotency_id="8e3b7f4a5d6c7b8a9f0e1d2c3b4a5f6e")
    mismatch = books.api.post("/contact_payments", json={"contact_payment": reused})
    assert error_of(mismatch)["$dataCode"] == "IdempotencyResourceMismatch"


# ---------------------------------------------------------------------------------------- the books add up


def test_books_balance_after_everything(books: Books) -> None:
    """Runs last: the trial balance is nil on every date, and control accounts equal contact balances."""
    for business_id in (LEAD_BUSINESS_ID, SECOND_BUSINESS_ID):
        ctx = books.server.sandbox.context(business_id, SANDBOX_USER_ID)
        rows = ctx.store.execute(
            "SELECT date, debit, credit FROM ledger_entries WHERE business_id = ?", (business_id,)
        ).fetchall()
        per_day: dict[str, Decimal] = {}
        for row in rows:
            per_day[row["date"]] = per_day.get(row["date"], D(0)) + D(row["debit"]) - D(row["credit"])
        assert per_day and all(v == 0 for v in per_day.values())  # so every date range sums to zero
        balances = trial_balance(ctx)
        headers = {"X-Business": business_id}
        contacts = books.api.get(
            "/contacts", headers=headers, params={"attributes": "balance,contact_types", "items_per_page": 200}
        ).json()["$items"]
        owed = {
            kind: sum((D(c["balance"]) for c in contacts if c["contact_types"][0]["id"] == kind), D(0))
            for kind in ("CUSTOMER", "VENDOR")
        }
        assert balances.get(account_by_nominal(ctx, DEBTORS_CONTROL)["id"], D(0)) == owed["CUSTOMER"]
        assert -balances.get(account_by_nominal(ctx, CREDITORS_CONTROL)["id"], D(0)) == owed["VENDOR"]
