"""Web-shop order arithmetic, without Sage: the shipping charge shared over the order's VAT rates.

UK VAT follows the goods on a delivery charge; when an order mixes rates the charge is apportioned by
the value of the goods at each rate (HMRC's usual fair method). Each share is rounded to the penny and
the last rate takes what is left, so the shares always add up to the charge exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sage_mcp.money import ZERO, round_money


def shipping_shares(goods: Sequence[tuple[str, Decimal]], shipping: Decimal) -> list[tuple[str, Decimal]]:
    """``[(tax_rate_id, share of shipping)]`` for goods lines ``[(tax_rate_id, net)]``, in the order the
    rates first appear; rates whose goods are worth nothing get no share. Without goods of any value
    the whole charge takes the first line's rate."""
    if shipping == ZERO or not goods:
        return []
    by_rate: dict[str, Decimal] = {}
    for rate, net in goods:
        by_rate[rate] = by_rate.get(rate, ZERO) + net
    valued = [(rate, net) for rate, net in by_rate.items() if net > ZERO]
    base = sum((net for _, net in valued), ZERO)
    if not valued or base == ZERO:
        return [(goods[0][0], shipping)]
    shares: list[tuple[str, Decimal]] = []
    left = shipping
    for i, (rate, net) in enumerate(valued):
        share = left if i == len(valued) - 1 else round_money(shipping * net / base)
        shares.append((rate, share))
        left -= share
    return [(rate, share) for rate, share in shares if share != ZERO]
