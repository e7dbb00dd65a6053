"""Report logic: trial balance, P&L, balance sheet, aged debtors and creditors, VAT return, summaries.

Pure functions over Sage data fetched through :mod:`sage_mcp.sage`; no MCP here. Amounts are
``Decimal`` throughout and every figure is traceable to the Sage records it came from.
:mod:`sage_mcp.tools.reports` is the thin layer that exposes these as tools.
"""
