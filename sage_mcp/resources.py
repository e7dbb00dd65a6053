"""MCP resources: each business's reference data, as compact JSON a client can attach to a conversation.

URIs: ``sage://businesses/{business_id}/{kind}`` where ``kind`` is one of

* ``profile`` — the business (name, country, address, subscription) and its financial settings (year
  end, lock date, accounting basis, base currency, VAT number, scheme and return frequency);
* ``chart-of-accounts`` — every ledger account: id, nominal code, name, type;
* ``tax-rates`` — every tax rate: id, name, percentage;
* ``bank-accounts`` — every bank account: id, name, type, nominal code, current balance.

``resources/list`` lists the four for every business the Sage login can access (a practice login has
several); ``resources/templates/list`` gives the same four as URI templates. A read is a read only:
it is served in read-only mode too, and it resolves the business like a tool's ``business_id`` (an
id that is not one of the login's businesses is refused, naming them).

The content is JSON (``application/json``) in the same shape and with the same field names as the
matching tools' results (it is built by the same code), so what a model reads in an attached resource
it can pass straight to a tool (ids, nominal codes, tax rate ids), and a client can parse it too.
Amounts are decimal strings; ``read_at`` says when the figures were read.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
from mcp import MCPError
from mcp.server import ServerRequestContext
from mcp.types import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    ListResourcesResult,
    ListResourceTemplatesResult,
    PaginatedRequestParams,
    ReadResourceRequestParams,
    ReadResourceResult,
    Resource,
    ResourceTemplate,
    TextResourceContents,
)

from sage_mcp.config import Settings
from sage_mcp.results import from_exception
from sage_mcp.sage.client import CallBudget, SageClient, call_budget
from sage_mcp.sage.pagination import fetch_pages
from sage_mcp.tools import handler_for
from sage_mcp.tools._base import ToolContext, ToolError, resolve_business
from sage_mcp.tools._resource import ALL_PAGES_CAP

SCHEME = "sage"
PREFIX = f"{SCHEME}://businesses/"
MIME_TYPE = "application/json"
#: A business id as it may appear in a URI (Sage's are 32 hex characters); anything else is refused unread.
_URI = re.compile(r"^sage://businesses/(?P<business>[A-Za-z0-9_-]{1,64})/(?P<kind>[a-z-]{1,40})$")

#: How long a 2026-07-28 client may cache ``resources/list`` (the login's businesses, which rarely change).
#: Reads are never cached: they carry balances.
LIST_TTL_MS = 60_000
#: The templates and the prompt list are the same for every user and for the server's whole life.
STATIC_TTL_MS = 3_600_000
T = TypeVar("T")
Reader = Callable[[ToolContext], Awaitable[dict[str, Any]]]


# The readers reuse the toolsets' handlers, imported on a resource's first read (as a tool's module is
# on its first call), so listing resources at start-up loads no handler code.


async def _profile(ctx: ToolContext) -> dict[str, Any]:
    from sage_mcp.tools.business import financial_settings, get_business

    business, settings = await asyncio.gather(get_business(ctx, {}), financial_settings(ctx, {}))
    return {"profile": business, "financial_settings": settings}


async def _chart_of_accounts(ctx: ToolContext) -> dict[str, Any]:
    """Every ledger account, fetched page by page (several at once) up to :data:`ALL_PAGES_CAP`."""
    from sage_mcp.tools.ledger import LEDGER_ACCOUNTS

    raw, total = await fetch_pages(
        ctx.business, LEDGER_ACCOUNTS.path, {"attributes": LEDGER_ACCOUNTS.list_attributes}, max_items=ALL_PAGES_CAP
    )
    out: dict[str, Any] = {"total": total, "items": [LEDGER_ACCOUNTS.project(a, False) for a in raw]}
    if total > len(raw):
        out["truncated"] = (
            f"only the first {len(raw)} of {total} ledger accounts are listed here; "
            "search the ledger accounts by name or nominal code for the others"
        )
    return out


async def _tax_rates(ctx: ToolContext) -> dict[str, Any]:
    return await handler_for("tax", "list_tax_rates")(ctx, {})


async def _bank_accounts(ctx: ToolContext) -> dict[str, Any]:
    return await handler_for("banking", "list_bank_accounts")(ctx, {})


@dataclass(frozen=True)
class Kind:
    name: str  # the URI's last segment
    title: str
    description: str
    read: Reader


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "profile",
            "profile and financial settings",
            "The business (name, country, address) and its financial settings: year end, lock date, "
            "accounting basis, base currency, VAT number, scheme and return frequency.",
            _profile,
        ),
        Kind(
            "chart-of-accounts",
            "chart of accounts",
            "Every ledger account: id, nominal code, name and type (the ids and codes journals and "
            "other-payment lines take).",
            _chart_of_accounts,
        ),
        Kind(
            "tax-rates",
            "tax rates",
            "Every tax rate: id (what invoice and payment lines take as tax_rate_id), name and percentage.",
            _tax_rates,
        ),
        Kind(
            "bank-accounts",
            "bank accounts",
            "Every bank account: id, name, type, nominal code and current balance.",
            _bank_accounts,
        ),
    )
}


def resource_uri(business_id: str, kind: str) -> str:
    return f"{PREFIX}{business_id}/{kind}"


def _usage() -> str:
    return f"{PREFIX}{{business_id}}/{{{'|'.join(KINDS)}}}"


def parse_uri(uri: str) -> tuple[str, Kind]:
    """The business id and kind a URI names; ``MCPError`` (invalid params) when it names none."""
    match = _URI.match(uri)
    if match is None:
        raise MCPError(
            INVALID_PARAMS,
            f"Unknown resource {uri[:200]!r}: sage-mcp's resources are {_usage()}; resources/list shows them.",
            {"uri": uri[:200]},
        )
    kind = KINDS.get(match["kind"])
    if kind is None:
        raise MCPError(
            INVALID_PARAMS,
            f"Unknown resource {uri!r}: {match['kind']!r} is not a kind of business resource. "
            f"Kinds: {', '.join(KINDS)}.",
            {"uri": uri},
        )
    return match["business"], kind


def as_mcp_error(exc: BaseException, what: str, data: dict[str, Any]) -> MCPError:
    """The MCP error for a read that failed (``what``: "Cannot read URI" …), in the words a tool's isError
    result would use. A bug is re-raised (the SDK logs it and answers a sanitised internal error)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:  # several pages fetched together
        exc = exc.exceptions[0]
    if isinstance(exc, MCPError):
        return exc
    if isinstance(exc, ToolError):
        return MCPError(INVALID_PARAMS, f"{what}: {exc}", data)
    result = from_exception(exc, tool="the read")
    if result is None:
        raise exc
    text = " ".join(getattr(c, "text", "") for c in result.content)
    return MCPError(INTERNAL_ERROR, f"{what}: {text}", data)


async def within_deadline(settings: Settings, work: Callable[[], Awaitable[T]], what: str, data: dict[str, Any]) -> T:
    """``work()`` within ``settings.call_timeout`` seconds (Sage's retries wait only within it); any failure
    becomes an :class:`MCPError` that starts with ``what``."""
    timeout = settings.call_timeout
    reset = call_budget.set(CallBudget(deadline=time.monotonic() + timeout))
    try:
        with anyio.fail_after(timeout):
            return await work()
    except TimeoutError as exc:
        raise MCPError(
            INTERNAL_ERROR,
            f"{what}: Sage did not answer within {timeout:g} s (SAGE_MCP_CALL_TIMEOUT). Try again in a moment.",
            data,
        ) from exc
    except Exception as exc:
        raise as_mcp_error(exc, what, data) from exc
    finally:
        call_budget.reset(reset)


class BusinessResources:
    """The handlers of ``resources/list``, ``resources/templates/list`` and ``resources/read``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def list_resources(self, sage: SageClient) -> list[Resource]:
        businesses = await within_deadline(self.settings, sage.list_businesses, "Cannot list resources", {})
        out: list[Resource] = []
        for b in businesses:
            bid = str(b.get("id"))
            name = str(b.get("name") or b.get("displayed_as") or bid)
            out.extend(
                Resource(
                    uri=resource_uri(bid, kind.name),
                    name=f"{name}: {kind.title}",
                    title=f"{name}: {kind.title}",
                    description=kind.description,
                    mime_type=MIME_TYPE,
                )
                for kind in KINDS.values()
            )
        return out

    @staticmethod
    def templates() -> list[ResourceTemplate]:
        return [
            ResourceTemplate(
                uri_template=resource_uri("{business_id}", kind.name),
                name=kind.name,
                title=f"A business's {kind.title}",
                description=f"{kind.description} business_id: one of the businesses this Sage login can access.",
                mime_type=MIME_TYPE,
            )
            for kind in KINDS.values()
        ]

    async def read(self, sage: SageClient, uri: str) -> dict[str, Any]:
        """The content of one resource, as a dict (JSON-ready)."""
        business_id, kind = parse_uri(uri)

        async def work() -> dict[str, Any]:
            scope = await resolve_business(sage, self.settings, business_id, writes=False)
            ctx = ToolContext(sage=sage, settings=self.settings, tool_name=f"resource {kind.name}", writes=False)
            ctx.scope = scope
            data = await kind.read(ctx)
            return {
                "business": scope.describe(),
                "resource": kind.name,
                "read_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                **data,
            }

        return await within_deadline(self.settings, work, f"Cannot read {uri}", {"uri": uri})


SageFor = Callable[[ServerRequestContext[dict[str, Any]]], Awaitable[SageClient]]
"""The Sage client of one request: the one its tool calls would use (the signed-in user's)."""
#: A request handler as the SDK's ``Server.add_request_handler`` takes it.
Handler = Callable[[ServerRequestContext[dict[str, Any]], Any], Awaitable[Any]]


def lifespan_sage(ctx: ServerRequestContext[dict[str, Any]]) -> SageClient:
    """The process's Sage client (stdio and local HTTP: one user), from the server's lifespan."""
    sage: SageClient | None = ctx.lifespan_context.get("sage")
    if sage is None:
        raise MCPError(INTERNAL_ERROR, "sage-mcp has no Sage client for this request; please report this.")
    return sage


def handlers(settings: Settings, sage_for: SageFor) -> dict[str, Handler]:
    """The business resources' request handlers, reading Sage with ``sage_for(request)``."""
    resources = BusinessResources(settings)

    async def list_resources(
        ctx: ServerRequestContext[dict[str, Any]], _params: PaginatedRequestParams
    ) -> ListResourcesResult:
        listed = await resources.list_resources(await sage_for(ctx))
        return ListResourcesResult(resources=listed, ttl_ms=LIST_TTL_MS)

    async def list_templates(
        _ctx: ServerRequestContext[dict[str, Any]], _params: PaginatedRequestParams
    ) -> ListResourceTemplatesResult:
        return ListResourceTemplatesResult(
            resource_templates=resources.templates(), ttl_ms=STATIC_TTL_MS, cache_scope="public"
        )

    async def read_resource(
        ctx: ServerRequestContext[dict[str, Any]], params: ReadResourceRequestParams
    ) -> ReadResourceResult:
        data = await resources.read(await sage_for(ctx), params.uri)
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return ReadResourceResult(contents=[TextResourceContents(uri=params.uri, mime_type=MIME_TYPE, text=text)])

    return {
        "resources/list": list_resources,
        "resources/templates/list": list_templates,
        "resources/read": read_resource,
    }
