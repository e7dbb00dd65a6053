"""Seed data of banking, settings, the catalogue, other payments and journals.

Everything is created through the collections, exactly as the API would, from its own random
stream (``sage-sandbox:<seed>:<business>:banking``), so the rest of the seed data is unaffected.

:func:`seed_bank_accounts` runs right after the chart of accounts (so receipts can go to the current
account); :func:`seed_bookkeeping` after everything else.

Every business gets the two default bank accounts, "Bank Current Account" (``CHECKING``, nominal
1200) and "Petty Cash" (``CASH_IN_HAND``, 1230), its settings and its VAT tax profile.  The lead
business (Hartley & Finch Ltd) also has "Bank Deposit Account" (``SAVINGS``, 1210) and "Company
Credit Card" (``CREDIT_CARD``, 1240, a new ``CURRENT_LIABILITY`` ledger account), four products and
four services, and over the twelve months before ``today``:

* other payments from the current account each month: storage unit rent (7100, 450.00 + VAT),
  mobile phones (7502, 48.00 gross at 20%), bank charges (7900, exempt); card spending on the credit
  card (travel 7400 zero-rated, fuel 7300 standard) and petty cash spending (stationery 7504);
* other receipts: bank interest on the savings account each quarter (4900, exempt), cash sales of
  offcut timber into petty cash (4900, standard rate) - one of them refunded;
* bank transfers: the card paid off from the current account each month, 5,000.00 to savings each
  quarter, 100.00 to petty cash each month; bank deposits of petty cash into the current account;
* journals: an accountancy fee accrual (Dr 7600 / Cr 2109) and quarterly depreciation
  (Dr 8000 / Cr 30), one of them deleted and one reissued;
* a reconciled bank reconciliation of the current account at the end of the month before last.

Fern Studio (VAT cash accounting) gets two products/services and monthly software subscription
(standard rate) and bank charge (exempt) payments.
"""

from __future__ import annotations

import calendar
import datetime as dt
import random
from decimal import Decimal
from typing import Any

from sage_mcp.money import money

from ..config import LEAD_BUSINESS_ID, SECOND_BUSINESS_ID
from ..context import Context, epoch
from ..ledger import account_by_nominal
from .banking import BankAccounts, BankDeposits, BankReconciliations, BankTransfers
from .journals import Journals
from .ledger_accounts import account_balance
from .other_payments import OtherPayments
from .products import Products, Services
from .settings import BusinessSettings, FinancialSettings, InvoiceSettings, vat_profile

#: (name, type, nominal code, account number, sort code); the first two exist in every business
BANK_ACCOUNTS = (
    ("Bank Current Account", "CHECKING", 1200, "41203377", "40-11-62"),
    ("Petty Cash", "CASH_IN_HAND", 1230, None, None),
    ("Bank Deposit Account", "SAVINGS", 1210, "73310945", "40-11-62"),
    ("Company Credit Card", "CREDIT_CARD", 1240, None, None),
)
LEAD_PRODUCTS = (
    ("OAK-WT", "Oak worktop (per metre)", 4001, 5001, "189.99", "112.00"),
    ("SHELF-01", "Bespoke shelving unit", 4001, 5001, "489.99", "260.00"),
    ("INSUL-01", "Energy-saving loft insulation", 4001, 5001, "420.00", "250.00"),
    ("CAT-PRINT", "Printed product catalogue", 4002, 5000, "3.335", "1.20"),
)
LEAD_SERVICES = (
    ("DESIGN-HR", "Design consultation (per hour)", 4000, "85.00"),
    ("JOIN-HR", "Joinery labour (per hour)", 4000, "45.00"),
    ("SURVEY", "Site survey", 4000, "150.00"),
    ("HS-TRAIN", "Health and safety training (per delegate)", 4900, "95.00"),
)


def _months(today: dt.date, day: int) -> list[dt.date]:
    """The ``day`` of each of the twelve months before ``today`` that is within the last 365 days."""
    result = []
    for back in range(12, -1, -1):
        month_index = today.year * 12 + today.month - 1 - back
        year, month = divmod(month_index, 12)
        date = dt.date(year, month + 1, min(day, calendar.monthrange(year, month + 1)[1]))
        if today - dt.timedelta(days=365) < date < today:
            result.append(date)
    return result


def seed_bank_accounts(ctx: Context) -> dict[str, dict[str, Any]]:
    """Bank accounts, settings and the VAT profile of one business; returns the accounts by type."""
    collection = BankAccounts()
    ledgers = {a["nominal_code"]: a["id"] for a in ctx.by_id("ledger_accounts").values()}
    wanted = BANK_ACCOUNTS if ctx.business_id == LEAD_BUSINESS_ID else BANK_ACCOUNTS[:2]
    result: dict[str, dict[str, Any]] = {}
    for index, (name, type_id, code, number, sort_code) in enumerate(wanted):
        payload: dict[str, Any] = {
            "bank_account_type_id": type_id,
            "bank_account_details": {"account_name": name, "account_number": number, "sort_code": sort_code},
        }
        if code in ledgers:
            payload["ledger_account_id"] = ledgers[code]
        else:
            payload["nominal_code"] = code
        if type_id == "CHECKING":
            payload["main_address"] = {
                "name": "Northern Counties Bank",
                "address_line_1": "21 Park Row",
                "city": "Leeds",
                "postal_code": "LS1 5JF",
                "country_id": "GB",
                "address_type_id": "ACCOUNTS",
            }
        record = collection.create(ctx, payload)
        if index < 2:  # Sage's two system accounts cannot be deleted
            record["_default"] = True
            ctx.put("bank_accounts", record)
        result[type_id] = record
    ctx.forget("bank_accounts")
    ctx.forget("ledger_accounts")
    for singleton in (FinancialSettings(), InvoiceSettings(), BusinessSettings()):
        singleton.load(ctx, "")
    vat_profile(ctx)
    return result


def seed_bookkeeping(ctx: Context, seed: int) -> None:
    """The catalogue, other payments, transfers, deposits, journals and a reconciliation."""
    banks = {a["bank_account_type"]["id"]: a for a in ctx.store.all(ctx.business_id, "bank_accounts")}
    if not banks:
        return
    ctx.by_id("ledger_accounts")
    ctx.by_id("tax_rates")
    rng = random.Random(f"sage-sandbox:{seed}:{ctx.business_id}:banking")
    if ctx.business_id == LEAD_BUSINESS_ID:
        _seed_catalogue(ctx)
        _seed_lead_money(ctx, rng, banks)
        _seed_journals(ctx)
        _seed_reconciliation(ctx, banks["CHECKING"])
    elif ctx.business_id == SECOND_BUSINESS_ID:
        _seed_second(ctx, rng, banks)


def _code(ctx: Context, nominal: int) -> str:
    return str(account_by_nominal(ctx, nominal)["id"])


def _seed_catalogue(ctx: Context) -> None:
    products, services = Products(), Services()
    for item_code, description, sales, purchase, price, cost in LEAD_PRODUCTS:
        products.create(
            ctx,
            {
                "item_code": item_code,
                "description": description,
                "sales_ledger_account_id": _code(ctx, sales),
                "purchase_ledger_account_id": _code(ctx, purchase),
                "cost_price": cost,
                "sales_prices": [{"price_name": "Selling Price", "price": price, "price_includes_tax": False}],
            },
        )
    for item_code, description, sales, rate in LEAD_SERVICES:
        services.create(
            ctx,
            {
                "item_code": item_code,
                "description": description,
                "sales_ledger_account_id": _code(ctx, sales),
                "sales_rates": [{"rate_name": "Standard Rate", "rate": rate, "rate_includes_tax": False}],
            },
        )


def _pay(
    ctx: Context,
    date: dt.date,
    type_id: str,
    bank: dict[str, Any],
    reference: str,
    lines: list[tuple[int, str, str]],
    hour: int = 10,
) -> dict[str, Any] | None:
    """One other payment or receipt through the collection; lines are (nominal, total, tax rate).

    Nothing is created for a date after today."""
    if date > ctx.today:
        return None
    ctx.now = epoch(date, hour)
    payment_lines = [
        {"ledger_account_id": _code(ctx, nominal), "total_amount": amount, "tax_rate_id": rate, "details": reference}
        for nominal, amount, rate in lines
    ]
    gross = sum((Decimal(amount) for _, amount, _ in lines), Decimal(0))
    return OtherPayments().create(
        ctx,
        {
            "transaction_type_id": type_id,
            "date": date.isoformat(),
            "bank_account_id": bank["id"],
            "reference": reference,
            "total_amount": money(gross),
            "payment_lines": payment_lines,
        },
    )


def _transfer(
    ctx: Context, date: dt.date, source: dict[str, Any], target: dict[str, Any], amount: str, ref: str
) -> None:
    if date > ctx.today:
        return
    ctx.now = epoch(date, 11)
    BankTransfers().create(
        ctx,
        {
            "from_bank_account_id": source["id"],
            "to_bank_account_id": target["id"],
            "date": date.isoformat(),
            "amount": amount,
            "reference": ref,
        },
    )


def _seed_lead_money(ctx: Context, rng: random.Random, banks: dict[str, dict[str, Any]]) -> None:
    current, savings, card, cash = banks["CHECKING"], banks["SAVINGS"], banks["CREDIT_CARD"], banks["CASH_IN_HAND"]
    today = ctx.today
    for date in _months(today, 1):
        stamp = date.strftime("%b %y").upper()
        _pay(ctx, date, "OTHER_PAYMENT", current, f"STORE RENT {stamp}", [(7100, "540.00", "GB_STANDARD")])
        _pay(
            ctx,
            date + dt.timedelta(days=4),
            "OTHER_PAYMENT",
            current,
            f"MOBILES {stamp}",
            [(7502, "48.00", "GB_STANDARD")],
        )
        _transfer(ctx, date + dt.timedelta(days=2), current, cash, "100.00", f"PETTY CASH {stamp}")
    for date in _months(today, 28):
        stamp = date.strftime("%b %y").upper()
        charges = money(Decimal(rng.randint(850, 2400)) / 100)
        _pay(ctx, date, "OTHER_PAYMENT", current, f"BANK CHARGES {stamp}", [(7900, charges, "GB_EXEMPT")], hour=6)
        travel = money(Decimal(rng.randint(2400, 16800)) / 100)
        fuel = money(Decimal(rng.randint(4000, 9000)) / 100)
        spent = _pay(
            ctx,
            date - dt.timedelta(days=rng.randint(5, 20)),
            "OTHER_PAYMENT",
            card,
            f"CARD {stamp}",
            [(7400, travel, "GB_ZERO"), (7300, fuel, "GB_STANDARD")],
        )
        if spent is not None:
            _transfer(ctx, date + dt.timedelta(days=3), current, card, spent["total_amount"], f"CARD PAYMENT {stamp}")
        stationery = money(Decimal(rng.randint(600, 4500)) / 100)
        _pay(
            ctx,
            date - dt.timedelta(days=10),
            "OTHER_PAYMENT",
            cash,
            f"STATIONERY {stamp}",
            [(7504, stationery, "GB_STANDARD")],
        )
    for date in _months(today, 15)[::3]:
        stamp = date.strftime("%b %y").upper()
        _transfer(ctx, date, current, savings, "5000.00", f"TO SAVINGS {stamp}")
        interest = money(Decimal(rng.randint(300, 1500)) / 100)
        _pay(
            ctx,
            date + dt.timedelta(days=14),
            "OTHER_RECEIPT",
            savings,
            f"INTEREST {stamp}",
            [(4900, interest, "GB_EXEMPT")],
        )
    deposits = BankDeposits()
    for number, date in enumerate(_months(today, 18)[1::4], start=1):
        _pay(ctx, date, "OTHER_RECEIPT", cash, f"OFFCUTS {number}", [(4900, "72.00", "GB_STANDARD")])
        if number == 2:
            _pay(
                ctx,
                date + dt.timedelta(days=1),
                "OTHER_RECEIPT_REFUND",
                cash,
                "OFFCUTS REFUND",
                [(4900, "24.00", "GB_STANDARD")],
            )
        if date + dt.timedelta(days=5) > today:
            continue
        ctx.now = epoch(date + dt.timedelta(days=5), 12)
        deposits.create(
            ctx,
            {
                "from_bank_account_id": cash["id"],
                "to_bank_account_id": current["id"],
                "date": (date + dt.timedelta(days=5)).isoformat(),
                "reference": f"CASH DEPOSIT {number}",
                "cash_amount": "60.00",
                "cheque_amount": "0",
                "total_amount": "60.00",
            },
        )


def _seed_journals(ctx: Context) -> None:
    journals = Journals()
    today = ctx.today
    quarter_ends = [d for d in _months(today, 31) if d.month in (3, 6, 9, 12)]
    for date in quarter_ends:
        ctx.now = epoch(date, 17)
        journals.create(
            ctx,
            {
                "date": date.isoformat(),
                "reference": f"DEPN Q{(date.month - 1) // 3 + 1} {date.year}",
                "description": "Quarterly depreciation of office equipment",
                "journal_lines": [
                    {
                        "ledger_account_id": _code(ctx, 8000),
                        "debit": "350.00",
                        "credit": "0",
                        "details": "Depreciation",
                    },
                    {"ledger_account_id": _code(ctx, 30), "debit": "0", "credit": "350.00", "details": "Depreciation"},
                ],
            },
        )
    accrual_date = quarter_ends[-1] if quarter_ends else today - dt.timedelta(days=30)
    ctx.now = epoch(accrual_date, 18)
    accrual = journals.create(
        ctx,
        {
            "date": accrual_date.isoformat(),
            "reference": "ACCRUAL ACCOUNTANCY",
            "description": "Accountancy fee accrued for the year end",
            "journal_lines": [
                {"ledger_account_id": _code(ctx, 7600), "debit": "600.00", "credit": "0"},
                {"ledger_account_id": _code(ctx, 2109), "debit": "0", "credit": "600.00"},
            ],
        },
    )
    ctx.now = epoch(accrual_date + dt.timedelta(days=1), 9)
    journals.action(ctx, accrual, "reissue")
    mistake_date = accrual_date - dt.timedelta(days=20)
    ctx.now = epoch(mistake_date, 15)
    mistake = journals.create(
        ctx,
        {
            "date": mistake_date.isoformat(),
            "reference": "RECLASS ERROR",
            "description": "Posted to the wrong accounts",
            "journal_lines": [
                {"ledger_account_id": _code(ctx, 7500), "debit": "120.00", "credit": "0"},
                {"ledger_account_id": _code(ctx, 7504), "debit": "0", "credit": "120.00"},
            ],
        },
    )
    ctx.now = epoch(mistake_date, 16)
    journals.delete(ctx, mistake, {})


def _seed_reconciliation(ctx: Context, current: dict[str, Any]) -> None:
    last_month_end = ctx.today.replace(day=1) - dt.timedelta(days=1)
    statement_date = last_month_end.replace(day=1) - dt.timedelta(days=1)  # the end of the month before
    balance = account_balance(ctx, current["ledger_account"]["id"], to_date=statement_date.isoformat())
    ctx.now = epoch(min(ctx.today, statement_date + dt.timedelta(days=3)), 9)
    BankReconciliations().create(
        ctx,
        {
            "bank_account_id": current["id"],
            "statement_date": statement_date.isoformat(),
            "statement_end_balance": money(balance),
            "reference": f"Statement {statement_date:%B %Y}",
            "status_id": "RECONCILED",
        },
    )


def _seed_second(ctx: Context, rng: random.Random, banks: dict[str, dict[str, Any]]) -> None:
    current = banks["CHECKING"]
    Services().create(
        ctx,
        {
            "item_code": "LOGO",
            "description": "Logo design",
            "sales_ledger_account_id": _code(ctx, 4000),
            "sales_rates": [{"rate_name": "Fixed fee", "rate": "450.00"}],
        },
    )
    Products().create(
        ctx,
        {
            "item_code": "PRINT-A3",
            "description": "A3 art print",
            "sales_ledger_account_id": _code(ctx, 4001),
            "purchase_ledger_account_id": _code(ctx, 5001),
            "sales_prices": [{"price_name": "Selling Price", "price": "35.00"}],
        },
    )
    for date in _months(ctx.today, 3):
        stamp = date.strftime("%b %y").upper()
        _pay(ctx, date, "OTHER_PAYMENT", current, f"SOFTWARE {stamp}", [(7500, "62.98", "GB_STANDARD")])
        charges = money(Decimal(rng.randint(300, 800)) / 100)
        _pay(
            ctx,
            date + dt.timedelta(days=25),
            "OTHER_PAYMENT",
            current,
            f"BANK CHARGES {stamp}",
            [(7900, charges, "GB_EXEMPT")],
        )
