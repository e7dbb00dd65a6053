"""The workflows' arithmetic and rules without a server: shipping shares, payout sums, bad-debt VAT."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from sage_mcp.money import tax_on
from sage_mcp.registry import Registry
from sage_mcp.tools._bad_debts import (
    CreditLine,
    ReliefRefused,
    add_months,
    relief_from,
    split_outstanding,
    vat_treatment,
)
from sage_mcp.tools._orders import shipping_shares
from sage_mcp.tools._payouts import PayoutFigures, clearing_account_name
from tests.test_budget import tokens_per_tool

WORKFLOWS = ("sync_sales_order", "reconcile_payout", "write_off_bad_debt")


def test_the_three_workflow_schemas_cost_at_most_1100_tokens_and_are_offered_by_default() -> None:
    counts = tokens_per_tool("workflows")
    assert set(counts) == set(WORKFLOWS)
    assert sum(counts.values()) <= 1_100, counts
    assert set(WORKFLOWS) <= set(Registry.build("default").tools)
    assert not set(WORKFLOWS) & set(Registry.build("default", read_only=True).tools)


# -- shipping ---------------------------------------------------------------------------------------------


def test_shipping_follows_a_single_rate() -> None:
    assert shipping_shares([("GB_STANDARD", D("10.00")), ("GB_STANDARD", D("5.00"))], D("3.99")) == [
        ("GB_STANDARD", D("3.99"))
    ]


def test_shipping_is_shared_over_mixed_rates_by_value_and_adds_up_exactly() -> None:
    # 24.00 at 20% and 4.00 at 0%: 5.00 x 24/28 = 4.2857 -> 4.29; the zero rate takes the 0.71 left.
    shares = shipping_shares([("GB_STANDARD", D("24.00")), ("GB_ZERO", D("4.00"))], D("5.00"))
    assert shares == [("GB_STANDARD", D("4.29")), ("GB_ZERO", D("0.71"))]
    # Three equal thirds of 1.00: 0.33, 0.33 and the 0.34 left.
    thirds = shipping_shares([("A", D("1")), ("B", D("1")), ("C", D("1"))], D("1.00"))
    assert thirds == [("A", D("0.33")), ("B", D("0.33")), ("C", D("0.34"))]


def test_no_shipping_or_worthless_goods() -> None:
    assert shipping_shares([("GB_STANDARD", D("10"))], D("0")) == []
    assert shipping_shares([("GB_ZERO", D("0")), ("GB_STANDARD", D("0"))], D("2.50")) == [("GB_ZERO", D("2.50"))]


# -- payouts -----------------------------------------------------------------------------------------------


def test_a_payout_that_adds_up() -> None:
    figures = PayoutFigures.of([D("100.00"), D("150.00")], [], D("7.55"), D("242.45"))
    assert figures.expected == D("242.45") and figures.difference == 0 and figures.problem() is None


def test_a_payout_that_does_not_add_up_names_the_difference() -> None:
    # 80.00 - 20.00 - 2.60 = 57.40; paid out 57.30: 0.10 less than the figures.
    problem = PayoutFigures.of([D("80.00")], [D("20.00")], D("2.60"), D("57.30")).problem()
    assert problem is not None
    assert "receipts 80.00 - refunds 20.00 - fees 2.60 = 57.40" in problem
    assert "payout is 57.30: 0.10 less" in problem and "Nothing was posted" in problem


def test_clearing_account_names() -> None:
    assert clearing_account_name("  Stripe ") == "Stripe clearing"
    assert clearing_account_name("Go  Cardless") == "Go Cardless clearing"


# -- bad debts ----------------------------------------------------------------------------------------------


def test_six_months_later_clamps_to_the_month_end() -> None:
    assert add_months(dt.date(2026, 8, 31), 6) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2026, 1, 15), 6) == dt.date(2026, 7, 15)
    # the later of supply and due date counts
    assert relief_from(dt.date(2026, 1, 10), dt.date(2026, 2, 9)) == dt.date(2026, 8, 9)
    assert relief_from(dt.date(2026, 1, 10), None) == dt.date(2026, 7, 10)


def treatment(asked: bool | None, on: dt.date, *, cash: bool = False, tax: str = "20.00"):  # type: ignore[no-untyped-def]
    return vat_treatment(
        invoice_tax=D(tax), cash_accounting=cash, eligible_from=dt.date(2026, 8, 9), on=on, asked=asked
    )


def test_relief_by_the_rules_and_as_asked() -> None:
    assert (treatment(None, dt.date(2026, 8, 9)).with_vat, treatment(None, dt.date(2026, 8, 9)).basis) == (
        True,
        "relief",
    )
    early = treatment(None, dt.date(2026, 8, 8))
    assert (early.with_vat, early.basis) == (False, "no_relief") and "2026-08-09" in early.explanation
    declined = treatment(False, dt.date(2027, 1, 1))
    assert (declined.with_vat, declined.basis) == (False, "no_relief")
    with pytest.raises(ReliefRefused, match="from 2026-08-09"):
        treatment(True, dt.date(2026, 8, 8))


def test_cash_accounting_and_no_vat_invoices() -> None:
    cash = treatment(False, dt.date(2026, 1, 1), cash=True)
    assert (cash.with_vat, cash.basis) == (True, "cash_accounting") and "never due" in cash.explanation
    none = treatment(True, dt.date(2026, 1, 1), tax="0")
    assert (none.with_vat, none.basis) == (True, "no_vat")


def test_outstanding_split_into_net_and_vat_like_sage_lines() -> None:
    # 60.00 left of an invoice at 20%: 50.00 net + 10.00 VAT.
    assert split_outstanding([("GB_STANDARD", D("20"), D("120.00"))], D("60.00"), "GB_NO_TAX") == [
        CreditLine("GB_STANDARD", D("50.00"), D("10.00"))
    ]
    # 50.00 left of 100.00 at 20% (gross) + 20.00 at 0%: shares 41.67 and 8.33; 41.67 = 34.73 + 6.95 = 41.68
    # is one penny over, so 34.72 + 6.94 = 41.66 and the penny no net can make goes on a No VAT line.
    lines = split_outstanding(
        [("GB_STANDARD", D("20"), D("100.00")), ("GB_ZERO", D("0"), D("20.00"))], D("50.00"), "NT"
    )
    assert sum(x.net + x.tax for x in lines) == D("50.00")
    assert all(x.tax == tax_on(x.net, D("20") if x.tax_rate_id == "GB_STANDARD" else D("0")) for x in lines)
    assert lines[0] == CreditLine("GB_STANDARD", D("34.72"), D("6.94"))
    assert lines[1:] == [CreditLine("GB_ZERO", D("8.33"), D("0")), CreditLine("NT", D("0.01"), D("0"))]
