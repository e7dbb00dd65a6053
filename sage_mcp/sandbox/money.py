"""Exact money arithmetic for the sandbox: ``Decimal`` in, decimal strings out, never floats.

Sage's spec types amounts as ``number``; its docs show them as strings.  The sandbox accepts both
(request JSON is parsed with ``parse_float=Decimal`` so no binary float ever appears) and always
answers with strings: amounts with exactly two decimals (``"120.00"``), quantities, unit prices and
percentages with at least two (``"3.335"``, ``"20.00"``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

ZERO = Decimal("0")
CENT = Decimal("0.01")
HUNDRED = Decimal("100")

_DECIMAL_STRING = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


class NotADecimal(ValueError):
    """A value that should be an amount is not a number or a decimal string."""


def to_decimal(value: object) -> Decimal:
    """``Decimal`` from a JSON number (int or ``Decimal``) or a decimal string; ``NotADecimal`` otherwise."""
    if isinstance(value, bool):
        raise NotADecimal(f"{value!r} is not a number")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise NotADecimal(f"{value!r} is not a finite number")
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):  # only reachable when callers parsed JSON without parse_float=Decimal
        return Decimal(repr(value))
    if isinstance(value, str) and _DECIMAL_STRING.match(value.strip()):
        try:
            return Decimal(value.strip())
        except InvalidOperation as exc:  # pragma: no cover - the regex already guarantees a number
            raise NotADecimal(f"{value!r} is not a number") from exc
    raise NotADecimal(f"{value!r} is not a number or a decimal string")


def round2(value: Decimal) -> Decimal:
    """Round to pennies, half away from zero (``ROUND_HALF_UP``), as tax authorities and Sage do."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Decimal) -> str:
    """An amount as a string with exactly two decimals: ``Decimal("120")`` -> ``"120.00"``."""
    return str(round2(value))


def decimal_str(value: Decimal, min_places: int = 2) -> str:
    """A quantity, unit price or percentage: all its digits, but at least ``min_places`` decimals."""
    exponent = value.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    places = max(places, min_places)
    return str(value.quantize(Decimal(1).scaleb(-places)))


def total(values: Iterable[Decimal]) -> Decimal:
    """Exact sum (``Decimal`` start value, so an empty sum is ``Decimal('0')``)."""
    return sum(values, ZERO)


def tax_on(net: Decimal, percentage: Decimal) -> Decimal:
    """Tax on a net amount at ``percentage`` percent, rounded half-up to pennies."""
    return round2(net * percentage / HUNDRED)


def tax_within(gross: Decimal, percentage: Decimal) -> Decimal:
    """Tax contained in a tax-inclusive amount, rounded half-up to pennies."""
    if percentage == ZERO:
        return ZERO
    return round2(gross * percentage / (HUNDRED + percentage))
