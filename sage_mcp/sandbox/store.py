"""The sandbox's sqlite database: one generic record table for every Sage resource, plus the
tables that are not resources (businesses and who may use them, sequences, ledger postings,
idempotency replays, OAuth codes, grants and tokens).

Records are stored as the JSON the API answers with (amounts already as decimal strings), keyed by
``(business_id, resource, id)`` and ordered by an autoincrement ``seq`` (creation order).  Adding a
Sage resource therefore needs no schema change.

Every record also has a row in ``record_index`` (same ``seq``): a few columns taken from its JSON
when it is written, so that lists can filter, sort, count and page in SQL and decode only the
records of the page they answer (:meth:`Store.count_index`, :meth:`Store.select_index`).  The
generic columns (``status``, ``contact_id``, ``kind``, ``stamp``, ``deleted_at``, ``created_at``,
``updated_at``) are the same for every resource (``status`` is the ``status`` link's id, or ``DELETED``
for a record without one whose ``deleted`` is true: a voided or deleted transaction); ``date``,
``search`` and ``order_key`` come from the
indexer a collection registers for its resource (:func:`register_indexer`).  A database whose
``index_version`` meta differs from :data:`INDEX_VERSION` has its index rebuilt on opening
(:meth:`Store.ensure_index`); bump the version whenever what an indexer computes changes.

One connection serves the whole instance.  Every access holds ``Store.lock`` (an ``RLock``), and
request handlers run inside :meth:`Store.transaction`, so a request is atomic and requests never
interleave, whichever thread (uvicorn's loop, or a test calling ``mint_tokens``) touches the data.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from .context import parse_timestamp, utc_text

#: ``record_index.status`` of a record without a status link whose ``deleted`` is true (a voided or
#: deleted transaction).
DELETED_STATUS = "DELETED"
#: Version of what ``record_index`` holds (see the module docstring).
INDEX_VERSION = "4"
#: Separates the parts of ``record_index.search`` and of the ``kind`` of a record with several types.
INDEX_SEPARATOR = "\x1f"

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
{record_index}
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


#: The ``record_index`` table and its indexes (each statement on its own: a rebuild drops and remakes them).
RECORD_INDEX_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS record_index (
    seq INTEGER PRIMARY KEY,
    business_id TEXT NOT NULL,
    resource TEXT NOT NULL,
    date TEXT NOT NULL,
    status TEXT,
    contact_id TEXT,
    kind TEXT,
    search TEXT,
    stamp TEXT,
    deleted_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    order_key BLOB
)""",
    # ``search`` is in the order index so that a search scans the index only, in list order
    "CREATE INDEX IF NOT EXISTS record_index_by_order ON record_index (business_id, resource, order_key, search)",
    "CREATE INDEX IF NOT EXISTS record_index_by_date ON record_index (business_id, resource, date)",
    "CREATE INDEX IF NOT EXISTS record_index_by_contact ON record_index (business_id, resource, contact_id, order_key)",
    "CREATE INDEX IF NOT EXISTS record_index_by_status ON record_index (business_id, resource, status, order_key)",
)
SCHEMA = SCHEMA.format(record_index=";\n".join(RECORD_INDEX_SCHEMA) + ";")


def hash_secret(value: str) -> str:
    """Tokens and codes are stored only as their SHA-256."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def derive_id(*parts: object) -> str:
    """A deterministic 32-character lower-case hex id (Sage's id format) from ``parts``."""
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def dumps(obj: Any) -> str:
    """A record as stored (compact JSON)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------------------------------------- the index

#: A resource's own index columns of a record: ``(date, search, order_key)``.
Indexer = Callable[[Mapping[str, Any]], tuple[str, str | None, bytes | None]]
_INDEXERS: dict[str, Indexer] = {}
_INDEX_COLUMNS = "date, status, contact_id, kind, search, stamp, deleted_at, created_at, updated_at, order_key"
INSERT_RECORD = "INSERT INTO records (business_id, resource, id, data) VALUES (?, ?, ?, ?)"
UPDATE_RECORD = "UPDATE records SET data = ? WHERE business_id = ? AND resource = ? AND id = ?"
_SEQ_OF = "SELECT seq FROM records WHERE business_id = ? AND resource = ? AND id = ?"
INSERT_INDEX = (
    f"INSERT INTO record_index (seq, business_id, resource, {_INDEX_COLUMNS})"
    " SELECT seq, business_id, resource, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
    " FROM records WHERE business_id = ? AND resource = ? AND id = ?"
)
UPDATE_INDEX = (
    "UPDATE record_index SET date = ?, status = ?, contact_id = ?, kind = ?, search = ?, stamp = ?,"
    f" deleted_at = ?, created_at = ?, updated_at = ?, order_key = ? WHERE seq = ({_SEQ_OF})"
)
_DELETE_INDEX = f"DELETE FROM record_index WHERE seq = ({_SEQ_OF})"


def register_indexer(resource: str, indexer: Indexer) -> None:
    """Use ``indexer`` for the ``date``, ``search`` and ``order_key`` columns of ``resource``'s records."""
    _INDEXERS[resource] = indexer


def _link_id(value: object) -> str | None:
    if isinstance(value, Mapping) and value.get("id") is not None:
        return str(value["id"])
    return None


def _stamp(value: object) -> str | None:
    parsed = parse_timestamp(str(value or ""))
    return None if parsed is None else utc_text(parsed)


def _raw(value: object) -> str:
    return "" if value is None else str(value)


def _kind(obj: Mapping[str, Any]) -> str | None:
    """The record's type: its ``transaction_type`` id, or its contact types as ``<sep>A<sep>B<sep>``."""
    kind = _link_id(obj.get("transaction_type"))
    if kind is not None:
        return kind
    types = obj.get("contact_types")
    if isinstance(types, list):
        ids = [str(t.get("id")) for t in types if isinstance(t, Mapping)]
        return INDEX_SEPARATOR + INDEX_SEPARATOR.join(ids) + INDEX_SEPARATOR
    return None


def index_values(resource: str, obj: Mapping[str, Any]) -> tuple[Any, ...]:
    """The ``record_index`` columns of a record (see the module docstring)."""
    indexer = _INDEXERS.get(resource)
    date, search, order_key = indexer(obj) if indexer is not None else ("", None, None)
    status = _link_id(obj.get("status"))
    if status is None and obj.get("deleted") is True:
        status = DELETED_STATUS
    return (
        date,
        status,
        _link_id(obj.get("contact")),
        _kind(obj),
        search,
        _stamp(obj.get("updated_at") or obj.get("created_at")),
        _stamp(obj.get("deleted_at")),
        _raw(obj.get("created_at")),
        _raw(obj.get("updated_at")),
        order_key,
    )


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
            if self._conn.execute("SELECT 1 FROM records LIMIT 1").fetchone() is None:
                # a new database is indexed as it is written
                self._conn.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('index_version', ?)", (INDEX_VERSION,)
                )

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
        self.execute("INSERT OR REPLACE INTO users (id, data) VALUES (?, ?)", (user["id"], dumps(user)))

    def get_user(self, user_id: str) -> dict[str, Any] | None:
        row = self.execute("SELECT data FROM users WHERE id = ?", (user_id,)).fetchone()
        return None if row is None else dict(json.loads(row["data"]))

    def put_business(self, business: dict[str, Any], position: int, owner_user_id: str) -> None:
        self.execute(
            "INSERT OR REPLACE INTO businesses (id, position, owner_user_id, data) VALUES (?, ?, ?, ?)",
            (business["id"], position, owner_user_id, dumps(business)),
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
        self.insert_many(business_id, resource, [obj])

    def insert_many(self, business_id: str, resource: str, objs: list[dict[str, Any]]) -> None:
        with self.lock:
            self._conn.executemany(INSERT_RECORD, [(business_id, resource, str(o["id"]), dumps(o)) for o in objs])
            self._conn.executemany(INSERT_INDEX, [self.index_params(business_id, resource, o) for o in objs])

    @staticmethod
    def index_params(business_id: str, resource: str, obj: Mapping[str, Any]) -> tuple[Any, ...]:
        """Parameters of :data:`INSERT_INDEX` and :data:`UPDATE_INDEX` for one record."""
        return (*index_values(resource, obj), business_id, resource, str(obj["id"]))

    def replace(self, business_id: str, resource: str, obj: dict[str, Any]) -> None:
        with self.lock:
            cur = self._conn.execute(UPDATE_RECORD, (dumps(obj), business_id, resource, obj["id"]))
            if cur.rowcount != 1:
                raise KeyError(f"{resource}/{obj['id']} does not exist")
            self._conn.execute(UPDATE_INDEX, self.index_params(business_id, resource, obj))

    def get(self, business_id: str, resource: str, record_id: str) -> dict[str, Any] | None:
        row = self.execute(
            "SELECT data FROM records WHERE business_id = ? AND resource = ? AND id = ?",
            (business_id, resource, record_id),
        ).fetchone()
        return None if row is None else dict(json.loads(row["data"]))

    def delete(self, business_id: str, resource: str, record_id: str) -> bool:
        key = (business_id, resource, record_id)
        with self.lock:
            self._conn.execute(_DELETE_INDEX, key)
            cur = self._conn.execute("DELETE FROM records WHERE business_id = ? AND resource = ? AND id = ?", key)
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

    def fields_of_contacts(
        self, business_id: str, resource: str, contact_ids: Iterable[str], *paths: str
    ) -> list[tuple[Any, ...]]:
        """:meth:`fields` of the records linked to the given contacts only (found through the index)."""
        wanted = sorted(set(contact_ids))
        if not wanted:
            return []
        columns = ", ".join("json_extract(r.data, ?)" for _ in paths)
        marks = ", ".join("?" for _ in wanted)
        rows = self.execute(
            f"SELECT {columns} FROM record_index i JOIN records r ON r.seq = i.seq"
            f" WHERE i.business_id = ? AND i.resource = ? AND i.contact_id IN ({marks}) ORDER BY i.seq",
            (*paths, business_id, resource, *wanted),
        ).fetchall()
        return [tuple(r) for r in rows]

    def count_index(self, business_id: str, resource: str, where: Sequence[str], params: Sequence[Any]) -> int:
        """How many records of a resource meet every condition of ``where`` (SQL over ``record_index``)."""
        clauses = " ".join(f"AND ({w})" for w in where)
        row = self.execute(
            f"SELECT COUNT(*) FROM record_index WHERE business_id = ? AND resource = ? {clauses}",
            (business_id, resource, *params),
        ).fetchone()
        return int(row[0])

    def select_index(
        self,
        business_id: str,
        resource: str,
        where: Sequence[str],
        params: Sequence[Any],
        order_by: str,
        limit: int,
        offset: int,
    ) -> list[dict[str, Any]]:
        """The records of one page: ``where`` and ``order_by`` are SQL over ``record_index`` columns."""
        clauses = " ".join(f"AND ({w})" for w in where)
        with self.lock:
            rows = self.execute(
                f"SELECT seq FROM record_index WHERE business_id = ? AND resource = ? {clauses}"
                f" ORDER BY {order_by} LIMIT ? OFFSET ?",
                (business_id, resource, *params, limit, offset),
            ).fetchall()
            seqs = [int(r[0]) for r in rows]
            if not seqs:
                return []
            marks = ", ".join("?" for _ in seqs)
            found = self.execute(f"SELECT seq, data FROM records WHERE seq IN ({marks})", tuple(seqs)).fetchall()
        data = {int(r[0]): str(r[1]) for r in found}
        return [dict(json.loads(data[seq])) for seq in seqs]

    def count(self, business_id: str, resource: str) -> int:
        row = self.execute(
            "SELECT COUNT(*) AS n FROM records WHERE business_id = ? AND resource = ?",
            (business_id, resource),
        ).fetchone()
        return int(row["n"])

    def ensure_index(self) -> None:
        """Rebuild ``record_index`` when it was made by another :data:`INDEX_VERSION` (or by none)."""
        with self.transaction():
            if self.get_meta("index_version") != INDEX_VERSION:
                self.reindex()

    def reindex(self) -> None:
        """Remake ``record_index`` (table and indexes) from the stored records."""
        with self.transaction():
            self.execute("DROP TABLE IF EXISTS record_index")
            for statement in RECORD_INDEX_SCHEMA:
                self.execute(statement)
            cursor = self._conn.execute("SELECT seq, business_id, resource, data FROM records ORDER BY seq")
            while rows := cursor.fetchmany(2000):
                self._conn.executemany(
                    f"INSERT INTO record_index (seq, business_id, resource, {_INDEX_COLUMNS})"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (r["seq"], r["business_id"], r["resource"], *index_values(r["resource"], json.loads(r["data"])))
                        for r in rows
                    ],
                )
            self.set_meta("index_version", INDEX_VERSION)
            self.analyze()

    def analyze(self) -> None:
        """Refresh sqlite's statistics of ``record_index`` (so that big lists use the best index)."""
        self.execute("ANALYZE record_index")

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
