"""Reports toolset: thin handlers over :mod:`sage_mcp.reports` (fetch through the business client,
compute there, project the answer)."""

from __future__ import annotations

from sage_mcp.tools._base import Handler

# -- ledger reports: trial balance, profit and loss, balance sheet, account activity ---------------

LEDGER_HANDLERS: dict[str, Handler] = {}

# -- open items, VAT and summaries: aged debtors and creditors, VAT return, business summary --------

OPEN_ITEM_HANDLERS: dict[str, Handler] = {}

HANDLERS: dict[str, Handler] = {**LEDGER_HANDLERS, **OPEN_ITEM_HANDLERS}
