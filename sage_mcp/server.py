"""The MCP server: the registry's tools on the SDK's low-level ``Server``, over stdio or streamable HTTP.

Every call is validated against its tool's inputSchema (JSON Schema 2020-12) before its handler
runs; the business it acts on is resolved once; and every failure becomes an ``isError`` result,
so the server keeps serving whatever a client sends.
"""

from __future__ import annotations

import datetime
import json
import logging
import math
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from mcp.server import Server, ServerRequestContext
from mcp.server.stdio import stdio_server
from mcp.types import (
    CallToolRequestParams,
    CallToolResult,
    InputRequiredResult,
    ListRootsRequest,
    ListRootsResult,
    ListToolsResult,
    PaginatedRequestParams,
)
from mcp_types.version import is_version_at_least

from sage_mcp import __version__, completion, prompts, resources
from sage_mcp.config import Settings
from sage_mcp.excerpt import excerpt
from sage_mcp.registry import Registry
from sage_mcp.results import failure, from_exception, invalid_arguments, success
from sage_mcp.safety.confirm import Asker, TokenSigner, asker_for
from sage_mcp.safety.guard import WriteGuard, answered_pending
from sage_mcp.sage.client import MAX_RETRY_AFTER, CallBudget, SageClient, call_budget, write_request_ids
from sage_mcp.sage.errors import AuthError, SageRetryLaterError
from sage_mcp.sage.tokens import FileTokenStore
from sage_mcp.stores.fingerprints import FingerprintStore, SqliteFingerprintStore
from sage_mcp.tools._base import RootsFn, ToolContext, group_arguments, resolve_business

if TYPE_CHECKING:
    from sage_mcp.http import HttpSecurity

log = logging.getLogger(__name__)

SERVER_NAME = "sage-accounting"
#: ``[[...]]``: a hint kept only when the tools it names are offered (see Registry.instructions).
INSTRUCTIONS = """\
Bookkeeping in Sage Accounting. Amounts are decimal strings ("120.00"), dates YYYY-MM-DD.
Every tool takes an optional business_id; without it the pinned business is used[[ (list_businesses
shows which)]]. Results name the business they came from.[[ Contact ids come from list_contacts.]][[
Invoice, bill, credit note and quote ids from list_invoices.]][[ Bank account ids from list_bank_accounts.]][[
Ledger account ids or nominal codes from list_ledger_accounts.]] Writes return an idempotency_id: if a
write's outcome is unclear, repeat it with idempotency_key set to that id and Sage will not record it
twice.[[ For totals, ageing, VAT and balances use the reports (get_aged_debtors, get_profit_and_loss,
get_business_summary ...) rather than adding up rows.]][[ Anything else Sage offers: find_sage_endpoint,
then sage_api_get.]]"""

SageFactory = Callable[[Settings], SageClient]
#: Hosted mode: the Sage client and audit log of the user behind one request.
CallScope = Callable[[ServerRequestContext[Any, Any]], Awaitable[tuple[SageClient, "AuditLog | None"]]]
#: Seconds a client that declared the ``roots`` capability gets to answer ``roots/list``.
ROOTS_TIMEOUT = 10.0


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


def client_roots_asker(ctx: ServerRequestContext[Any, Any]) -> RootsFn | None:
    """How to ask this client for the folders it shares, or ``None`` when it cannot be asked.

    Only a local connection (no HTTP request behind it) on a handshake-era protocol (2025-11-25 or
    older) whose client declared the ``roots`` capability: the 2026-07-28 protocol has no
    server-to-client requests (and deprecates roots), and an HTTP client's roots name folders on its
    own machine, so there only ``SAGE_MCP_FILE_ROOTS`` counts.
    """
    if ctx.request is not None or is_version_at_least(ctx.protocol_version, "2026-07-28"):
        return None
    session = ctx.session
    capabilities = session.client_capabilities
    if capabilities is None or capabilities.roots is None or not session.can_send_request:
        return None

    async def ask() -> list[str]:
        try:
            with anyio.fail_after(ROOTS_TIMEOUT):
                result = await session.send_request(ListRootsRequest(), ListRootsResult)
        except Exception as exc:  # the client declared roots but did not list them: use none of its
            log.warning("the client declared roots but listing them failed (%s)", type(exc).__name__)
            return []
        return [str(root.uri) for root in result.roots]

    return ask


def confirms_every_write(settings: Settings) -> bool:
    """Whether any write may need the user's confirmation (an amount threshold is set)."""
    return settings.confirm_above is not None and not settings.no_confirm


def login_is_read_only(settings: Settings) -> bool:
    """Whether the stored Sage login only has the ``readonly`` scope."""
    try:
        login = FileTokenStore(settings.token_store_path).load()
    except AuthError:
        return False
    return bool(login and login.tokens.read_only)


def create_server(
    settings: Settings,
    registry: Registry | None = None,
    *,
    sage: SageClient | None = None,
    sage_factory: SageFactory = SageClient,
    call_scope: CallScope | None = None,
    fingerprints: FingerprintStore | None = None,
    confirm_signer: TokenSigner | None = None,
) -> Server[dict[str, Any]]:
    """Build the MCP server. Pass ``sage`` to share an existing client (its owner closes it), and
    ``fingerprints`` to keep keyed writes' fingerprints elsewhere than the data dir's sqlite file.

    ``call_scope`` (hosted mode) picks the Sage client and audit log per request, from the signed-in
    user; no process-wide client is made then (hosted mode keeps fingerprints in Redis, shared by every
    replica); ``confirm_signer`` signs confirmation tokens (hosted mode: a shared key and single use
    across replicas).

    A login with Sage's ``readonly`` scope makes the server read-only whatever the settings say.
    """
    read_only = settings.read_only or login_is_read_only(settings)
    reg = registry or Registry.build(
        settings.toolsets, read_only=read_only, confirm_writes=confirms_every_write(settings)
    )
    dispatcher = Dispatcher(reg, settings, fingerprints=fingerprints, confirm_signer=confirm_signer)
    tools = reg.list_tools()
    schemas = {t.name: t.input_schema for t in tools}

    @asynccontextmanager
    async def lifespan(_: Server[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
        if sage is not None or call_scope is not None:
            try:
                yield {"sage": sage}
            finally:
                dispatcher.writes.close()
            return
        client = sage_factory(settings)
        try:
            yield {"sage": client}
        finally:
            dispatcher.writes.close()
            await client.aclose()

    async def list_tools(
        _ctx: ServerRequestContext[dict[str, Any]], _params: PaginatedRequestParams | None
    ) -> ListToolsResult:
        return ListToolsResult(tools=tools)

    async def call_tool(
        ctx: ServerRequestContext[dict[str, Any]], params: CallToolRequestParams
    ) -> CallToolResult | InputRequiredResult:
        async def progress(done: float, total: float | None, message: str | None) -> None:
            await ctx.session.report_progress(done, total, message)

        client, audit = (ctx.lifespan_context["sage"], None) if call_scope is None else await call_scope(ctx)
        return await dispatcher.call(
            client,
            params.name,
            params.arguments,
            progress,
            client_roots=client_roots_asker(ctx),
            over_http=ctx.request is not None,
            asker=asker_for(ctx, params),
            audit=audit,
        )

    server = Server(
        SERVER_NAME,
        version=__version__,
        title="Sage Accounting",
        instructions=reg.instructions(INSTRUCTIONS),
        lifespan=lifespan,
        get_tool_input_schema=schemas.get,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )

    async def sage_for(ctx: ServerRequestContext[dict[str, Any]]) -> SageClient:
        """The Sage client resources, prompts and completions read with: the one tool calls use (hosted
        mode: the signed-in user's)."""
        return resources.lifespan_sage(ctx) if call_scope is None else (await call_scope(ctx))[0]

    resources.register(server, settings, sage_for)
    prompts.register(server, reg, settings, sage_for)
    completion.register(server, settings, sage_for)
    return server


async def serve_stdio(server: Server[dict[str, Any]]) -> None:
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def http_app(server: Server[dict[str, Any]], security: HttpSecurity) -> Any:
    """The SDK's streamable HTTP app behind ``security``'s guard (Host, Origin, bearer token)."""
    app = server.streamable_http_app(host=security.host, transport_security=security.transport_settings())
    return security.wrap(app)


def run_stdio(server: Server[dict[str, Any]]) -> None:
    anyio.run(serve_stdio, server)


def run_http(server: Server[dict[str, Any]], security: HttpSecurity, port: int) -> None:
    import uvicorn

    config = uvicorn.Config(http_app(server, security), host=security.host, port=port, log_level="warning")
    uvicorn.Server(config).run()


def configure_logging(level: str = "INFO") -> None:
    """Logs go to stderr: on stdio, stdout carries the protocol and nothing else."""
    logging.basicConfig(
        stream=sys.stderr, level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
