"""The seed data: deterministic, realistic, consistent, and quick to build."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from decimal import Decimal

import httpx2
from sandbox_support import TODAY

from sage_mcp.sandbox import (
    FOREIGN_BUSINESS_ID,
    LEAD_BUSINESS_ID,
    SANDBOX_USER_ID,
    SECOND_BUSINESS_ID,
    THIRD_BUSINESS_ID,
    Sandbox,
    SandboxConfig,
    SandboxServer,
    running_sandbox,
)
from sage_mcp.sandbox.ledger import trial_balance


def test_same_seed_and_day_give_identical_data() -> None:
    first = Sandbox(SandboxConfig(seed=7, today=TODAY))
    second = Sandbox(SandboxConfig(seed=7, today=TODAY, clock=lambda: 0.0))
    other_seed = Sandbox(SandboxConfig(seed=8, today=TODAY))
    other_day = Sandbox(SandboxConfig(seed=7, today=TODAY + dt.timedelta(days=1)))
    try:
        dump = first.store.dump()
        assert dump == second.store.dump()
        assert dump != other_seed.store.dump()
        assert dump != other_day.store.dump()
        assert len(dump["records"]) > 600
    finally:
        for sandbox in (first, second, other_seed, other_day):
            sandbox.close()


def test_same_seed_gives_identical_answers_over_http(shared_server: SandboxServer) -> None:
    answers = []
    with running_sandbox(SandboxConfig(today=TODAY)) as fresh:
        for server in (shared_server, fresh):
            token = server.mint_tokens()["access_token"]
            with httpx2.Client(base_url=server.api_url, headers={"Authorization": f"Bearer {token}"}) as client:
                contacts = client.get("/contacts", params={"attributes": "all", "items_per_page": 200}).json()
                invoices = client.get("/sales_invoices", params={"attributes": "all", "items_per_page": 50}).json()
                answers.append((contacts, invoices))
    assert answers[0] == answers[1]


def test_seeding_is_fast() -> None:
    started = time.perf_counter()
    sandbox = Sandbox(SandboxConfig(today=TODAY))
    elapsed = time.perf_counter() - started
    sandbox.close()
    assert elapsed < 1.5, f"seeding took {elapsed:.2f}s"


def test_seed_shape_and_bookkeeping() -> None:
    sandbox = Sandbox(SandboxConfig(today=TODAY))
    try:
        store = sandbox.store
        lead = store.all(LEAD_BUSINESS_ID, "sales_invoices")
        assert len(lead) == 205  # 200 over the year and one open in each aged bucket
        statuses = Counter(i["status"]["id"] for i in lead)
        assert statuses["DRAFT"] == 3 and statuses["VOID"] == 4
        assert statuses["PAID"] > 100 and statuses["UNPAID"] > 10 and statuses["PART_PAID"] > 3
        assert all(TODAY - dt.timedelta(days=366) < dt.date.fromisoformat(i["date"]) < TODAY for i in lead)
        assert [i["invoice_number"] for i in sorted(lead, key=lambda i: i["_number"])] == [
            f"SI-{n}" for n in range(1, 206)
        ]
        for invoice in lead:
            lines = invoice["invoice_lines"]
            assert 1 <= len(lines) <= 4
            assert Decimal(invoice["total_amount"]) == sum(Decimal(x["total_amount"]) for x in lines)
            expected = Decimal(invoice["total_amount"]) - Decimal(invoice["total_paid"])
            if invoice["status"]["id"] == "VOID":
                expected = Decimal(0)
            assert Decimal(invoice["outstanding_amount"]) == expected
            assert len(invoice["id"]) == 32 and int(invoice["id"], 16) >= 0
        contacts = store.all(LEAD_BUSINESS_ID, "contacts")
        kinds = Counter(c["contact_types"][0]["id"] for c in contacts)
        assert kinds == {"CUSTOMER": 35, "VENDOR": 15}
        assert len({c["reference"] for c in contacts}) == 50
        assert store.count(SECOND_BUSINESS_ID, "sales_invoices") == 15
        assert store.count(SECOND_BUSINESS_ID, "contacts") == 8
        assert store.count(THIRD_BUSINESS_ID, "sales_invoices") == 14
        assert store.count(THIRD_BUSINESS_ID, "contacts") == 7
        assert store.count(FOREIGN_BUSINESS_ID, "contacts") == 2
        assert not store.may_use_business(SANDBOX_USER_ID, FOREIGN_BUSINESS_ID)
        assert store.lead_business_id(SANDBOX_USER_ID) == LEAD_BUSINESS_ID
        for business_id in (LEAD_BUSINESS_ID, SECOND_BUSINESS_ID, THIRD_BUSINESS_ID):
            balances = trial_balance(sandbox.context(business_id, SANDBOX_USER_ID))
            assert sum(balances.values(), Decimal(0)) == 0
    finally:
        sandbox.close()


def test_file_database_is_seeded_once_and_kept(tmp_path: object) -> None:
    path = str(tmp_path) + "/sandbox.sqlite"  # type: ignore[operator]
    first = Sandbox(SandboxConfig(db_path=path, today=TODAY))
    ctx = first.context(LEAD_BUSINESS_ID, SANDBOX_USER_ID)
    contact = first.collections["contacts"].create(ctx, {"name": "Kept Ltd", "contact_type_ids": ["VENDOR"]})
    first.close()
    again = Sandbox(SandboxConfig(db_path=path, today=TODAY + dt.timedelta(days=30)))
    try:
        assert again.store.get(LEAD_BUSINESS_ID, "contacts", contact["id"]) is not None
        assert again.store.count(LEAD_BUSINESS_ID, "sales_invoices") == 205
    finally:
        again.close()
