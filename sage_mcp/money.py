"""Exact money, shared by the tools and the sandbox: decimal strings in and out, half-up to the penny.

Sage's spec types amounts as ``number``; its docs show them as strings. Both are accepted, and
no binary float ever takes part in arithmetic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sage_mcp.excerpt import excerpt

ZERO = Decimal("0")
PENNY = Decimal("0.01")
HUNDRED = Decimal("100")
#: The schema pattern of an amount argument: at most 13 integer digits and 6 decimals.
DECIMAL_PATTERN = r"^-?\d{1,13}(\.\d{1,6})?$"
#: What ``to_decimal`` reads from a string; like the schema pattern (in Python's ``re``), digits may be any
#: Unicode decimal digits, which ``Decimal`` reads too.
_DECIMAL_STRING = re.compile(r"^-?\d+(\.\d+)?$")
#: No amount, quantity or rate reaches this; anything larger is refused before any arithmetic, so
#: sums and products stay far inside ``Decimal``'s 28 significant digits.
LIMIT = Decimal(10) ** 15


class MoneyError(ValueError):
    """A value that should be an amount is not a number or a decimal string."""


def to_decimal(value: Any, *, field: str | None = None) -> Decimal:
    """``Decimal`` from a JSON number or a decimal string such as ``"12.50"``; ``MoneyError`` otherwise
    (also for NaN, infinities, exponents, over-long strings and anything of 10^15 or more, which no
    amount reaches)."""
    number: Decimal | None = None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, bool):
        pass
    elif isinstance(value, int):
        if -LIMIT < value < LIMIT:
            return Decimal(value)
        raise _refused(value, field, "is too large for an amount (at most 15 digits before the point)")
    elif isinstance(value, float):  # only from JSON parsed without parse_float=Decimal
        number = Decimal(repr(value))
    elif isinstance(value, str) and len(value) <= 64 and _DECIMAL_STRING.match(value.strip()):
        number = Decimal(value.strip())
    if number is None:
        raise _refused(value, field, 'is not a decimal number such as "12.50"')
    if not number.is_finite():
        raise _refused(value, field, "is not a finite number")
    if abs(number) >= LIMIT:
        raise _refused(value, field, "is too large for an amount (at most 15 digits before the point)")
    return number


def _refused(value: Any, field: str | None, why: str) -> MoneyError:
    return MoneyError(f"{field + ': ' if field else ''}{excerpt(value)} {why}")


def round_money(value: Decimal) -> Decimal:
    """Round to pennies, halves away from zero (``ROUND_HALF_UP``), as Sage rounds each line.

    A figure of 10^15 or more (a huge quantity times a huge price) is refused with ``MoneyError``
    rather than rounded, so ``Decimal`` never runs out of digits."""
    if not value.is_finite() or abs(value) >= LIMIT:
        raise MoneyError(f"{excerpt(value)} is too large for an amount (at most 15 digits before the point)")
    return value.quantize(PENNY, rounding=ROUND_HALF_UP)


def money(value: Decimal) -> str:
    """An amount as a string with exactly two decimals: ``Decimal("120")`` -> ``"120.00"``. Zero is
    ``"0.00"`` whatever its sign (a negated or rounded-away zero is ``-0`` to ``Decimal``)."""
    return str(round_money(value) + ZERO)


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
