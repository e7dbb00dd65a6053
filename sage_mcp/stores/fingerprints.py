"""Fingerprints of keyed writes: what a caller's ``idempotency_key`` was first used for.

Sage does not compare bodies when an ``idempotency_id`` repeats (it returns the first result for
any body), so the server remembers, per login and business, each key's tool and a hash of its
arguments: the same key with other arguments is refused, and a true repeat is answered from the
record the first call wrote. Entries live at least as long as Sage's 7-day replay window.

:class:`FingerprintStore` is the interface (async, storage-neutral); :class:`SqliteFingerprintStore`
keeps them in the data dir, safe for several processes sharing it.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

import anyio.to_thread

if TYPE_CHECKING:
    import sqlite3

T = TypeVar("T")

#: How long a key is remembered: a day beyond Sage's 7-day replay window.
KEEP_SECONDS = 8 * 86400


@dataclass(frozen=True)
class Fingerprint:
    """One key's first use.

    ``scope`` says whose key it is (login and business); ``digest`` hashes the call's canonical
    arguments (tool and business included); ``summary`` is one line a person can read;
    ``arguments`` the canonical arguments (long values shortened to their hash) so a refusal can say
    what differs. ``done`` turns true once the call succeeded, with ``records`` the Sage paths of
    the records it wrote, in order (``None`` for a write without one).
    """

    scope: str
    key: str
    digest: str
    tool: str
    summary: str
    arguments: str
    created_at: float
    expires_at: float
    done: bool = False
    records: tuple[str | None, ...] = ()


class FingerprintStore(Protocol):
    """Where fingerprints live. Every method is safe to call from concurrent calls and processes.

    ``claim`` must be atomic (one winner per key across processes: a transaction here; in Redis, e.g. a
    ``SET NX`` with the entry's expiry). An implementation may also offer ``close()``; the server calls it
    when it stops. Pass one to ``create_server(fingerprints=...)``.
    """

    async def claim(self, fingerprint: Fingerprint) -> Fingerprint | None:
        """Record ``fingerprint`` unless its (scope, key) already has a live entry; return that entry
        (``None`` when this one was recorded). Expired entries do not count and are purged."""
        ...

    async def get(self, scope: str, key: str) -> Fingerprint | None:
        """The live entry of (scope, key), if any."""
        ...

    async def complete(self, scope: str, key: str, records: list[str | None]) -> None:
        """Mark (scope, key) done: its call succeeded and wrote ``records``."""
        ...

    async def release(self, scope: str, key: str, digest: str) -> None:
        """Forget (scope, key) if it is still pending with ``digest``: its call changed nothing."""
        ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS fingerprints (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    digest TEXT NOT NULL,
    tool TEXT NOT NULL,
    summary TEXT NOT NULL,
    arguments TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    records TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (scope, key)
);
CREATE INDEX IF NOT EXISTS fingerprints_expiry ON fingerprints (expires_at);
"""
_COLUMNS = "scope, key, digest, tool, summary, arguments, created_at, expires_at, done, records"


class SqliteFingerprintStore:
    """Fingerprints in an sqlite file (mode 0600) in the data dir.

    One connection (WAL journal), used by one worker thread at a time so the event loop never waits on
    the disk; each operation is one ``BEGIN IMMEDIATE`` transaction, so two processes sharing the data
    dir see one first use per key.
    """

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            import sqlite3  # on the first keyed write, not at start-up

            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            self._conn = conn
        return self._conn

    def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                out = work(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return out

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @staticmethod
    def _row(row: tuple[object, ...] | None) -> Fingerprint | None:
        if row is None:
            return None
        scope, key, digest, tool, summary, arguments, created, expires, done, records = row
        return Fingerprint(
            str(scope),
            str(key),
            str(digest),
            str(tool),
            str(summary),
            str(arguments),
            float(str(created)),
            float(str(expires)),
            bool(done),
            tuple(json.loads(str(records))),
        )

    def _live(self, conn: sqlite3.Connection, scope: str, key: str) -> Fingerprint | None:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM fingerprints WHERE scope = ? AND key = ? AND expires_at > ?",
            (scope, key, self._clock()),
        ).fetchone()
        return self._row(row)

    async def claim(self, fingerprint: Fingerprint) -> Fingerprint | None:
        def work(conn: sqlite3.Connection) -> Fingerprint | None:
            conn.execute("DELETE FROM fingerprints WHERE expires_at <= ?", (self._clock(),))
            existing = self._live(conn, fingerprint.scope, fingerprint.key)
            if existing is not None:
                return existing
            f = replace(fingerprint, done=False, records=())
            conn.execute(
                f"INSERT INTO fingerprints ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, '[]')",
                (f.scope, f.key, f.digest, f.tool, f.summary, f.arguments, f.created_at, f.expires_at),
            )
            return None

        return await anyio.to_thread.run_sync(self._run, work)

    async def get(self, scope: str, key: str) -> Fingerprint | None:
        return await anyio.to_thread.run_sync(self._run, lambda conn: self._live(conn, scope, key))

    async def complete(self, scope: str, key: str, records: list[str | None]) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE fingerprints SET done = 1, records = ? WHERE scope = ? AND key = ?",
                (json.dumps(records), scope, key),
            )

        await anyio.to_thread.run_sync(self._run, work)

    async def release(self, scope: str, key: str, digest: str) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "DELETE FROM fingerprints WHERE scope = ? AND key = ? AND digest = ? AND done = 0",
                (scope, key, digest),
            )

        await anyio.to_thread.run_sync(self._run, work)
