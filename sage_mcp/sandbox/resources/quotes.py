"""``/sales_quotes`` and ``/sales_estimates``: list, get, create, update, delete (204).

Quotes and estimates post nothing.  Statuses (``QuoteStatus``): ``DRAFT``, ``PENDING`` (the
default on create), ``ACCEPTED``, ``DECLINED``, and ``INVOICED``, which only converting it does
(a sales invoice created with ``original_quote_estimate_id``).  An invoiced quote cannot be edited
or deleted.  Numbers are ``SQ-<n>`` and ``SE-<n>``; ``expiry_date`` is required, on or after the date.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..context import Context
from ..errors import Problems
from .artefacts import SALES, QuoteArtefact
from .common import blank


class _Quotes(QuoteArtefact):
    side = SALES

    def compose(
        self,
        ctx: Context,
        problems: Problems,
        record: dict[str, Any],
        payload: Mapping[str, Any],
        *,
        creating: bool,
    ) -> None:
        if not blank(payload.get("invoice_id")):
            problems.add("invoice_id", "is set by creating a sales invoice with original_quote_estimate_id")
        super().compose(ctx, problems, record, payload, creating=creating)


class SalesQuotes(_Quotes):
    name = "sales_quotes"
    definition = "SalesQuote"
    root_key = "sales_quote"
    label = "sales quote"
    lines_key = "quote_lines"
    line_definition = "SalesQuoteLineItem"
    number_field = "quote_number"
    number_prefix = "SQ-"
    sequence = "sales_quote_number"
    search_fields = ("reference", "quote_number", "contact_name")


class SalesEstimates(_Quotes):
    name = "sales_estimates"
    definition = "SalesEstimate"
    root_key = "sales_estimate"
    label = "sales estimate"
    lines_key = "estimate_lines"
    line_definition = "SalesQuoteLineItem"
    number_field = "estimate_number"
    number_prefix = "SE-"
    sequence = "sales_estimate_number"
    search_fields = ("reference", "estimate_number", "contact_name")
    sort_fields = ()
