"""What happens to the writes of one unit of work (a tool call): sent, replayed from Sage, or only planned.

Three modes, each set by a caller around a unit of work through a context variable; the Sage client
consults :func:`current` for every request other than a GET:

- :class:`WriteLog` (sending): every write is sent; the path of each record written is noted, so a
  later repeat of the same call can read those records back.
- :class:`Replay`: nothing is sent; each write is answered by reading the record the original call
  wrote at that step (its path from the original :class:`WriteLog`), so the caller gets the record
  as it is now, in the shape a write returns.
- :class:`DryRun`: nothing is sent; the first write is recorded (method, path, query, body) with the
  record it would change, read from Sage, and the work stops with :class:`DryRunStop`. That is what a
  preview shows before the user confirms.

Knows nothing about MCP or tools: only Sage paths and bodies.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


def record_path(method: str, path: str, body: Any) -> str | None:
    """The path of the record a successful write touched: ``/collection/id``.

    A PUT or DELETE names it in its path; a POST's answer carries the new record's ``id``
    (a POST to an action such as ``/sales_invoices/{id}/release`` answers with that record).
    """
    clean = path.split("?", 1)[0]
    parts = [p for p in clean.strip("/").split("/") if p]
    if not parts:
        return None
    if method in ("PUT", "DELETE") and len(parts) >= 2:
        return f"/{parts[0]}/{parts[1]}"
    if isinstance(body, Mapping) and body.get("id") is not None:
        return f"/{parts[0]}/{body['id']}"
    if len(parts) >= 2:
        return f"/{parts[0]}/{parts[1]}"
    return None


@dataclass
class WriteLog:
    """Writes are sent; each successful one's record path is appended (``None`` when it has none)."""

    records: list[str | None] = field(default_factory=list)


class ReplayUnavailable(Exception):
    """A replayed call tried a write the original call did not make (or made without a record)."""


@dataclass
class Replay:
    """Writes are not sent: each reads the record the original call wrote to the same collection (the
    same record when the write names one), so a repeat that skips a step (a contact found this time
    instead of created) still reads the right records."""

    records: list[str | None]
    used: set[int] = field(default_factory=set)

    def next_path(self, method: str, path: str) -> str:
        parts = [p for p in path.split("?", 1)[0].strip("/").split("/") if p]
        named = f"/{parts[0]}/{parts[1]}" if len(parts) >= 2 else None
        same_collection = [
            i
            for i, known in enumerate(self.records)
            if known is not None and i not in self.used and parts and known.split("/")[1] == parts[0]
        ]
        exact = [i for i in same_collection if self.records[i] == named]
        chosen = (exact or same_collection)[:1]
        if not chosen:
            raise ReplayUnavailable(f"the original call wrote no record for {method} {path.split('?', 1)[0]}")
        self.used.add(chosen[0])
        return str(self.records[chosen[0]])


class DryRunStop(Exception):
    """Raised at the first write of a dry run: nothing was sent."""


@dataclass
class PlannedWrite:
    method: str
    path: str
    params: dict[str, Any]
    body: Any
    record: dict[str, Any] | None = None
    """The record the write would change, as Sage has it now (``None`` for a new record)."""


@dataclass
class DryRun:
    """Writes are not sent: the first is kept in ``planned`` and the work stops."""

    planned: PlannedWrite | None = None


WriteMode = WriteLog | Replay | DryRun

_mode: ContextVar[WriteMode | None] = ContextVar("sage_write_mode", default=None)


def current() -> WriteMode | None:
    return _mode.get()


class using:
    """``with using(mode):`` — the writes inside go through ``mode``."""

    def __init__(self, mode: WriteMode) -> None:
        self.mode = mode
        self._token: Any = None

    def __enter__(self) -> WriteMode:
        self._token = _mode.set(self.mode)
        return self.mode

    def __exit__(self, *exc: object) -> None:
        _mode.reset(self._token)


def local_write(path: str, size: int, *, overwrite: bool) -> None:
    """Called before a tool writes a local file: a dry run notes it and stops there."""
    mode = _mode.get()
    if isinstance(mode, DryRun):
        replaces = os.path.lexists(path)
        mode.planned = PlannedWrite("WRITE FILE", path, {"overwrite": overwrite, "replaces": replaces}, {"bytes": size})
        raise DryRunStop(f"{path} not written (dry run)")
