"""The hosted HTTP app: many users, each with their own Sage sign-in, on stateless replicas.

``build_hosted_app`` puts together, on the SDK's streamable HTTP app (stateless, JSON responses):

* the SDK's auth support: protected-resource metadata (RFC 9728), the authorization server routes
  (metadata, ``/authorize``, ``/token``, ``/register``, ``/revoke``) over :class:`SageAuthProvider`,
  and the bearer check on ``/mcp`` (audience bound to this server's ``/mcp``);
* ``/oauth/sage/callback`` (Sage's redirect), ``/healthz``, ``/readyz`` (Redis reachable), ``/metrics``;
* per request, the signed-in user's Sage client (their login in Redis, refreshed once across
  replicas) behind :class:`SageGate` (Sage's app-wide limits in Redis), and their audit stream;
* the Host/Origin guard of every bind, and request metrics/logs.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hmac
import logging
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import anyio
from mcp.server import ServerRequestContext
from mcp.server.auth.handlers.metadata import MetadataHandler
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.routes import build_metadata, cors_middleware
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from sage_mcp.config import Settings
from sage_mcp.dispatch import AuditLog
from sage_mcp.http.allow import AllowList, default_hosts, default_origins, host_name, parse_list
from sage_mcp.http.hosted.ops import Metrics, RequestMetrics
from sage_mcp.http.hosted.provider import SCOPES, SageAuthProvider
from sage_mcp.http.hosted.settings import HostedSettings
from sage_mcp.http.security import HttpSecurity, HttpSetupError
from sage_mcp.registry import Registry
from sage_mcp.safety.confirm import TokenSigner
from sage_mcp.sage.client import SageClient, call_budget
from sage_mcp.sage.errors import AuthError, NotSignedInError, ReauthorizationRequired, SageError
from sage_mcp.sage.tokens import StoredLogin, TokenManager
from sage_mcp.server import create_server
from sage_mcp.stores.redis import (
    RedisAuditLog,
    RedisFingerprintStore,
    RedisLimiter,
    RedisOnce,
    RedisState,
    RedisTokenStore,
    StateUnavailable,
    derive_key,
    make_cipher,
)
from sage_mcp.tools._base import ToolError

log = logging.getLogger(__name__)

SIGN_IN_AGAIN = (
    "Your Sage sign-in on this server has expired or was revoked (Sage's refresh tokens rotate, so a sign-in "
    "interrupted at the wrong moment cannot be recovered). Sign in with Sage again: in your MCP client, "
    "reconnect or re-authenticate this server; it will open Sage's sign-in."
)
NOT_SIGNED_IN = (
    "No Sage sign-in is stored for you on this server. In your MCP client, reconnect or re-authenticate "
    "this server; it will open Sage's sign-in."
)
#: Users whose Sage clients a replica keeps ready (least recently used go first).
CLIENT_CACHE = 256


class HostedTokenManager(TokenManager):
    """The token manager of one hosted user: says how to sign in again *here* (not `sage-mcp auth login`)."""

    async def access_token(self) -> str:
        try:
            return await super().access_token()
        except ReauthorizationRequired:
            raise ReauthorizationRequired(SIGN_IN_AGAIN) from None
        except NotSignedInError:
            raise NotSignedInError(NOT_SIGNED_IN) from None

    async def renew_after_rejection(self, rejected_access_token: str) -> str:
        try:
            return await super().renew_after_rejection(rejected_access_token)
        except ReauthorizationRequired:
            raise ReauthorizationRequired(SIGN_IN_AGAIN) from None
        except NotSignedInError:
            raise NotSignedInError(NOT_SIGNED_IN) from None

    async def login(self) -> StoredLogin:
        try:
            return await super().login()
        except NotSignedInError:
            raise NotSignedInError(NOT_SIGNED_IN) from None


class SageGate:
    """Admission of one user's Sage requests to Sage's app-wide limits, shared by every replica."""

    def __init__(self, limiter: RedisLimiter, user_id: str, hosted: HostedSettings, metrics: Metrics) -> None:
        self.limiter = limiter
        self.user_id = user_id
        self.hosted = hosted
        self.metrics = metrics

    @contextlib.asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        slot = secrets.token_hex(8)
        started = time.monotonic()
        budget = call_budget.get()
        left = budget.left() if budget is not None else None
        deadline = started + (self.hosted.limit_wait if left is None else max(0.0, min(self.hosted.limit_wait, left)))
        delay = 0.005
        waited_for: str | None = None
        while True:
            verdict = await self.limiter.try_admit(self.user_id, slot)
            if verdict == 1:
                break
            if verdict == -1:
                self.metrics.limit_refusals.labels("quota").inc()
                raise ToolError(
                    f"Sage's daily request quota for this app ({self.limiter.daily_quota:,} requests per UTC day, "
                    "shared by every user of this server) is used up, so nothing was sent to Sage. It resets at "
                    "00:00 UTC; try again after that."
                )
            if waited_for is None:
                waited_for = "app" if verdict == 0 else "user"
                self.metrics.limit_waits.labels(waited_for).inc()
            if time.monotonic() + delay > deadline:
                self.metrics.limit_refusals.labels("full").inc()
                which = (
                    f"Sage's limit of {self.limiter.concurrency} requests in flight for this app (all users)"
                    if waited_for == "app"
                    else f"your share of Sage's limit ({self.limiter.per_user} requests in flight per user)"
                )
                raise ToolError(
                    f"{which} stayed full for {time.monotonic() - started:.1f} s, so this call stopped before sending "
                    "anything more to Sage. Try again in a moment (or ask for less at once)."
                )
            await asyncio.sleep(delay * (0.5 + secrets.randbelow(1000) / 1000))
            delay = min(delay * 2, 0.05)
        if waited_for is not None:
            self.metrics.limit_wait_seconds.observe(time.monotonic() - started)
        self.metrics.sage_in_flight.inc()
        try:
            yield
        finally:
            self.metrics.sage_in_flight.dec()
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                await self.limiter.free(self.user_id, slot)  # if this fails, the slot expires by itself

    def answered(self, status: int) -> None:
        self.metrics.sage_requests.labels(f"{status // 100}xx").inc()
        if status == 429:
            self.metrics.sage_429.inc()


class HostedSageClient(SageClient):
    """A user's Sage client whose token refreshes are counted in the metrics."""

    metrics: Metrics

    async def _refresh(self, refresh_token: str) -> Mapping[str, Any]:
        try:
            result = await super()._refresh(refresh_token)
        except ReauthorizationRequired:
            self.metrics.refreshes.labels("invalid_grant").inc()
            raise
        except SageError:
            self.metrics.refreshes.labels("error").inc()
            raise
        self.metrics.refreshes.labels("ok").inc()
        return result


class SharedTokenSigner(TokenSigner):
    """Confirmation tokens every replica accepts (a key derived from the encryption key), each usable once
    across all replicas (Redis), so a preview shown by one replica is confirmed on any other."""

    def __init__(self, secret: bytes, once: RedisOnce) -> None:
        super().__init__(secret)
        self.once = once

    def redeem(self, token: str, tool: str, business: str, args: Mapping[str, Any]) -> str | None:
        problem = super().redeem(token, tool, business, args)
        if problem is not None:
            return problem
        expiry = int(token.split(".", 1)[0])
        try:
            if not self.once.first(token, max(1.0, expiry - time.time())):
                return "it was already used; a token confirms one call only"
        except StateUnavailable:
            return "the server's shared state (Redis) is unreachable, so it cannot be checked now; try again shortly"
        return None


class StreamAudit(AuditLog):
    """The audit log of one user: entries go to their Redis stream (written off the call's path)."""

    def __init__(self, audit: RedisAuditLog, pending: set[asyncio.Task[None]]) -> None:
        self.audit = audit
        self.pending = pending

    def write(self, entry: dict[str, Any]) -> None:
        task = asyncio.get_running_loop().create_task(self.audit.append(entry))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)


class Users:
    """Per user, the Sage client this replica keeps ready (bounded, least recently used closed first)."""

    def __init__(
        self, settings: Settings, hosted: HostedSettings, state: RedisState, limiter: RedisLimiter, metrics: Metrics
    ) -> None:
        self.settings = settings
        self.hosted = hosted
        self.state = state
        self.limiter = limiter
        self.metrics = metrics
        self._clients: collections.OrderedDict[str, HostedSageClient] = collections.OrderedDict()
        self._closing: set[asyncio.Task[None]] = set()
        self._retired: set[SageClient] = set()
        self.audit_writes: set[asyncio.Task[None]] = set()

    def client(self, user_id: str) -> HostedSageClient:
        client = self._clients.get(user_id)
        if client is not None:
            self._clients.move_to_end(user_id)
            return client
        store = RedisTokenStore(self.state, user_id)
        client = HostedSageClient(
            self.settings,
            tokens=None,
            store=store,
            gate=SageGate(self.limiter, user_id, self.hosted, self.metrics),
        )
        client.metrics = self.metrics
        client.tokens = HostedTokenManager(store, client._refresh, leeway=self.settings.token_refresh_leeway)
        self._clients[user_id] = client
        while len(self._clients) > CLIENT_CACHE:
            _, old = self._clients.popitem(last=False)
            self._close_later(old)
        return client

    def signed_in(self, user_id: str) -> None:
        """A new Sage login was stored for ``user_id``: drop what this replica remembered of the old one."""
        old = self._clients.pop(user_id, None)
        if old is not None:
            self._close_later(old)

    def audit(self, user_id: str) -> StreamAudit:
        return StreamAudit(RedisAuditLog(self.state, user_id), self.audit_writes)

    def _close_later(self, client: SageClient) -> None:
        """Close a client no longer handed out once calls that still hold it are over (their deadline)."""
        self._retired.add(client)

        async def close() -> None:
            await asyncio.sleep(self.settings.call_timeout + 5)
            self._retired.discard(client)
            await client.aclose()

        task = asyncio.get_running_loop().create_task(close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        for task in self._closing:
            task.cancel()
        for client in [*self._clients.values(), *self._retired]:
            await client.aclose()
        self._clients.clear()
        self._retired.clear()
        if self.audit_writes:
            await asyncio.gather(*self.audit_writes, return_exceptions=True)


def plan_hosted(
    settings: Settings,
    hosted: HostedSettings,
    host: str,
    *,
    allowed_hosts: str | None = None,
    allowed_origins: str | None = None,
) -> HttpSecurity:
    """The Host/Origin allow-lists of a hosted bind (the public URL's host is always allowed)."""
    if not hosted.public_url:
        raise HttpSetupError(
            "hosted mode needs SAGE_MCP_PUBLIC_URL: the URL users reach this server at, e.g. https://mcp.example.com"
        )
    if not hosted.encryption_keys():
        raise HttpSetupError(
            "hosted mode needs SAGE_MCP_ENCRYPTION_KEY (a Fernet key; make one with: python3 -c "
            '"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())")'
        )
    if not settings.client_id or not settings.client_secret.get_secret_value():
        raise HttpSetupError("hosted mode needs SAGE_CLIENT_ID and SAGE_CLIENT_SECRET (your app at developer.sage.com)")
    public = hosted.public_url.split("://", 1)[1]
    public_host = public.split(":", 1)[0] if not public.startswith("[") else public.split("]", 1)[0] + "]"
    host_text = allowed_hosts if allowed_hosts is not None else settings.allowed_hosts
    origin_text = allowed_origins if allowed_origins is not None else settings.allowed_origins
    try:
        hosts = AllowList.hosts([*(parse_list(host_text) or default_hosts(host)), host_name(public_host)])
        origins = AllowList.origins([*(parse_list(origin_text) or default_origins(host)), hosted.public_url])
    except ValueError as exc:
        raise HttpSetupError(str(exc)) from None
    return HttpSecurity(host, hosts, origins, None)


def build_hosted_app(
    settings: Settings,
    hosted: HostedSettings,
    security: HttpSecurity,
    registry: Registry | None = None,
) -> ASGIApp:
    """The whole hosted replica as one ASGI app (see the module docstring)."""
    state = RedisState(
        hosted.redis_url, make_cipher(hosted.encryption_keys()), prefix=hosted.redis_prefix, lock_ttl=hosted.lock_ttl
    )
    metrics = Metrics()
    metrics.redis_round_trips.set_function(lambda: float(state.round_trips))
    limiter = RedisLimiter(
        state,
        concurrency=hosted.sage_concurrency,
        per_user=hosted.user_concurrency,
        daily_quota=hosted.daily_quota,
        slot_ttl=settings.timeout + 30.0,
    )
    users = Users(settings, hosted, state, limiter, metrics)
    token_client = SageClient(settings, store=RedisTokenStore(state, "-"))  # Sage's token endpoint only
    provider = SageAuthProvider(settings, hosted, state, token_client, metrics, on_sign_in=users.signed_in)

    async def call_scope(ctx: ServerRequestContext[Any, Any]) -> tuple[SageClient, AuditLog | None]:
        token = get_access_token()
        if token is None and ctx.request is not None:
            user = ctx.request.scope.get("user")
            token = getattr(user, "access_token", None)
        if token is None or not token.subject:
            raise AuthError("this request carries no signed-in user")
        return users.client(token.subject), users.audit(token.subject)

    signer = SharedTokenSigner(
        derive_key(hosted.encryption_keys()[0], "sage-mcp confirmation tokens"), RedisOnce(state, "confirmed")
    )
    server = create_server(
        settings, registry, call_scope=call_scope, fingerprints=RedisFingerprintStore(state), confirm_signer=signer
    )
    registration = ClientRegistrationOptions(enabled=True, valid_scopes=SCOPES, default_scopes=["full_access"])
    revocation = RevocationOptions(enabled=True)
    auth = AuthSettings.model_validate(
        {
            "issuer_url": hosted.public_url,
            "resource_server_url": hosted.resource_url,
            "client_registration_options": registration,
            "revocation_options": revocation,
            "validate_token_resource": True,
        }
    )
    issuer = auth.issuer_url

    async def healthz(request: Request) -> Response:
        del request
        return JSONResponse({"status": "ok", "replica": hosted.replica})

    async def readyz(request: Request) -> Response:
        del request
        if await state.ping():
            return JSONResponse({"status": "ready", "redis": "ok"})
        return JSONResponse({"status": "not ready", "redis": "unreachable"}, status_code=503)

    async def metrics_endpoint(request: Request) -> Response:
        expected = hosted.metrics_token.get_secret_value()
        if expected:
            given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(given.encode(), expected.encode()):
                return JSONResponse({"error": "unauthorized"}, status_code=401)
        return metrics.render()

    app = server.streamable_http_app(
        stateless_http=True,
        json_response=True,
        host=security.host,
        transport_security=security.transport_settings(),
        auth=auth,
        token_verifier=provider,
        auth_server_provider=provider,
        custom_starlette_routes=[
            Route("/oauth/sage/callback", provider.sage_callback, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
        ],
    )
    # The authorization server metadata, saying also that client ID metadata documents are accepted
    # (the 2025-11-25 revision's preferred registration); it goes first so it answers, not the SDK's copy.
    metadata = build_metadata(issuer, None, registration, revocation)
    metadata.client_id_metadata_document_supported = True
    app.router.routes.insert(
        0,
        Route(
            "/.well-known/oauth-authorization-server",
            endpoint=cors_middleware(MetadataHandler(metadata).handle, ["GET", "OPTIONS"]),
            methods=["GET", "OPTIONS"],
        ),
    )
    sdk_lifespan = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        async with sdk_lifespan(a) as value:
            try:
                yield value
            finally:
                await users.aclose()
                await token_client.aclose()
                await state.aclose()

    app.router.lifespan_context = lifespan
    app.state.hosted = HostedParts(state, limiter, users, provider, metrics)
    return RequestMetrics(security.wrap(app), metrics)


class HostedParts:
    """What a hosted app is made of (reachable as ``app.state.hosted`` for tests and benchmarks)."""

    def __init__(
        self, state: RedisState, limiter: RedisLimiter, users: Users, provider: SageAuthProvider, metrics: Metrics
    ) -> None:
        self.state = state
        self.limiter = limiter
        self.users = users
        self.provider = provider
        self.metrics = metrics
