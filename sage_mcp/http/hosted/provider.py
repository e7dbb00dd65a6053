"""The authorization server role of hosted mode: MCP clients get tokens of ours after a Sage sign-in.

It implements the SDK's ``OAuthAuthorizationServerProvider``; the SDK's handlers (authorize, token,
register, revoke, metadata) do the protocol. The flow for one user:

1. The MCP client (registered dynamically, or known by its client ID metadata document URL) sends
   the user's browser to ``/authorize`` with PKCE. :meth:`SageAuthProvider.authorize` records the
   attempt in Redis (encrypted, 10 minutes, single use) and sends the browser on to **Sage's own
   sign-in**, with a PKCE pair of ours (authlib builds the URL).
2. Sage sends the browser back to ``/oauth/sage/callback`` (any replica: the attempt is in Redis).
   :meth:`SageAuthProvider.sage_callback` exchanges Sage's code, stores the user's Sage login
   (encrypted, keyed by Sage's user id), and redirects to the MCP client with a code of ours.
3. The client swaps that code at ``/token`` for **our** tokens: a short-lived access token (a JWT
   signed with a key derived from the encryption key, audience = this server's ``/mcp``, subject =
   the Sage user id) and a refresh token (opaque, in Redis, rotated on every use). Sage's tokens
   never leave the server.

Access tokens are verified without Redis (signature, issuer, audience, expiry), so a Redis outage
turns into clear tool errors, not failed authentication.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import logging
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

import jwt
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    AuthorizeError,
    IdentityAssertionParams,
    RefreshToken,
    TokenError,
    construct_redirect_uri,
)
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import AnyUrl, ValidationError
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from sage_mcp.config import Settings
from sage_mcp.http.hosted.ops import Metrics
from sage_mcp.http.hosted.settings import HostedSettings
from sage_mcp.sage.client import SageClient, fetch_json_document
from sage_mcp.sage.errors import SageError
from sage_mcp.sage.oauth import start_login
from sage_mcp.sage.tokens import StoredLogin, TokenSet
from sage_mcp.stores.redis import RedisState, RedisTokenStore, StateUnavailable, derive_key

log = logging.getLogger(__name__)

SCOPES = ["full_access", "readonly"]
SIGN_IN_TTL = 600
CODE_TTL = 300
CLIENT_TTL = 365 * 86400
METADATA_DOC_TTL = 3600
ALGORITHM = "HS256"


def _digest(secret: str) -> str:
    """Secrets are stored under their hash, never as keys themselves."""
    return hashlib.sha256(secret.encode()).hexdigest()


def sage_scope(scopes: list[str] | None) -> str:
    """The Sage scope to sign in with: read-only only when nothing but ``readonly`` was asked for."""
    return "readonly" if scopes and "full_access" not in scopes and "readonly" in scopes else "full_access"


class SageAuthProvider:
    """The SDK's ``OAuthAuthorizationServerProvider``, backed by Redis and Sage's sign-in."""

    def __init__(
        self,
        settings: Settings,
        hosted: HostedSettings,
        state: RedisState,
        sage: SageClient,
        metrics: Metrics,
        *,
        on_sign_in: Any = None,
    ) -> None:
        self.settings = settings
        self.hosted = hosted
        self.state = state
        self.sage = sage  # used only for Sage's token endpoint (code exchange)
        self.metrics = metrics
        self.on_sign_in = on_sign_in
        self.issuer = hosted.public_url
        self.audience = hosted.resource_url
        self._signing_key = derive_key(hosted.encryption_keys()[0], "sage-mcp access tokens")

    # -- clients: dynamic registration and client ID metadata documents ----------------------------

    def _is_metadata_url(self, client_id: str) -> bool:
        parts = urlsplit(client_id)
        if parts.scheme == "https" and parts.netloc and parts.path not in ("", "/"):
            return True
        return (
            self.hosted.insecure_client_metadata
            and parts.scheme == "http"
            and parts.hostname in ("127.0.0.1", "localhost", "::1")
            and parts.path not in ("", "/")
        )

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        if self._is_metadata_url(client_id):
            return await self._metadata_document_client(client_id)
        raw = await self.state.get("client", _digest(client_id))
        return None if raw is None else OAuthClientInformationFull.model_validate(raw)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        await self.state.put("client", _digest(client_info.client_id), client_info.model_dump(mode="json"), CLIENT_TTL)

    async def _metadata_document_client(self, client_id: str) -> OAuthClientInformationFull | None:
        cached = await self.state.get("cimd", _digest(client_id))
        if cached is not None:
            return OAuthClientInformationFull.model_validate(cached)
        try:
            doc = await fetch_json_document(client_id)
            if not isinstance(doc, dict) or doc.get("client_id") != client_id:
                raise ValueError("its client_id is not the URL it was fetched from")
            method = doc.get("token_endpoint_auth_method") or "none"
            if method != "none":
                raise ValueError("a client identified by a metadata document cannot hold a client secret")
            info = OAuthClientInformationFull.model_validate(
                {
                    **{k: v for k, v in doc.items() if k in OAuthClientInformationFull.model_fields},
                    "client_id": client_id,
                    "client_secret": None,
                    "token_endpoint_auth_method": "none",
                    "scope": doc.get("scope") or " ".join(SCOPES),
                    "grant_types": ["authorization_code", "refresh_token"],
                }
            )
            if not info.redirect_uris:
                raise ValueError("it lists no redirect_uris")
        except (ValueError, ValidationError) as exc:
            log.info("client metadata document refused: %s", str(exc)[:200])
            return None
        await self.state.put("cimd", _digest(client_id), info.model_dump(mode="json"), METADATA_DOC_TTL)
        return info

    # -- authorize: on to Sage's sign-in ----------------------------------------------------------

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        if params.resource is not None and params.resource.rstrip("/") != self.audience:
            raise AuthorizeError("invalid_target", f"this server issues tokens only for {self.audience}")
        sage_settings = self.settings.model_copy(update={"redirect_uri": self.hosted.sage_redirect_uri})
        try:
            login = start_login(sage_settings, scope=sage_scope(params.scopes))
        except SageError as exc:
            raise AuthorizeError("server_error", str(exc)) from None
        attempt = {
            "client_id": client.client_id,
            "redirect_uri": str(params.redirect_uri),
            "redirect_uri_provided_explicitly": params.redirect_uri_provided_explicitly,
            "code_challenge": params.code_challenge,
            "state": params.state,
            "scopes": params.scopes or ["full_access"],
            "resource": params.resource,
            "sage_verifier": login.code_verifier,
        }
        try:
            await self.state.put("signin", _digest(login.state), attempt, SIGN_IN_TTL)
        except StateUnavailable:
            raise AuthorizeError("temporarily_unavailable", "the server's state store is unreachable") from None
        return login.url

    async def sage_callback(self, request: Request) -> Response:
        """Where Sage sends the browser back: store the user's Sage login, hand the MCP client a code."""
        query = request.query_params
        sage_state = query.get("state") or ""
        try:
            attempt = await self.state.take("signin", _digest(sage_state)) if sage_state else None
        except StateUnavailable:
            return _page(503, "Try again shortly", "The server's state store is unreachable; nothing was changed.")
        if attempt is None:
            return _page(
                400,
                "This sign-in link has expired or was already used",
                "Start again from your MCP client: it will open a fresh Sage sign-in.",
            )
        client_redirect = str(attempt["redirect_uri"])
        if "error" in query:
            detail = query.get("error_description") or query["error"]
            return RedirectResponse(
                construct_redirect_uri(
                    client_redirect, error="access_denied", error_description=f"Sage: {detail}", state=attempt["state"]
                ),
                status_code=302,
            )
        code = query.get("code") or ""
        try:
            response = await self.sage.exchange_code(code, self.hosted.sage_redirect_uri, attempt["sage_verifier"])
            tokens = TokenSet.from_response(response, time.time())
        except SageError as exc:
            log.warning("Sage refused a sign-in code exchange: %s", type(exc).__name__)
            return _page(502, "Sage did not complete the sign-in", f"{exc}. Start again from your MCP client.")
        user_id = tokens.requested_by_id
        if not user_id:
            return _page(502, "Sage did not say who signed in", "Start again from your MCP client.")
        store = RedisTokenStore(self.state, user_id)
        try:
            await asyncio.to_thread(self._save_login, store, tokens)
        except SageError as exc:
            return _page(503, "Try again shortly", f"{exc}.")
        self.metrics.sign_ins.inc()
        if self.on_sign_in is not None:
            self.on_sign_in(user_id)
        ours = secrets.token_urlsafe(32)
        record = AuthorizationCode(
            code=_digest(ours),
            scopes=list(attempt["scopes"]),
            expires_at=time.time() + CODE_TTL,
            client_id=str(attempt["client_id"]),
            code_challenge=str(attempt["code_challenge"]),
            redirect_uri=AnyUrl(client_redirect),
            redirect_uri_provided_explicitly=bool(attempt["redirect_uri_provided_explicitly"]),
            resource=attempt.get("resource"),
            subject=user_id,
        )
        try:
            await self.state.put("code", _digest(ours), record.model_dump(mode="json"), CODE_TTL)
        except StateUnavailable:
            return _page(503, "Try again shortly", "The server's state store is unreachable.")
        log.info("a user signed in with Sage", extra={"client": str(attempt["client_id"])[:100]})
        return RedirectResponse(
            construct_redirect_uri(client_redirect, code=ours, state=attempt["state"]), status_code=302
        )

    @staticmethod
    def _save_login(store: RedisTokenStore, tokens: TokenSet) -> None:
        """Replace the user's Sage login, keeping their business pin, under their (fenced) lock."""
        with store.lock():
            try:
                previous = store.load()
            except SageError:
                previous = None  # unreadable (e.g. an old key): replaced
            pin = previous.business_id if previous is not None else None
            store.save(StoredLogin(tokens=tokens, business_id=pin, saved_at=time.time()))

    # -- codes and tokens -----------------------------------------------------------------------

    async def load_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: str
    ) -> AuthorizationCode | None:
        raw = await self.state.get("code", _digest(authorization_code))
        if raw is None:
            return None
        code = AuthorizationCode.model_validate(raw)
        return code if code.client_id == client.client_id else None

    async def exchange_authorization_code(
        self, client: OAuthClientInformationFull, authorization_code: AuthorizationCode
    ) -> OAuthToken:
        # Single use: whoever takes the record first gets the tokens.
        if await self.state.take("code", authorization_code.code) is None:
            raise TokenError("invalid_grant", "the authorization code was already used")
        if not authorization_code.subject:
            raise TokenError("invalid_grant", "the authorization code names no user")
        return await self._issue(client.client_id, authorization_code.scopes, authorization_code.subject)

    async def load_refresh_token(self, client: OAuthClientInformationFull, refresh_token: str) -> RefreshToken | None:
        raw = await self.state.get("refresh", _digest(refresh_token))
        if raw is None:
            return None
        token = RefreshToken.model_validate(raw)
        return token if token.client_id == client.client_id else None

    async def exchange_refresh_token(
        self, client: OAuthClientInformationFull, refresh_token: RefreshToken, scopes: list[str]
    ) -> OAuthToken:
        if await self.state.take("refresh", refresh_token.token) is None:
            raise TokenError("invalid_grant", "the refresh token was already used (tokens rotate)")
        if not refresh_token.subject:
            raise TokenError("invalid_grant", "the refresh token names no user")
        return await self._issue(client.client_id, scopes, refresh_token.subject)

    async def _issue(self, client_id: str, scopes: list[str], subject: str) -> OAuthToken:
        now = int(time.time())
        ttl = self.hosted.access_token_ttl
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "client_id": client_id,
            "scope": " ".join(scopes),
            "iat": now,
            "exp": now + ttl,
            "jti": secrets.token_hex(12),
        }
        access = jwt.encode(claims, self._signing_key, algorithm=ALGORITHM)
        refresh = secrets.token_urlsafe(32)
        record = RefreshToken(
            token=_digest(refresh),
            client_id=client_id,
            scopes=scopes,
            expires_at=now + self.hosted.refresh_token_ttl,
            resource=self.audience,
            subject=subject,
        )
        await self.state.put("refresh", _digest(refresh), record.model_dump(mode="json"), self.hosted.refresh_token_ttl)
        return OAuthToken(
            access_token=access, token_type="Bearer", expires_in=ttl, refresh_token=refresh, scope=" ".join(scopes)
        )

    async def load_access_token(self, token: str) -> AccessToken | None:
        try:
            claims = jwt.decode(
                token,
                self._signing_key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "sub", "aud", "iss"]},
            )
        except jwt.PyJWTError:
            return None
        return AccessToken(
            token=token,
            client_id=str(claims.get("client_id", "")),
            scopes=str(claims.get("scope", "")).split(),
            expires_at=int(claims["exp"]),
            resource=self.audience,
            subject=str(claims["sub"]),
            claims={"iss": self.issuer},
        )

    async def verify_token(self, token: str) -> AccessToken | None:
        """The SDK's ``TokenVerifier``: the same check as :meth:`load_access_token`."""
        return await self.load_access_token(token)

    async def exchange_identity_assertion(
        self, client: OAuthClientInformationFull, params: IdentityAssertionParams
    ) -> OAuthToken:
        del client, params
        raise TokenError("unsupported_grant_type", "users sign in with Sage; identity assertions are not accepted")

    async def revoke_token(self, token: AccessToken | RefreshToken) -> None:
        # Access tokens are short-lived signed tokens: they lapse on their own. Refresh tokens go now.
        if isinstance(token, RefreshToken):
            await self.state.delete("refresh", token.token)


def _page(status: int, title: str, detail: str) -> HTMLResponse:
    body = (
        "<!doctype html><html><head><meta charset='utf-8'><title>sage-mcp sign-in</title></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(detail)}</p></body></html>"
    )
    return HTMLResponse(body, status_code=status)
