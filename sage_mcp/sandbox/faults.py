"""Limits and injected faults at the sandbox's edge, before a request reaches the API.

One :class:`FaultInjector` per sandbox (``SandboxServer.faults``) decides, for every HTTP request,
whether it is refused by a limit, held for a while, or given a fault:

* **Concurrency cap** (``max_concurrent_requests``, default 150 like Sage's per-app limit): a
  ``/v3.1`` request arriving while that many are in flight is answered 429 at once (in strict mode
  without ``Retry-After``, as Sage documents its 429s; the rate window's 429 keeps it).
* **Rate window** (``rate_limit = (N, W)``): at most N ``/v3.1`` requests are *admitted* in any
  sliding window of W seconds of the sandbox clock; refused requests do not use up the window.
* **Latency** (``latency`` + up to ``latency_jitter``): an admitted request is held (and counts as
  in flight) before it is handled.  ``POST /token`` too when ``latency_on_token``.
* **Faults**, by rate (probabilities from an RNG seeded with ``fault_seed``) or scripted ("the next
  N requests matching METHOD and a path prefix"); a scripted fault wins over the rates:

  ``too_many_requests``  429 ``TooManyRequests`` (``Retry-After`` only outside strict mode or when
                         scripted with one); nothing is done
  ``unavailable``        503 ``ServiceUnavailable`` + ``Retry-After``; nothing is done
  ``drop``               the connection is closed without a response; nothing is done
  ``commit_then_500``    the request is carried out and committed, then answered 500 ``UnexpectedError``
  ``commit_then_drop``   the request is carried out and committed, then the connection is closed
  ``commit_then_late``   the request is carried out and committed, and its (normal) answer is sent only
                         ``late_answer_delay`` seconds later: longer than a client's timeout, the client
                         has given up by then

  By rate, ``commit_then_500`` applies to ``POST`` only; ``commit_then_drop`` and ``commit_then_late``
  are script-only.

Every ``/v3.1`` request draws the same five numbers from the RNG in arrival order (jitter, 429,
503, drop, 500), whatever is configured, so the same seed and the same sequence of requests give
the same faults and delays, and turning one rate on does not shift the others.

Tests change faults on a running sandbox with :meth:`FaultInjector.configure`,
:meth:`FaultInjector.script` and :meth:`FaultInjector.clear`; :meth:`FaultInjector.pause` holds
admitted requests (in flight) until :meth:`FaultInjector.resume`, for exact concurrency tests.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import math
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from .config import SandboxConfig

FaultKind = Literal[
    "too_many_requests", "unavailable", "drop", "commit_then_500", "commit_then_drop", "commit_then_late"
]
FAULT_KINDS: tuple[str, ...] = (
    "too_many_requests",
    "unavailable",
    "drop",
    "commit_then_500",
    "commit_then_drop",
    "commit_then_late",
)
#: Short names accepted by :meth:`FaultInjector.script`.
FAULT_ALIASES = {"429": "too_many_requests", "503": "unavailable", "500": "commit_then_500"}
#: Faults decided before the request is handled (nothing is committed).
BEFORE_HANDLING = frozenset({"too_many_requests", "unavailable", "drop"})
API_PREFIX = "/v3.1"

TOO_MANY_REQUESTS = "TooManyRequests"
SERVICE_UNAVAILABLE = "ServiceUnavailable"
UNEXPECTED_ERROR = "UnexpectedError"


@dataclass(frozen=True)
class FaultSettings:
    """The limit and fault settings in force (initially those of the :class:`SandboxConfig`)."""

    max_concurrent_requests: int | None = 150
    rate_limit: tuple[int, float] | None = None
    retry_after: int = 1
    latency: float = 0.0
    latency_jitter: float = 0.0
    latency_on_token: bool = False
    too_many_requests_rate: float = 0.0
    unavailable_rate: float = 0.0
    drop_connection_rate: float = 0.0
    commit_then_500_rate: float = 0.0
    late_answer_delay: float = 30.0

    @classmethod
    def from_config(cls, config: SandboxConfig) -> FaultSettings:
        return cls(**{f.name: getattr(config, f.name) for f in dataclasses.fields(cls)})

    def check(self) -> None:
        """``ValueError`` for settings that make no sense."""
        if self.max_concurrent_requests is not None and self.max_concurrent_requests < 1:
            raise ValueError("max_concurrent_requests must be at least 1 (or None)")
        if self.rate_limit is not None:
            count, window = self.rate_limit
            if count < 1 or window <= 0:
                raise ValueError("rate_limit must be (N >= 1, W > 0)")
        if self.retry_after < 0 or self.latency < 0 or self.latency_jitter < 0 or self.late_answer_delay < 0:
            raise ValueError("retry_after, latency, latency_jitter and late_answer_delay must not be negative")
        for name in ("too_many_requests_rate", "unavailable_rate", "drop_connection_rate", "commit_then_500_rate"):
            if not 0.0 <= float(getattr(self, name)) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")


@dataclass
class ScriptedFault:
    """A queued fault: applies to the next ``remaining`` requests matching ``method`` and ``path``."""

    kind: str
    method: str
    path: str
    remaining: int
    retry_after: int | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.method not in ("*", method):
            return False
        api_path = path[len(API_PREFIX) :] if path.startswith(API_PREFIX + "/") else None
        return path.startswith(self.path) or (api_path is not None and api_path.startswith(self.path))


@dataclass(frozen=True)
class FaultEvent:
    """A request that was refused by a limit or given a fault (``kind``: a fault kind,
    ``concurrency_limit`` or ``rate_limit``); ``scripted`` tells a scripted fault from a drawn one."""

    method: str
    path: str
    kind: str
    scripted: bool = False


@dataclass(frozen=True)
class Refusal:
    status: int
    message: str
    data_code: str
    retry_after: int | None


@dataclass(frozen=True)
class Admission:
    """What to do with one request: refuse it, or hold it for ``delay`` seconds and then apply ``fault``."""

    refusal: Refusal | None = None
    delay: float = 0.0
    fault: str | None = None
    retry_after: int | None = None
    in_flight: bool = False


class FaultInjector:
    """Limits and faults of one sandbox (see the module docstring).  Thread-safe."""

    def __init__(self, config: SandboxConfig, clock: Callable[[], float] | None = None) -> None:
        self._config = config
        self._clock = clock or config.clock
        self._lock = threading.Lock()
        self._settings = FaultSettings.from_config(config)
        self._settings.check()
        self._rng = random.Random(config.fault_seed)
        self._scripted: list[ScriptedFault] = []
        self._window: collections.deque[float] = collections.deque()
        self._in_flight = 0
        self._open = threading.Event()
        self._open.set()
        self.events: list[FaultEvent] = []
        """Every refusal and fault so far, in order (cleared by :meth:`clear`)."""
        self.delays: collections.deque[float] = collections.deque(maxlen=10_000)
        """The latency applied to recent requests, in order of arrival (cleared by :meth:`clear`)."""

    # ------------------------------------------------------------------ runtime API

    @property
    def settings(self) -> FaultSettings:
        return self._settings

    @property
    def in_flight(self) -> int:
        """``/v3.1`` requests admitted and not yet answered."""
        with self._lock:
            return self._in_flight

    def configure(self, **changes: Any) -> FaultSettings:
        """Change settings on the running sandbox (names as in :class:`FaultSettings`); returns them."""
        with self._lock:
            settings = dataclasses.replace(self._settings, **changes)
            settings.check()
            self._settings = settings
            if "rate_limit" in changes:
                self._window.clear()
            return settings

    def script(
        self,
        kind: str,
        method: str = "*",
        path: str = "/",
        *,
        count: int = 1,
        retry_after: int | None = None,
    ) -> None:
        """Give the next ``count`` requests matching ``method`` (``*``: any) and the path prefix ``path``
        the fault ``kind`` (a :data:`FAULT_KINDS` name, or ``"429"``, ``"503"``, ``"500"``).

        ``path`` is matched with or without the ``/v3.1`` prefix (``/contacts`` and
        ``/v3.1/contacts`` are the same); ``/token`` scripts the token endpoint.  Scripts are
        consulted in the order given.
        """
        kind = FAULT_ALIASES.get(kind, kind)
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}: use one of {', '.join(FAULT_KINDS)} (or 429, 503, 500)")
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._scripted.append(ScriptedFault(kind, method.upper(), path or "/", count, retry_after))

    def pending(self) -> list[ScriptedFault]:
        """Scripted faults not used up yet."""
        with self._lock:
            return [dataclasses.replace(s) for s in self._scripted]

    def clear(self) -> None:
        """Forget scripted faults, events and delays; restore the configured settings; reopen a pause;
        reseed the RNG with ``fault_seed`` (so what follows is as reproducible as a fresh sandbox)."""
        with self._lock:
            self._scripted.clear()
            self._settings = FaultSettings.from_config(self._config)
            self._window.clear()
            self._rng = random.Random(self._config.fault_seed)
            self.events = []
            self.delays.clear()
        self._open.set()

    def reseed(self, seed: int | None = None) -> None:
        """Restart the fault RNG from ``seed`` (default: the configured ``fault_seed``)."""
        with self._lock:
            self._rng = random.Random(self._config.fault_seed if seed is None else seed)

    def pause(self) -> None:
        """Hold every admitted ``/v3.1`` request (it stays in flight) until :meth:`resume`."""
        self._open.clear()

    def resume(self) -> None:
        self._open.set()

    # ------------------------------------------------------------------ used by the app

    def admit(self, method: str, path: str) -> Admission:
        """Decide what happens to a request that just arrived (``path`` is the full URL path)."""
        method = method.upper()
        is_api = path == API_PREFIX or path.startswith(API_PREFIX + "/")
        with self._lock:
            settings = self._settings
            if not is_api:
                fault, retry_after, scripted = self._take_script(method, path)
                if fault is not None:
                    self.events.append(FaultEvent(method, path, fault, scripted))
                delay = 0.0
                if path == "/token" and settings.latency_on_token:
                    delay = settings.latency + settings.latency_jitter * self._rng.random()
                    self.delays.append(delay)
                return Admission(delay=delay, fault=fault, retry_after=retry_after)
            draws = [self._rng.random() for _ in range(5)]
            cap = settings.max_concurrent_requests
            if cap is not None and self._in_flight >= cap:
                self.events.append(FaultEvent(method, path, "concurrency_limit"))
                message = f"Too many concurrent requests: at most {cap} may be in progress at once."
                return Admission(Refusal(429, message, TOO_MANY_REQUESTS, self._plain_429_wait(settings)))
            if settings.rate_limit is not None:
                count, window = settings.rate_limit
                now = float(self._clock())
                while self._window and self._window[0] <= now - window:
                    self._window.popleft()
                if len(self._window) >= count:
                    wait = max(1, math.ceil(self._window[0] + window - now))
                    self.events.append(FaultEvent(method, path, "rate_limit"))
                    message = f"Rate limit exceeded: at most {count} requests per {window:g} seconds."
                    return Admission(Refusal(429, message, TOO_MANY_REQUESTS, wait))
                self._window.append(now)
            self._in_flight += 1
            delay = settings.latency + settings.latency_jitter * draws[0]
            self.delays.append(delay)
            fault, retry_after, scripted = self._take_script(method, path)
            if fault is None:
                if draws[1] < settings.too_many_requests_rate:
                    fault = "too_many_requests"
                elif draws[2] < settings.unavailable_rate:
                    fault = "unavailable"
                elif draws[3] < settings.drop_connection_rate:
                    fault = "drop"
                elif method == "POST" and draws[4] < settings.commit_then_500_rate:
                    fault = "commit_then_500"
            if fault is not None:
                self.events.append(FaultEvent(method, path, fault, scripted))
            return Admission(delay=delay, fault=fault, retry_after=retry_after, in_flight=True)

    def release(self, admission: Admission) -> None:
        """The request admitted with ``admission`` is over."""
        if admission.in_flight:
            with self._lock:
                self._in_flight -= 1

    def refusal_for(self, admission: Admission) -> Refusal | None:
        """The error answer of a fault decided before handling (``None`` for other faults)."""
        retry_after: int | None = (
            admission.retry_after if admission.retry_after is not None else self._settings.retry_after
        )
        if admission.fault == "too_many_requests":
            if admission.retry_after is None:
                retry_after = self._plain_429_wait(self._settings)
            return Refusal(
                429, "Too many requests: please wait and repeat the request.", TOO_MANY_REQUESTS, retry_after
            )
        if admission.fault == "unavailable":
            return Refusal(
                503, "The service is temporarily unavailable: please retry later.", SERVICE_UNAVAILABLE, retry_after
            )
        return None

    def _plain_429_wait(self, settings: FaultSettings) -> int | None:
        """``Retry-After`` of a concurrency or injected 429: none in strict mode (Sage documents its 429s
        without headers), else :attr:`FaultSettings.retry_after`."""
        return None if self._config.strict else settings.retry_after

    async def wait_until_open(self) -> None:
        """Hold while :meth:`pause` is in effect."""
        while not self._open.is_set():
            await asyncio.sleep(0.002)

    def _take_script(self, method: str, path: str) -> tuple[str | None, int | None, bool]:
        for index, scripted in enumerate(self._scripted):
            if scripted.matches(method, path):
                scripted.remaining -= 1
                if scripted.remaining <= 0:
                    del self._scripted[index]
                return scripted.kind, scripted.retry_after, True
        return None, None, False
