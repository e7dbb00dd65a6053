"""Trial balance, profit and loss, balance sheet: pure functions over a :class:`~.ledger.Ledger`.

* **Trial balance** at the window's end: each account's closing balance on its side (debit when
  debits exceed credits), the column totals and ``balanced`` (they agree); with a period, also what
  was posted in it.
* **Profit and loss** over the window, grouped as Sage groups ledger account types: sales + other
  income - direct expenses = gross profit; gross profit - overheads - depreciation = net profit.
  Income is credits minus debits, expenses debits minus credits, of what was posted in the window.
* **Balance sheet** at the window's end, the window starting on the first day of the financial year
  containing it: assets (fixed, current, bank) at their debit balances, liabilities (current,
  long-term) and equity at their credit balances; profit and loss accounts become two equity lines:
  **retained earnings** (their balance before the financial year: earlier years' profit not moved to
  an equity account) and **current-year earnings** (the year's net profit to date). Assets - liabilities
  = equity (``balanced``) whenever the ledger balances.

Every figure is a sum of ledger balances shown (or counted in ``more``) in the same answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sage_mcp.money import ZERO, money
from sage_mcp.reports.ledger import BS_SECTIONS, PNL_SECTIONS, UNCLASSIFIED, AccountLine, Ledger

PNL_SUMMARY = (
    "sales",
    "other_income",
    "direct_expenses",
    "gross_profit",
    "overheads",
    "depreciation",
    "net_profit",
)
BS_SUMMARY = (
    "fixed_assets",
    "current_assets",
    "bank",
    "total_assets",
    "current_liabilities",
    "long_term_liabilities",
    "total_liabilities",
    "net_assets",
    "equity_accounts",
    "retained_earnings",
    "current_year_earnings",
    "total_equity",
)


def account_row(a: AccountLine) -> dict[str, str]:
    return {"code": a.code, "name": a.name}


def top_rows(
    rows: Sequence[tuple[AccountLine, Decimal]],
    top: int | None,
    render: Callable[[AccountLine, Decimal], dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[tuple[AccountLine, Decimal]]]:
    """All rows in nominal-code order, or the ``top`` largest (by size) in that order, and the rows
    left out."""
    if top is None or len(rows) <= top:
        return [render(a, v) for a, v in rows], []
    keep = {id(a) for a, _ in sorted(rows, key=lambda r: abs(r[1]), reverse=True)[:top]}
    shown = [render(a, v) for a, v in rows if id(a) in keep]
    return shown, [(a, v) for a, v in rows if id(a) not in keep]


def more_of(hidden: Sequence[tuple[AccountLine, Decimal]]) -> dict[str, Any]:
    """What a section leaves out: how many accounts and their total."""
    return {"accounts": len(hidden), "total": money(sum((v for _, v in hidden), ZERO))}


# -- trial balance ---------------------------------------------------------------------------------------


def trial_balance(ledger: Ledger, *, with_period: bool, top: int | None) -> dict[str, Any]:
    """The trial balance at ``ledger.end`` (closing balances), with period columns when asked."""
    debit = sum((a.closing for a in ledger.lines if a.closing > 0), ZERO)
    credit = sum((-a.closing for a in ledger.lines if a.closing < 0), ZERO)
    rows = [a for a in ledger.lines if a.closing or (with_period and (a.debit or a.credit))]
    out: dict[str, Any] = {
        "as_at": ledger.end.isoformat(),
        "source": ledger.source,
        "balanced": debit == credit,
        "totals": {"debit": money(debit), "credit": money(credit), "difference": money(debit - credit)},
    }
    if with_period:
        out["period_totals"] = {
            "debit": money(sum((a.debit for a in ledger.lines), ZERO)),
            "credit": money(sum((a.credit for a in ledger.lines), ZERO)),
        }

    def render(a: AccountLine, _: Decimal) -> dict[str, Any]:
        row: dict[str, Any] = {
            **account_row(a),
            "debit": money(max(a.closing, ZERO)),
            "credit": money(max(-a.closing, ZERO)),
        }
        if with_period:
            row["period_debit"] = money(a.debit)
            row["period_credit"] = money(a.credit)
        return row

    shown, left = top_rows([(a, a.closing) for a in rows], top, render)
    out["accounts"] = shown
    out["account_count"] = len(rows)
    if left:
        hidden = [a for a, _ in left]
        out["more"] = {
            "accounts": len(hidden),
            "debit": money(sum((a.closing for a in hidden if a.closing > 0), ZERO)),
            "credit": money(sum((-a.closing for a in hidden if a.closing < 0), ZERO)),
        }
    if ledger.notes:
        out["notes"] = list(ledger.notes)
    return out


# -- profit and loss -------------------------------------------------------------------------------------


@dataclass
class Sections:
    """Accounts by section with their signed amounts (income and assets positive as reported)."""

    rows: dict[str, list[tuple[AccountLine, Decimal]]] = field(default_factory=dict)

    def total(self, key: str) -> Decimal:
        return sum((v for _, v in self.rows.get(key, [])), ZERO)


def pnl_sections(lines: Iterable[AccountLine]) -> Sections:
    """What each P&L account earned (+) or cost (+) in the window, by section."""
    sign = {key: s for key, _, _, s in PNL_SECTIONS}
    out = Sections({key: [] for key in sign})
    for a in lines:
        if a.in_pnl and a.movement:
            out.rows[a.section].append((a, -a.movement * sign[a.section]))
    return out


def pnl_summary(s: Sections) -> dict[str, Decimal]:
    gross = s.total("sales") + s.total("other_income") - s.total("direct_expenses")
    net = gross - s.total("overheads") - s.total("depreciation")
    return {
        "sales": s.total("sales"),
        "other_income": s.total("other_income"),
        "direct_expenses": s.total("direct_expenses"),
        "gross_profit": gross,
        "overheads": s.total("overheads"),
        "depreciation": s.total("depreciation"),
        "net_profit": net,
    }


def net_profit(lines: Iterable[AccountLine]) -> Decimal:
    """Net profit of the window: credits minus debits posted to every P&L account."""
    return -sum((a.movement for a in lines if a.in_pnl), ZERO)


def _money_map(values: Mapping[str, Decimal]) -> dict[str, str]:
    return {k: money(v) for k, v in values.items()}


def profit_and_loss(ledger: Ledger, compare: Ledger | None, *, top: int | None) -> dict[str, Any]:
    """The P&L of ``ledger``'s window; with ``compare``, that window's figures beside it."""
    now = pnl_sections(ledger.lines)
    then = pnl_sections(compare.lines) if compare is not None else None
    summary = pnl_summary(now)
    out: dict[str, Any] = {"summary": _money_map(summary)}
    if then is not None:
        before = pnl_summary(then)
        out["compare_summary"] = _money_map(before)
        out["change"] = {k: money(summary[k] - before[k]) for k in PNL_SUMMARY}
    sections: dict[str, Any] = {}
    for key, label, _, _ in PNL_SECTIONS:
        rows = now.rows[key]
        prior = {a.id: v for a, v in then.rows[key]} if then is not None else {}
        only_then = [
            (a, ZERO) for a, _ in (then.rows[key] if then is not None else []) if a.id not in {x.id for x, _ in rows}
        ]
        every = sorted([*rows, *only_then], key=lambda r: r[0].sort_key())

        def render(a: AccountLine, v: Decimal, prior: Mapping[str, Decimal] = prior) -> dict[str, Any]:
            row: dict[str, Any] = {**account_row(a), "amount": money(v)}
            if then is not None:
                row["compare_amount"] = money(prior.get(a.id, ZERO))
            return row

        if not every:
            continue
        shown, left = top_rows(every, top, render)
        section: dict[str, Any] = {"label": label, "total": money(now.total(key)), "accounts": shown}
        if then is not None:
            section["compare_total"] = money(then.total(key))
        if left:
            section["more"] = more_of(left)
        sections[key] = section
    out["sections"] = sections
    notes = [*ledger.notes, *(compare.notes if compare else [])]
    if notes:
        out["notes"] = notes
    return out


# -- balance sheet ---------------------------------------------------------------------------------------


def bs_sections(ledger: Ledger) -> tuple[Sections, Decimal, Decimal]:
    """Balance sheet accounts by section (each on its natural side), retained and current-year
    earnings. ``ledger`` runs from the start of the financial year to the balance sheet date."""
    sign = {key: s for key, _, _, s in BS_SECTIONS}
    out = Sections({key: [] for key in (*sign, UNCLASSIFIED)})
    retained = current = ZERO
    for a in ledger.lines:
        if a.in_pnl:
            retained -= a.opening
            current -= a.movement
        elif a.closing:
            out.rows[a.section].append((a, a.closing * sign.get(a.section, 1)))
    return out, retained, current


def bs_summary(s: Sections, retained: Decimal, current: Decimal) -> dict[str, Decimal]:
    assets = s.total("fixed_assets") + s.total("current_assets") + s.total("bank")
    liabilities = s.total("current_liabilities") + s.total("long_term_liabilities")
    equity = s.total("equity") + retained + current
    out = {
        "fixed_assets": s.total("fixed_assets"),
        "current_assets": s.total("current_assets"),
        "bank": s.total("bank"),
        "total_assets": assets,
        "current_liabilities": s.total("current_liabilities"),
        "long_term_liabilities": s.total("long_term_liabilities"),
        "total_liabilities": liabilities,
        "net_assets": assets - liabilities + s.total(UNCLASSIFIED),
        "equity_accounts": s.total("equity"),
        "retained_earnings": retained,
        "current_year_earnings": current,
        "total_equity": equity,
    }
    if s.rows.get(UNCLASSIFIED):
        out["unclassified"] = s.total(UNCLASSIFIED)
    return out


def balance_sheet(ledger: Ledger, *, top: int | None) -> dict[str, Any]:
    """The balance sheet at ``ledger.end`` (``ledger.start`` = first day of that financial year)."""
    s, retained, current = bs_sections(ledger)
    summary = bs_summary(s, retained, current)
    difference = summary["net_assets"] - summary["total_equity"]
    out: dict[str, Any] = {
        "summary": _money_map(summary),
        "balanced": difference == ZERO,
        "difference": money(difference),
    }
    sections: dict[str, Any] = {}
    labels = {key: label for key, label, _, _ in BS_SECTIONS}
    labels[UNCLASSIFIED] = "Accounts of no known type (counted as assets)"
    for key, label in labels.items():
        rows = s.rows[key]
        if not rows and key != "equity":
            continue
        shown, left = top_rows(rows, top, lambda a, v: {**account_row(a), "amount": money(v)})
        if key == "equity":
            shown.append(
                {"code": "", "name": "Retained earnings (profit before this financial year)", "amount": money(retained)}
            )
            shown.append(
                {"code": "", "name": "Current-year earnings (profit this financial year)", "amount": money(current)}
            )
        section: dict[str, Any] = {
            "label": label,
            "total": money(s.total(key) + (retained + current if key == "equity" else ZERO)),
            "accounts": shown,
        }
        if left:
            section["more"] = more_of(left)
        sections[key] = section
    out["sections"] = sections
    if ledger.notes:
        out["notes"] = list(ledger.notes)
    return out


# -- several businesses ----------------------------------------------------------------------------------


def group_total(rows: Sequence[Mapping[str, Any]], fields: Sequence[str], key: str = "summary") -> dict[str, Any]:
    """The businesses' ``key`` figures added up when they share one currency; else a plain statement."""
    ok = [r for r in rows if "error" not in r]
    currencies = sorted({str(r.get("currency")) for r in ok})
    if len(currencies) != 1:
        return {
            "note": (
                "no group total: the businesses report in different currencies ("
                + ", ".join(currencies)
                + "); compare them side by side"
            )
            if currencies
            else "no group total: no business could be read"
        }
    out: dict[str, Any] = {"currency": currencies[0], "businesses": len(ok)}
    total: dict[str, str] = {}
    for f in fields:
        values = [r[key][f] for r in ok if f in r.get(key, {})]
        total[f] = money(sum((Decimal(v) for v in values), ZERO))
    out[key] = total
    if len(ok) < len(rows):
        out["note"] = f"{len(rows) - len(ok)} business(es) could not be read and are not in the total"
    return out


__all__ = [
    "BS_SUMMARY",
    "PNL_SUMMARY",
    "balance_sheet",
    "bs_sections",
    "bs_summary",
    "group_total",
    "net_profit",
    "pnl_sections",
    "pnl_summary",
    "profit_and_loss",
    "trial_balance",
]
