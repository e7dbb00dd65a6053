"""The ledger a report reads: per ledger account, the balance before a window, the debits and credits
posted in it and the balance at its end, with the account's nominal code, name and type.

Two sources give the same figures:

* ``GET /trial_balance?from_date&to_date`` (Sage's Reporting API): per account ``opening_balance``
  ``{debit, credit}``, period ``debit``/``credit`` and ``closing_balance``, amounts as strings (``"0"``
  too). It carries no account type, so the chart (``/ledger_accounts``) is read alongside it.
* where Sage does not serve it (404), ``/ledger_accounts?show_balance_details=true&from_date&to_date``
  (``exclude_deleted_entries=true``: voided and deleted transactions left out, as the trial balance
  does), once for the window and once for everything before it.

Sage's ledger account types group the accounts (``ledger_account_type``; the ``ledger_account_group``
INCOME / EXPENDITURE / ASSETS / LIABILITIES / EQUITY when the type is one this module does not know).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sage_mcp.money import ZERO, to_decimal
from sage_mcp.reports.fetch import Fetcher

#: Earliest date used for "everything before" questions.
BEGINNING = dt.date(1900, 1, 1)
TRIAL_BALANCE = "trial_balance"
LEDGER_ACCOUNTS = "ledger_accounts"
_CHART_ATTRIBUTES = "nominal_code,name,displayed_as,ledger_account_type,ledger_account_group,control_name"

#: Profit and loss: (key, label, ledger account types, sign): sign +1 for income (credit positive).
PNL_SECTIONS: tuple[tuple[str, str, frozenset[str], int], ...] = (
    ("sales", "Sales", frozenset({"SALES"}), 1),
    ("other_income", "Other income", frozenset({"OTHER_INCOME"}), 1),
    ("direct_expenses", "Direct expenses", frozenset({"DIRECT_EXPENSES"}), -1),
    ("overheads", "Overheads", frozenset({"OVERHEADS", "EXPENSES"}), -1),
    ("depreciation", "Depreciation", frozenset({"DEPRECIATION"}), -1),
)
#: Balance sheet: (key, label, types, sign): sign +1 for assets (debit positive), -1 for liabilities/equity.
BS_SECTIONS: tuple[tuple[str, str, frozenset[str], int], ...] = (
    ("fixed_assets", "Fixed assets", frozenset({"FIXED_ASSETS", "FUTURE_ASSETS"}), 1),
    ("current_assets", "Current assets", frozenset({"CURRENT_ASSETS"}), 1),
    ("bank", "Bank and cash", frozenset({"BANK"}), 1),
    ("current_liabilities", "Current liabilities", frozenset({"CURRENT_LIABILITY", "TAXES", "LINE_OF_CREDIT"}), -1),
    ("long_term_liabilities", "Long-term liabilities", frozenset({"FUTURE_LIABILITY"}), -1),
    ("equity", "Equity", frozenset({"EQUITY", "SPECIAL"}), -1),
)
#: Where an account of an unknown type goes, by its ledger account group.
_BY_GROUP = {
    "INCOME": "other_income",
    "EXPENDITURE": "overheads",
    "ASSETS": "current_assets",
    "LIABILITIES": "current_liabilities",
    "EQUITY": "equity",
}
_SECTION_OF_TYPE = {t: key for key, _, types, _ in (*PNL_SECTIONS, *BS_SECTIONS) for t in types}
PNL_KEYS = frozenset(key for key, *_ in PNL_SECTIONS)
UNCLASSIFIED = "unclassified"


def _id(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("id")
    return str(value).upper() if value not in (None, "") else None


def _amount(raw: Mapping[str, Any] | None, key: str) -> Decimal:
    value = (raw or {}).get(key)
    return ZERO if value in (None, "") else to_decimal(value, field=key)


def _net(side: Any) -> Decimal:
    """A ``{debit, credit}`` balance (or a bare number, debit positive) as debit minus credit."""
    if isinstance(side, Mapping):
        return _amount(side, "debit") - _amount(side, "credit")
    return ZERO if side in (None, "") else to_decimal(side)


_CODE_IN_NAME = re.compile(r"^(?P<name>.*?)\s*\((?P<code>[0-9A-Za-z.-]+)\)\s*$")


@dataclass
class AccountLine:
    """One ledger account over a window. ``opening`` and ``closing`` are net debit balances."""

    id: str
    code: str
    name: str
    type: str | None
    group: str | None
    control: str | None = None
    opening: Decimal = ZERO
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    closing: Decimal = ZERO

    @property
    def movement(self) -> Decimal:
        """Debits minus credits posted in the window."""
        return self.debit - self.credit

    @property
    def section(self) -> str:
        """The P&L or balance sheet section this account reports in."""
        if self.type and self.type in _SECTION_OF_TYPE:
            return _SECTION_OF_TYPE[self.type]
        if self.group and self.group in _BY_GROUP:
            return _BY_GROUP[self.group]
        return UNCLASSIFIED

    @property
    def in_pnl(self) -> bool:
        return self.section in PNL_KEYS

    def sort_key(self) -> tuple[int, str, str]:
        digits = self.code if self.code.isdigit() else ""
        return (int(digits) if digits else 1 << 62, self.code, self.name)


@dataclass
class Ledger:
    """Every ledger account with a balance or a movement over ``start`` .. ``end`` (inclusive)."""

    start: dt.date
    end: dt.date
    source: str
    lines: list[AccountLine]
    notes: list[str] = field(default_factory=list)

    def by_code(self, code: str) -> AccountLine | None:
        return next((a for a in self.lines if a.code == code), None)

    def by_id(self, account_id: str) -> AccountLine | None:
        return next((a for a in self.lines if a.id == account_id), None)


def chart_entry(raw: Mapping[str, Any]) -> AccountLine:
    """An account of the chart (``/ledger_accounts`` item), no figures yet."""
    name = str(raw.get("name") or "")
    code = str(raw.get("nominal_code") or "")
    if not name or not code:
        m = _CODE_IN_NAME.match(str(raw.get("displayed_as") or ""))
        if m:
            name = name or m["name"]
            code = code or m["code"]
    return AccountLine(
        id=str(raw.get("id")),
        code=code,
        name=name or str(raw.get("displayed_as") or ""),
        type=_id(raw.get("ledger_account_type")),
        group=_id(raw.get("ledger_account_group")),
        control=_id(raw.get("control_name")),
    )


def from_trial_balance(
    tb: Mapping[str, Any], chart: Iterable[Mapping[str, Any]], start: dt.date, end: dt.date
) -> Ledger:
    """The ledger from a ``/trial_balance`` answer and the chart of accounts (for types)."""
    known = {str(a.get("id")): a for a in chart}
    lines = []
    for row in tb.get("ledger_accounts") or []:
        if not isinstance(row, Mapping):
            continue
        meta = known.get(str(row.get("id")))
        line = chart_entry({**row, **meta} if meta else row)
        line.opening = _net(row.get("opening_balance"))
        line.debit = _amount(row, "debit")
        line.credit = _amount(row, "credit")
        line.closing = _net(row.get("closing_balance"))
        lines.append(line)
    ledger = Ledger(start, end, TRIAL_BALANCE, sorted(lines, key=AccountLine.sort_key))
    odd = [a for a in ledger.lines if a.opening + a.movement != a.closing]
    if odd:
        ledger.notes.append(
            "Sage's trial balance gives closing balances that are not opening + debits - credits for "
            + ", ".join(f"{a.code} {a.name}" for a in odd[:5])
            + ("…" if len(odd) > 5 else "")
        )
    return ledger


def from_balances(
    period: Sequence[Mapping[str, Any]],
    before: Sequence[Mapping[str, Any]] | None,
    start: dt.date,
    end: dt.date,
) -> Ledger:
    """The ledger from ``/ledger_accounts`` balance details for the window and (optionally) before it."""
    opening: dict[str, Decimal] = {}
    for raw in before or []:
        details = raw.get("balance_details") or {}
        opening[str(raw.get("id"))] = _amount(details, "debits") - _amount(details, "credits")
    lines = []
    for raw in period:
        line = chart_entry(raw)
        details = raw.get("balance_details") or {}
        line.opening = opening.get(line.id, ZERO)
        line.debit = _amount(details, "debits")
        line.credit = _amount(details, "credits")
        line.closing = line.opening + line.movement
        if line.opening or line.debit or line.credit or line.closing:
            lines.append(line)
    return Ledger(start, end, LEDGER_ACCOUNTS, sorted(lines, key=AccountLine.sort_key))


async def chart(fetch: Fetcher) -> list[dict[str, Any]]:
    """The chart of accounts (no balances), control accounts included."""
    return await fetch.all(
        "/ledger_accounts",
        {"attributes": _CHART_ATTRIBUTES, "show_control_accounts": "true"},
        label="ledger accounts",
    )


async def _balances(fetch: Fetcher, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    return await fetch.all(
        "/ledger_accounts",
        {
            "show_balance_details": "true",
            "exclude_deleted_entries": "true",
            "show_control_accounts": "true",
            "from_date": start.isoformat(),
            "to_date": end.isoformat(),
            "attributes": _CHART_ATTRIBUTES + ",balance_details",
        },
        label="ledger account balances",
    )


async def ledger_from_balances(fetch: Fetcher, start: dt.date, end: dt.date, *, opening: bool = True) -> Ledger:
    """The ledger from ledger account balance details (two windows fetched at once)."""
    if opening and start > BEGINNING:
        period, before = await asyncio.gather(
            _balances(fetch, start, end), _balances(fetch, BEGINNING, start - dt.timedelta(days=1))
        )
    else:
        period, before = await _balances(fetch, start, end), None
    return from_balances(period, before, start, end)


async def ledger_from_trial_balance(fetch: Fetcher, start: dt.date, end: dt.date) -> Ledger | None:
    """The ledger from ``GET /trial_balance`` (with the chart for types), or ``None`` where Sage does not
    serve it. Accounts the chart list leaves out are read one by one."""
    tb, accounts = await asyncio.gather(
        fetch.one_or_none("/trial_balance", {"from_date": start.isoformat(), "to_date": end.isoformat()}),
        chart(fetch),
    )
    if not isinstance(tb, Mapping):
        return None
    known = {str(a.get("id")) for a in accounts}
    missing = [
        str(r.get("id"))
        for r in tb.get("ledger_accounts") or []
        if isinstance(r, Mapping) and str(r.get("id")) not in known
    ]
    if missing:
        extra = await asyncio.gather(
            *(fetch.one(f"/ledger_accounts/{i}", {"attributes": _CHART_ATTRIBUTES}) for i in missing)
        )
        accounts.extend(e for e in extra if isinstance(e, Mapping))
    return from_trial_balance(tb, accounts, start, end)


async def fetch_ledger(
    fetch: Fetcher, start: dt.date, end: dt.date, *, opening: bool = True, source: str | None = None
) -> Ledger:
    """The ledger over ``start`` .. ``end``: from ``/trial_balance`` where Sage serves it, else from
    ledger account balances. ``source`` forces one of the two (tests compare them)."""
    if source != LEDGER_ACCOUNTS:
        ledger = await ledger_from_trial_balance(fetch, start, end)
        if ledger is not None:
            return ledger
        if source == TRIAL_BALANCE:
            raise ValueError("Sage does not serve /trial_balance for this business")
    return await ledger_from_balances(fetch, start, end, opening=opening)


__all__ = [
    "BEGINNING",
    "BS_SECTIONS",
    "LEDGER_ACCOUNTS",
    "PNL_SECTIONS",
    "TRIAL_BALANCE",
    "UNCLASSIFIED",
    "AccountLine",
    "Ledger",
    "chart",
    "fetch_ledger",
    "from_balances",
    "from_trial_balance",
]
