"""Lists answered in SQL over ``record_index`` give exactly what decoding every record gives: the same
records in the same order, the same total and page, and the same 422 for a bad parameter."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sandbox_support import TODAY

from sage_mcp.sandbox import LEAD_BUSINESS_ID, SANDBOX_USER_ID, Sandbox, SandboxConfig
from sage_mcp.sandbox.context import Context
from sage_mcp.sandbox.errors import ApiError
from sage_mcp.sandbox.listing import parse_paging
from sage_mcp.sandbox.resources import Collection
from sage_mcp.sandbox.resources.contacts import Contacts
from sage_mcp.sandbox.resources.sales_invoices import SalesInvoices

SQL_LISTED = (
    "contacts",
    "sales_invoices",
    "sales_credit_notes",
    "sales_quotes",
    "sales_estimates",
    "purchase_invoices",
    "purchase_credit_notes",
    "contact_payments",
    "contact_allocations",
    "transactions",
)
#: Awkward names: case folding that changes length, ties after folding, separators, a NUL.
NAMES = ("Straße Joinery", "STRASSE JOINERY", "strasse joinery", "Ünit\x1fSeven", "Null\x00Byte Ltd", "Émile & Co")


def _answer(found: tuple[list[dict[str, Any]], int, int]) -> tuple[list[str], int, int]:
    records, total, page = found
    return [r["id"] for r in records], total, page


def _both(collection: Collection, ctx: Context, query: dict[str, str]) -> tuple[Any, Any]:
    """(SQL answer or None, Python answer); an ApiError is answered as (status, body)."""
    results = []
    for method in (collection.select_sql, collection.select_python):
        try:
            paging = parse_paging(query)
            found = method(ctx, query, paging)
            results.append(None if found is None else _answer(found))
        except ApiError as error:
            results.append((error.status, error.body()))
    return results[0], results[1]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    sandbox = Sandbox(SandboxConfig(today=TODAY))
    ctx = sandbox.context(LEAD_BUSINESS_ID, SANDBOX_USER_ID)
    contacts, invoices = Contacts(), SalesInvoices()
    with sandbox.store.transaction():
        account = next(a for a in ctx.by_id("ledger_accounts").values() if a["nominal_code"] == 4000)
        made = []
        for index, name in enumerate(NAMES):
            ctx.now += 1
            payload = {"name": name, "contact_type_ids": ["CUSTOMER"], "reference": f"ODD{index}"}
            payload["main_contact_person"] = {"name": "Pat", "email": f"pat{index}@Straße.example"}
            made.append(contacts.create(ctx, payload))
        for index, contact in enumerate(made[:3]):
            for day in ("2025-05-01", "2025-05-01", "2025-05-02"):  # after the filed VAT quarter (voided below)
                ctx.now += 1
                line = {"description": "Work", "ledger_account_id": account["id"], "quantity": "1", "unit_price": "10"}
                line["tax_amount"] = "2.0"  # the account's 20 % rate: v3.1 wants the VAT sent
                body = {"contact_id": contact["id"], "date": day, "reference": f"Réf {index}", "invoice_lines": [line]}
                invoice = invoices.create(ctx, body)
        ctx.now += 1
        invoices.delete(ctx, invoice, {"void_reason": "Wrong"})
        draft = invoices.create(ctx, {**body, "status_id": "DRAFT"})
        ctx.now += 1
        invoices.delete(ctx, draft, {})
        ctx.now += 1
        contacts.delete(ctx, made[-1], {})
        contacts.update(ctx, made[0], {"notes": "changed"})
    yield sandbox
    sandbox.close()


def _queries(ctx: Context, collection: Collection) -> list[dict[str, str]]:
    records = collection.records(ctx)
    stamps = sorted({str(r.get("updated_at") or r.get("created_at")) for r in records})
    middle = stamps[len(stamps) // 2]
    contact_ids = [str(r["contact"]["id"]) for r in records if isinstance(r.get("contact"), dict)][:2]
    queries: list[dict[str, str]] = [
        {},
        {"items_per_page": "7", "page": "3"},
        {"items_per_page": "200", "page": "99"},
        {"updated_or_created_since": middle},
        {"updated_or_created_since": middle.replace("Z", ".5Z")},
        {"updated_or_created_since": middle[:10]},
        {"updated_or_created_since": middle[:10] + "T+01:00"},
        {"updated_or_created_since": middle.replace("Z", "-02:30")},
        {"updated_or_created_since": "yesterday"},
        {"deleted_since": "2000-01-01"},
        {"deleted_since": "2000-01-01", "search": "STRASSE"},
        {"deleted_since": "2999-01-01T00:00:00Z"},
        {"deleted_since": "nope"},
        {"search": "strasse"},
        {"search": "SS"},
        {"search": "ß"},
        {"search": " réf 1 "},
        {"search": "\x1f"},
        {"search": "si-1"},
        {"from_date": "2025-05-01"},
        {"to_date": "2025-05-01"},
        {"from_date": "2025-01-01", "to_date": "2025-05-02T23:00:00Z"},
        {"from_date": "2025-13-01"},
        {"from_date": "bad", "status_id": "BAD"},
        {"sort": "date"},
        {"sort": "date:desc", "items_per_page": "5", "page": "2"},
        {"sort": "created_at:asc"},
        {"sort": "updated_at:DESC"},
        {"sort": "due_date:desc"},
        {"sort": "name"},
        {"sort": " "},
        {"status_id": "PAID"},
        {"status_id": "unpaid, void ,draft"},
        {"status_id": ","},
        {"status_id": "PENDING,ACCEPTED"},
        {"status_id": "BOGUS"},
        {"contact_type_id": "customer"},
        {"contact_type_id": "VENDOR", "search": "ltd"},
        {"email": "PAT0@straße.example"},
        {"transaction_type_id": "customer_receipt"},
        {"transaction_type_id": "NOPE"},
        {"has_attachments": "false"},
        {"bank_account_id": "x"},
        {"attributes": "all", "nested_attributes": "all", "unknown": "1"},
    ]
    for contact_id in contact_ids:
        queries.append({"contact_id": contact_id})
        queries.append({"contact_id": contact_id, "sort": "date:asc", "status_id": "PAID,UNPAID"})
    return queries


@pytest.mark.parametrize("name", SQL_LISTED)
def test_sql_lists_answer_as_the_python_path(sandbox: Sandbox, name: str) -> None:
    collection = sandbox.collections[name]
    ctx = sandbox.context(LEAD_BUSINESS_ID, SANDBOX_USER_ID)
    used_sql = 0
    with sandbox.store.transaction():
        for query in _queries(ctx, collection):
            in_sql, in_python = _both(collection, ctx, query)
            assert in_sql is None or in_sql == in_python, query
            used_sql += in_sql is not None
    assert used_sql > 10


def test_common_list_requests_are_answered_in_sql(sandbox: Sandbox) -> None:
    ctx = sandbox.context(LEAD_BUSINESS_ID, SANDBOX_USER_ID)
    invoices, contacts = sandbox.collections["sales_invoices"], sandbox.collections["contacts"]
    contact_id = str(invoices.records(ctx)[0]["contact"]["id"])
    common = [
        {"status_id": "UNPAID"},
        {"contact_id": contact_id},
        {"from_date": "2025-01-01", "to_date": "2025-01-31"},
        {"search": "PO-1"},
        {"sort": "date:asc"},
        {"deleted_since": "2000-01-01"},
        {"updated_or_created_since": "2025-01-01T00:00:00Z", "attributes": "all"},
    ]
    for query in common:
        assert invoices.select_sql(ctx, query, parse_paging(query)) is not None, query
    for query in ({}, {"search": "ltd"}, {"contact_type_id": "VENDOR"}, {"sort": "name"}):
        assert contacts.select_sql(ctx, query, parse_paging(query)) is not None, query
    python_only = [{"has_attachments": "true"}, {"sort": "due_date"}, {"search": "a\x1fb"}]
    for query in python_only:
        assert invoices.select_sql(ctx, query, parse_paging(query)) is None, query


def test_every_pair_of_filters_agrees(sandbox: Sandbox) -> None:
    collection = sandbox.collections["sales_invoices"]
    ctx = sandbox.context(LEAD_BUSINESS_ID, SANDBOX_USER_ID)
    contact_id = str(collection.records(ctx)[0]["contact"]["id"])
    single = [
        {"status_id": "PAID,VOID"},
        {"contact_id": contact_id},
        {"from_date": "2025-02-01"},
        {"to_date": "2025-05-31"},
        {"search": "po"},
        {"sort": "date:asc"},
        {"updated_or_created_since": "2025-04-01"},
        {"deleted_since": "2000-01-01"},
    ]
    with sandbox.store.transaction():
        for first, second in itertools.combinations(single, 2):
            query = {**first, **second}
            in_sql, in_python = _both(collection, ctx, query)
            assert in_sql is not None and in_sql == in_python, query


def test_an_older_file_gets_its_index_built(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    config = SandboxConfig(db_path=str(path), today=TODAY)
    Sandbox(config).close()
    with sqlite3.connect(path) as conn:  # as a sandbox without record_index left it
        conn.execute("DELETE FROM record_index")
        conn.execute("DELETE FROM meta WHERE key = 'index_version'")
    conn.close()
    sandbox = Sandbox(config)
    try:
        ctx = sandbox.context(LEAD_BUSINESS_ID, SANDBOX_USER_ID)
        invoices = sandbox.collections["sales_invoices"]
        query = {"status_id": "PAID", "sort": "date:asc"}
        in_sql, in_python = _both(invoices, ctx, query)
        assert in_sql is not None and in_sql == in_python and in_sql[1] > 0
    finally:
        sandbox.close()
