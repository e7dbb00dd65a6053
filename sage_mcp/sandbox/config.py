"""Configuration of a sandbox instance and the fixed ids other code may rely on."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

#: The sandbox user's lead business: a UK VAT-registered limited company ("Hartley & Finch Ltd").
LEAD_BUSINESS_ID = "4f1c2a7be3d94d0a9c51b8e6a2f07d13"
#: The user's second business: a small sole trader, not VAT registered ("Fern Studio").
SECOND_BUSINESS_ID = "9a7e5c3b1d2f4e6a8b0c9d7e5f3a1b2c"
#: A business that exists in the sandbox but belongs to somebody else: the user may not use it.
FOREIGN_BUSINESS_ID = "c0ffee11d2e34f56a7b8c9d0e1f2a3b4"
#: The one sandbox user (``GET /user``; ``requested_by_id`` of every token).
SANDBOX_USER_ID = "7d3e1f0a9b8c4d2e8f6a5b4c3d2e1f00"


def _system_clock() -> float:
    return time.time()


@dataclass
class SandboxConfig:
    """How a sandbox behaves.  Every field has a default, so ``SandboxConfig()`` is a working sandbox."""

    db_path: str | None = None
    """sqlite file; ``None`` keeps the data in memory, private to the instance.  A file is seeded once."""
    seed: int = 7
    """Seed of the deterministic demo data."""
    today: dt.date | None = None
    """The date the seed data is generated around; ``None`` takes the clock's (UTC) date."""
    clock: Callable[[], float] = field(default=_system_clock)
    """Epoch seconds; used for token and code expiry, ``created_at``/``updated_at`` of new records."""
    access_token_ttl: int = 300
    refresh_token_ttl: int = 31 * 86400
    authorization_code_ttl: int = 60
    client_id: str = "sandbox-client-id"
    client_secret: str = "sandbox-client-secret"
    redirect_uris: tuple[str, ...] = ()
    """Redirect URIs accepted besides any loopback ``http://127.0.0.1|localhost[:port]/...`` URI."""
    refresh_reuse_revokes_grant: bool = False
    """When true, presenting an already-rotated refresh token also revokes every token of that login
    (OAuth 2.0 security BCP reuse detection).  Off by default: Sage does not document it."""
    require_line_tax_amount: bool = False
    """When true, sales invoice lines with a non-zero tax rate must carry ``tax_amount`` (the spec's
    wording for v3.1).  Off by default: the sandbox computes it when it is absent."""
    idempotency_ttl: int = 7 * 86400
    """How long an ``idempotency_id`` replays the first result (Sage: 7 days)."""

    def current_date(self) -> dt.date:
        """The configured ``today``, or the clock's UTC date."""
        if self.today is not None:
            return self.today
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC).date()
