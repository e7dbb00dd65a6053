"""Running one tool call: validate, scope, guard the write, stop at the deadline, audit, answer.

Imported on a server's first ``tools/call`` (not at start-up: listing tools needs none of it).
"""

from __future__ import annotations

import datetime
import json
import logging
import math
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
from mcp.types import CallToolResult, InputRequiredResult

from sage_mcp.config import Settings
from sage_mcp.excerpt import excerpt
from sage_mcp.registry import Registry
from sage_mcp.results import failure, from_exception, invalid_arguments, success
from sage_mcp.safety.confirm import Asker, TokenSigner
from sage_mcp.safety.guard import WriteGuard, answered_pending
from sage_mcp.sage.client import MAX_RETRY_AFTER, CallBudget, SageClient, call_budget, write_request_ids
from sage_mcp.sage.errors import SageRetryLaterError
from sage_mcp.stores.fingerprints import FingerprintStore, SqliteFingerprintStore
from sage_mcp.tools._base import RootsFn, ToolContext, group_arguments, resolve_business

log = logging.getLogger("sage_mcp.server")


class AuditLog:
    """Every write, one JSON line: time, business, tool, idempotency id, Sage's request ids, outcome.

    Never arguments or secrets. Mode 0600, appended; a failure to write it is logged, not fatal.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, ctx: ToolContext, request_ids: list[str], *, outcome: str, record_id: Any = None) -> None:
        self.write(self.entry(ctx, request_ids, outcome=outcome, record_id=record_id))

    @staticmethod
    def entry(ctx: ToolContext, request_ids: list[str], *, outcome: str, record_id: Any = None) -> dict[str, Any]:
        return {
            "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "business": ctx.scope.id if ctx.scope else None,
            "tool": ctx.tool_name,
            "idempotency_id": ctx.idempotency_used,
            "record_id": record_id,
            "sage_request_ids": request_ids,
            "outcome": outcome,
        }

    def write(self, entry: dict[str, Any]) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry) + "\n")
        except OSError as exc:
            log.warning("could not write the audit log %s: %s", self.path, exc)


class Dispatcher:
    """Validates, scopes and runs one tool call; turns every outcome into a ``CallToolResult``."""

    def __init__(
        self,
        registry: Registry,
        settings: Settings,
        *,
        fingerprints: FingerprintStore | None = None,
        confirm_signer: TokenSigner | None = None,
    ) -> None:
        self.registry = registry
        self.settings = settings
        self.audit = AuditLog(settings.audit_log_path)
        self.writes = WriteGuard(
            fingerprints or SqliteFingerprintStore(settings.fingerprint_store_path), settings, signer=confirm_signer
        )

    async def call(
        self,
        sage: SageClient,
        name: str,
        arguments: Mapping[str, Any] | None,
        progress: Any = None,
        *,
        client_roots: RootsFn | None = None,
        over_http: bool = False,
        asker: Asker | None = None,
        audit: AuditLog | None = None,
    ) -> CallToolResult | InputRequiredResult:
        """Run one call within ``settings.call_timeout`` seconds. ``client_roots`` asks the client for
        the folders it shares (a local legacy-era client that declared roots); ``over_http`` says the
        client may be remote (its roots are then not used for files); ``asker`` says how the user can
        be asked to confirm an irreversible write (none: a preview and a confirmation token).
        ``audit`` replaces the local audit log for this call (hosted mode: the signed-in user's stream)."""
        audit_log = audit or self.audit
        tool = self.registry.get(name)
        if tool is None and (elsewhere := self.registry.not_offered(name)):
            return failure(elsewhere)
        if tool is None:
            available = ", ".join(self.registry.tools) or "none"
            return failure(f"Unknown tool {excerpt(name)}. Available tools: {available}.")
        args = group_arguments(tool.spec.input_schema, dict(arguments or {}))
        errors = list(tool.validator.iter_errors(args))
        if errors:
            return invalid_arguments(name, errors, tool.spec.input_schema)
        ctx = ToolContext(sage=sage, settings=self.settings, tool_name=name, writes=not tool.spec.read_only)
        ctx.progress = progress
        ctx.client_roots = client_roots
        ctx.over_http = over_http
        sent: list[str] = []
        timeout = self.settings.call_timeout
        budget = CallBudget(deadline=time.monotonic() + timeout)
        reset = write_request_ids.set(sent)
        reset_budget = call_budget.set(budget)
        data: dict[str, Any] | None = None
        answered: CallToolResult | InputRequiredResult | None = None
        try:
            with anyio.move_on_after(timeout) as deadline:
                if tool.spec.business_scoped:
                    ctx.scope = await resolve_business(sage, self.settings, args.get("business_id"), writes=ctx.writes)
                asker = asker or Asker(None)
                asker.waiting = lambda: user_time(deadline, budget)
                outcome = await self.writes.run(ctx, tool, args, asker, budget)
                if isinstance(outcome, dict):
                    data = outcome
                else:
                    answered = outcome
        except Exception as caught:
            exc = first_error(caught)
            if isinstance(exc, SageRetryLaterError):
                if ctx.writes:
                    audit_log.record(ctx, sent, outcome="error: SageRetryLaterError")
                return failure(retry_later_message(exc, ctx))
            result = from_exception(exc, tool=name, idempotency_id=ctx.idempotency_used)
            if ctx.writes:
                audit_log.record(ctx, sent, outcome=f"error: {type(exc).__name__}")
            if result is not None:
                log.info("%s failed: %s", name, type(exc).__name__)
                return result
            log.exception("bug in tool %s", name)
            return failure(
                f"sage-mcp hit an internal error running {name} ({type(exc).__name__}). "
                "The server is still running; please report this."
                + (
                    f" If this was a write, repeat it with idempotency_key {ctx.idempotency_used!r}."
                    if ctx.writes and ctx.idempotency_used
                    else ""
                )
            )
        finally:
            call_budget.reset(reset_budget)
            write_request_ids.reset(reset)
        if answered is not None:
            if ctx.writes:
                audit_log.record(
                    ctx,
                    sent,
                    outcome="not sent: " + ("awaiting confirmation" if answered_pending(answered) else "refused"),
                )
            return answered
        if data is None:
            log.info("%s stopped after %g s", name, timeout)
            if ctx.writes:
                audit_log.record(ctx, sent, outcome="timeout")
            return failure(timeout_message(ctx, timeout, budget))
        if ctx.writes:
            audit_log.record(ctx, sent, outcome="replayed" if data.get("replayed") else "ok", record_id=data.get("id"))
        if ctx.scope is not None:
            head: dict[str, Any] = {"business": ctx.scope.describe()}
            if ctx.scope.notice:
                head["notice"] = ctx.scope.notice
            data = {**head, **data}
        return success(data)


@contextmanager
def user_time(scope: anyio.CancelScope, budget: CallBudget) -> Iterator[None]:
    """While the user is deciding, the call's deadline stands still: a person may take minutes."""
    started, scope_deadline, budget_deadline = time.monotonic(), scope.deadline, budget.deadline
    scope.deadline, budget.deadline = math.inf, None
    try:
        yield
    finally:
        waited = time.monotonic() - started
        scope.deadline = scope_deadline + waited
        budget.deadline = None if budget_deadline is None else budget_deadline + waited


def first_error(exc: Exception) -> Exception:
    """The first error inside an exception group (concurrent page fetches raise one), else ``exc``."""
    while isinstance(exc, ExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def timeout_message(ctx: ToolContext, timeout: float, budget: CallBudget) -> str:
    """What a call stopped at its deadline tells the model: Sage is slow, and whether anything changed."""
    head = (
        f"Sage is slow: {ctx.tool_name} did not finish within {timeout:g} s (SAGE_MCP_CALL_TIMEOUT), "
        "so sage-mcp stopped waiting."
    )
    if budget.writes_sent == 0:
        return (
            head
            + " Nothing was changed in Sage. Try again in a moment"
            + ("." if ctx.writes else ", or ask for less (fewer pages, a shorter period).")
        )
    if ctx.idempotency_used:
        return head + (
            " The change may or may not have been recorded: repeat the same call with idempotency_key "
            f"{ctx.idempotency_used!r} and Sage will return the original instead of recording it twice."
        )
    return head + " The change may or may not have been recorded; check (e.g. with the list tools) before repeating it."


def retry_later_message(exc: SageRetryLaterError, ctx: ToolContext) -> str:
    """Sage asked for a wait longer than the call may take: say so instead of sleeping through it."""
    head = (
        f"{exc.summary()}; sage-mcp waits only within a call's {ctx.settings.call_timeout:g} s "
        f"(SAGE_MCP_CALL_TIMEOUT) and never more than {MAX_RETRY_AFTER:g} s, so it did not retry."
    )
    if ctx.writes and ctx.idempotency_used:
        return head + (
            " Sage refused that request, so it did nothing; after the wait, repeat the same call with "
            f"idempotency_key {ctx.idempotency_used!r} so it cannot be recorded twice."
        )
    if ctx.writes:
        return head + " Sage refused that request, so it did nothing; call again after the wait."
    return head + " Nothing was changed; call again after the wait."
