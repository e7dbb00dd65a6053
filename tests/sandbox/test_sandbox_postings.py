"""The sandbox's double entry, without a server: every posting balances to the penny, is recorded with its
transaction, and voids, deletes and edits move the ledger exactly as Sage's would."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sage_mcp.sandbox import ledger
from sage_mcp.sandbox.config import SandboxConfig
from sage_mcp.sandbox.context import Context, epoch
from sage_mcp.sandbox.ledger import Posting
from sage_mcp.sandbox.store import Store

D = Decimal
TODAY = dt.date(2026, 5, 5)
ACCOUNTS = {1200: "la-bank", 1100: "la-debtors", 4000: "la-sales", 2200: "la-vat"}


def context(store: Store, business: str = "b1", now: float | None = None) -> Context:
    return Context(store, SandboxConfig(), {"id": business}, "u1", now or epoch(TODAY), TODAY)


@pytest.fixture
def ctx() -> Iterator[Context]:
    store = Store(None, "postings")
    c = context(store)
    for code, account_id in ACCOUNTS.items():
        c.put_new("ledger_accounts", {"id": account_id, "nominal_code": code, "displayed_as": str(code)})
    yield c
    store.close()


def entries(c: Context, transaction_id: str) -> list[dict[str, object]]:
    rows = c.store.execute(
        "SELECT transaction_type_id, date, ledger_account_id, debit, credit, details, contact_id, origin_resource,"
        " origin_id, created_at FROM ledger_entries WHERE transaction_id = ? ORDER BY seq",
        (transaction_id,),
    ).fetchall()
    return [dict(r) for r in rows]


INVOICE = [
    Posting("la-debtors", debit=D("120.004")),
    Posting("la-sales", credit=D("100")),
    Posting("la-vat", credit=D("20.004")),
    Posting("la-bank"),  # nothing on either side: no entry
]


def test_a_posting_records_its_transaction_and_one_entry_per_non_zero_line(ctx: Context) -> None:
    made = ledger.post_transaction(
        ctx,
        transaction_type_id="SALES_INVOICE",
        date="2026-05-01",
        reference="SI-1",
        postings=INVOICE,
        contact={"id": "c-1", "displayed_as": "Acme"},
        origin=("sales_invoices", "inv-1", "SI-1 Acme"),
    )
    tid = made["id"]
    assert made == {"id": tid, "displayed_as": "SI-1", "$path": f"/transactions/{tid}"}
    record = ctx.get("transactions", tid)
    assert record is not None
    assert record == {
        "id": tid,
        "displayed_as": "SI-1",
        "$path": f"/transactions/{tid}",
        "created_at": ctx.now_iso,
        "updated_at": ctx.now_iso,
        "date": "2026-05-01",
        "deleted": False,
        "reference": "SI-1",
        "total": "120.00",
        "total_in_transaction_currency": "120.00",
        "contact": {"id": "c-1", "displayed_as": "Acme"},
        "transaction_type": {
            "id": "SALES_INVOICE",
            "displayed_as": "Sales Invoice",
            "$path": "/transaction_types/SALES_INVOICE",
        },
        "origin": {"id": "inv-1", "displayed_as": "SI-1 Acme", "$path": "/sales_invoices/inv-1"},
        "audit_trail_id": None,
        "number_of_attachments": "0",
    }
    common = {
        "transaction_type_id": "SALES_INVOICE",
        "date": "2026-05-01",
        "details": "",
        "contact_id": "c-1",
        "origin_resource": "sales_invoices",
        "origin_id": "inv-1",
        "created_at": ctx.now_iso,
    }
    assert entries(ctx, tid) == [
        {**common, "ledger_account_id": "la-debtors", "debit": "120.00", "credit": "0.00"},
        {**common, "ledger_account_id": "la-sales", "debit": "0.00", "credit": "100.00"},
        {**common, "ledger_account_id": "la-vat", "debit": "0.00", "credit": "20.00"},
    ]
    assert ledger.entries_of(ctx, tid) == [
        Posting("la-debtors", D("120.00"), D("0.00"), ""),
        Posting("la-sales", D("0.00"), D("100.00"), ""),
        Posting("la-vat", D("0.00"), D("20.00"), ""),
    ]


def test_a_transaction_is_named_by_reference_then_origin_then_id(ctx: Context) -> None:
    pair = [Posting("la-bank", debit=D(1)), Posting("la-sales", credit=D(1))]
    by_origin = ledger.post_transaction(
        ctx, transaction_type_id="OTHER_RECEIPT", date="2026-05-01", reference=None, postings=pair,
        origin=("other_payments", "op-1", "Receipt 7"),
    )  # fmt: skip
    assert by_origin["displayed_as"] == "Receipt 7"
    bare = ledger.post_transaction(ctx, transaction_type_id="NEW_KIND", date="2026-05-01", reference="", postings=pair)
    record = ctx.get("transactions", bare["id"])
    assert record is not None
    assert bare["displayed_as"] == bare["id"] == record["displayed_as"]
    assert record["transaction_type"]["displayed_as"] == ""
    assert (record["contact"], record["origin"]) == (None, None)
    assert [(e["contact_id"], e["origin_resource"], e["origin_id"]) for e in entries(ctx, bare["id"])] == [
        (None, None, None),
        (None, None, None),
    ]


def test_an_unbalanced_posting_is_refused_and_records_nothing(ctx: Context) -> None:
    with pytest.raises(AssertionError, match=r"^unbalanced posting: debits 10 != credits 9\.99$"):
        ledger.post_transaction(
            ctx,
            transaction_type_id="JOURNAL",
            date="2026-05-01",
            reference="J",
            postings=[Posting("la-bank", debit=D("10")), Posting("la-sales", credit=D("9.99"))],
        )
    assert ctx.store.execute("SELECT count(*) FROM ledger_entries").fetchone()[0] == 0
    assert ctx.store.all("b1", "transactions") == []


def test_a_void_posts_the_mirror_image_dated_today_and_marks_the_transaction_deleted(ctx: Context) -> None:
    made = ledger.post_transaction(
        ctx,
        transaction_type_id="SALES_INVOICE",
        date="2026-04-01",
        reference="SI-2",
        postings=INVOICE,
        contact={"id": "c-1", "displayed_as": "Acme"},
        origin=("sales_invoices", "inv-2", "SI-2"),
    )
    later = context(ctx.store, now=epoch(TODAY) + 3600)
    ledger.reverse_transaction(later, made["id"], "Voided: customer cancelled")
    rows = entries(ctx, made["id"])
    mirror = rows[3:]
    assert [(e["ledger_account_id"], e["debit"], e["credit"]) for e in mirror] == [
        ("la-debtors", "0.00", "120.00"),
        ("la-sales", "100.00", "0.00"),
        ("la-vat", "20.00", "0.00"),
    ]
    assert {(e["date"], e["details"], e["contact_id"], e["origin_resource"], e["origin_id"]) for e in mirror} == {
        ("2026-05-05", "Voided: customer cancelled", "c-1", "sales_invoices", "inv-2")
    }
    assert {e["transaction_type_id"] for e in mirror} == {"SALES_INVOICE"}
    assert [p.details for p in ledger.entries_of(ctx, made["id"])] == [""] * 3 + ["Voided: customer cancelled"] * 3
    record = ctx.store.get("b1", "transactions", made["id"])
    assert record is not None and record["deleted"] is True and record["updated_at"] == later.now_iso
    assert set(ledger.trial_balance(ctx).values()) == {D(0)}


def test_a_delete_reverses_on_the_original_date_and_an_unknown_transaction_is_ignored(ctx: Context) -> None:
    made = ledger.post_transaction(
        ctx,
        transaction_type_id="JOURNAL",
        date="2026-01-31",
        reference="J-9",
        postings=[Posting("la-bank", debit=D("5")), Posting("la-sales", credit=D("5"))],
    )
    ledger.reverse_transaction(ctx, made["id"], "Deleted", date="2026-01-31")
    assert {e["date"] for e in entries(ctx, made["id"])} == {"2026-01-31"}
    assert [(e["contact_id"], e["origin_resource"]) for e in entries(ctx, made["id"])[2:]] == [(None, None)] * 2
    ledger.reverse_transaction(ctx, "no-such-transaction", "Deleted")
    assert ctx.store.execute("SELECT count(*) FROM ledger_entries").fetchone()[0] == 4


def test_an_edit_replaces_the_entries_and_the_transactions_figures(ctx: Context) -> None:
    made = ledger.post_transaction(
        ctx,
        transaction_type_id="SALES_INVOICE",
        date="2026-04-01",
        reference="SI-3",
        postings=INVOICE,
        contact={"id": "c-1", "displayed_as": "Acme"},
        origin=("sales_invoices", "inv-3", "SI-3"),
    )
    later = context(ctx.store, now=epoch(TODAY) + 60)
    smaller = [
        Posting("la-debtors", debit=D("60")),
        Posting("la-sales", credit=D("50")),
        Posting("la-vat", credit=D(10)),
    ]
    ledger.replace_postings(later, made["id"], smaller, "2026-04-02", "SI-3b")
    assert [(e["ledger_account_id"], e["debit"], e["credit"], e["date"]) for e in entries(ctx, made["id"])] == [
        ("la-debtors", "60.00", "0.00", "2026-04-02"),
        ("la-sales", "0.00", "50.00", "2026-04-02"),
        ("la-vat", "0.00", "10.00", "2026-04-02"),
    ]
    assert {(e["contact_id"], e["origin_id"]) for e in entries(ctx, made["id"])} == {("c-1", "inv-3")}
    record = ctx.store.get("b1", "transactions", made["id"])
    assert record is not None
    assert (record["date"], record["reference"], record["total"], record["total_in_transaction_currency"]) == (
        "2026-04-02",
        "SI-3b",
        "60.00",
        "60.00",
    )
    assert record["updated_at"] == later.now_iso and record["created_at"] == ctx.now_iso


def test_an_edit_that_does_not_balance_or_has_no_transaction_changes_nothing(ctx: Context) -> None:
    made = ledger.post_transaction(
        ctx,
        transaction_type_id="JOURNAL",
        date="2026-04-01",
        reference="J",
        postings=[Posting("la-bank", debit=D("5")), Posting("la-sales", credit=D("5"))],
    )
    with pytest.raises(AssertionError, match="unbalanced posting"):
        ledger.replace_postings(ctx, made["id"], [Posting("la-bank", debit=D("1"))], "2026-04-01", "J")
    with pytest.raises(LookupError, match=r"^transaction nope does not exist$"):
        ledger.replace_postings(ctx, "nope", [], "2026-04-01", None)
    assert len(entries(ctx, made["id"])) == 2


def test_accounts_are_found_by_nominal_code(ctx: Context) -> None:
    assert ledger.account_by_nominal(ctx, ledger.BANK_CURRENT)["id"] == "la-bank"
    assert ledger.account_by_nominal(ctx, ledger.DEBTORS_CONTROL)["id"] == "la-debtors"
    with pytest.raises(LookupError, match=r"^business b1 has no ledger account 9999$"):
        ledger.account_by_nominal(ctx, 9999)


def test_the_trial_balance_is_per_business(ctx: Context) -> None:
    pair = [Posting("la-bank", debit=D("7.50")), Posting("la-sales", credit=D("7.50"))]
    ledger.post_transaction(ctx, transaction_type_id="JOURNAL", date="2026-04-01", reference="A", postings=pair)
    other = context(ctx.store, business="b2")
    ledger.post_transaction(other, transaction_type_id="JOURNAL", date="2026-04-01", reference="B", postings=pair)
    ledger.post_transaction(other, transaction_type_id="JOURNAL", date="2026-04-02", reference="C", postings=pair)
    assert ledger.trial_balance(ctx) == {"la-bank": D("7.50"), "la-sales": D("-7.50")}
    assert ledger.trial_balance(other) == {"la-bank": D("15.00"), "la-sales": D("-15.00")}
    (first,) = [t for t in ctx.store.all("b2", "transactions") if t["reference"] == "B"]
    assert ledger.entries_of(ctx, first["id"]) == [], "another business's entries are not this one's"


amounts = st.integers(min_value=0, max_value=10**8).map(lambda c: D(c).scaleb(-2))


@given(st.lists(st.tuples(st.sampled_from(sorted(ACCOUNTS.values())), amounts), min_size=1, max_size=8))
@settings(max_examples=40, deadline=None, derandomize=True, database=None)
def test_any_balanced_posting_moves_each_account_by_its_debits_minus_credits(lines: list[tuple[str, Decimal]]) -> None:
    store = Store(None, "property")
    c = context(store)
    postings = [Posting(account, debit=value) for account, value in lines]
    postings.append(Posting("la-sales", credit=sum((v for _, v in lines), D(0))))
    made = ledger.post_transaction(
        c, transaction_type_id="JOURNAL", date="2026-05-01", reference="P", postings=postings
    )
    expected: dict[str, Decimal] = {}
    for p in postings:
        if p.debit or p.credit:
            expected[p.ledger_account_id] = expected.get(p.ledger_account_id, D(0)) + p.debit - p.credit
    assert ledger.trial_balance(c) == expected
    assert sum(ledger.trial_balance(c).values(), D(0)) == 0
    record = c.get("transactions", made["id"])
    assert record is not None and record["total"] == f"{sum((v for _, v in lines), D(0)):.2f}"
    ledger.reverse_transaction(c, made["id"], "void")
    assert set(ledger.trial_balance(c).values()) <= {D(0)}
    store.close()
