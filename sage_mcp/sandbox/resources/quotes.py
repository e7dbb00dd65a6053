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
    lines_key = "quote_lines"
    number_field = "quote_number"
    number_prefix = "SQ-"


class SalesEstimates(_Quotes):
    name = "sales_estimates"
    definition = "SalesEstimate"
    lines_key = "estimate_lines"
    line_definition = "SalesQuoteLineItem"
    number_field = "estimate_number"
    number_prefix = "SE-"
    sort_fields = ()
