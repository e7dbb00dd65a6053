"""Sage OAuth tokens: where they are kept and how they are kept fresh.

Sage access tokens live five minutes and every refresh *rotates* the refresh token: the one
just spent is dead. So:

* the :class:`TokenManager` refreshes ahead of expiry, once however many calls wait for it
  (an in-process lock), and across processes (a file lock around the refresh, re-reading the
  store under it so a token another process already rotated is adopted, not spent again);
* the rotated pair is persisted *before* the new access token is used;
* a dead refresh token (``invalid_grant``) becomes :class:`ReauthorizationRequired`, and the
  manager recovers by itself as soon as a new login lands in the store.

The store is an interface (:class:`TokenStore`); :class:`FileTokenStore` keeps a JSON file
with mode 0600, replaced atomically, and locks it across processes with ``filelock`` (``flock`` on
POSIX, ``LockFileEx`` on Windows), so the same code runs on Linux, macOS and Windows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sage_mcp.sage.errors import AuthError, NotSignedInError, ReauthorizationRequired

if TYPE_CHECKING:
    from filelock import FileLock

log = logging.getLogger(__name__)

STORE_VERSION = 1
DEFAULT_LEEWAY = 60.0
LOCK_TIMEOUT = 60.0
EXPIRY_WARNING = 3 * 86400

Clock = Callable[[], float]
RefreshFn = Callable[[str], Awaitable[Mapping[str, Any]]]


@dataclass(frozen=True)
class TokenSet:
    """One token pair as Sage issued it, with absolute expiry times (epoch seconds)."""

    access_token: str
    refresh_token: str
    expires_at: float
    refresh_expires_at: float | None = None
    scope: str = ""
    token_type: str = "bearer"
    obtained_at: float = 0.0
    requested_by_id: str | None = None

    @classmethod
    def from_response(cls, resp: Mapping[str, Any], now: float) -> TokenSet:
        """Build from a token endpoint response, turning ``expires_in`` into absolute times."""
        try:
            access = str(resp["access_token"])
            refresh = str(resp["refresh_token"])
            expires_in = float(resp["expires_in"])
        except (KeyError, TypeError, ValueError) as exc:
            raise AuthError(f"Sage's token response lacked a required field ({exc})") from None
        refresh_in = resp.get("refresh_token_expires_in")
        return cls(
            access_token=access,
            refresh_token=refresh,
            expires_at=now + expires_in,
            refresh_expires_at=now + float(refresh_in) if refresh_in is not None else None,
            scope=str(resp.get("scope") or ""),
            token_type=str(resp.get("token_type") or "bearer"),
            obtained_at=now,
            requested_by_id=str(resp["requested_by_id"]) if resp.get("requested_by_id") else None,
        )

    def access_valid(self, now: float, leeway: float = DEFAULT_LEEWAY) -> bool:
        return bool(self.access_token) and now < self.expires_at - leeway

    def refresh_expired(self, now: float) -> bool:
        return self.refresh_expires_at is not None and now >= self.refresh_expires_at

    @property
    def read_only(self) -> bool:
        scopes = set(self.scope.replace(",", " ").split())
        return "readonly" in scopes and "full_access" not in scopes


@dataclass(frozen=True)
class StoredLogin:
    """What the store persists: the token pair plus the pinned business, if any."""

    tokens: TokenSet
    business_id: str | None = None
    saved_at: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STORE_VERSION,
            "tokens": asdict(self.tokens),
            "business_id": self.business_id,
            "saved_at": self.saved_at,
            "extra": self.extra,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> StoredLogin:
        version = raw.get("version")
        if version != STORE_VERSION:
            raise AuthError(f"token store has version {version!r}; this sage-mcp reads version {STORE_VERSION}")
        tok = dict(raw["tokens"])
        known = {f for f in TokenSet.__dataclass_fields__}
        return cls(
            tokens=TokenSet(**{k: v for k, v in tok.items() if k in known}),
            business_id=raw.get("business_id"),
            saved_at=float(raw.get("saved_at") or 0.0),
            extra=dict(raw.get("extra") or {}),
        )


class TokenStore(Protocol):
    """Somewhere to keep one Sage login. A Redis-backed store can implement the same five methods."""

    def load(self) -> StoredLogin | None: ...

    def save(self, login: StoredLogin) -> None: ...

    def delete(self) -> None: ...

    def lock(self) -> contextlib.AbstractContextManager[None]:
        """Hold an exclusive lock shared by every process using this store (blocking)."""
        ...

    def alock(self) -> contextlib.AbstractAsyncContextManager[None]:
        """The same lock, awaited without blocking the event loop."""
        ...


class FileTokenStore:
    """A JSON file (mode 0600) replaced atomically: temp file, fsync, rename, fsync of the folder."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    def load(self) -> StoredLogin | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return StoredLogin.from_json(json.loads(text))
        except (ValueError, KeyError, TypeError) as exc:
            raise AuthError(
                f"the token store {self.path} is unreadable ({type(exc).__name__}); "
                "run `sage-mcp auth login` to replace it"
            ) from None

    def save(self, login: StoredLogin) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = json.dumps(login.to_json(), indent=2, sort_keys=True).encode()
        fd, tmp = tempfile.mkstemp(prefix=".tokens-", suffix=".tmp", dir=self.path.parent)  # created 0600
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        if os.name != "nt":  # Windows cannot open a folder to fsync it; its rename is durable as it stands
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def delete(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def _file_lock(self) -> FileLock:
        # A new lock object (its own file handle) per holder: two holders in one process, or on one
        # thread of an event loop, exclude each other just as two processes do.
        from filelock import FileLock  # imported when first needed: it costs start-up time

        self.lock_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return FileLock(self.lock_path, mode=0o600, thread_local=False)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        with self._file_lock():
            yield

    @contextlib.asynccontextmanager
    async def alock(self) -> AsyncIterator[None]:
        from filelock import Timeout

        lock = self._file_lock()
        deadline = time.monotonic() + LOCK_TIMEOUT
        delay = 0.005
        while True:
            try:
                lock.acquire(timeout=0)
                break
            except Timeout:
                if time.monotonic() > deadline:
                    raise AuthError(f"the token store {self.path} stayed locked for {LOCK_TIMEOUT:.0f} s") from None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.1)
        try:
            yield
        finally:
            lock.release()


#: How to run the command when the package is not installed (a client that starts it with uvx).
UVX_HINT = " (or `uvx sage-accounting-mcp auth login` where it is not installed)"
REAUTH_MESSAGE = (
    "The Sage sign-in has expired or was revoked. Run `sage-mcp auth login` to sign in again" + UVX_HINT + "."
)
NOT_SIGNED_IN_MESSAGE = "No Sage sign-in is stored yet. Run `sage-mcp auth login` to sign in" + UVX_HINT + "."


class TokenManager:
    """Hands out a valid access token, refreshing it once and safely when needed."""

    def __init__(
        self,
        store: TokenStore,
        refresh: RefreshFn,
        *,
        clock: Clock = time.time,
        leeway: float = DEFAULT_LEEWAY,
        bootstrap_refresh_token: str | None = None,
    ) -> None:
        self.store = store
        self._refresh = refresh
        self._clock = clock
        self._leeway = leeway
        self._bootstrap = bootstrap_refresh_token
        self._current: StoredLogin | None = None
        self._dead_refresh_token: str | None = None
        self._lock: asyncio.Lock | None = None
        self._warned_about: str | None = None
        self.refresh_count = 0

    @property
    def current(self) -> StoredLogin | None:
        """The login in use by this process (``None`` before the first call)."""
        return self._current

    def _get_lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def access_token(self) -> str:
        """A valid access token; refreshes (once, whatever the concurrency) when it is near expiry."""
        cur = self._current
        if cur is not None and cur.tokens.access_valid(self._clock(), self._leeway):
            return cur.tokens.access_token
        async with self._get_lock():
            cur = self._current
            if cur is not None and cur.tokens.access_valid(self._clock(), self._leeway):
                return cur.tokens.access_token
            return await self._renew(rejected=None)

    async def renew_after_rejection(self, rejected_access_token: str) -> str:
        """Sage answered 401 to ``rejected_access_token``: get a different, fresh one."""
        async with self._get_lock():
            cur = self._current
            if (
                cur is not None
                and cur.tokens.access_token != rejected_access_token
                and cur.tokens.access_valid(self._clock(), self._leeway)
            ):
                return cur.tokens.access_token
            return await self._renew(rejected=rejected_access_token)

    async def login(self) -> StoredLogin:
        """The stored login (loaded if needed), without refreshing."""
        if self._current is None:
            self._current = await asyncio.to_thread(self.store.load)
            if self._current is None:
                raise NotSignedInError(NOT_SIGNED_IN_MESSAGE)
        return self._current

    def _adopt(self, login: StoredLogin) -> str:
        self._current = login
        left = login.tokens.refresh_expires_at - self._clock() if login.tokens.refresh_expires_at else None
        if left is not None and left < EXPIRY_WARNING and self._warned_about != login.tokens.refresh_token:
            self._warned_about = login.tokens.refresh_token
            log.warning(
                "The Sage sign-in expires in %.1f days; run `sage-mcp auth login` before then to keep access",
                left / 86400,
            )
        return login.tokens.access_token

    async def _renew(self, *, rejected: str | None) -> str:
        async with self.store.alock():
            stored = await asyncio.to_thread(self.store.load)
            if stored is None:
                stored = self._bootstrap_login()
            now = self._clock()
            tokens = stored.tokens
            if tokens.access_token != rejected and tokens.access_valid(now, self._leeway):
                # Another process (or a new login) already holds a fresh token: adopt it.
                return self._adopt(stored)
            if tokens.refresh_token == self._dead_refresh_token:
                self._current = None
                raise ReauthorizationRequired(REAUTH_MESSAGE)
            if tokens.refresh_expired(now):
                self._current = None
                raise ReauthorizationRequired(REAUTH_MESSAGE)
            try:
                resp = await self._refresh(tokens.refresh_token)
            except ReauthorizationRequired:
                self._dead_refresh_token = tokens.refresh_token
                self._current = None
                log.warning("Sage refused the stored refresh token; a new sign-in is needed")
                raise ReauthorizationRequired(REAUTH_MESSAGE) from None
            self.refresh_count += 1
            new_tokens = TokenSet.from_response(resp, self._clock())
            if not new_tokens.requested_by_id and tokens.requested_by_id:
                new_tokens = replace(new_tokens, requested_by_id=tokens.requested_by_id)
            updated = replace(stored, tokens=new_tokens, saved_at=self._clock())
            # Persist the rotated pair before anything uses it: the old refresh token is dead now.
            await asyncio.to_thread(self.store.save, updated)
            log.debug("Sage access token refreshed; valid for %.0f s", new_tokens.expires_at - self._clock())
            return self._adopt(updated)

    def _bootstrap_login(self) -> StoredLogin:
        if not self._bootstrap:
            raise NotSignedInError(NOT_SIGNED_IN_MESSAGE)
        log.info("Seeding the token store from SAGE_REFRESH_TOKEN")
        return StoredLogin(tokens=TokenSet(access_token="", refresh_token=self._bootstrap, expires_at=0.0))
