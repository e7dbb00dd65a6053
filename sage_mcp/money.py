"""Exact money: decimal strings in, decimal strings out, half-up rounding to the penny."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

PENNY = Decimal("0.01")
DECIMAL_PATTERN = r"^-?\d+(\.\d+)?$"


class MoneyError(ValueError):
    """An amount argument that is not an exact decimal number."""


def to_decimal(value: Any, *, field: str = "amount") -> Decimal:
    """Parse a decimal string or JSON number exactly; raise ``ValueError`` naming ``field`` otherwise."""
    if isinstance(value, bool):
        raise MoneyError(f'{field}: expected a decimal number such as "12.50", got {value!r}')
    if isinstance(value, float):
        value = repr(value)
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise MoneyError(f'{field}: expected a decimal number such as "12.50", got {value!r}') from None
    if not d.is_finite():
        raise MoneyError(f"{field}: expected a finite decimal number, got {value!r}")
    return d


def round_money(value: Decimal) -> Decimal:
    """Round to 2 dp, halves away from zero (Sage's line rounding)."""
    return value.quantize(PENNY, rounding=ROUND_HALF_UP)


def format_amount(value: Any) -> str | None:
    """Sage amount (number or string) as a decimal string with at least 2 dp; ``None`` stays ``None``."""
    if value is None or value == "":
        return None
    d = to_decimal(value)
    if d == d.quantize(PENNY):
        return str(d.quantize(PENNY))
    return format(d.normalize(), "f")


def format_decimal(value: Any) -> str | None:
    """A quantity or rate as a plain decimal string without trailing zeros (``"2"``, ``"1.5"``)."""
    if value is None or value == "":
        return None
    d = to_decimal(value)
    if d == d.to_integral_value():
        return str(d.quantize(Decimal(1)))
    return format(d.normalize(), "f")


def to_wire_number(value: Decimal) -> float | int:
    """A ``Decimal`` as a JSON number that prints exactly the same digits (Sage types amounts as numbers)."""
    if value == value.to_integral_value() and abs(value) < 2**53:
        return int(value)
    as_float = float(value)
    if Decimal(repr(as_float)) != value.normalize():
        raise MoneyError(f"{value} cannot be sent exactly as a JSON number")
    return as_float
