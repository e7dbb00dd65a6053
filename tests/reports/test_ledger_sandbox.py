"""Ledger reports against the sandbox: the two trial balance sources agree on the demo book; a small
hand-worked posting moves each report by exactly its figures (and a void takes it out of its period);
and, over random posting sequences, the books balance, the balance sheet balances, and a period's net
profit equals the change in retained plus current-year earnings."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sage_mcp.reports import ledger, statements
from sage_mcp.reports.fetch import Fetcher
from sage_mcp.reports.periods import financial_year_start
from sage_mcp.sage.errors import SageNotFoundError
from sage_mcp.sandbox import LEAD_BUSINESS_ID, SECOND_BUSINESS_ID, SandboxConfig, SandboxServer, running_sandbox
from sage_mcp.sandbox.seed_history import vat_filed_to
from tests.helpers import with_line_tax

D = Decimal
TODAY = dt.date(2026, 6, 15)  # financial years end 31 March: 2025-04-01 .. 2026-03-31, then 2026-04-01 ..
_names = itertools.count(1)


class Api:
    """A minimal async page getter over the sandbox (what the reports need of a Sage client)."""

    def __init__(self, server: SandboxServer, token: str, business: str) -> None:
        self.url = server.api_url
        self.headers = {"Authorization": f"Bearer {token}", "X-Business": business}

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        async with httpx2.AsyncClient(base_url=self.url, headers=self.headers, timeout=60) as c:
            r = await c.get(path, params=dict(params or {}))
        if r.status_code == 404:
            raise SageNotFoundError(404, [], method="GET", path=path)
        assert r.status_code == 200, r.text
        return r.json()


@dataclass
class Book:
    server: SandboxServer
    http: httpx2.Client
    token: str
    codes: dict[int, str]
    customer: str
    supplier: str

    def post(self, path: str, root: str, body: dict[str, Any]) -> dict[str, Any]:
        r = self.http.post(path, json=with_line_tax({root: body}))
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        return out

    def invoice(self, date: dt.date, net: D, *, account: int = 4000, rate: str = "GB_STANDARD") -> dict[str, Any]:
        line = {"description": "x", "quantity": 1, "unit_price": str(net), "ledger_account_id": self.codes[account]}
        line["tax_rate_id"] = rate
        body = {"contact_id": self.customer, "date": date.isoformat(), "invoice_lines": [line]}
        return self.post("/sales_invoices", "sales_invoice", body)

    def bill(self, date: dt.date, net: D, *, account: int = 7500, rate: str = "GB_STANDARD") -> dict[str, Any]:
        line = {"description": "x", "quantity": 1, "unit_price": str(net), "ledger_account_id": self.codes[account]}
        line["tax_rate_id"] = rate
        due = (date + dt.timedelta(days=30)).isoformat()
        body = {"contact_id": self.supplier, "date": date.isoformat(), "due_date": due, "invoice_lines": [line]}
        return self.post("/purchase_invoices", "purchase_invoice", body)

    def journal(self, date: dt.date, amount: D, debit: int, credit: int) -> None:
        lines = [
            {"ledger_account_id": self.codes[debit], "debit": str(amount), "credit": "0"},
            {"ledger_account_id": self.codes[credit], "debit": "0", "credit": str(amount)},
        ]
        self.post("/journals", "journal", {"date": date.isoformat(), "reference": "Adj", "journal_lines": lines})

    def void(self, path: str) -> None:
        r = self.http.delete(path, params={"void_reason": "Report test"})
        assert r.status_code == 200, r.text

    def fetcher(self, business: str = LEAD_BUSINESS_ID) -> Fetcher:
        return Fetcher(Api(self.server, self.token, business), 8)


@pytest.fixture(scope="module")
def book() -> Iterator[Book]:
    with running_sandbox(SandboxConfig(today=TODAY, access_token_ttl=86_400)) as server:
        token = server.mint_tokens()["access_token"]
        headers = {"Authorization": f"Bearer {token}", "X-Business": LEAD_BUSINESS_ID}
        with httpx2.Client(base_url=server.api_url, headers=headers, timeout=60) as http:
            accounts = http.get("/ledger_accounts", params={"attributes": "nominal_code", "items_per_page": 200})
            codes = {int(a["nominal_code"]): str(a["id"]) for a in accounts.json()["$items"]}
            ids = []
            for kind in ("CUSTOMER", "VENDOR"):
                body = {"contact": {"name": f"Ledger Report {kind.title()}", "contact_type_ids": [kind]}}
                r = http.post("/contacts", json=body)
                assert r.status_code == 201, r.text
                ids.append(str(r.json()["id"]))
            yield Book(server, http, token, codes, ids[0], ids[1])


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _ledger(book: Book, start: dt.date, end: dt.date, source: str | None = None) -> ledger.Ledger:
    return await ledger.fetch_ledger(book.fetcher(), start, end, source=source)


def _figures(lg: ledger.Ledger) -> dict[str, tuple[D, D, D, D]]:
    return {a.id: (a.opening, a.debit, a.credit, a.closing) for a in lg.lines}


def test_trial_balance_and_ledger_balances_agree_on_the_demo_book(book: Book) -> None:
    windows = [
        (dt.date(2025, 4, 1), TODAY),
        (dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        (dt.date(2026, 5, 17), dt.date(2026, 5, 17)),
        (ledger.BEGINNING, TODAY),
    ]
    for business in (LEAD_BUSINESS_ID, SECOND_BUSINESS_ID):
        for start, end in windows:
            via_tb = run(ledger.fetch_ledger(book.fetcher(business), start, end, source=ledger.TRIAL_BALANCE))
            via_lb = run(ledger.fetch_ledger(book.fetcher(business), start, end, source=ledger.LEDGER_ACCOUNTS))
            assert via_tb.source == ledger.TRIAL_BALANCE and via_lb.source == ledger.LEDGER_ACCOUNTS
            assert _figures(via_tb) == _figures(via_lb), (business, start, end)
            assert via_tb.lines, "the demo book has postings in every window tried"
            tb = statements.trial_balance(via_tb, with_period=True, top=None)
            assert tb == {**statements.trial_balance(via_lb, with_period=True, top=None), "source": "trial_balance"}
            assert tb["balanced"] is True


def _summaries(book: Book, start: dt.date, end: dt.date) -> tuple[dict[str, str], dict[str, str], dict[str, Any]]:
    pnl = statements.profit_and_loss(run(_ledger(book, start, end)), None, top=None)["summary"]
    bs = statements.balance_sheet(run(_ledger(book, dt.date(2026, 4, 1), end)), top=None)
    tb = statements.trial_balance(run(_ledger(book, dt.date(2026, 4, 1), end)), with_period=False, top=None)
    return pnl, bs["summary"], {r["code"]: (D(r["debit"]) - D(r["credit"])) for r in tb["accounts"]}


def test_a_hand_worked_invoice_and_bill_move_every_report_by_their_figures(book: Book) -> None:
    """May 2026: a sales invoice of 250.00 + 50.00 VAT and a bill of 80.00 + 16.00 VAT; then the invoice
    is voided, and its values leave May again."""
    start, end = dt.date(2026, 5, 1), dt.date(2026, 5, 31)
    pnl0, bs0, tb0 = _summaries(book, start, end)
    invoice = book.invoice(dt.date(2026, 5, 10), D("250.00"))
    book.bill(dt.date(2026, 5, 12), D("80.00"))
    pnl1, bs1, tb1 = _summaries(book, start, end)

    def moved(a: Mapping[str, str], b: Mapping[str, str]) -> dict[str, str]:
        return {k: f"{D(b[k]) - D(a[k]):.2f}" for k in a if D(b[k]) != D(a[k])}

    assert moved(pnl0, pnl1) == {
        "sales": "250.00",
        "gross_profit": "250.00",
        "overheads": "80.00",
        "net_profit": "170.00",
    }
    # debit-positive balances: debtors +300, creditors -96, VAT on sales -50, VAT on purchases +16
    tb_moved = {code: tb1.get(code, D(0)) - tb0.get(code, D(0)) for code in set(tb0) | set(tb1)}
    assert {k: v for k, v in tb_moved.items() if v} == {
        "1100": D("300.00"),
        "2100": D("-96.00"),
        "2200": D("-50.00"),
        "2201": D("16.00"),
        "4000": D("-250.00"),
        "7500": D("80.00"),
    }
    assert moved(bs0, bs1) == {
        "current_assets": "300.00",
        "total_assets": "300.00",
        "current_liabilities": "130.00",  # 96 + 50 - 16
        "total_liabilities": "130.00",
        "net_assets": "170.00",
        "current_year_earnings": "170.00",
        "total_equity": "170.00",
    }
    book.void(str(invoice["$path"]))
    pnl2, bs2, _ = _summaries(book, start, end)
    assert moved(pnl0, pnl2) == {"overheads": "80.00", "net_profit": "-80.00"}
    assert moved(bs0, bs2)["current_year_earnings"] == "-80.00"


# -- property: random postings across two financial years ------------------------------------------------

#: The sandbox's accounts start date (the business opened 420 days before TODAY): Sage takes no entry before it.
BOOKS_START = TODAY - dt.timedelta(days=420)
DAYS = (TODAY - BOOKS_START).days
#: The demo business's VAT returns are filed up to here (sage_mcp.sandbox.seed_history).
VAT_FILED_TO = vat_filed_to(TODAY)
day = st.integers(min_value=0, max_value=DAYS).map(lambda n: BOOKS_START + dt.timedelta(days=n))
amount = st.integers(min_value=1, max_value=500_000).map(lambda p: D(p) / 100)
step = st.one_of(
    st.tuples(
        st.just("invoice"), day, amount, st.sampled_from([4000, 4900]), st.sampled_from(["GB_STANDARD", "GB_ZERO"])
    ),
    st.tuples(
        st.just("bill"), day, amount, st.sampled_from([5000, 7500]), st.sampled_from(["GB_STANDARD", "GB_LOWER"])
    ),
    st.tuples(st.just("journal"), day, amount, st.sampled_from([(8000, 30), (7600, 2109), (1200, 4900)])),
    st.tuples(st.just("void"), st.integers(min_value=0, max_value=10)),
)


def _earnings(bs: Mapping[str, Any]) -> D:
    return D(bs["summary"]["retained_earnings"]) + D(bs["summary"]["current_year_earnings"])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=6), a=day, b=day)
def test_reports_reconcile_over_random_postings(
    book: Book, steps: list[tuple[Any, ...]], a: dt.date, b: dt.date
) -> None:
    invoices: list[str] = []
    for s in steps:
        if s[0] == "invoice":
            made = str(book.invoice(s[1], s[2], account=s[3], rate=s[4])["$path"])
            if s[1] > VAT_FILED_TO:  # an invoice on a filed VAT return is VAT-reconciled: Sage will not void it
                invoices.append(made)
        elif s[0] == "bill":
            book.bill(s[1], s[2], account=s[3], rate=s[4])
        elif s[0] == "journal":
            book.journal(s[1], s[2], *s[3])
        elif s[0] == "void" and invoices:
            book.void(invoices.pop(s[1] % len(invoices)))
    d1, d2 = min(a, b), max(a, b, min(a, b) + dt.timedelta(days=1))

    async def check() -> None:
        fetch = book.fetcher()
        settings_ = await fetch.one("/financial_settings")
        at1, at2, pnl, pnl_lb = await asyncio.gather(
            ledger.fetch_ledger(fetch, financial_year_start(d1, settings_), d1),
            ledger.fetch_ledger(fetch, financial_year_start(d2, settings_), d2),
            ledger.fetch_ledger(fetch, d1 + dt.timedelta(days=1), d2, source=ledger.TRIAL_BALANCE),
            ledger.fetch_ledger(fetch, d1 + dt.timedelta(days=1), d2, source=ledger.LEDGER_ACCOUNTS),
        )
        for lg in (at1, at2):
            tb = statements.trial_balance(lg, with_period=True, top=None)
            assert tb["balanced"], tb["totals"]
            assert tb["period_totals"]["debit"] == tb["period_totals"]["credit"]
            bs = statements.balance_sheet(lg, top=None)
            assert bs["balanced"], bs["summary"]
        assert _figures(pnl) == _figures(pnl_lb)
        profit = D(statements.profit_and_loss(pnl, None, top=None)["summary"]["net_profit"])
        change = _earnings(statements.balance_sheet(at2, top=None)) - _earnings(statements.balance_sheet(at1, top=None))
        assert profit == change, (d1, d2, profit, change)

    run(check())
