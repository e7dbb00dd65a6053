"""The MCP server: the registry's tools on the SDK's low-level ``Server``, over stdio or streamable HTTP.

Every call is validated against its tool's inputSchema (JSON Schema 2020-12) before its handler
runs; the business it acts on is resolved once; and every failure becomes an ``isError`` result,
so the server keeps serving whatever a client sends.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from importlib import import_module
from typing import TYPE_CHECKING, Any

import anyio
from mcp.server import Server, ServerRequestContext
from mcp.server.stdio import stdio_server
from mcp.types import (
    CallToolRequestParams,
    CallToolResult,
    CompleteRequestParams,
    GetPromptRequestParams,
    InputRequiredResult,
    ListRootsRequest,
    ListRootsResult,
    ListToolsResult,
    PaginatedRequestParams,
    ReadResourceRequestParams,
)
from mcp_types.version import is_version_at_least

from sage_mcp import __version__
from sage_mcp.config import Settings
from sage_mcp.registry import Registry

if TYPE_CHECKING:
    from sage_mcp.dispatch import AuditLog, Dispatcher
    from sage_mcp.http import HttpSecurity
    from sage_mcp.resources import Handler
    from sage_mcp.safety.confirm import TokenSigner
    from sage_mcp.sage.client import SageClient
    from sage_mcp.stores.fingerprints import FingerprintStore
    from sage_mcp.tools._base import RootsFn

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

SageFactory = Callable[[Settings], "SageClient"]
#: Hosted mode: the Sage client and audit log of the user behind one request.
CallScope = Callable[[ServerRequestContext[Any, Any]], Awaitable["tuple[SageClient, AuditLog | None]"]]
#: Seconds a client that declared the ``roots`` capability gets to answer ``roots/list``.
ROOTS_TIMEOUT = 10.0


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
    from sage_mcp.sage.errors import AuthError
    from sage_mcp.sage.tokens import FileTokenStore

    try:
        login = FileTokenStore(settings.token_store_path).load()
    except AuthError:
        return False
    return bool(login and login.tokens.read_only)


class Connection(dict[str, Any]):
    """The lifespan context of one connection. Its Sage client (``["sage"]``) is made on first use:
    answering ``tools/list`` never needs one, so neither the client nor its modules load to start."""

    def __init__(self, factory: Callable[[], SageClient]) -> None:
        super().__init__()
        self._factory = factory

    def __missing__(self, key: str) -> Any:
        if key != "sage":
            raise KeyError(key)
        client = self[key] = self._factory()
        return client

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key == "sage" or key in self else default

    def made(self) -> SageClient | None:
        """The client, if one was made."""
        client: SageClient | None = dict.get(self, "sage")
        return client


def create_server(
    settings: Settings,
    registry: Registry | None = None,
    *,
    sage: SageClient | None = None,
    sage_factory: SageFactory | None = None,
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

    What only calls need (the dispatcher, the Sage client, the prompts, resources and completions) is
    imported and made on first use, so a server answers ``tools/list`` having loaded little beyond
    the SDK.
    """
    read_only = settings.read_only or login_is_read_only(settings)
    reg = registry or Registry.build(
        settings.toolsets, read_only=read_only, confirm_writes=confirms_every_write(settings)
    )
    tools = reg.list_tools()
    schemas = {t.name: t.input_schema for t in tools}
    made: list[Dispatcher] = []

    def dispatcher() -> Dispatcher:
        if not made:
            from sage_mcp.dispatch import Dispatcher

            made.append(Dispatcher(reg, settings, fingerprints=fingerprints, confirm_signer=confirm_signer))
        return made[0]

    def new_client() -> SageClient:
        if sage_factory is not None:
            return sage_factory(settings)
        from sage_mcp.sage.client import SageClient

        return SageClient(settings)

    @asynccontextmanager
    async def lifespan(_: Server[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
        if sage is not None or call_scope is not None:
            try:
                yield {"sage": sage}
            finally:
                if made:
                    made[0].writes.close()
            return
        connection = Connection(new_client)
        try:
            yield connection
        finally:
            if made:
                made[0].writes.close()
            if (client := connection.made()) is not None:
                await client.aclose()

    async def list_tools(
        _ctx: ServerRequestContext[dict[str, Any]], _params: PaginatedRequestParams | None
    ) -> ListToolsResult:
        return ListToolsResult(tools=tools)

    async def call_tool(
        ctx: ServerRequestContext[dict[str, Any]], params: CallToolRequestParams
    ) -> CallToolResult | InputRequiredResult:
        from sage_mcp.safety.confirm import asker_for

        async def progress(done: float, total: float | None, message: str | None) -> None:
            await ctx.session.report_progress(done, total, message)

        client, audit = (ctx.lifespan_context["sage"], None) if call_scope is None else await call_scope(ctx)
        return await dispatcher().call(
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
        if call_scope is not None:
            return (await call_scope(ctx))[0]
        from sage_mcp.resources import lifespan_sage

        return lifespan_sage(ctx)

    register_on_first_use(server, "sage_mcp.resources", lambda m: m.handlers(settings, sage_for))
    register_on_first_use(server, "sage_mcp.prompts", lambda m: m.handlers(reg, settings, sage_for))
    register_on_first_use(server, "sage_mcp.completion", lambda m: m.handlers(settings, sage_for))
    return server


#: The requests each module answers, and their parameters' type: registered at start-up, the module
#: imported when the first of them arrives.
ON_FIRST_USE: dict[str, tuple[tuple[str, type[Any]], ...]] = {
    "sage_mcp.resources": (
        ("resources/list", PaginatedRequestParams),
        ("resources/templates/list", PaginatedRequestParams),
        ("resources/read", ReadResourceRequestParams),
    ),
    "sage_mcp.prompts": (("prompts/list", PaginatedRequestParams), ("prompts/get", GetPromptRequestParams)),
    "sage_mcp.completion": (("completion/complete", CompleteRequestParams),),
}

Handlers = Mapping[str, "Handler"]


def register_on_first_use(server: Server[dict[str, Any]], module: str, build: Callable[[Any], Handlers]) -> None:
    """Answer ``module``'s requests on ``server``; ``build(module)`` makes its handlers on the first one."""
    built: list[Handlers] = []

    def handler_of(method: str) -> Handler:
        async def handle(ctx: ServerRequestContext[dict[str, Any]], params: Any) -> Any:
            if not built:
                built.append(build(import_module(module)))
            return await built[0][method](ctx, params)

        return handle

    for method, params_type in ON_FIRST_USE[module]:
        server.add_request_handler(method, params_type, handler_of(method))


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
