"""Property: whatever sequence of sales invoices, credit notes, receipts (with payments on account),
refunds, allocations, voids, payment deletions and journals a client sends, the books balance on
every date, the trial balance balances, voids leave their document's own date, every artefact's
``outstanding_amount`` is its total less what was allocated to it, and ``/unallocated_artefacts`` lists
exactly the credits still open.

Driven over real HTTP against one sandbox for the whole module; each example works with a fresh
customer, so examples do not see each other's artefacts.  The test keeps its own model of what
should have happened (totals computed independently, half-up per line) and predicts, for every
step, whether the sandbox must accept it or refuse it with a 422 that changes nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx2
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sandbox_support import TODAY, Conformance, make_client

from sage_mcp.sandbox import LEAD_BUSINESS_ID, SANDBOX_USER_ID, SandboxConfig, SandboxServer, running_sandbox

D = Decimal
PENNY = D("0.01")
RATES = {"GB_STANDARD": D(20), "GB_LOWER": D(5), "GB_ZERO": D(0)}
_customers = itertools.count(1)


def cents(value: Decimal) -> Decimal:
    return value.quantize(PENNY, rounding=ROUND_HALF_UP)


@dataclass
class Doc:
    """An invoice, credit note or payment on account as the model sees it."""

    id: str
    path: str
    total: Decimal
    applied: Decimal = field(default_factory=Decimal)
    void: bool = False

    @property
    def outstanding(self) -> Decimal:
        return D(0) if self.void else self.total - self.applied

    @property
    def open(self) -> bool:
        return not self.void and self.outstanding > 0


@dataclass
class Payment:
    id: str
    path: str
    lines: list[tuple[Doc, Decimal]]
    on_account: Doc | None


@dataclass
class Model:
    contact: str
    invoices: list[Doc] = field(default_factory=list)
    notes: list[Doc] = field(default_factory=list)
    on_account: list[Doc] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)

    def credits(self) -> list[Doc]:
        return self.notes + self.on_account


@dataclass
class Env:
    api: httpx2.Client
    server: SandboxServer
    sales_account: str
    bank: str
    journal_accounts: tuple[str, str] | None


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    # a day-long token: shrinking a failure can take longer than Sage's five minutes
    with running_sandbox(SandboxConfig(today=TODAY, access_token_ttl=86_400)) as server:
        token = server.mint_tokens()["access_token"]
        with make_client(server, Conformance(), token) as api:
            accounts = api.get("/ledger_accounts", params={"attributes": "nominal_code", "items_per_page": 200})
            codes = {a["nominal_code"]: a["id"] for a in accounts.json()["$items"]}
            banks = api.get("/bank_accounts", params={"attributes": "nominal_code"})
            if banks.status_code == 200 and banks.json()["$items"]:
                bank = next(b["id"] for b in banks.json()["$items"] if b.get("nominal_code") == 1200)
            else:
                bank = codes[1200]
            # the journals hook: journals join the sequences when the sandbox serves /journals
            journals = (codes[7600], codes[2109]) if "journals" in server.sandbox.collections else None
            yield Env(api, server, codes[4000], bank, journals)


# ---------------------------------------------------------------------------------------------- steps

lines = st.lists(
    st.tuples(
        st.sampled_from(["1", "2", "0.5", "3"]),
        st.integers(min_value=1, max_value=50_000).map(lambda p: D(p) / 100),
        st.sampled_from(sorted(RATES)),
        st.sampled_from([None, D(10), D("12.5")]),
    ),
    min_size=1,
    max_size=3,
)
index = st.integers(min_value=0, max_value=30)
fraction = st.sampled_from([D("0.25"), D("0.5"), D(1)])
receipt = st.tuples(st.just("receipt"), index, fraction, st.sampled_from([D(0), D(0), D("5.0")]))
allocate = st.tuples(st.just("allocate"), index, index, fraction)
steps = st.one_of(
    st.tuples(st.just("invoice"), lines),
    st.tuples(st.just("credit_note"), lines),
    receipt,
    receipt,
    allocate,
    allocate,
    st.tuples(st.just("refund"), index),
    st.tuples(st.just("void"), st.booleans(), index),
    st.tuples(st.just("delete_payment"), index),
    st.tuples(st.just("overpay"), index),
    st.tuples(st.just("journal"), st.integers(min_value=1, max_value=99_999).map(lambda p: D(p) / 100)),
)
#: every sequence starts from two invoices and a credit note, so payments have something to settle
opening = st.tuples(
    st.tuples(st.just("invoice"), lines), st.tuples(st.just("invoice"), lines), st.tuples(st.just("credit_note"), lines)
).map(list)


def expected_total(spec_lines: list[tuple[str, Decimal, str, Decimal | None]]) -> Decimal:
    result = D(0)
    for quantity, price, rate, percentage in spec_lines:
        gross = D(quantity) * price
        discount = cents(gross * percentage / 100) if percentage is not None else D(0)
        net = cents(gross - discount)
        result += net + cents(net * RATES[rate] / 100)
    return result


def refused(response: httpx2.Response) -> None:
    assert response.status_code == 422, response.text
    event(f"refused: {response.json()[0]['$message'][:40]}")


def pick(items: list[Any], position: int) -> Any:
    return items[position % len(items)] if items else None


def artefact(env: Env, model: Model, kind: str, spec_lines: list[tuple[str, Decimal, str, Decimal | None]]) -> None:
    root, lines_key = (
        ("sales_invoice", "invoice_lines") if kind == "invoice" else ("sales_credit_note", "credit_note_lines")
    )
    body_lines = []
    for quantity, price, rate, percentage in spec_lines:
        line: dict[str, Any] = {
            "description": "Item",
            "ledger_account_id": env.sales_account,
            "quantity": quantity,
            "unit_price": str(price),
            "tax_rate_id": rate,
        }
        if percentage is not None:
            line["discount_percentage"] = str(percentage)
        gross = D(quantity) * price
        net = cents(gross - (cents(gross * percentage / 100) if percentage is not None else D(0)))
        line["tax_amount"] = str(cents(net * RATES[rate] / 100))  # v3.1: the client sends each line's VAT
        body_lines.append(line)
    body = {root: {"contact_id": model.contact, "date": "2025-06-10", lines_key: body_lines}}
    response = env.api.post(f"/{root}s", json=body)
    assert response.status_code == 201, response.text
    obj = response.json()
    total = expected_total(spec_lines)
    assert D(obj["total_amount"]) == total
    doc = Doc(obj["id"], obj["$path"], total)
    (model.invoices if kind == "invoice" else model.notes).append(doc)


def pay(env: Env, model: Model, type_id: str, total: Decimal, targets: list[tuple[Doc, Decimal]]) -> httpx2.Response:
    body = {
        "contact_payment": {
            "transaction_type_id": type_id,
            "contact_id": model.contact,
            "bank_account_id": env.bank,
            "date": "2025-06-20",
            "total_amount": str(total),
            "allocated_artefacts": [{"artefact_id": doc.id, "amount": str(amount)} for doc, amount in targets],
        }
    }
    return env.api.post("/contact_payments", json=body)


def run_step(env: Env, model: Model, step: tuple[Any, ...]) -> None:
    kind = step[0]
    if kind in ("invoice", "credit_note"):
        artefact(env, model, kind, step[1])
    elif kind == "receipt":
        invoice: Doc | None = pick(model.invoices, step[1])
        if invoice is None:
            return
        if not invoice.open:
            refused(pay(env, model, "CUSTOMER_RECEIPT", D(1), [(invoice, D(1))]))
            return
        amount = min(invoice.outstanding, max(PENNY, cents(invoice.outstanding * step[2])))
        response = pay(env, model, "CUSTOMER_RECEIPT", amount + step[3], [(invoice, amount)])
        assert response.status_code == 201, response.text
        invoice.applied += amount
        poa = response.json()["payment_on_account"]
        on_account = None
        if step[3]:
            on_account = Doc(poa["id"], response.json()["$path"], step[3])
            model.on_account.append(on_account)
        else:
            assert poa is None
        model.payments.append(Payment(response.json()["id"], response.json()["$path"], [(invoice, amount)], on_account))
    elif kind == "overpay":
        invoice = pick(model.invoices, step[1])
        if invoice is not None and invoice.open:
            too_much = invoice.outstanding + PENNY
            refused(pay(env, model, "CUSTOMER_RECEIPT", too_much, [(invoice, too_much)]))
    elif kind == "allocate":
        invoice, credit = pick(model.invoices, step[1]), pick(model.credits(), step[2])
        if invoice is None or credit is None:
            return
        body: dict[str, Any] = {
            "contact_allocation": {
                "transaction_type_id": "CUSTOMER_ALLOCATION",
                "contact_id": model.contact,
                "allocated_artefacts": [],
            }
        }
        if not (invoice.open and credit.open):
            lines_ = [{"artefact_id": invoice.id, "amount": "0.01"}, {"artefact_id": credit.id, "amount": "-0.01"}]
            body["contact_allocation"]["allocated_artefacts"] = lines_
            refused(env.api.post("/contact_allocations", json=body))
            return
        room = min(invoice.outstanding, credit.outstanding)
        amount = min(room, max(PENNY, cents(room * step[3])))
        lines_ = [
            {"artefact_id": invoice.id, "amount": str(amount)},
            {"artefact_id": credit.id, "amount": str(-amount)},
        ]
        body["contact_allocation"]["allocated_artefacts"] = lines_
        response = env.api.post("/contact_allocations", json=body)
        assert response.status_code == 201, response.text
        invoice.applied += amount
        credit.applied += amount
    elif kind == "refund":
        credit = pick(model.credits(), step[1])
        if credit is None:
            return
        if not credit.open:
            refused(pay(env, model, "CUSTOMER_REFUND", D(1), [(credit, D(1))]))
            return
        amount = credit.outstanding
        response = pay(env, model, "CUSTOMER_REFUND", amount, [(credit, amount)])
        assert response.status_code == 201, response.text
        credit.applied += amount
        model.payments.append(Payment(response.json()["id"], response.json()["$path"], [(credit, amount)], None))
    elif kind == "void":
        doc = pick(model.invoices if step[1] else model.notes, step[2])
        if doc is None:
            return
        response = env.api.delete(doc.path, params={"void_reason": "Property test"})
        if doc.void or doc.applied:
            refused(response)
        else:
            assert response.status_code == 200, response.text
            doc.void = True
    elif kind == "delete_payment":
        payment = pick(model.payments, step[1])
        if payment is None:
            return
        response = env.api.delete(payment.path)
        if payment.on_account is not None and payment.on_account.applied:
            refused(response)
            return
        assert response.status_code == 204, response.text
        for doc, amount in payment.lines:
            doc.applied -= amount
        if payment.on_account is not None:
            model.on_account.remove(payment.on_account)
        model.payments.remove(payment)
    elif kind == "journal" and env.journal_accounts is not None:
        debit, credit_account = env.journal_accounts
        body = {
            "journal": {
                "date": "2025-06-15",
                "reference": "Accrual",
                "journal_lines": [
                    {"ledger_account_id": debit, "debit": str(step[1]), "credit": "0"},
                    {"ledger_account_id": credit_account, "debit": "0", "credit": str(step[1])},
                ],
            }
        }
        response = env.api.post("/journals", json=body)
        assert response.status_code == 201, response.text


def check_books(env: Env, model: Model) -> None:
    for doc in model.invoices + model.notes:
        obj = env.api.get(doc.path).json()
        assert D(obj["outstanding_amount"]) == doc.outstanding, (obj["displayed_as"], doc)
        assert D(obj["total_paid"]) == doc.applied
        expected = "VOID" if doc.void else "PAID" if doc.outstanding == 0 else "PART_PAID" if doc.applied else "UNPAID"
        assert obj["status"]["id"] == expected, (obj["displayed_as"], doc)
    for payment in model.payments:
        if payment.on_account is not None:
            poa = env.api.get(payment.path).json()["payment_on_account"]
            assert D(poa["outstanding_amount"]) == payment.on_account.outstanding
    owed = sum((d.outstanding for d in model.invoices), D(0)) - sum((d.outstanding for d in model.credits()), D(0))
    assert D(env.api.get(f"/contacts/{model.contact}").json()["balance"]) == owed
    # money on account: exactly the open credit notes and payments on account of the model
    listed = env.api.get(
        "/unallocated_artefacts",
        params={"contact_id": model.contact, "attributes": "outstanding_amount", "items_per_page": 200},
    ).json()["$items"]
    assert {a["id"]: D(a["outstanding_amount"]) for a in listed} == {
        d.id: d.outstanding for d in model.credits() if d.open
    }
    # the trial balance of the month balances, and its closing balances follow from opening and movement
    tb = env.api.get("/trial_balance", params={"from_date": "2025-06-01", "to_date": "2025-06-30"}).json()
    totals = tb["totals"]
    assert totals["debit"] == totals["credit"]
    assert totals["closing_balance"]["debit"] == totals["closing_balance"]["credit"]
    for row in tb["ledger_accounts"]:
        opening = D(row["opening_balance"]["debit"]) - D(row["opening_balance"]["credit"])
        closing = D(row["closing_balance"]["debit"]) - D(row["closing_balance"]["credit"])
        assert closing == opening + D(row["debit"]) - D(row["credit"])
    ctx = env.server.sandbox.context(LEAD_BUSINESS_ID, SANDBOX_USER_ID)
    # a voided document leaves the accounts of its own date: its reversal is dated as it is
    for doc in model.invoices + model.notes:
        if doc.void:
            transaction = env.api.get(doc.path).json()["transaction"]
            days = ctx.store.execute(
                "SELECT DISTINCT date FROM ledger_entries WHERE business_id = ? AND transaction_id = ?",
                (LEAD_BUSINESS_ID, transaction["id"]),
            ).fetchall()
            assert [d[0] for d in days] == ["2025-06-10"]
    rows = ctx.store.execute(
        "SELECT date, debit, credit FROM ledger_entries WHERE business_id = ?", (LEAD_BUSINESS_ID,)
    ).fetchall()
    per_day: dict[str, Decimal] = {}
    for day, debit, credit in rows:
        per_day[day] = per_day.get(day, D(0)) + D(debit) - D(credit)
    unbalanced = {day: value for day, value in per_day.items() if value}
    assert not unbalanced, unbalanced  # debits equal credits on every date: any date range sums to zero


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=opening, sequence=st.lists(steps, min_size=2, max_size=14))
def test_books_balance_and_outstanding_amounts_follow_allocations(
    env: Env, start: list[tuple[Any, ...]], sequence: list[tuple[Any, ...]]
) -> None:
    name = f"Property Customer {next(_customers)}"
    contact = env.api.post("/contacts", json={"contact": {"name": name, "contact_type_ids": ["CUSTOMER"]}})
    assert contact.status_code == 201, contact.text
    model = Model(contact.json()["id"])
    for step in start + sequence:
        run_step(env, model, step)
    event(f"payments: {min(len(model.payments), 3)}+, on account: {len(model.on_account) > 0}")
    event(f"part paid or allocated: {any(0 < d.applied < d.total for d in model.invoices + model.notes)}")
    check_books(env, model)
