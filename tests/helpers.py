"""Helpers shared by test modules."""

from __future__ import annotations

import os
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sage_mcp.config import Settings


def server_env(settings: Settings) -> dict[str, str]:
    """Environment that points a `sage-mcp` child process at the test sandbox and its login."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "SAGE_CLIENT_ID": settings.client_id,
        "SAGE_CLIENT_SECRET": settings.client_secret.get_secret_value(),
        "SAGE_API_BASE_URL": settings.api_base_url,
        "SAGE_TOKEN_URL": settings.token_url,
        "SAGE_REVOKE_URL": settings.revoke_url,
        "SAGE_DATA_DIR": str(settings.data_dir),
        "PYTHONUNBUFFERED": "1",
        **({"SAGE_MCP_NO_CONFIRM": "1"} if settings.no_confirm else {}),
    }


#: The sandbox's seeded UK rates (``/tax_rates``), for the VAT a client works out on each line.
RATE_PERCENT = {"GB_STANDARD": Decimal(20), "GB_LOWER": Decimal(5)}


def line_tax(line: dict[str, Any]) -> Decimal | None:
    """The VAT of one artefact line as Sage v3.1 wants it sent (half-up per line); ``None`` when the line
    does not say enough (no rate or price: the sandbox then reports what is missing)."""
    rate = RATE_PERCENT.get(str(line.get("tax_rate_id") or ""), Decimal(0) if line.get("tax_rate_id") else None)
    if rate is None or line.get("unit_price") is None:
        return None
    try:
        gross = Decimal(str(line.get("quantity") or 1)) * Decimal(str(line["unit_price"]))
        amount = gross - Decimal(str(line.get("discount_amount") or 0))
    except ArithmeticError:
        return None
    amount = amount.quantize(Decimal("0.01"), ROUND_HALF_UP)
    if line.get("unit_price_includes_tax") is True:
        return (amount * rate / (100 + rate)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return (amount * rate / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)


def with_line_tax(body: Any) -> Any:
    """``body`` with ``tax_amount`` filled in on every artefact line that lacks one, as every Sage v3.1
    client must send it (Sage does not work VAT out for you)."""
    if not isinstance(body, dict) or len(body) != 1:
        return body
    ((root_key, root),) = body.items()
    if not isinstance(root, dict):
        return body
    out = dict(root)
    for key, lines in root.items():
        if key.endswith("_lines") and key not in ("journal_lines", "payment_lines") and isinstance(lines, list):
            filled = []
            for line in lines:
                if isinstance(line, dict) and "tax_amount" not in line and (tax := line_tax(line)) is not None:
                    line = {**line, "tax_amount": str(tax)}
                filled.append(line)
            out[key] = filled
    return {root_key: out}
