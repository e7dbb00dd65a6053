"""Configuration of a sandbox instance and the fixed ids other code may rely on."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

#: The sandbox user's lead business: a UK VAT-registered limited company ("Hartley & Finch Ltd").
LEAD_BUSINESS_ID = "4f1c2a7be3d94d0a9c51b8e6a2f07d13"
#: The user's second business: a small sole trader on the VAT cash accounting scheme ("Fern Studio").
SECOND_BUSINESS_ID = "9a7e5c3b1d2f4e6a8b0c9d7e5f3a1b2c"
#: The user's third business: a sole trader on the VAT flat rate scheme ("Moorside Cycle Works").
THIRD_BUSINESS_ID = "5e8d2b7a3c1f4a9e8d6b0c2a4f7e1d35"
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
    strict: bool = True
    """Answer as real Sage does where it is less forgiving or shaped differently than the sandbox's
    kinder defaults (``reference/sage-real-responses.md``; the package docstring lists each row): line
    ``tax_amount`` required, VAT-reconciled transactions locked, nested records as links unless
    ``nested_attributes`` asks, VAT numbers validated, no postings before the accounts start date, Sage's
    error bodies for unknown references, money written as Sage writes it (``"110.0"``), empty-string dates
    and ``null`` booleans, ``links`` on bank accounts and products, 429 without ``Retry-After``.  On by
    default (the demo and the tests); ``False`` restores the kinder behaviour (the seed uses it)."""
    require_line_tax_amount: bool | None = None
    """Whether artefact lines with a non-zero tax rate must carry ``tax_amount`` (the spec's wording for
    v3.1).  ``None``: as :attr:`strict`."""
    idempotency_ttl: int = 7 * 86400
    """How long an ``idempotency_id`` replays the first result (Sage: 7 days)."""

    # -- limits and faults (see :mod:`.faults`); all off by default except the concurrency cap.
    # Each can be changed on a running sandbox with ``SandboxServer.faults.configure(...)``.
    max_concurrent_requests: int | None = 150
    """In-flight ``/v3.1`` requests allowed at once (Sage: 150 per app); one more gets a 429.  ``None``: no cap."""
    rate_limit: tuple[int, float] | None = None
    """``(N, W)``: at most N ``/v3.1`` requests per sliding window of W seconds of :attr:`clock`; beyond: 429.
    Sage's documented limit would be ``(1_296_000, 86_400.0)``.  ``None``: no limit."""
    retry_after: int = 1
    """``Retry-After`` seconds sent with a concurrency 429, an injected 429 and an injected 503."""
    latency: float = 0.0
    """Seconds every ``/v3.1`` request is held before it is handled (fixed part)."""
    latency_jitter: float = 0.0
    """Up to this many extra seconds per request, drawn from the seeded fault RNG."""
    latency_on_token: bool = False
    """Also delay ``POST /token`` by :attr:`latency` (+ jitter)."""
    too_many_requests_rate: float = 0.0
    """Probability that a ``/v3.1`` request is answered 429 ``TooManyRequests`` (nothing is done)."""
    unavailable_rate: float = 0.0
    """Probability that a ``/v3.1`` request is answered 503 ``ServiceUnavailable`` (nothing is done)."""
    drop_connection_rate: float = 0.0
    """Probability that the connection of a ``/v3.1`` request is closed without any response (nothing is done)."""
    commit_then_500_rate: float = 0.0
    """Probability that a ``POST`` on ``/v3.1`` is carried out and committed, but answered 500 ``UnexpectedError``."""
    late_answer_delay: float = 30.0
    """Seconds a ``commit_then_late`` fault holds the answer of a request it already carried out and committed
    (longer than a client's timeout, so the client gives up first)."""
    fault_seed: int = 0
    """Seed of the fault RNG (jitter and fault rates): the same seed and request order give the same faults."""
    conformance: bool | None = None
    """Validate every ``/v3.1`` response body against the spec and record violations (:mod:`.conformance`).
    ``None``: on when the environment variable ``SAGE_SANDBOX_CONFORMANCE`` is ``1``."""

    @property
    def line_tax_amount_required(self) -> bool:
        return self.strict if self.require_line_tax_amount is None else self.require_line_tax_amount

    def current_date(self) -> dt.date:
        """The configured ``today``, or the clock's UTC date."""
        if self.today is not None:
            return self.today
        return dt.datetime.fromtimestamp(self.clock(), dt.UTC).date()
