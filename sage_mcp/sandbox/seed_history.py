"""The lead business's history before and around its books: a filed VAT period, stock, opening balances and
the VAT returns it made before moving to Sage.

* **Filed VAT period.** Every VAT quarter (Sage's UK quarters end in March, June, September and December)
  whose return was due - a month and seven days after the quarter end - on or before ``today`` is filed
  (:func:`vat_filed_to`).  In strict mode the sandbox treats its invoices, credit notes, VAT-bearing
  other payments and journals on the return as VAT-reconciled: ``tax_reconciled: true``, and they cannot
  be edited, voided or deleted.
* **Stock.** Four stock items of the joinery workshop (oak and walnut boards, brass hinges, hardwax oil),
  each with a delivery and some taken out for jobs.
* **Opening balances** dated the day before the accounts start date: two customers' unpaid invoices and one
  supplier's, the current account's bank balance, ledger account balances (fixed assets, capital) and one
  opening balance journal (prepaid rent).  They are kept and answered, not posted (see :mod:`.resources.long_tail`).
* **Migrated VAT returns**: the two quarterly returns made before the accounts start date, with their nine
  GB boxes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from .context import Context
from .ledger import account_by_nominal
from .resources.lifecycle import accounts_start_date
from .resources.long_tail import (
    BankOpeningBalances,
    ContactOpeningBalances,
    LedgerAccountOpeningBalances,
    MigrationTaxReturns,
    OpeningBalanceJournals,
    StockItems,
    StockMovements,
)

QUARTER_END_MONTHS = (3, 6, 9, 12)
#: A VAT return is due one month and seven days after its quarter ends.
RETURN_DUE_DAYS = 38

STOCK = (
    # item code, description, cost, price, delivered, used
    ("OAK-25", "Oak board 25mm, per metre", "18.40", "32.00", 60, 41),
    ("WAL-20", "Walnut board 20mm, per metre", "34.75", "58.00", 24, 9),
    ("HNG-BR", "Brass butt hinge, pair", "3.10", "6.50", 200, 126),
    ("OIL-HW", "Hardwax oil, 750ml", "21.90", "36.00", 12, 7),
)


def quarter_ends_before(day: dt.date) -> list[dt.date]:
    """VAT quarter ends (31 Mar, 30 Jun, 30 Sep, 31 Dec) before ``day``, latest first, two years back."""
    found = []
    for year in range(day.year, day.year - 3, -1):
        for month in reversed(QUARTER_END_MONTHS):
            end = dt.date(year, month, 31 if month in (3, 12) else 30)
            if end < day:
                found.append(end)
    return found


def vat_filed_to(today: dt.date) -> dt.date:
    """The end of the latest VAT quarter whose return was due by ``today`` (and so has been filed)."""
    return next(end for end in quarter_ends_before(today) if end + dt.timedelta(days=RETURN_DUE_DAYS) <= today)


def seed_history(ctx: Context) -> None:
    """Stock, opening balances and migrated VAT returns of the lead business (its filed period is a
    business field set when the business is built)."""
    start = dt.date.fromisoformat(accounts_start_date(ctx))
    day_before = (start - dt.timedelta(days=1)).isoformat()
    _seed_stock(ctx, start)
    _seed_opening_balances(ctx, day_before)
    _seed_migrated_returns(ctx, start)


def _id(ctx: Context, nominal: int) -> str:
    return str(account_by_nominal(ctx, nominal)["id"])


def _seed_stock(ctx: Context, start: dt.date) -> None:
    items, movements = StockItems(), StockMovements()
    delivered = (start + dt.timedelta(days=20)).isoformat()
    for index, (code, description, cost, price, quantity_in, used) in enumerate(STOCK):
        item = items.create(
            ctx,
            {
                "item_code": code,
                "description": description,
                "sales_ledger_account_id": _id(ctx, 4000),
                "purchase_ledger_account_id": _id(ctx, 5000),
                "cost_price": cost,
                "reorder_level": max(2, quantity_in // 10),
                "location": f"Workshop bay {index + 1}",
                "sales_prices": [{"price_name": "Selling Price", "price": price, "price_includes_tax": False}],
            },
        )
        movements.create(
            ctx,
            {
                "stock_item_id": item["id"],
                "date": delivered,
                "quantity": quantity_in,
                "cost_price": cost,
                "details": "Delivery from supplier",
            },
        )
        taken = (start + dt.timedelta(days=90 + 30 * index)).isoformat()
        movements.create(
            ctx,
            {
                "stock_item_id": item["id"],
                "date": taken,
                "quantity": -used,
                "cost_price": cost,
                "details": "Used on jobs",
            },
        )


def _seed_opening_balances(ctx: Context, day_before: str) -> None:
    contacts = sorted(ctx.store.all(ctx.business_id, "contacts"), key=lambda c: str(c["name"]))
    customers = [c for c in contacts if any(t["id"] == "CUSTOMER" for t in c.get("contact_types") or [])]
    suppliers = [c for c in contacts if any(t["id"] == "VENDOR" for t in c.get("contact_types") or [])]
    balances = ContactOpeningBalances()
    plan: list[tuple[dict[str, Any], str, str, str, str]] = [
        (customers[0], "OB-INV-0412", "1440.00", "1200.00", "240.00"),
        (customers[1], "OB-INV-0419", "864.00", "720.00", "144.00"),
        (suppliers[0], "OB-BILL-7730", "510.00", "425.00", "85.00"),
    ]
    for contact, reference, gross, net, tax in plan:
        balances.create(
            ctx,
            {
                "contact_opening_balance_type_id": "INVOICE",
                "contact_id": contact["id"],
                "date": day_before,
                "reference": reference,
                "details": "Unpaid at the accounts start date",
                "total_amount": gross,
                "net_amount": net,
                "tax_amount": tax,
                "tax_rate_id": "GB_STANDARD",
            },
        )
    bank = next(
        b for b in ctx.store.all(ctx.business_id, "bank_accounts") if b["bank_account_type"]["id"] == "CHECKING"
    )
    BankOpeningBalances().create(
        ctx, {"bank_account_id": bank["id"], "date": day_before, "debit": "8250.00", "credit": "0"}
    )
    ledger = LedgerAccountOpeningBalances()
    for nominal, debit, credit, details in (
        (40, "6400.00", "0", "Workshop benches and machinery"),
        (3000, "0", "100.00", "Ordinary shares"),
    ):
        ledger.create(
            ctx, {"ledger_account_id": _id(ctx, nominal), "debit": debit, "credit": credit, "details": details}
        )
    OpeningBalanceJournals().create(
        ctx,
        {
            "date": day_before,
            "reference": "Prepaid rent b/f",
            "journal_lines": [
                {"ledger_account_id": _id(ctx, 1103), "debit": "1350.00", "credit": "0", "details": "Prepayments"},
                {"ledger_account_id": _id(ctx, 3200), "debit": "0", "credit": "1350.00", "details": "Reserves"},
            ],
        },
    )


def _seed_migrated_returns(ctx: Context, start: dt.date) -> None:
    returns = MigrationTaxReturns()
    figures = (("4180.00", "1120.00", "20900.00", "5600.00"), ("3960.00", "1045.50", "19800.00", "5227.50"))
    ends = quarter_ends_before(start)[:2]
    for end, (output, reclaimed, sales, purchases) in zip(reversed(ends), figures, strict=True):
        first = (end.replace(day=1) - dt.timedelta(days=62)).replace(day=1)
        owed = str(Decimal(output) - Decimal(reclaimed))
        returns.create(
            ctx,
            {
                "from_date": first.isoformat(),
                "to_date": end.isoformat(),
                "total_amount": owed,
                "tax_return_frequency_id": "QUARTERLY",
                "gb": {
                    "box_1": output,
                    "box_2": "0.00",
                    "box_3": output,
                    "box_4": reclaimed,
                    "box_5": owed,
                    "box_6": sales,
                    "box_7": purchases,
                    "box_8": "0.00",
                    "box_9": "0.00",
                },
            },
        )
