"""Sage's idempotency: an ``idempotency_id`` inside the body's root object of a POST or PUT.

A repeat within 7 days returns the first result instead of creating anything. Only the 37
resources Sage lists honour it (by their body root key); on others the field is ignored, so a
retried write there can create a duplicate.
"""

from __future__ import annotations

import re
from typing import Any

IDEMPOTENT_ROOT_KEYS = frozenset(
    {
        "address",
        "bank_account",
        "bank_deposit",
        "bank_opening_balance",
        "bank_reconciliation",
        "bank_transfer",
        "business_exchange_rate",
        "contact",
        "contact_allocation",
        "contact_opening_balance",
        "contact_payment",
        "contact_person",
        "hosted_artefact_payment_setting",
        "journal",
        "journal_code",
        "ledger_account",
        "ledger_account_opening_balance",
        "migration_tax_return",
        "opening_balance_journal",
        "other_payment",
        "product",
        "product_sales_price_type",
        "purchase_corrective_invoice",
        "purchase_credit_note",
        "purchase_invoice",
        "purchase_quick_entry",
        "sales_corrective_invoice",
        "sales_credit_note",
        "sales_estimate",
        "sales_invoice",
        "sales_quick_entry",
        "sales_quote",
        "service",
        "service_rate_type",
        "stock_item",
        "stock_movement",
        "tax_profile",
    }
)

IDEMPOTENCY_ID = re.compile(r"^[0-9a-f]{32}$")


def supports_idempotency(root_key: str | None) -> bool:
    return root_key in IDEMPOTENT_ROOT_KEYS


def with_idempotency_id(body: dict[str, Any], idempotency_id: str) -> dict[str, Any]:
    """``body`` with ``idempotency_id`` set inside its single root object (when Sage honours it there)."""
    if len(body) != 1:
        return body
    ((root, inner),) = body.items()
    if not supports_idempotency(root) or not isinstance(inner, dict):
        return body
    return {root: {**inner, "idempotency_id": idempotency_id}}
