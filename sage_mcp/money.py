"""Exact money, shared by the tools and the sandbox: decimal strings in and out, half-up to the penny.

Sage's spec types amounts as ``number``; its docs show them as strings. Both are accepted, and
no binary float ever takes part in arithmetic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

ZERO = Decimal("0")
PENNY = Decimal("0.01")
HUNDRED = Decimal("100")
DECIMAL_PATTERN = r"^-?\d+(\.\d+)?$"
_DECIMAL_STRING = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


class MoneyError(ValueError):
    """A value that should be an amount is not a number or a decimal string."""


def to_decimal(value: Any, *, field: str | None = None) -> Decimal:
    """``Decimal`` from a JSON number or a decimal string such as ``"12.50"``; ``MoneyError`` otherwise."""
    where = f"{field}: " if field else ""
    if isinstance(value, bool):
        raise MoneyError(f'{where}expected a decimal number such as "12.50", got {value!r}')
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise MoneyError(f"{where}{value!r} is not a finite number")
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):  # only from JSON parsed without parse_float=Decimal
        return Decimal(repr(value))
    if isinstance(value, str) and _DECIMAL_STRING.match(value.strip()):
        try:
            return Decimal(value.strip())
        except InvalidOperation:  # pragma: no cover - the pattern already guarantees a number
            pass
    raise MoneyError(f'{where}expected a decimal number such as "12.50", got {value!r}')


def round_money(value: Decimal) -> Decimal:
    """Round to pennies, halves away from zero (``ROUND_HALF_UP``), as Sage rounds each line."""
    return value.quantize(PENNY, rounding=ROUND_HALF_UP)


def money(value: Decimal) -> str:
    """An amount as a string with exactly two decimals: ``Decimal("120")`` -> ``"120.00"``."""
    return str(round_money(value))


def decimal_str(value: Decimal, min_places: int = 2) -> str:
    """A quantity, unit price or percentage: all its digits, but at least ``min_places`` decimals."""
    exponent = value.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    places = max(places, min_places)
    return str(value.quantize(Decimal(1).scaleb(-places)))


def total(values: Iterable[Decimal]) -> Decimal:
    """Exact sum (an empty sum is ``Decimal('0')``)."""
    return sum(values, ZERO)


def tax_on(net: Decimal, percentage: Decimal) -> Decimal:
    """Tax on a net amount at ``percentage`` percent, rounded half-up to pennies."""
    return round_money(net * percentage / HUNDRED)


def tax_within(gross: Decimal, percentage: Decimal) -> Decimal:
    """Tax contained in a tax-inclusive amount, rounded half-up to pennies."""
    if percentage == ZERO:
        return ZERO
    return round_money(gross * percentage / (HUNDRED + percentage))


def format_amount(value: Any) -> str | None:
    """A Sage amount (number or string) as a decimal string with at least 2 dp; ``None`` stays ``None``."""
    if value is None or value == "":
        return None
    return decimal_str(to_decimal(value), 2)


def format_decimal(value: Any) -> str | None:
    """A quantity or rate as a plain decimal string without trailing zeros (``"2"``, ``"1.5"``)."""
    if value is None or value == "":
        return None
    return decimal_str(to_decimal(value), 0)


def to_wire_number(value: Decimal) -> float | int:
    """A ``Decimal`` as a JSON number that prints exactly the same digits (Sage types amounts as numbers)."""
    if value == value.to_integral_value() and abs(value) < 2**53:
        return int(value)
    as_float = float(value)
    if Decimal(repr(as_float)) != value.normalize():
        raise MoneyError(f"{value} cannot be sent exactly as a JSON number")
    return as_float
