"""A caller's ``idempotency_key``: one key, one call.

Every write that carries a key is fingerprinted before anything is sent: the canonical JSON of its
validated arguments (the key itself and any confirmation token left out), with the tool and the
business, hashed. The first use of a key is kept (per login and business) in a
:class:`~sage_mcp.stores.FingerprintStore`; then

- the same key with other arguments (or for another tool) is refused, naming the earlier call and
  what differs — nothing is sent;
- the same key with the same arguments after the first call succeeded is a replay: nothing is sent,
  the handler runs with each write answered by reading the record the first call wrote
  (:class:`~sage_mcp.sage.writeplan.Replay`), so the result is the record as it is now, marked
  ``replayed: true``;
- the same key while the first call's outcome is unknown (it failed midway or timed out, or runs
  right now) goes to Sage again with the same ``idempotency_id``, which Sage does not record twice.

A call that changed nothing (refused before sending, or refused by Sage) forgets its key, so the
caller can correct the arguments and use it again.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sage_mcp.excerpt import excerpt
from sage_mcp.sage.errors import NotSignedInError, SageAPIError
from sage_mcp.sage.writeplan import Replay, WriteLog
from sage_mcp.stores.fingerprints import KEEP_SECONDS, Fingerprint, FingerprintStore
from sage_mcp.tools._base import ToolContext, ToolError

#: Arguments that do not make a call different.
NOT_COMPARED = frozenset({"idempotency_key", "confirmation_token"})
#: Longer string values (file contents …) are kept and compared by their hash only.
LONGEST_KEPT = 200
MAX_SUMMARY = 160
MAX_DIFFERENCES = 5


def comparable(value: Any) -> Any:
    """``value`` with strings longer than :data:`LONGEST_KEPT` replaced by their hash and length."""
    if isinstance(value, str) and len(value) > LONGEST_KEPT:
        return f"sha256:{hashlib.sha256(value.encode()).hexdigest()[:16]} ({len(value):,} characters)"
    if isinstance(value, Mapping):
        return {str(k): comparable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [comparable(v) for v in value]
    return value


def canonical(args: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments that define what a call does, long values shortened."""
    return {k: comparable(v) for k, v in sorted(args.items()) if k not in NOT_COMPARED}


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def digest(tool: str, business: str, args: Mapping[str, Any]) -> str:
    payload = canonical_json({"tool": tool, "business": business, "arguments": canonical(args)})
    return hashlib.sha256(payload.encode()).hexdigest()


def summary(tool: str, args: Mapping[str, Any]) -> str:
    """One line naming the call: the tool and its top-level arguments (lists by their length)."""
    parts: list[str] = []
    for key, value in canonical(args).items():
        if key == "business_id":
            continue
        if isinstance(value, list):
            parts.append(f"{key}: {len(value)} item{'s' if len(value) != 1 else ''}")
        elif isinstance(value, Mapping):
            parts.append(f"{key}: {{{', '.join(f'{k}={excerpt(v, 30)}' for k, v in value.items())}}}")
        else:
            parts.append(f"{key}={excerpt(value, 40)}")
    line = f"{tool}({', '.join(parts)})"
    return line if len(line) <= MAX_SUMMARY else line[: MAX_SUMMARY - 1] + "…"


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out or {prefix: {}}
    if isinstance(value, list):
        out = {}
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out or {prefix: []}
    return {prefix: value}


def differences(earlier: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """What differs between two canonical argument sets, field by field (at most a few)."""
    a, b = _flatten(earlier), _flatten(now)
    found: list[str] = []
    for path in sorted(a.keys() | b.keys()):
        if a.get(path, _MISSING) == b.get(path, _MISSING):
            continue
        before = "not given" if path not in a else excerpt(a[path], 40)
        after = "not given" if path not in b else excerpt(b[path], 40)
        found.append(f"{path}: {before} then, {after} now")
    if len(found) > MAX_DIFFERENCES:
        found = [*found[:MAX_DIFFERENCES], f"and {len(found) - MAX_DIFFERENCES} more"]
    return found


_MISSING = object()


class KeyRefused(ToolError):
    """The key was first used for another call: nothing is sent."""


@dataclass
class KeyedCall:
    """One call carrying a key, from its check to its outcome."""

    store: FingerprintStore
    fingerprint: Fingerprint
    owner: bool
    """This call made the entry (so it may forget it when it changed nothing)."""
    replay: Replay | None = None
    log: WriteLog = field(default_factory=WriteLog)

    @property
    def mode(self) -> Replay | WriteLog:
        return self.replay if self.replay is not None else self.log

    async def succeeded(self) -> None:
        if self.replay is None:
            await self.store.complete(self.fingerprint.scope, self.fingerprint.key, self.log.records)

    async def failed(self, exc: BaseException | None, *, writes_sent: int) -> None:
        """Forget the key when the call certainly changed nothing; otherwise keep it so a repeat with the
        same arguments goes to Sage with the same id, and other arguments are still refused."""
        if self.replay is not None or not self.owner:
            return
        refused = isinstance(exc, SageAPIError) and 400 <= exc.status < 500 and exc.status != 408
        if writes_sent == 0 or (refused and not any(self.log.records)):
            await self.store.release(self.fingerprint.scope, self.fingerprint.key, self.fingerprint.digest)


class KeyGuard:
    """Checks each keyed write against the first use of its key."""

    def __init__(self, store: FingerprintStore, *, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    async def open(self, ctx: ToolContext, tool: str, args: Mapping[str, Any], key: str | None = None) -> KeyedCall:
        """Claim the key (the call's ``idempotency_key`` unless given) for this call, or find the call that
        used it first.

        Raises :class:`KeyRefused` when the key was used with other arguments.
        """
        key = key or str(args["idempotency_key"])
        business = ctx.scope.id if ctx.scope else ""
        scope = f"{await login_id(ctx)}|{business}"
        now = self.clock()
        mine = Fingerprint(
            scope=scope,
            key=key,
            digest=digest(tool, business, args),
            tool=tool,
            summary=summary(tool, args),
            arguments=canonical_json(canonical(args)),
            created_at=now,
            expires_at=now + KEEP_SECONDS,
        )
        earlier = await self.store.claim(mine)
        if earlier is None:
            return KeyedCall(self.store, mine, owner=True)
        if earlier.digest != mine.digest:
            raise KeyRefused(refusal(key, earlier, mine))
        if earlier.done:
            return KeyedCall(self.store, earlier, owner=False, replay=Replay(list(earlier.records)))
        return KeyedCall(self.store, earlier, owner=False)


async def login_id(ctx: ToolContext) -> str:
    """Who is signed in to Sage (Sage's user id from the login), so keys of two logins never meet."""
    try:
        login = await ctx.sage.tokens.login()
    except NotSignedInError:
        return "-"
    return login.tokens.requested_by_id or "-"


def when(stamp: float) -> str:
    return datetime.datetime.fromtimestamp(stamp, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def refusal(key: str, earlier: Fingerprint, now: Fingerprint) -> str:
    if earlier.tool != now.tool:
        what = f"this call is {now.tool}, not {earlier.tool}"
    else:
        found = differences(json.loads(earlier.arguments), json.loads(now.arguments))
        what = "; ".join(found) if found else "the arguments differ"
    return (
        f"idempotency_key {excerpt(key, 70)} was already used on {when(earlier.created_at)} for "
        f"{earlier.summary}; this call is {now.summary}. What differs: {what}. Nothing was sent to Sage. "
        "A key stands for one call: to repeat that call, send exactly its arguments again; "
        "for a different one, use a new key."
    )


def replay_unavailable(key: str, earlier: Fingerprint, reason: str) -> str:
    return (
        f"idempotency_key {excerpt(key, 70)} was already used on {when(earlier.created_at)} for {earlier.summary}, "
        f"and that call succeeded, but its result cannot be read back ({reason}). Nothing was sent to Sage; "
        "look the record up with the list tools. To do it again on purpose, use a new key."
    )
