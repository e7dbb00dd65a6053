"""The life of a Sage login: what a token response becomes, when a token counts as fresh, what the store keeps,
and how the TokenManager keeps the login in use current (refresh, adopt, warn, give up)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from sage_mcp.sage.errors import AuthError, NotSignedInError, ReauthorizationRequired
from sage_mcp.sage.tokens import (
    REAUTH_MESSAGE,
    FileTokenStore,
    StoredLogin,
    TokenManager,
    TokenSet,
)

NOW = 1_000_000.0
DAY = 86_400.0
FULL = {
    "access_token": "acc",
    "refresh_token": "ref",
    "expires_in": 300,
    "refresh_token_expires_in": 2_678_400,
    "scope": "full_access",
    "token_type": "Bearer",
    "requested_by_id": "user-1",
}


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


class FakeSage:
    """A token endpoint with strict rotation; ``reply`` shapes the response."""

    def __init__(self, clock: Clock, *, reply: Mapping[str, Any] | None = None) -> None:
        self.clock = clock
        self.valid = {"r0"}
        self.calls = 0
        self.reply = dict(reply or {})

    async def refresh(self, refresh_token: str) -> Mapping[str, Any]:
        self.calls += 1
        if refresh_token not in self.valid:
            raise ReauthorizationRequired("dead")
        self.valid.discard(refresh_token)
        self.valid.add(f"r{self.calls}")
        return {
            "access_token": f"a{self.calls}",
            "refresh_token": f"r{self.calls}",
            "expires_in": 300,
            "refresh_token_expires_in": 31 * DAY,
            "scope": "full_access",
            **self.reply,
        }


def seed(
    path: Path,
    *,
    access_left: float = -1,
    refresh_left: float | None = 10 * DAY,
    requested_by: str | None = None,
    business: str | None = None,
) -> FileTokenStore:
    store = FileTokenStore(path)
    refresh_at = NOW + refresh_left if refresh_left is not None else None
    tokens = TokenSet("a0", "r0", NOW + access_left, refresh_at, "full_access", requested_by_id=requested_by)
    store.save(StoredLogin(tokens, business_id=business, saved_at=NOW - 100, extra={"client": "x"}))
    return store


# -- TokenSet ------------------------------------------------------------------------------------------------


def test_a_token_response_becomes_absolute_expiry_times() -> None:
    tokens = TokenSet.from_response(FULL, NOW)
    assert tokens == TokenSet(
        access_token="acc",
        refresh_token="ref",
        expires_at=NOW + 300,
        refresh_expires_at=NOW + 2_678_400,
        scope="full_access",
        token_type="Bearer",
        obtained_at=NOW,
        requested_by_id="user-1",
    )


def test_optional_fields_of_a_token_response_have_defaults() -> None:
    minimal = {"access_token": "acc", "refresh_token": "ref", "expires_in": "300"}
    assert TokenSet.from_response(minimal, NOW) == TokenSet("acc", "ref", NOW + 300, None, "", "bearer", NOW, None)
    blank = {**minimal, "scope": None, "token_type": "", "requested_by_id": ""}
    assert TokenSet.from_response(blank, NOW) == TokenSet("acc", "ref", NOW + 300, None, "", "bearer", NOW, None)


@pytest.mark.parametrize(
    ("missing", "detail"),
    [("access_token", "'access_token'"), ("refresh_token", "'refresh_token'"), ("expires_in", "'expires_in'")],
)
def test_a_token_response_without_a_required_field_is_an_auth_error_naming_it(missing: str, detail: str) -> None:
    resp = {k: v for k, v in FULL.items() if k != missing}
    with pytest.raises(AuthError) as refused:
        TokenSet.from_response(resp, NOW)
    assert str(refused.value) == f"Sage's token response lacked a required field ({detail})"


def test_an_unreadable_lifetime_is_an_auth_error() -> None:
    with pytest.raises(AuthError, match=r"^Sage's token response lacked a required field"):
        TokenSet.from_response({**FULL, "expires_in": "soon"}, NOW)


def test_an_access_token_is_fresh_until_the_leeway_before_expiry() -> None:
    tokens = TokenSet("acc", "ref", NOW + 100)
    assert tokens.access_valid(NOW + 39)  # 61 s left, default leeway 60
    assert not tokens.access_valid(NOW + 40)  # exactly the leeway left: refresh now
    assert tokens.access_valid(NOW + 89, leeway=10)
    assert not tokens.access_valid(NOW + 90, leeway=10)
    assert not TokenSet("", "ref", NOW + 1000).access_valid(NOW), "no access token is never fresh"


def test_a_refresh_token_dies_at_its_expiry_and_one_without_an_expiry_never_does() -> None:
    tokens = TokenSet("acc", "ref", NOW, refresh_expires_at=NOW + 50)
    assert not tokens.refresh_expired(NOW + 49)
    assert tokens.refresh_expired(NOW + 50)
    assert not TokenSet("acc", "ref", NOW).refresh_expired(NOW + 10**9)


@pytest.mark.parametrize(
    ("scope", "read_only"),
    [("readonly", True), ("readonly,core", True), ("full_access", False), ("readonly full_access", False), ("", False)],
)
def test_only_a_readonly_scope_without_full_access_is_read_only(scope: str, read_only: bool) -> None:
    assert TokenSet("a", "r", NOW, scope=scope).read_only is read_only


# -- StoredLogin and the file store --------------------------------------------------------------------------


def test_a_login_is_stored_with_its_version_business_time_and_extras() -> None:
    login = StoredLogin(TokenSet("a", "r", 5.0, 6.0, "s"), business_id="b-1", saved_at=7.0, extra={"k": "v"})
    assert login.to_json() == {
        "version": 1,
        "tokens": {
            "access_token": "a",
            "refresh_token": "r",
            "expires_at": 5.0,
            "refresh_expires_at": 6.0,
            "scope": "s",
            "token_type": "bearer",
            "obtained_at": 0.0,
            "requested_by_id": None,
        },
        "business_id": "b-1",
        "saved_at": 7.0,
        "extra": {"k": "v"},
    }
    assert StoredLogin.from_json(login.to_json()) == login


def test_a_stored_login_reads_with_defaults_and_ignores_token_fields_it_does_not_know() -> None:
    raw = {"version": 1, "tokens": {"access_token": "a", "refresh_token": "r", "expires_at": 5.0, "new_field": 1}}
    assert StoredLogin.from_json(raw) == StoredLogin(TokenSet("a", "r", 5.0), None, 0.0, {})
    assert StoredLogin.from_json({**raw, "saved_at": None, "extra": None}).saved_at == 0.0


def test_a_store_of_another_version_is_refused_saying_which() -> None:
    with pytest.raises(AuthError) as refused:
        StoredLogin.from_json({"version": 2, "tokens": {}})
    assert str(refused.value) == "token store has version 2; this sage-mcp reads version 1"


def test_the_store_file_is_private_in_a_private_folder_and_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "tokens.json"
    store = seed(path, business="b-9")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert json.loads(path.read_text(encoding="utf-8"))["business_id"] == "b-9"
    loaded = store.load()
    assert loaded is not None and loaded.business_id == "b-9" and loaded.extra == {"client": "x"}
    assert sorted(p.name for p in path.parent.iterdir()) == ["tokens.json"]


def test_the_lock_file_sits_next_to_the_store_in_a_private_folder(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "a" / "b" / "tokens.json")
    assert store.lock_path == tmp_path / "a" / "b" / "tokens.json.lock"
    with store.lock():
        assert store.lock_path.exists()
    assert stat.S_IMODE(os.stat(store.lock_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(store.lock_path.parent).st_mode) == 0o700


def test_a_save_that_fails_keeps_the_old_login_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = seed(tmp_path / "tokens.json", business="b-old")

    def broken_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_disk)
    with pytest.raises(OSError, match="No space left"):
        store.save(StoredLogin(TokenSet("new", "r-new", NOW), business_id="b-new"))
    monkeypatch.undo()
    loaded = store.load()
    assert loaded is not None and loaded.business_id == "b-old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tokens.json"]


@pytest.mark.parametrize("text", ["{not json", '{"version": 1}', '{"version": 1, "tokens": {"access_token": "a"}}'])
def test_an_unreadable_store_names_the_file_and_the_fix(tmp_path: Path, text: str) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AuthError) as refused:
        FileTokenStore(path).load()
    message = str(refused.value)
    assert message.startswith(f"the token store {path} is unreadable (")
    assert message.endswith("); run `sage-mcp auth login` to replace it")
    assert "(JSONDecodeError)" in message or "(KeyError)" in message or "(TypeError)" in message


def test_a_store_with_non_ascii_text_reads_back(tmp_path: Path) -> None:
    store = seed(tmp_path / "tokens.json", business="Café Ünïcode")
    loaded = store.load()
    assert loaded is not None and loaded.business_id == "Café Ünïcode"


def test_deleting_the_login_leaves_no_file_and_is_safe_to_repeat(tmp_path: Path) -> None:
    store = seed(tmp_path / "tokens.json")
    store.delete()
    store.delete()
    assert store.load() is None and not store.path.exists()


# -- TokenManager ----------------------------------------------------------------------------------------------


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_login_reads_the_store_once_without_refreshing(tmp_path: Path) -> None:
    store = seed(tmp_path / "tokens.json", business="b-1")
    sage = FakeSage(Clock())
    manager = TokenManager(store, sage.refresh, clock=Clock())
    assert manager.current is None
    login = run(manager.login())
    assert login.business_id == "b-1" and manager.current == login
    store.delete()
    assert run(manager.login()) == login, "the login in use stays current without re-reading the store"
    assert sage.calls == 0


def test_login_without_a_stored_sign_in_says_how_to_sign_in(tmp_path: Path) -> None:
    manager = TokenManager(FileTokenStore(tmp_path / "none.json"), FakeSage(Clock()).refresh)
    with pytest.raises(NotSignedInError) as refused:
        run(manager.login())
    assert str(refused.value) == (
        "No Sage sign-in is stored yet. Run `sage-mcp auth login` to sign in"
        " (or `uvx sage-accounting-mcp auth login` where it is not installed)."
    )


def test_a_refreshed_login_becomes_the_current_one_and_is_used_without_touching_the_store(tmp_path: Path) -> None:
    clock = Clock()
    store = seed(tmp_path / "tokens.json", business="b-1")
    sage = FakeSage(clock)
    manager = TokenManager(store, sage.refresh, clock=clock)

    async def flow() -> None:
        assert await manager.access_token() == "a1"
        current = manager.current
        assert current is not None
        assert (current.tokens.access_token, current.tokens.refresh_token, current.business_id) == ("a1", "r1", "b-1")
        assert current.saved_at == NOW
        assert manager.refresh_count == 1
        store.delete()  # the store is gone, but the fresh token in memory still serves
        clock.now += 200
        assert await manager.access_token() == "a1"

    run(flow())
    assert sage.calls == 1


def test_the_managers_own_leeway_decides_when_to_refresh(tmp_path: Path) -> None:
    clock = Clock()
    store = seed(tmp_path / "tokens.json", access_left=300)
    sage = FakeSage(clock)
    manager = TokenManager(store, sage.refresh, clock=clock, leeway=10)

    async def flow() -> None:
        clock.now += 270  # 30 s left: fresh with a 10 s leeway (the default 60 s would refresh)
        assert await manager.access_token() == "a0"
        assert await manager.renew_after_rejection("other-token") == "a0"
        clock.now += 25  # 5 s left
        assert await manager.access_token() == "a1"

    run(flow())
    assert sage.calls == 1


def test_a_leeway_longer_than_the_default_refreshes_earlier(tmp_path: Path) -> None:
    clock = Clock()
    store = seed(tmp_path / "tokens.json", access_left=300)
    sage = FakeSage(clock)
    manager = TokenManager(store, sage.refresh, clock=clock, leeway=120)

    async def flow() -> None:
        assert await manager.access_token() == "a0"
        clock.now += 210  # 90 s left: inside a 120 s leeway
        assert await manager.access_token() == "a1"
        clock.now += 210
        assert await manager.renew_after_rejection("a0") == "a2"

    run(flow())
    assert sage.calls == 2 and manager.refresh_count == 2


def test_a_late_rejection_of_an_old_token_is_answered_from_memory(tmp_path: Path) -> None:
    clock = Clock()
    store = seed(tmp_path / "tokens.json")
    sage = FakeSage(clock)
    manager = TokenManager(store, sage.refresh, clock=clock)

    async def flow() -> None:
        assert await manager.access_token() == "a1"
        store.delete()
        assert await manager.renew_after_rejection("a0") == "a1"

    run(flow())
    assert sage.calls == 1


def test_a_rejected_token_is_replaced_even_when_its_clock_says_fresh(tmp_path: Path) -> None:
    clock = Clock()
    store = seed(tmp_path / "tokens.json", access_left=300)
    sage = FakeSage(clock)
    manager = TokenManager(store, sage.refresh, clock=clock)

    async def flow() -> None:
        assert await manager.access_token() == "a0"
        assert await manager.renew_after_rejection("a0") == "a1"
        assert await manager.renew_after_rejection("a0") == "a1", "an older rejection does not refresh again"

    run(flow())
    assert sage.calls == 1


def test_a_rejection_adopts_a_token_another_process_already_stored(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "tokens.json"
    store = seed(path, access_left=300)
    sage = FakeSage(clock)
    manager = TokenManager(store, sage.refresh, clock=clock)
    run(manager.access_token())
    FileTokenStore(path).save(StoredLogin(TokenSet("other", "r-other", NOW + 300, None, "full_access")))
    assert run(manager.renew_after_rejection("a0")) == "other"
    assert sage.calls == 0


def test_the_user_behind_a_login_is_kept_across_refreshes_unless_sage_names_one(tmp_path: Path) -> None:
    clock = Clock()
    store = seed(tmp_path / "tokens.json", requested_by="user-1")
    manager = TokenManager(store, FakeSage(clock).refresh, clock=clock)
    run(manager.access_token())
    assert manager.current is not None and manager.current.tokens.requested_by_id == "user-1"
    saved = store.load()
    assert saved is not None and saved.tokens.requested_by_id == "user-1"

    renamed = seed(tmp_path / "other.json", requested_by="user-1")
    manager = TokenManager(renamed, FakeSage(clock, reply={"requested_by_id": "user-2"}).refresh, clock=clock)
    run(manager.access_token())
    assert manager.current is not None and manager.current.tokens.requested_by_id == "user-2"

    nobody = seed(tmp_path / "nobody.json")
    manager = TokenManager(nobody, FakeSage(clock).refresh, clock=clock)
    run(manager.access_token())
    assert manager.current is not None and manager.current.tokens.requested_by_id is None


def test_an_expired_refresh_token_asks_for_a_new_sign_in_without_spending_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    store = seed(tmp_path / "tokens.json", refresh_left=-1)
    sage = FakeSage(clock)
    manager = TokenManager(store, sage.refresh, clock=clock)
    with pytest.raises(ReauthorizationRequired) as refused:
        run(manager.access_token())
    assert str(refused.value) == REAUTH_MESSAGE
    assert sage.calls == 0 and manager.current is None


def test_a_refresh_token_sage_refused_is_never_spent_again(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    store = seed(tmp_path / "tokens.json")
    sage = FakeSage(clock)
    sage.valid.clear()
    manager = TokenManager(store, sage.refresh, clock=clock)
    with caplog.at_level(logging.WARNING, logger="sage_mcp.sage.tokens"):
        for _ in range(3):
            with pytest.raises(ReauthorizationRequired) as refused:
                run(manager.access_token())
            assert str(refused.value) == REAUTH_MESSAGE
    assert sage.calls == 1 and manager.current is None and manager.refresh_count == 0
    assert [r.getMessage() for r in caplog.records] == [
        "Sage refused the stored refresh token; a new sign-in is needed"
    ]
    assert REAUTH_MESSAGE == (
        "The Sage sign-in has expired or was revoked. Run `sage-mcp auth login` to sign in again"
        " (or `uvx sage-accounting-mcp auth login` where it is not installed)."
    )


def test_an_empty_refresh_token_is_not_mistaken_for_a_dead_one(tmp_path: Path) -> None:
    clock = Clock()
    store = FileTokenStore(tmp_path / "tokens.json")
    store.save(StoredLogin(TokenSet("a0", "", NOW - 1, None)))
    sage = FakeSage(clock)
    sage.valid = {""}
    assert run(TokenManager(store, sage.refresh, clock=clock).access_token()) == "a1"


def test_a_sign_in_close_to_expiry_warns_once_per_refresh_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    store = seed(tmp_path / "tokens.json", access_left=300, refresh_left=2.45 * DAY)
    manager = TokenManager(store, FakeSage(clock).refresh, clock=clock)
    with caplog.at_level(logging.WARNING, logger="sage_mcp.sage.tokens"):
        run(manager.renew_after_rejection("stale"))  # adopts the stored login: 2.45 days left
        manager._current = None
        run(manager.renew_after_rejection("stale"))  # the same refresh token: no second warning
    assert [r.getMessage() for r in caplog.records] == [
        "The Sage sign-in expires in 2.5 days; run `sage-mcp auth login` before then to keep access"
    ]


def test_no_warning_while_more_than_three_days_remain(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    for name, left in (("exact.json", 3 * DAY), ("none.json", None)):
        store = seed(tmp_path / name, access_left=300, refresh_left=left)
        with caplog.at_level(logging.WARNING, logger="sage_mcp.sage.tokens"):
            run(TokenManager(store, FakeSage(clock).refresh, clock=clock).renew_after_rejection("stale"))
    assert caplog.records == []


def test_a_refresh_logs_how_long_the_new_token_lasts_and_never_the_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    store = seed(tmp_path / "tokens.json")
    with caplog.at_level(logging.DEBUG, logger="sage_mcp.sage.tokens"):
        run(TokenManager(store, FakeSage(clock).refresh, clock=clock).access_token())
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["Sage access token refreshed; valid for 300 s"]


def test_an_environment_refresh_token_seeds_an_empty_store(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    store = FileTokenStore(tmp_path / "tokens.json")
    sage = FakeSage(clock)
    manager = TokenManager(store, sage.refresh, clock=clock, bootstrap_refresh_token="r0")
    with caplog.at_level(logging.INFO, logger="sage_mcp.sage.tokens"):
        assert run(manager.access_token()) == "a1"
    assert "Seeding the token store from SAGE_REFRESH_TOKEN" in [r.getMessage() for r in caplog.records]
    saved = store.load()
    assert saved is not None
    assert (saved.tokens.refresh_token, saved.business_id, saved.extra) == ("r1", None, {})


@pytest.mark.skipif(os.name == "nt", reason="Windows cannot open a folder to flush it")
def test_a_save_reaches_the_disk_file_and_folder_before_it_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a rotated refresh token lost in a power cut means a new sign-in: the new file's bytes are flushed,
    # then the folder, so that the rename that put the file in place survives too
    flushed: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        flushed.append("folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    FileTokenStore(tmp_path / "tokens.json").save(StoredLogin(TokenSet("a1", "r1", NOW + 300)))
    assert flushed == ["file", "folder"]


def test_on_windows_a_save_does_not_open_the_folder_and_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileTokenStore(tmp_path / "tokens.json")
    real_open = os.open

    def windows_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if os.path.isdir(path):
            raise PermissionError(13, "Permission denied", str(path))  # as Windows answers for a folder
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "name", "nt")
    monkeypatch.setattr(os, "open", windows_open)
    store.save(StoredLogin(TokenSet("a1", "r1", NOW + 300), business_id="b-1"))
    monkeypatch.undo()
    loaded = store.load()
    assert loaded is not None and (loaded.tokens.refresh_token, loaded.business_id) == ("r1", "b-1")
