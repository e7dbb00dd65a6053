"""Bad-debt write-off rules, without Sage: when UK VAT bad-debt relief applies, and how the outstanding
amount of an invoice splits into net and VAT.

Relief (VAT Notice 700/18): the debt must be written off in the accounts, the VAT must have been
accounted for and paid (invoice basis; under cash accounting the VAT on an unpaid invoice was never
due, so there is nothing to reclaim), and six months must have passed since the later of the date of
supply (the invoice date) and the date payment was due.

With relief the credit note carries the invoice's VAT on the outstanding share; without it the whole
outstanding amount goes to bad debts at "no VAT" and the output VAT stays as declared. Under cash
accounting the credit note also carries the invoice's VAT: allocated against the invoice, the two
cancel in the cash-basis return, which is right because that VAT was never paid.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sage_mcp.money import HUNDRED, PENNY, ZERO, round_money, tax_on

RELIEF_MONTHS = 6


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day when it has fewer days)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def relief_from(invoice_date: dt.date, due_date: dt.date | None) -> dt.date:
    """The first day relief may be claimed: six months after the later of supply and due date."""
    return add_months(max(invoice_date, due_date or invoice_date), RELIEF_MONTHS)


@dataclass(frozen=True)
class VatTreatment:
    with_vat: bool  # the credit note carries the invoice's VAT on the outstanding share
    basis: str  # "relief", "no_relief", "cash_accounting", "no_vat"
    explanation: str


class ReliefRefused(ValueError):
    """Relief was asked for but the rules do not allow it yet."""


def vat_treatment(
    *,
    invoice_tax: Decimal,
    cash_accounting: bool,
    eligible_from: dt.date,
    on: dt.date,
    asked: bool | None,
) -> VatTreatment:
    """How the write-off treats VAT. ``asked`` is the caller's ``vat_relief`` (``None``: by the rules)."""
    if invoice_tax == ZERO:
        return VatTreatment(True, "no_vat", "The invoice carries no VAT, so there is no VAT to adjust.")
    if cash_accounting:
        return VatTreatment(
            True,
            "cash_accounting",
            "VAT cash accounting: the VAT on this unpaid invoice was never due to HMRC, so there is no relief "
            "to claim; the credit note carries the invoice's VAT so the two cancel in the return.",
        )
    eligible = on >= eligible_from
    if asked is True and not eligible:
        raise ReliefRefused(
            f"vat_relief: bad-debt relief can be claimed only six months after the later of the invoice date "
            f"and its due date, i.e. from {eligible_from.isoformat()}. Write it off now without relief "
            "(vat_relief: false), or wait until then. Nothing was posted."
        )
    if asked is False:
        return VatTreatment(
            False,
            "no_relief",
            "No VAT relief (vat_relief: false): the whole outstanding amount goes to bad debts and the VAT "
            "already declared stays as it is.",
        )
    if eligible:
        return VatTreatment(
            True,
            "relief",
            f"VAT bad-debt relief: the invoice is over six months past due (eligible from "
            f"{eligible_from.isoformat()}) and VAT was accounted for on the invoice basis, so the VAT share "
            "of the outstanding amount is reclaimed through this credit note.",
        )
    return VatTreatment(
        False,
        "no_relief",
        f"No VAT relief yet: relief needs six months past the later of the invoice and due dates "
        f"(from {eligible_from.isoformat()}). The whole outstanding amount goes to bad debts; the VAT stays "
        "declared (it can be reclaimed once eligible).",
    )


@dataclass(frozen=True)
class CreditLine:
    tax_rate_id: str
    net: Decimal
    tax: Decimal


def _net_for_gross(gross: Decimal, percentage: Decimal) -> Decimal:
    """The net amount whose net + tax (tax half-up on the net) comes closest to ``gross`` from below."""
    net = round_money(gross * HUNDRED / (HUNDRED + percentage))
    while net > ZERO and net + tax_on(net, percentage) > gross:
        net -= PENNY
    return net


def split_outstanding(
    rates: Sequence[tuple[str, Decimal, Decimal]], outstanding: Decimal, no_vat_rate: str
) -> list[CreditLine]:
    """Credit lines with the invoice's VAT that add up to ``outstanding`` exactly.

    ``rates``: ``[(tax_rate_id, percentage, gross of the invoice's lines at that rate)]``. The outstanding
    amount is shared over the rates by their gross (the last takes what is left); each share is split
    into net and tax as Sage computes a line (tax half-up on the net). A penny that no net can produce
    at a rate (e.g. 0.03 at 20%) is credited on a ``no_vat_rate`` line, so the total is always exact.
    """
    valued = [(rate, pct, gross) for rate, pct, gross in rates if gross > ZERO]
    base = sum((gross for _, _, gross in valued), ZERO)
    if not valued or base == ZERO:
        return [CreditLine(no_vat_rate, outstanding, ZERO)]
    lines: list[CreditLine] = []
    left = outstanding
    for i, (rate, pct, gross) in enumerate(valued):
        share = left if i == len(valued) - 1 else round_money(outstanding * gross / base)
        left -= share
        net = _net_for_gross(share, pct)
        lines.append(CreditLine(rate, net, tax_on(net, pct)))
    rest = outstanding - sum((x.net + x.tax for x in lines), ZERO)
    if rest != ZERO:
        lines.append(CreditLine(no_vat_rate, rest, ZERO))
    return [x for x in lines if x.net != ZERO or x.tax != ZERO]
