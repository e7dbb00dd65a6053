"""State shared by hosted replicas, in Redis: Sage logins, locks, Sage's app-wide limits, audit streams.

Everything one replica knows that another may need lives here, so any replica serves any request:

* :class:`RedisTokenStore` - one user's Sage login (the :class:`~sage_mcp.sage.tokens.TokenStore`
  interface), encrypted at rest with Fernet (``cryptography``; several keys may be given so a key can
  be rotated: the first encrypts, any decrypts). The business pin is part of the login record. Its
  lock is a Redis lock with a **fencing token**: every acquisition takes the next number of a
  per-user counter, and a save is refused when the stored record carries a higher number or
  another holder owns the lock - so a replica whose lock lapsed (a long pause) cannot overwrite the
  login a later holder rotated. A held lock is kept alive by a watchdog; a killed replica's lock
  lapses after ``lock_ttl`` seconds.
* :class:`RedisLimiter` - Sage's limits for the whole app across replicas: at most N requests in
  flight (a sorted set of slots that expire, so a crashed replica's slots come back), at most M per
  user (fairness: one user's bulk report leaves room for the others), and the daily quota (a counter
  per UTC day). One Lua script decides atomically.
* :class:`RedisFingerprintStore` - the idempotency fingerprints (the
  :class:`~sage_mcp.stores.fingerprints.FingerprintStore` interface), encrypted, expiring with their entry;
  a first use is claimed atomically (``SET NX``), so two replicas see one first use per key.
* :class:`RedisAuditLog` - the audit log as a Redis stream per user (capped), never with secrets.
* :class:`RedisState` - the connections (sync for the token store's thread calls, asyncio for the
  rest), the cipher and the key names.

Redis being unreachable surfaces as :class:`StateUnavailable` (a :class:`SageConnectionError`), which
a tool call reports as a clear, retryable error; nothing is sent to Sage without its state.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import hashlib
import json
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

import redis
import redis.asyncio as aredis
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sage_mcp.sage.errors import AuthError, SageConnectionError
from sage_mcp.sage.tokens import StoredLogin
from sage_mcp.stores.fingerprints import Fingerprint

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "sage-mcp:"
DEFAULT_LOCK_TTL = 15.0
LOCK_WAIT = 60.0
AUDIT_MAXLEN = 10_000
_SAFE_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")

UNAVAILABLE_MESSAGE = (
    "sage-mcp's shared state (Redis) is unreachable, so this call was not run and nothing was sent to Sage"
)


class StateUnavailable(SageConnectionError):
    """Redis did not answer: the call is refused before anything reaches Sage; try again shortly."""


class LoginConflict(SageConnectionError):
    """Another replica rotated this Sage login while this one held a lapsed lock."""


class KeyError_(ValueError):
    """The encryption key setting is unusable (the message says how to make one)."""


def make_cipher(keys: Sequence[str]) -> MultiFernet:
    """A cipher from one or more Fernet keys (urlsafe base64 of 32 bytes): the first encrypts, any decrypts."""
    fernets: list[Fernet] = []
    for key in keys:
        try:
            fernets.append(Fernet(key.strip().encode("ascii")))
        except (ValueError, UnicodeEncodeError):
            raise KeyError_(
                "SAGE_MCP_ENCRYPTION_KEY must be one or more Fernet keys separated by commas; make one with: "
                'python3 -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
            ) from None
    if not fernets:
        raise KeyError_("SAGE_MCP_ENCRYPTION_KEY is not set (a Fernet key encrypts every Sage login at rest)")
    return MultiFernet(fernets)


def derive_key(key: str, purpose: str) -> bytes:
    """A 32-byte key for ``purpose`` derived (HKDF-SHA256) from the first encryption key."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(key.strip().encode())


def user_key(user_id: str) -> str:
    """A Redis-safe name for a user id (Sage ids are hex; anything else is hashed)."""
    return user_id if _SAFE_ID.fullmatch(user_id) else "h" + hashlib.sha256(user_id.encode()).hexdigest()[:40]


# Lock: take it (returning the next fencing number) only if free.
_ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return 0
"""
# Release or extend only a lock we still own.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
# Save a login: refused (0) when a later lock holder already wrote (higher fence) or holds the lock now.
_SAVE = """
local stored = tonumber(redis.call('HGET', KEYS[1], 'fence') or '0')
local mine = tonumber(ARGV[2])
if stored > mine then return 0 end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], 'blob', ARGV[1], 'fence', ARGV[2])
return 1
"""
# Admission to Sage: -1 quota used up, 0 app-wide limit full, 2 the user's share full, 1 admitted.
_ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if tonumber(redis.call('GET', KEYS[3]) or '0') >= tonumber(ARGV[5]) then return -1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return 2 end
local expiry = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], expiry, ARGV[1])
redis.call('ZADD', KEYS[2], expiry, ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], 172800)
return 1
"""
_FREE = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
"""


class RedisState:
    """Connections to one Redis, the cipher for secrets at rest, and the key names."""

    def __init__(
        self,
        url: str,
        cipher: MultiFernet,
        *,
        prefix: str = DEFAULT_PREFIX,
        lock_ttl: float = DEFAULT_LOCK_TTL,
        socket_timeout: float = 5.0,
        max_connections: int = 64,
    ) -> None:
        self.url = url
        self.cipher = cipher
        self.prefix = prefix
        self.lock_ttl = lock_ttl
        opts: dict[str, Any] = {
            "socket_timeout": socket_timeout,
            "socket_connect_timeout": min(socket_timeout, 2.0),
            "health_check_interval": 10,
        }
        # Blocking pools: a burst of calls waits for a free connection instead of failing.
        self.sync: redis.Redis = redis.Redis(
            connection_pool=redis.BlockingConnectionPool.from_url(
                url, max_connections=max_connections, timeout=socket_timeout, **opts
            )
        )
        self.aio: aredis.Redis = aredis.Redis(
            connection_pool=aredis.BlockingConnectionPool.from_url(
                url, max_connections=max_connections, timeout=socket_timeout, **opts
            )
        )
        self.round_trips = 0
        """Commands and scripts sent by this process (for the benchmark: round trips per tool call)."""

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def encrypt(self, data: Mapping[str, Any]) -> bytes:
        return self.cipher.encrypt(json.dumps(data, sort_keys=True).encode())

    def decrypt(self, blob: bytes | str) -> Any:
        try:
            return json.loads(self.cipher.decrypt(blob.encode() if isinstance(blob, str) else blob))
        except InvalidToken:
            raise AuthError(
                "a stored record cannot be decrypted with SAGE_MCP_ENCRYPTION_KEY (was the key changed without "
                "keeping the old one after it?)"
            ) from None

    async def ping(self) -> bool:
        try:
            self.round_trips += 1
            return bool(await self.aio.ping())
        except (redis.RedisError, OSError):
            return False

    async def aclose(self) -> None:
        await self.aio.aclose()
        self.sync.close()

    # -- small helpers for short-lived encrypted records (OAuth state) ------------------------

    async def put(self, kind: str, name: str, value: Mapping[str, Any], ttl: float) -> None:
        self.round_trips += 1
        try:
            await self.aio.set(self.key(kind, name), self.encrypt(value), px=max(1, int(ttl * 1000)))
        except (redis.RedisError, OSError) as exc:
            raise StateUnavailable(UNAVAILABLE_MESSAGE) from exc

    async def get(self, kind: str, name: str) -> Any:
        self.round_trips += 1
        try:
            blob = await self.aio.get(self.key(kind, name))
        except (redis.RedisError, OSError) as exc:
            raise StateUnavailable(UNAVAILABLE_MESSAGE) from exc
        return None if blob is None else self.decrypt(blob)

    async def take(self, kind: str, name: str) -> Any:
        """Read and delete in one step (single-use records: codes, sign-in attempts, refresh tokens)."""
        self.round_trips += 1
        try:
            blob = await self.aio.getdel(self.key(kind, name))
        except (redis.RedisError, OSError) as exc:
            raise StateUnavailable(UNAVAILABLE_MESSAGE) from exc
        return None if blob is None else self.decrypt(blob)

    async def delete(self, kind: str, name: str) -> None:
        self.round_trips += 1
        with contextlib.suppress(redis.RedisError, OSError):
            await self.aio.delete(self.key(kind, name))


class RedisTokenStore:
    """One user's Sage login in Redis: the :class:`~sage_mcp.sage.tokens.TokenStore` interface.

    ``load``/``save``/``delete`` are blocking (the token manager runs them in a worker thread);
    ``alock`` is the fenced lock, awaited on the event loop; ``lock`` the same for blocking callers.
    """

    def __init__(self, state: RedisState, user_id: str) -> None:
        self.state = state
        self.user_id = user_id
        uid = user_key(user_id)
        self._login_key = state.key("login", uid)
        self._lock_key = state.key("lock", uid)
        self._fence_key = state.key("fence", uid)
        self._held: tuple[str, int] | None = None
        self.refused_saves = 0

    def load(self) -> StoredLogin | None:
        self.state.round_trips += 1
        try:
            blob = self.state.sync.hget(self._login_key, "blob")
        except (redis.RedisError, OSError) as exc:
            raise StateUnavailable(UNAVAILABLE_MESSAGE) from exc
        if blob is None:
            return None
        try:
            return StoredLogin.from_json(self.state.decrypt(blob))
        except (KeyError, TypeError, ValueError) as exc:
            raise AuthError(f"the stored Sage sign-in is unreadable ({type(exc).__name__}); sign in again") from None

    def save(self, login: StoredLogin) -> None:
        if self._held is None:
            with self.lock():
                self._save(login)
            return
        self._save(login)

    def _save(self, login: StoredLogin) -> None:
        assert self._held is not None
        token, fence = self._held
        self.state.round_trips += 1
        try:
            saved = self.state.sync.eval(
                _SAVE, 2, self._login_key, self._lock_key, self.state.encrypt(login.to_json()), fence, token
            )
        except (redis.RedisError, OSError) as exc:
            raise StateUnavailable(UNAVAILABLE_MESSAGE) from exc
        if not saved:
            self.refused_saves += 1
            log.warning("a Sage login save was refused by the fencing check (a later lock holder wrote first)")
            raise LoginConflict(
                "another sage-mcp replica updated this Sage sign-in while this one was refreshing it; try again"
            )

    def delete(self) -> None:
        self.state.round_trips += 1
        try:
            self.state.sync.delete(self._login_key)
        except (redis.RedisError, OSError) as exc:
            raise StateUnavailable(UNAVAILABLE_MESSAGE) from exc

    # -- the fenced lock ------------------------------------------------------------------------

    def _ttl_ms(self) -> int:
        return max(100, int(self.state.lock_ttl * 1000))

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        token = secrets.token_hex(16)
        deadline = time.monotonic() + LOCK_WAIT
        delay = 0.01
        try:
            while True:
                self.state.round_trips += 1
                fence = int(self.state.sync.eval(_ACQUIRE, 2, self._lock_key, self._fence_key, token, self._ttl_ms()))
                if fence:
                    break
                if time.monotonic() > deadline:
                    raise AuthError(f"the Sage sign-in of this user stayed locked for {LOCK_WAIT:.0f} s")
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
        except (redis.RedisError, OSError) as exc:
            raise StateUnavailable(UNAVAILABLE_MESSAGE) from exc
        self._held = (token, fence)
        try:
            yield
        finally:
            self._held = None
            with contextlib.suppress(redis.RedisError, OSError):
                self.state.round_trips += 1
                self.state.sync.eval(_RELEASE, 1, self._lock_key, token)

    @contextlib.asynccontextmanager
    async def alock(self) -> AsyncIterator[None]:
        token = secrets.token_hex(16)
        deadline = time.monotonic() + LOCK_WAIT
        delay = 0.005
        try:
            while True:
                self.state.round_trips += 1
                fence = int(
                    await self.state.aio.eval(_ACQUIRE, 2, self._lock_key, self._fence_key, token, str(self._ttl_ms()))
                )
                if fence:
                    break
                if time.monotonic() > deadline:
                    raise AuthError(f"the Sage sign-in of this user stayed locked for {LOCK_WAIT:.0f} s")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.1)
        except (redis.RedisError, OSError) as exc:
            raise StateUnavailable(UNAVAILABLE_MESSAGE) from exc
        self._held = (token, fence)
        watchdog = asyncio.create_task(self._keep_alive(token))
        try:
            yield
        finally:
            watchdog.cancel()
            self._held = None
            with contextlib.suppress(redis.RedisError, OSError):
                self.state.round_trips += 1
                await self.state.aio.eval(_RELEASE, 1, self._lock_key, token)

    async def _keep_alive(self, token: str) -> None:
        """Extend the lock while it is held (a stalled or killed replica's lock lapses instead)."""
        ttl = self._ttl_ms()
        while True:
            await asyncio.sleep(ttl / 3000)
            try:
                await self.state.aio.eval(_EXTEND, 1, self._lock_key, token, str(ttl))
            except (redis.RedisError, OSError):
                return


class QuotaExhausted(Exception):
    """The app's daily Sage request quota is used up."""


class RedisLimiter:
    """Sage's app-wide concurrency limit, a per-user share of it, and the daily quota, across replicas."""

    def __init__(
        self,
        state: RedisState,
        *,
        concurrency: int = 150,
        per_user: int = 20,
        daily_quota: int = 1_296_000,
        slot_ttl: float = 60.0,
    ) -> None:
        self.state = state
        self.concurrency = concurrency
        self.per_user = max(1, min(per_user, concurrency))
        self.daily_quota = daily_quota
        self.slot_ttl = slot_ttl
        self._global_key = state.key("limit", "inflight")

    def _quota_key(self) -> str:
        return self.state.key("quota", datetime.datetime.now(datetime.UTC).strftime("%Y%m%d"))

    async def try_admit(self, user_id: str, slot: str) -> int:
        """1 admitted; 0 the app-wide limit is full; 2 this user's share is full; -1 the daily quota is used up."""
        self.state.round_trips += 1
        try:
            result = await self._admit(user_id, slot)
        except (redis.RedisError, OSError) as exc:
            raise StateUnavailable(UNAVAILABLE_MESSAGE) from exc
        return int(result)

    async def _admit(self, user_id: str, slot: str) -> Any:
        return await self.state.aio.eval(
            _ADMIT,
            3,
            self._global_key,
            self.state.key("limit", "user", user_key(user_id)),
            self._quota_key(),
            slot,
            str(int(self.slot_ttl * 1000)),
            str(self.concurrency),
            str(self.per_user),
            str(self.daily_quota),
        )

    async def free(self, user_id: str, slot: str) -> None:
        self.state.round_trips += 1
        await self.state.aio.eval(_FREE, 2, self._global_key, self.state.key("limit", "user", user_key(user_id)), slot)

    async def in_flight(self) -> int:
        return int(await self.state.aio.zcard(self._global_key))

    async def used_today(self) -> int:
        return int(await self.state.aio.get(self._quota_key()) or 0)


class RedisAuditLog:
    """Every write as an entry of the user's Redis stream (capped at ``maxlen``); never secrets."""

    def __init__(self, state: RedisState, user_id: str, *, maxlen: int = AUDIT_MAXLEN) -> None:
        self.state = state
        self.user_id = user_id
        self.maxlen = maxlen
        self.key = state.key("audit", user_key(user_id))

    async def append(self, entry: Mapping[str, Any]) -> None:
        fields: dict[Any, Any] = {k: json.dumps(v) if not isinstance(v, str) else v for k, v in entry.items()}
        self.state.round_trips += 1
        try:
            await self.state.aio.xadd(self.key, fields, maxlen=self.maxlen, approximate=True)
        except (redis.RedisError, OSError) as exc:
            log.warning("could not append to the audit stream of a user: %s", type(exc).__name__)

    async def entries(self, count: int = 100) -> list[dict[str, str]]:
        rows = await self.state.aio.xrange(self.key, count=count)
        return [{_text(k): _text(v) for k, v in (fields or {}).items()} for _id, fields in rows or []]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisFingerprintStore:
    """Fingerprints of keyed writes in Redis, shared by every replica (scopes name the login, so users
    never meet each other's keys); each entry expires when Sage's replay window is over."""

    def __init__(self, state: RedisState, *, clock: Any = time.time) -> None:
        self.state = state
        self._clock = clock

    def _key(self, scope: str, key: str) -> str:
        return self.state.key("fp", hashlib.sha256(f"{scope}\x00{key}".encode()).hexdigest())

    def _encode(self, fp: Fingerprint) -> bytes:
        return self.state.encrypt(dataclasses.asdict(fp))

    def _decode(self, blob: bytes | str | None) -> Fingerprint | None:
        if blob is None:
            return None
        raw = self.state.decrypt(blob)
        raw["records"] = tuple(raw.get("records") or ())
        return Fingerprint(**raw)

    async def _call(self, work: Any) -> Any:
        self.state.round_trips += 1
        try:
            return await work
        except (redis.RedisError, OSError) as exc:
            raise StateUnavailable(UNAVAILABLE_MESSAGE) from exc

    async def claim(self, fingerprint: Fingerprint) -> Fingerprint | None:
        name = self._key(fingerprint.scope, fingerprint.key)
        ttl_ms = max(1000, int((fingerprint.expires_at - self._clock()) * 1000))
        for _ in range(3):
            if await self._call(self.state.aio.set(name, self._encode(fingerprint), nx=True, px=ttl_ms)):
                return None
            existing = self._decode(await self._call(self.state.aio.get(name)))
            if existing is not None:
                return existing
        return None

    async def get(self, scope: str, key: str) -> Fingerprint | None:
        return self._decode(await self._call(self.state.aio.get(self._key(scope, key))))

    async def complete(self, scope: str, key: str, records: list[str | None]) -> None:
        name = self._key(scope, key)
        current = self._decode(await self._call(self.state.aio.get(name)))
        if current is None:
            return
        done = dataclasses.replace(current, done=True, records=tuple(records))
        await self._call(self.state.aio.set(name, self._encode(done), keepttl=True, xx=True))

    async def release(self, scope: str, key: str, digest: str) -> None:
        name = self._key(scope, key)
        current = self._decode(await self._call(self.state.aio.get(name)))
        if current is not None and not current.done and current.digest == digest:
            await self._call(self.state.aio.delete(name))


class RedisOnce:
    """Single use across replicas: ``first(name, ttl)`` is true for exactly one caller per name (``SET NX``).

    Blocking (one short command): for checks that must stay synchronous, e.g. a confirmation token.
    """

    def __init__(self, state: RedisState, kind: str) -> None:
        self.state = state
        self.kind = kind

    def first(self, name: str, ttl: float) -> bool:
        self.state.round_trips += 1
        try:
            return bool(
                self.state.sync.set(
                    self.state.key(self.kind, hashlib.sha256(name.encode()).hexdigest()),
                    b"1",
                    nx=True,
                    px=max(1000, int(ttl * 1000)),
                )
            )
        except (redis.RedisError, OSError) as exc:
            raise StateUnavailable(UNAVAILABLE_MESSAGE) from exc
