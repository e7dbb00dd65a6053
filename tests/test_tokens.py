"""Token store and TokenManager: atomic 0600 file, single-flight refresh, rotation persisted before use."""

from __future__ import annotations

import asyncio
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from sage_mcp.sage.errors import NotSignedInError, ReauthorizationRequired
from sage_mcp.sage.tokens import FileTokenStore, StoredLogin, TokenManager, TokenSet

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class FakeSage:
    """A token endpoint with strict rotation: each refresh token works once."""

    def __init__(self, clock: Clock, store: FileTokenStore | None = None) -> None:
        self.clock = clock
        self.valid = {"r0"}
        self.calls = 0
        self.store = store
        self.store_at_call: list[str | None] = []

    async def refresh(self, refresh_token: str) -> Mapping[str, Any]:
        self.calls += 1
        await asyncio.sleep(0.01)
        if refresh_token not in self.valid:
            raise ReauthorizationRequired("dead")
        self.valid.discard(refresh_token)
        new = f"r{self.calls}"
        self.valid.add(new)
        return {
            "access_token": f"a{self.calls}",
            "refresh_token": new,
            "expires_in": 300,
            "refresh_token_expires_in": 2678400,
            "scope": "full_access",
            "token_type": "bearer",
        }


def seed(store: FileTokenStore, clock: Clock, *, expired: bool = True) -> None:
    expires = clock.now - 1 if expired else clock.now + 300
    store.save(StoredLogin(TokenSet("a0", "r0", expires, clock.now + 86400, "full_access")))


def test_file_store_is_private_atomic_and_versioned(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "d" / "tokens.json")
    assert store.load() is None
    seed(store, Clock())
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    raw = json.loads(store.path.read_text())
    assert raw["version"] == 1 and raw["tokens"]["refresh_token"] == "r0"
    assert [p.name for p in store.path.parent.iterdir() if p.name.endswith(".tmp")] == []
    loaded = store.load()
    assert loaded is not None and loaded.tokens.access_token == "a0"


async def test_concurrent_calls_with_an_expired_token_refresh_once(tmp_path: Path) -> None:
    clock = Clock()
    store = FileTokenStore(tmp_path / "tokens.json")
    seed(store, clock)
    sage = FakeSage(clock)
    manager = TokenManager(store, sage.refresh, clock=clock)
    tokens = await asyncio.gather(*(manager.access_token() for _ in range(200)))
    assert set(tokens) == {"a1"} and sage.calls == 1
    saved = store.load()
    assert saved is not None and saved.tokens.refresh_token == "r1", "rotated token persisted"


async def test_refresh_ahead_of_expiry_uses_the_token_lifetime(tmp_path: Path) -> None:
    clock = Clock()
    store = FileTokenStore(tmp_path / "tokens.json")
    seed(store, clock)
    sage = FakeSage(clock)
    manager = TokenManager(store, sage.refresh, clock=clock, leeway=60)
    assert await manager.access_token() == "a1"
    clock.now += 239  # 61 s left of 300: still fine
    assert await manager.access_token() == "a1" and sage.calls == 1
    clock.now += 2  # 59 s left: inside the leeway, refreshed early
    assert await manager.access_token() == "a2" and sage.calls == 2


async def test_second_process_adopts_the_rotated_token_instead_of_spending_the_dead_one(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "tokens.json"
    seed(FileTokenStore(path), clock)
    sage = FakeSage(clock)
    first = TokenManager(FileTokenStore(path), sage.refresh, clock=clock)
    second = TokenManager(FileTokenStore(path), sage.refresh, clock=clock)
    assert await first.access_token() == "a1"
    assert await second.access_token() == "a1", "read the store under the lock and adopted"
    assert sage.calls == 1


async def test_rejected_access_token_is_replaced_once(tmp_path: Path) -> None:
    clock = Clock()
    store = FileTokenStore(tmp_path / "tokens.json")
    seed(store, clock, expired=False)
    sage = FakeSage(clock)
    manager = TokenManager(store, sage.refresh, clock=clock)
    assert await manager.access_token() == "a0"
    new = await asyncio.gather(*(manager.renew_after_rejection("a0") for _ in range(20)))
    assert set(new) == {"a1"} and sage.calls == 1


async def test_dead_refresh_token_asks_for_login_then_recovers_without_restart(tmp_path: Path) -> None:
    clock = Clock()
    store = FileTokenStore(tmp_path / "tokens.json")
    seed(store, clock)
    sage = FakeSage(clock)
    sage.valid.clear()
    manager = TokenManager(store, sage.refresh, clock=clock)
    with pytest.raises(ReauthorizationRequired, match="sage-mcp auth login"):
        await manager.access_token()
    with pytest.raises(ReauthorizationRequired):
        await manager.access_token()
    assert sage.calls == 1, "a refresh token known to be dead is not spent again"
    store.save(StoredLogin(TokenSet("fresh", "r9", clock.now + 300, None, "full_access")))  # a new login lands
    assert await manager.access_token() == "fresh"


async def test_no_login_is_a_clear_error_and_env_token_bootstraps(tmp_path: Path) -> None:
    clock = Clock()
    store = FileTokenStore(tmp_path / "tokens.json")
    sage = FakeSage(clock)
    with pytest.raises(NotSignedInError, match="auth login"):
        await TokenManager(store, sage.refresh, clock=clock).access_token()
    manager = TokenManager(store, sage.refresh, clock=clock, bootstrap_refresh_token="r0")
    assert await manager.access_token() == "a1"
    saved = store.load()
    assert saved is not None and saved.tokens.refresh_token == "r1"
