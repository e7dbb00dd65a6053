"""Payout arithmetic, without Sage: what a payout from a card or direct-debit provider must add up to.

A payout pays out the receipts it collected, less the refunds it paid back and the provider's fees:
``receipts - refunds - fees = payout``. Anything else means a line is missing or mistyped, and the
payout is refused before anything is posted, naming the difference.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sage_mcp.money import ZERO, money, total

#: Names of the clearing bank account of a provider: "Stripe" -> "Stripe clearing".
CLEARING_SUFFIX = "clearing"


def clearing_account_name(provider: str) -> str:
    return f"{' '.join(provider.split())} {CLEARING_SUFFIX}"


@dataclass(frozen=True)
class PayoutFigures:
    receipts: Decimal
    refunds: Decimal
    fees: Decimal
    payout: Decimal

    @classmethod
    def of(
        cls, receipts: Iterable[Decimal], refunds: Iterable[Decimal], fees: Decimal, payout: Decimal
    ) -> PayoutFigures:
        return cls(total(receipts), total(refunds), fees, payout)

    @property
    def expected(self) -> Decimal:
        """What the figures say the payout should be."""
        return self.receipts - self.refunds - self.fees

    @property
    def difference(self) -> Decimal:
        """The payout less what the figures add up to: positive when the payout is larger."""
        return self.payout - self.expected

    def problem(self) -> str | None:
        """Why the figures do not add up (``None`` when they do)."""
        if self.difference == ZERO:
            return None
        side = "more" if self.difference > ZERO else "less"
        return (
            f"amount: receipts {money(self.receipts)} - refunds {money(self.refunds)} - fees {money(self.fees)} "
            f"= {money(self.expected)}, but the payout is {money(self.payout)}: {money(abs(self.difference))} "
            f"{side} than the figures. Check the receipts, refunds and fees against the provider's payout report "
            "(a missing line or a fee on a refund is typical). Nothing was posted."
        )
