"""Amounts on their way to Sage: exact JSON numbers, or a refusal that names where the amount sits."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sage_mcp.money import MoneyError
from sage_mcp.sage.client import to_wire


def test_amounts_become_json_numbers_with_the_same_digits() -> None:
    body = {"sales_invoice": {"invoice_lines": [{"unit_price": Decimal("9.50"), "quantity": Decimal("2")}]}}
    assert to_wire(body) == {"sales_invoice": {"invoice_lines": [{"unit_price": 9.5, "quantity": 2}]}}


def test_an_amount_that_cannot_be_sent_exactly_is_refused_naming_its_place() -> None:
    body = {
        "sales_invoice": {
            "invoice_lines": [{"unit_price": Decimal("1")}, {"unit_price": Decimal("1234567890123.123456")}]
        }
    }
    with pytest.raises(MoneyError) as refused:
        to_wire(body)
    assert str(refused.value).startswith("sales_invoice.invoice_lines[1].unit_price: 1234567890123.123456 ")
    assert "15 significant digits" in str(refused.value)
