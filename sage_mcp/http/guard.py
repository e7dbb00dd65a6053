"""The ASGI layer in front of the SDK's streamable HTTP app: Host, then Origin, then the bearer token.

Order matters: a request from a foreign page (DNS rebinding, cross-site) is turned away by its
Host (421) or Origin (403) before anything else is looked at; then a request without the right
credential gets 401 with ``WWW-Authenticate: Bearer`` and never reaches the MCP server. An accepted
request carries the verifier's ``AccessToken`` the way the SDK's own auth middleware would leave it
(``scope["user"]``, ``get_access_token()``), so sessions stay bound to the principal that opened them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection

from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import TokenVerifier
from starlette.authentication import AuthCredentials
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from sage_mcp.http.allow import AllowList

REALM = "sage-mcp"


class HttpGuard:
    """Wraps an ASGI app; ``verifier=None`` means no authentication (``--unsafe-no-auth`` on loopback)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        hosts: AllowList,
        origins: AllowList,
        verifier: TokenVerifier | None,
        resource_metadata_url: str | None = None,
        public_paths: Collection[str] = (),
    ) -> None:
        self.app = app
        self.hosts = hosts
        self.origins = origins
        self.verifier = verifier
        self.resource_metadata_url = resource_metadata_url
        self.public_paths = frozenset(public_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":  # no websockets here
            await send({"type": "websocket.close", "code": 1008})
            return
        headers = Headers(scope=scope)
        if not self.hosts.allows(headers.get("host")):
            await _plain(send, 421, "Invalid Host header: not in the allowed hosts (--allowed-hosts)")
            return
        origin = headers.get("origin")
        if origin is not None and not self.origins.allows(origin):
            await _plain(send, 403, "Invalid Origin header: not in the allowed origins (--allowed-origins)")
            return
        # Names are case-insensitive: pass them on in lower case, as the SDK's own (exact) check behind
        # this one compares them.
        scope = {**scope, "headers": [(k, v.lower() if k in (b"host", b"origin") else v) for k, v in scope["headers"]]}
        if self.verifier is None or scope.get("path") in self.public_paths:
            await self.app(scope, receive, send)
            return
        scheme, _, credential = (headers.get("authorization") or "").strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            await self._unauthorized(send, None, "This MCP server needs a bearer token: Authorization: Bearer <token>.")
            return
        info = await self.verifier.verify_token(credential)
        if info is None or (info.expires_at is not None and info.expires_at < int(time.time())):
            await self._unauthorized(send, "invalid_token", "The bearer token is not valid for this server.")
            return
        user = AuthenticatedUser(info)
        reset = auth_context_var.set(user)
        try:
            await self.app({**scope, "user": user, "auth": AuthCredentials(info.scopes)}, receive, send)
        finally:
            auth_context_var.reset(reset)

    async def _unauthorized(self, send: Send, error: str | None, description: str) -> None:
        # RFC 6750 §3: no error code when the request carried no credential at all.
        params = [f'realm="{REALM}"']
        if error:
            params += [f'error="{error}"', f'error_description="{description}"']
        if self.resource_metadata_url:
            params.append(f'resource_metadata="{self.resource_metadata_url}"')
        body = json.dumps({"error": error or "unauthorized", "error_description": description}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", ("Bearer " + ", ".join(params)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
