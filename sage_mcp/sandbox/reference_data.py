"""Fixed reference data of a UK business: chart of accounts and VAT rates."""

from __future__ import annotations

from typing import NamedTuple

#: ledger_account_type id -> (displayed_as, ledger_account_group id)
LEDGER_ACCOUNT_TYPES: dict[str, tuple[str, str]] = {
    "SALES": ("Sales", "INCOME"),
    "OTHER_INCOME": ("Other Income", "INCOME"),
    "DIRECT_EXPENSES": ("Direct Expenses", "EXPENDITURE"),
    "OVERHEADS": ("Overheads", "EXPENDITURE"),
    "DEPRECIATION": ("Depreciation", "EXPENDITURE"),
    "CURRENT_ASSETS": ("Current Assets", "ASSETS"),
    "FIXED_ASSETS": ("Fixed Assets", "ASSETS"),
    "FUTURE_ASSETS": ("Future Assets", "ASSETS"),
    "BANK": ("Bank", "ASSETS"),
    "CURRENT_LIABILITY": ("Current Liabilities", "LIABILITIES"),
    "FUTURE_LIABILITY": ("Future Liabilities", "LIABILITIES"),
    "LINE_OF_CREDIT": ("Line of Credit", "LIABILITIES"),
    "EQUITY": ("Equity", "EQUITY"),
    "TAXES": ("Taxes", "LIABILITIES"),
    "SPECIAL": ("Special", "EQUITY"),
}
LEDGER_ACCOUNT_GROUPS = {
    "INCOME": "Income",
    "EXPENDITURE": "Expenditure",
    "ASSETS": "Assets",
    "LIABILITIES": "Liabilities",
    "EQUITY": "Equity",
}
#: The ``visible_in`` / ``not_visible_in`` values Sage accepts.
VISIBILITY_SCOPES = ("sales", "banking", "expenses", "other_payments", "other_receipts", "journals", "reporting")

_SALES = ("sales", "other_receipts", "journals", "reporting")
_COSTS = ("expenses", "other_payments", "journals", "reporting")
_BALANCE = ("journals", "reporting")
_BANK = ("banking", "journals", "reporting")


class AccountSpec(NamedTuple):
    nominal_code: int
    name: str
    type_id: str
    scopes: tuple[str, ...]
    control_name: str | None = None
    default_tax: str | None = None  # "sales" / "purchase": the business's standard rate for that side


CHART_OF_ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec(30, "Office Equipment and IT", "FIXED_ASSETS", _COSTS, None, "purchase"),
    AccountSpec(40, "Furniture and Fixtures", "FIXED_ASSETS", _COSTS, None, "purchase"),
    AccountSpec(50, "Motor Vehicles", "FIXED_ASSETS", _COSTS, None, "purchase"),
    AccountSpec(1001, "Stock", "CURRENT_ASSETS", _BALANCE),
    AccountSpec(1100, "Trade Debtors", "CURRENT_ASSETS", _BALANCE, "DEBTORS"),
    AccountSpec(1103, "Prepayments", "CURRENT_ASSETS", _BALANCE),
    AccountSpec(1200, "Bank Current Account", "BANK", _BANK, "BANK"),
    AccountSpec(1210, "Bank Deposit Account", "BANK", _BANK),
    AccountSpec(1230, "Petty Cash", "BANK", _BANK),
    AccountSpec(2100, "Trade Creditors", "CURRENT_LIABILITY", _BALANCE, "CREDITORS"),
    AccountSpec(2109, "Accruals", "CURRENT_LIABILITY", _BALANCE),
    AccountSpec(2200, "VAT on Sales", "CURRENT_LIABILITY", _BALANCE, "SALES_TAX"),
    AccountSpec(2201, "VAT on Purchases", "CURRENT_LIABILITY", _BALANCE, "PURCHASE_TAX"),
    AccountSpec(2202, "VAT Liability", "CURRENT_LIABILITY", _BALANCE, "VAT_LIABILITY"),
    AccountSpec(2210, "PAYE and NI", "CURRENT_LIABILITY", _BALANCE),
    AccountSpec(2300, "Loans", "FUTURE_LIABILITY", _BALANCE),
    AccountSpec(3000, "Share Capital", "EQUITY", _BALANCE),
    AccountSpec(3200, "Retained Earnings", "EQUITY", _BALANCE, "RETAINED_EARNINGS"),
    AccountSpec(3260, "Dividends", "EQUITY", _BALANCE),
    AccountSpec(4000, "Sales Type A", "SALES", _SALES, None, "sales"),
    AccountSpec(4001, "Sales Type B", "SALES", _SALES, None, "sales"),
    AccountSpec(4002, "Sales Type C", "SALES", _SALES, None, "sales"),
    AccountSpec(4009, "Discounts Allowed", "SALES", _SALES, None, "sales"),
    AccountSpec(4900, "Other Income", "OTHER_INCOME", _SALES, None, "sales"),
    AccountSpec(4905, "Distribution and Carriage", "OTHER_INCOME", _SALES, None, "sales"),
    AccountSpec(5000, "Cost of Sales - Goods", "DIRECT_EXPENSES", _COSTS, None, "purchase"),
    AccountSpec(5001, "Cost of Sales - Materials", "DIRECT_EXPENSES", _COSTS, None, "purchase"),
    AccountSpec(5009, "Discounts Taken", "DIRECT_EXPENSES", _COSTS, None, "purchase"),
    AccountSpec(5100, "Carriage", "DIRECT_EXPENSES", _COSTS, None, "purchase"),
    AccountSpec(7000, "Gross Wages", "OVERHEADS", _COSTS),
    AccountSpec(7100, "Rent and Rates", "OVERHEADS", _COSTS, None, "purchase"),
    AccountSpec(7200, "Electricity", "OVERHEADS", _COSTS, None, "purchase"),
    AccountSpec(7300, "Motor Expenses", "OVERHEADS", _COSTS, None, "purchase"),
    AccountSpec(7400, "Travelling", "OVERHEADS", _COSTS, None, "purchase"),
    AccountSpec(7500, "Office Costs", "OVERHEADS", _COSTS, None, "purchase"),
    AccountSpec(7501, "Postage and Carriage", "OVERHEADS", _COSTS, None, "purchase"),
    AccountSpec(7502, "Telephone and Internet", "OVERHEADS", _COSTS, None, "purchase"),
    AccountSpec(7504, "Office Stationery", "OVERHEADS", _COSTS, None, "purchase"),
    AccountSpec(7600, "Legal and Professional Fees", "OVERHEADS", _COSTS, None, "purchase"),
    AccountSpec(7700, "Equipment Hire", "OVERHEADS", _COSTS, None, "purchase"),
    AccountSpec(7800, "Repairs and Maintenance", "OVERHEADS", _COSTS, None, "purchase"),
    AccountSpec(7900, "Bank Charges and Interest", "OVERHEADS", (*_COSTS, "banking")),
    AccountSpec(8000, "Depreciation", "DEPRECIATION", _BALANCE),
    AccountSpec(8100, "Bad Debt Write Off", "OVERHEADS", _COSTS),
)


class TaxRateSpec(NamedTuple):
    id: str
    name: str
    displayed_as: str
    percentage: str
    kind: str  # STANDARD / LOWER / ZERO / EXEMPT / NO_TAX


#: Sage's UK rates: ids and ``displayed_as`` as recorded from real businesses ("Lower Rate 5.00%").
UK_TAX_RATES: tuple[TaxRateSpec, ...] = (
    TaxRateSpec("GB_STANDARD", "Standard", "Standard 20.00%", "20.00", "STANDARD"),
    TaxRateSpec("GB_LOWER", "Lower Rate", "Lower Rate 5.00%", "5.00", "LOWER"),
    TaxRateSpec("GB_ZERO", "Zero Rated", "Zero Rated 0.00%", "0.00", "ZERO"),
    TaxRateSpec("GB_EXEMPT", "Exempt", "Exempt 0.00%", "0.00", "EXEMPT"),
    TaxRateSpec("GB_NO_TAX", "No VAT", "No VAT", "0.00", "NO_TAX"),
)
#: Since when the UK rates have applied (the standard rate became 20% on 4 January 2011).
UK_RATES_FROM = "2011-01-04"
