"""Big books: ``sage-mcp sandbox seed`` writes a large, consistent business that the sandbox serves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sandbox_support import TODAY

from sage_mcp.cli import main
from sage_mcp.sandbox import LEAD_BUSINESS_ID, SANDBOX_USER_ID, Sandbox, SandboxConfig, SandboxServer, running_sandbox
from sage_mcp.sandbox.bigbooks import BigBooksReport, build_big_books
from sage_mcp.sandbox.ledger import trial_balance

CONTACTS = 300
INVOICES = 2_000


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> BigBooksReport:
    path = tmp_path_factory.mktemp("bigbooks") / "books.sqlite"
    return build_big_books(path, contacts=CONTACTS, invoices=INVOICES, seed=3, today=TODAY)


@pytest.fixture(scope="module")
def served(books: BigBooksReport) -> Iterator[SandboxServer]:
    with running_sandbox(SandboxConfig(db_path=books.path, today=TODAY + dt.timedelta(days=5))) as server:
        yield server


@pytest.fixture(scope="module")
def bapi(served: SandboxServer) -> Iterator[httpx2.Client]:
    token = served.mint_tokens()["access_token"]
    with httpx2.Client(base_url=served.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        yield client


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_report(books: BigBooksReport) -> None:
    assert (books.contacts, books.invoices) == (CONTACTS, INVOICES)
    assert sum(books.statuses.values()) == INVOICES
    assert set(books.statuses) == {"DRAFT", "UNPAID", "PART_PAID", "PAID", "VOID"}
    assert books.statuses["PAID"] > INVOICES // 2
    assert books.receipts >= books.statuses["PAID"] - 200  # the demo's part of the books has its own receipts
    assert Path(books.path).stat().st_size > 0


def test_served_counts_match(bapi: httpx2.Client, books: BigBooksReport) -> None:
    assert bapi.get("/contacts", params={"items_per_page": 1}).json()["$total"] == CONTACTS
    assert bapi.get("/sales_invoices", params={"items_per_page": 1}).json()["$total"] == INVOICES
    for status, count in books.statuses.items():
        if status not in ("VOID", "PART_PAID"):
            continue
        body = bapi.get("/sales_invoices", params={"status_id": status, "items_per_page": 1}).json()
        assert body["$total"] == count, status
    references = set()
    for page in (1, 2):
        body = bapi.get("/contacts", params={"attributes": "reference", "items_per_page": 200, "page": page}).json()
        references |= {c["reference"] for c in body["$items"]}
    assert len(references) == CONTACTS


def test_trial_balance_is_zero(served: SandboxServer) -> None:
    balances = trial_balance(served.sandbox.context(LEAD_BUSINESS_ID, SANDBOX_USER_ID))
    assert balances and sum(balances.values(), Decimal(0)) == 0


def _check_invoice(invoice: dict[str, Any], rates: dict[str, Decimal]) -> None:
    lines = invoice["invoice_lines"]
    assert 1 <= len(lines) <= 4
    for line in lines:
        net = _money(Decimal(line["quantity"]) * Decimal(line["unit_price"]) - Decimal(line["discount_amount"]))
        assert Decimal(line["net_amount"]) == net
        assert Decimal(line["tax_amount"]) == _money(net * rates[line["tax_rate"]["id"]] / 100)
        assert Decimal(line["total_amount"]) == net + Decimal(line["tax_amount"])
    for field in ("net_amount", "tax_amount", "total_amount"):
        assert Decimal(invoice[field]) == sum((Decimal(line[field]) for line in lines), Decimal(0)), field
    paid = Decimal(invoice["total_paid"])
    outstanding = Decimal(invoice["outstanding_amount"])
    status = invoice["status"]["id"]
    if status == "VOID":
        assert outstanding == 0
    else:
        assert outstanding == Decimal(invoice["total_amount"]) - paid
    assert (status == "PAID") == (status != "VOID" and paid > 0 and outstanding == 0)
    if status == "PART_PAID":
        assert 0 < paid < Decimal(invoice["total_amount"])


def test_spot_check_invoice_totals(bapi: httpx2.Client) -> None:
    rates = {
        r["id"]: Decimal(r["percentage"]) for r in bapi.get("/tax_rates", params={"attributes": "all"}).json()["$items"]
    }
    checked = 0
    for page in (1, 4, 9):
        body = bapi.get("/sales_invoices", params={"attributes": "all", "items_per_page": 100, "page": page}).json()
        for invoice in body["$items"]:
            _check_invoice(invoice, rates)
            checked += 1
    assert checked == 300
    paid = bapi.get("/sales_invoices", params={"status_id": "PAID", "items_per_page": 5}).json()["$items"]
    receipt_ids = set()
    for item in paid:
        full = bapi.get(item["$path"]).json()
        assert full["total_paid"] == full["total_amount"] and full["last_paid"]
        receipt_ids.add(full["id"])
    receipts = bapi.get("/transactions", params={"transaction_type_id": "CUSTOMER_RECEIPT", "items_per_page": 1})
    assert receipts.json()["$total"] >= len(receipt_ids)


def test_same_seed_and_day_give_the_same_books(tmp_path: Path) -> None:
    dumps = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.sqlite"
        build_big_books(path, contacts=80, invoices=260, seed=5, today=TODAY)
        sandbox = Sandbox(SandboxConfig(db_path=str(path), today=TODAY))
        try:
            dumps.append(sandbox.store.dump())
        finally:
            sandbox.close()
    assert dumps[0] == dumps[1]


def test_refusals(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite"
    with pytest.raises(ValueError, match="at least"):
        build_big_books(path, contacts=10, invoices=10, today=TODAY)
    path.write_bytes(b"")
    with pytest.raises(FileExistsError):
        build_big_books(path, contacts=50, invoices=200, today=TODAY)


def test_cli_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(tmp_path / "cli.sqlite")
    argv = ["sandbox", "seed", "--db", path, "--contacts", "60", "--invoices", "220", "--today", "2025-06-30"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "60 contacts and 220 sales invoices" in out and f"sage-mcp sandbox serve --db {path}" in out
    assert main(argv) == 2  # the file exists
    assert "exists" in capsys.readouterr().err
    assert main([*argv, "--force"]) == 0
    sandbox = Sandbox(SandboxConfig(db_path=path))
    try:
        assert sandbox.store.count(LEAD_BUSINESS_ID, "sales_invoices") == 220
    finally:
        sandbox.close()
