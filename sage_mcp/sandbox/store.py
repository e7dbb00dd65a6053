"""The sandbox's sqlite database: one generic record table for every Sage resource, plus the
tables that are not resources (businesses and who may use them, sequences, ledger postings,
idempotency replays, OAuth codes, grants and tokens).

Records are stored as the JSON the API answers with (amounts already as decimal strings), keyed by
``(business_id, resource, id)`` and ordered by an autoincrement ``seq`` (creation order).  Adding a
Sage resource therefore needs no schema change.

One connection serves the whole instance.  Every access holds ``Store.lock`` (an ``RLock``), and
request handlers run inside :meth:`Store.transaction`, so a request is atomic and requests never
interleave, whichever thread (uvicorn's loop, or a test calling ``mint_tokens``) touches the data.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS businesses (
    id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    owner_user_id TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS business_users (
    business_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    is_lead INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (business_id, user_id)
);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    business_id TEXT NOT NULL,
    resource TEXT NOT NULL,
    id TEXT NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (business_id, resource, id)
);
CREATE INDEX IF NOT EXISTS records_by_resource ON records (business_id, resource, seq);
CREATE TABLE IF NOT EXISTS sequences (
    business_id TEXT NOT NULL,
    name TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (business_id, name)
);
CREATE TABLE IF NOT EXISTS ledger_entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    business_id TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    transaction_type_id TEXT NOT NULL,
    date TEXT NOT NULL,
    ledger_account_id TEXT NOT NULL,
    debit TEXT NOT NULL,
    credit TEXT NOT NULL,
    details TEXT NOT NULL DEFAULT '',
    contact_id TEXT,
    origin_resource TEXT,
    origin_id TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_by_business ON ledger_entries (business_id, seq);
CREATE INDEX IF NOT EXISTS ledger_by_transaction ON ledger_entries (business_id, transaction_id);
CREATE TABLE IF NOT EXISTS idempotency (
    business_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    idempotency_id TEXT NOT NULL,
    resource TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (business_id, user_id, idempotency_id)
);
CREATE TABLE IF NOT EXISTS oauth_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    user_id TEXT NOT NULL,
    code_challenge TEXT,
    code_challenge_method TEXT,
    issued_at REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS oauth_grants (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    created_at REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS oauth_tokens (
    token_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    grant_id TEXT NOT NULL,
    issued_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    state TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tokens_by_grant ON oauth_tokens (grant_id);
"""


def hash_secret(value: str) -> str:
    """Tokens and codes are stored only as their SHA-256."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def derive_id(*parts: object) -> str:
    """A deterministic 32-character lower-case hex id (Sage's id format) from ``parts``."""
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class Store:
    """Thread-safe access to the sandbox database (see the module docstring)."""

    def __init__(self, db_path: str | None, id_seed: object) -> None:
        self.lock = threading.RLock()
        self._depth = 0
        self._id_seed = id_seed
        self._conn = sqlite3.connect(db_path if db_path else ":memory:", check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        with self.lock:
            if db_path:
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(SCHEMA)

    def close(self) -> None:
        with self.lock:
            self._conn.close()

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the lock and run everything inside in one sqlite transaction (re-entrant)."""
        with self.lock:
            outermost = self._depth == 0
            if outermost:
                self._conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outermost:
                    self._conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outermost:
                self._conn.execute("COMMIT")

    def execute(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> sqlite3.Cursor:
        with self.lock:
            return self._conn.execute(sql, params)

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        with self.lock:
            self._conn.executemany(sql, rows)

    # ------------------------------------------------------------------ meta and ids

    def get_meta(self, key: str) -> str | None:
        row = self.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row["value"])

    def set_meta(self, key: str, value: str) -> None:
        self.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def next_value(self, business_id: str, name: str) -> int:
        """Increment and return a named counter (invoice numbers, id generation ...)."""
        with self.transaction():
            row = self.execute(
                "SELECT value FROM sequences WHERE business_id = ? AND name = ?", (business_id, name)
            ).fetchone()
            value = (int(row["value"]) if row else 0) + 1
            self.execute(
                "INSERT OR REPLACE INTO sequences (business_id, name, value) VALUES (?, ?, ?)",
                (business_id, name, value),
            )
            return value

    def peek_value(self, business_id: str, name: str) -> int:
        row = self.execute(
            "SELECT value FROM sequences WHERE business_id = ? AND name = ?", (business_id, name)
        ).fetchone()
        return int(row["value"]) if row else 0

    def new_id(self, kind: str) -> str:
        """A fresh 32-hex id: deterministic for a given seed and order of creation."""
        return derive_id(self._id_seed, "runtime", kind, self.next_value("", "id"))

    # ------------------------------------------------------------------ users and businesses

    def put_user(self, user: dict[str, Any]) -> None:
        self.execute("INSERT OR REPLACE INTO users (id, data) VALUES (?, ?)", (user["id"], _dumps(user)))

    def get_user(self, user_id: str) -> dict[str, Any] | None:
        row = self.execute("SELECT data FROM users WHERE id = ?", (user_id,)).fetchone()
        return None if row is None else dict(json.loads(row["data"]))

    def put_business(self, business: dict[str, Any], position: int, owner_user_id: str) -> None:
        self.execute(
            "INSERT OR REPLACE INTO businesses (id, position, owner_user_id, data) VALUES (?, ?, ?, ?)",
            (business["id"], position, owner_user_id, _dumps(business)),
        )

    def get_business(self, business_id: str) -> dict[str, Any] | None:
        row = self.execute("SELECT data FROM businesses WHERE id = ?", (business_id,)).fetchone()
        return None if row is None else dict(json.loads(row["data"]))

    def grant_business(self, business_id: str, user_id: str, *, lead: bool) -> None:
        self.execute(
            "INSERT OR REPLACE INTO business_users (business_id, user_id, is_lead) VALUES (?, ?, ?)",
            (business_id, user_id, 1 if lead else 0),
        )

    def user_businesses(self, user_id: str) -> list[dict[str, Any]]:
        """The businesses ``user_id`` may use: lead first, then in creation order."""
        rows = self.execute(
            "SELECT b.data FROM businesses b JOIN business_users u ON u.business_id = b.id "
            "WHERE u.user_id = ? ORDER BY u.is_lead DESC, b.position",
            (user_id,),
        ).fetchall()
        return [dict(json.loads(r["data"])) for r in rows]

    def lead_business_id(self, user_id: str) -> str | None:
        row = self.execute(
            "SELECT business_id FROM business_users WHERE user_id = ? ORDER BY is_lead DESC LIMIT 1",
            (user_id,),
        ).fetchone()
        return None if row is None else str(row["business_id"])

    def may_use_business(self, user_id: str, business_id: str) -> bool:
        row = self.execute(
            "SELECT 1 FROM business_users WHERE user_id = ? AND business_id = ?", (user_id, business_id)
        ).fetchone()
        return row is not None

    # ------------------------------------------------------------------ generic records

    def insert(self, business_id: str, resource: str, obj: dict[str, Any]) -> None:
        self.execute(
            "INSERT INTO records (business_id, resource, id, data) VALUES (?, ?, ?, ?)",
            (business_id, resource, obj["id"], _dumps(obj)),
        )

    def insert_many(self, business_id: str, resource: str, objs: list[dict[str, Any]]) -> None:
        self.executemany(
            "INSERT INTO records (business_id, resource, id, data) VALUES (?, ?, ?, ?)",
            [(business_id, resource, o["id"], _dumps(o)) for o in objs],
        )

    def replace(self, business_id: str, resource: str, obj: dict[str, Any]) -> None:
        cur = self.execute(
            "UPDATE records SET data = ? WHERE business_id = ? AND resource = ? AND id = ?",
            (_dumps(obj), business_id, resource, obj["id"]),
        )
        if cur.rowcount != 1:
            raise KeyError(f"{resource}/{obj['id']} does not exist")

    def get(self, business_id: str, resource: str, record_id: str) -> dict[str, Any] | None:
        row = self.execute(
            "SELECT data FROM records WHERE business_id = ? AND resource = ? AND id = ?",
            (business_id, resource, record_id),
        ).fetchone()
        return None if row is None else dict(json.loads(row["data"]))

    def delete(self, business_id: str, resource: str, record_id: str) -> bool:
        cur = self.execute(
            "DELETE FROM records WHERE business_id = ? AND resource = ? AND id = ?",
            (business_id, resource, record_id),
        )
        return cur.rowcount == 1

    def all(self, business_id: str, resource: str) -> list[dict[str, Any]]:
        """Every record of a resource in creation order."""
        rows = self.execute(
            "SELECT data FROM records WHERE business_id = ? AND resource = ? ORDER BY seq",
            (business_id, resource),
        ).fetchall()
        return [dict(json.loads(r["data"])) for r in rows]

    def fields(self, business_id: str, resource: str, *paths: str) -> list[tuple[Any, ...]]:
        """Selected JSON fields (``$.contact.id`` ...) of every record, without decoding whole records."""
        columns = ", ".join("json_extract(data, ?)" for _ in paths)
        rows = self.execute(
            f"SELECT {columns} FROM records WHERE business_id = ? AND resource = ? ORDER BY seq",
            (*paths, business_id, resource),
        ).fetchall()
        return [tuple(r) for r in rows]

    def count(self, business_id: str, resource: str) -> int:
        row = self.execute(
            "SELECT COUNT(*) AS n FROM records WHERE business_id = ? AND resource = ?",
            (business_id, resource),
        ).fetchone()
        return int(row["n"])

    def dump(self) -> dict[str, Any]:
        """Everything, as plain data (used to compare two sandboxes)."""
        with self.lock:
            result: dict[str, Any] = {}
            for table, order in (
                ("users", "id"),
                ("businesses", "id"),
                ("business_users", "business_id, user_id"),
                ("records", "seq"),
                ("sequences", "business_id, name"),
                ("ledger_entries", "seq"),
            ):
                rows = self._conn.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
                result[table] = [dict(r) for r in rows]
            return result
