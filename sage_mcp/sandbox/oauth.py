"""Sage's OAuth 2.0 server, emulated: authorize (auto-approved), token, revoke, bearer checks.

* ``GET /oauth2/auth/central`` - authorization code grant with optional PKCE (``S256`` or ``plain``).
  The sandbox user approves at once: 302 to ``redirect_uri`` with ``code`` (region-prefixed like
  Sage's, ``GB/...``), ``country=GB`` and ``state``.  An unknown ``client_id`` or a ``redirect_uri``
  that is not a loopback ``http://127.0.0.1|localhost[:port]/...`` URI (or one listed in
  ``SandboxConfig.redirect_uris``) gets a 400 page, never a redirect.
* ``POST /token`` - ``authorization_code`` and ``refresh_token`` grants; client authentication only
  by ``client_id``/``client_secret`` in the form body (client_secret_post, as Sage documents).
  Codes are single-use and live ``authorization_code_ttl`` seconds.  Every refresh issues a new
  refresh token and the presented one is dead from then on (strict rotation).
* ``POST /revoke`` - revokes a refresh token *and every token of the same login*, access tokens
  included.
* Tokens are opaque random strings, stored only as SHA-256 hashes.  Expiry uses ``config.clock``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from .config import SANDBOX_USER_ID, SandboxConfig
from .errors import unauthorized
from .store import Store, hash_secret

SCOPES = ("full_access", "readonly")
_PKCE_RE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class OAuthError(Exception):
    """A token/revoke endpoint error: ``{"error", "error_description"}`` with an HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass(frozen=True)
class AuthorizeOutcome:
    """Either a redirect (``location``) or a page shown instead of redirecting (``status``, ``page``)."""

    location: str | None = None
    status: int = 302
    page: str = ""


@dataclass(frozen=True)
class AccessInfo:
    """Who a valid access token speaks for."""

    user_id: str
    scope: str
    grant_id: str
    client_id: str


def pkce_s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _with_query(uri: str, params: Mapping[str, str]) -> str:
    parts = urlsplit(uri)
    extra = urlencode(dict(params))
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _error_page(title: str, detail: str) -> str:
    return (
        "<!doctype html><html><head><title>Sage sandbox: sign-in error</title></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(detail)}</p></body></html>"
    )


def _normalise_scope(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return "full_access"
    requested = {s for s in re.split(r"[\s,]+", raw.strip()) if s}
    if not requested <= set(SCOPES):
        return None
    return "full_access" if "full_access" in requested else "readonly"


class OAuthServer:
    """The OAuth endpoints' logic over the sandbox store (callers hold no lock; methods take it)."""

    def __init__(self, store: Store, config: SandboxConfig) -> None:
        self.store = store
        self.config = config

    # ------------------------------------------------------------------ helpers

    def _now(self) -> float:
        return float(self.config.clock())

    def redirect_uri_allowed(self, uri: str) -> bool:
        if uri in self.config.redirect_uris:
            return True
        try:
            parts = urlsplit(uri)
            port = parts.port  # raises ValueError for a malformed port
        except ValueError:
            return False
        del port
        return (
            parts.scheme == "http"
            and (parts.hostname or "") in _LOOPBACK_HOSTS
            and not parts.fragment
            and not parts.username
            and not parts.password
        )

    def _check_client(self, form: Mapping[str, str], has_basic_auth: bool) -> str:
        client_id = form.get("client_id", "")
        client_secret = form.get("client_secret", "")
        if not client_id or not client_secret:
            hint = (
                " (HTTP Basic client authentication is not supported: send client_id and client_secret "
                "in the form body)"
                if has_basic_auth
                else ""
            )
            raise OAuthError("invalid_client", "client_id and client_secret are required" + hint, 401)
        ok = secrets.compare_digest(client_id, self.config.client_id) and secrets.compare_digest(
            client_secret, self.config.client_secret
        )
        if not ok:
            raise OAuthError("invalid_client", "Client authentication failed", 401)
        return client_id

    # ------------------------------------------------------------------ authorize

    def authorize(self, params: Mapping[str, str]) -> AuthorizeOutcome:
        client_id = params.get("client_id", "")
        redirect_uri = params.get("redirect_uri", "")
        if client_id != self.config.client_id:
            return AuthorizeOutcome(status=400, page=_error_page("Unknown client", "The client_id is not registered."))
        if not redirect_uri or not self.redirect_uri_allowed(redirect_uri):
            return AuthorizeOutcome(
                status=400,
                page=_error_page(
                    "Invalid redirect_uri",
                    "The redirect_uri is missing or not registered for this client "
                    "(the sandbox accepts http://127.0.0.1:<port>/... and http://localhost:<port>/...).",
                ),
            )
        state = params.get("state")

        def fail(error: str, description: str) -> AuthorizeOutcome:
            query = {"error": error, "error_description": description}
            if state is not None:
                query["state"] = state
            return AuthorizeOutcome(location=_with_query(redirect_uri, query))

        if params.get("response_type") != "code":
            return fail("unsupported_response_type", "response_type must be 'code'")
        scope = _normalise_scope(params.get("scope", params.get("scopes")))
        if scope is None:
            return fail("invalid_scope", "scope must be 'full_access' or 'readonly'")
        country = params.get("country")
        if country is not None and country.lower() not in ("gb", "ie", "ca"):
            return fail("invalid_request", "country must be one of ca, gb, ie")
        challenge = params.get("code_challenge")
        method = params.get("code_challenge_method")
        if challenge is None and method is not None:
            return fail("invalid_request", "code_challenge_method given without code_challenge")
        if challenge is not None:
            method = method or "plain"
            if method not in ("S256", "plain"):
                return fail("invalid_request", "code_challenge_method must be S256 or plain")
            if not _PKCE_RE.match(challenge):
                return fail("invalid_request", "code_challenge must be 43-128 characters [A-Za-z0-9-._~]")
        code = "GB/" + secrets.token_urlsafe(32)
        with self.store.transaction():
            self.store.execute(
                "INSERT INTO oauth_codes (code_hash, client_id, redirect_uri, scope, user_id, code_challenge,"
                " code_challenge_method, issued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    hash_secret(code),
                    client_id,
                    redirect_uri,
                    scope,
                    SANDBOX_USER_ID,
                    challenge,
                    method if challenge is not None else None,
                    self._now(),
                ),
            )
        query = {"code": code, "country": "GB"}
        if state is not None:
            query["state"] = state
        return AuthorizeOutcome(location=_with_query(redirect_uri, query))

    # ------------------------------------------------------------------ tokens

    def _issue(self, grant_id: str, scope: str, user_id: str) -> dict[str, Any]:
        now = self._now()
        access = "sbx_at_" + secrets.token_urlsafe(40)
        refresh = "sbx_rt_" + secrets.token_urlsafe(40)
        self.store.executemany(
            "INSERT INTO oauth_tokens (token_hash, kind, grant_id, issued_at, expires_at, state)"
            " VALUES (?, ?, ?, ?, ?, 'active')",
            [
                (hash_secret(access), "access", grant_id, now, now + self.config.access_token_ttl),
                (hash_secret(refresh), "refresh", grant_id, now, now + self.config.refresh_token_ttl),
            ],
        )
        return {
            "access_token": access,
            "scope": scope,
            "token_type": "bearer",
            "expires_in": self.config.access_token_ttl,
            "refresh_token": refresh,
            "refresh_token_expires_in": self.config.refresh_token_ttl,
            "requested_by_id": user_id,
        }

    def _new_grant(self, client_id: str, user_id: str, scope: str) -> str:
        grant_id = secrets.token_hex(16)
        self.store.execute(
            "INSERT INTO oauth_grants (id, client_id, user_id, scope, created_at) VALUES (?, ?, ?, ?, ?)",
            (grant_id, client_id, user_id, scope, self._now()),
        )
        return grant_id

    def mint(self, scope: str = "full_access", user_id: str = SANDBOX_USER_ID) -> dict[str, Any]:
        """A token pair exactly as a completed login's token response (skips the browser)."""
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES}")
        with self.store.transaction():
            grant_id = self._new_grant(self.config.client_id, user_id, scope)
            return self._issue(grant_id, scope, user_id)

    def token(self, form: Mapping[str, str], *, has_basic_auth: bool = False) -> dict[str, Any]:
        """The token endpoint; raises :class:`OAuthError`."""
        client_id = self._check_client(form, has_basic_auth)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", "grant_type is required")
        if grant_type not in ("authorization_code", "refresh_token"):
            raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
        # A refused exchange still commits what it changed (a spent code, a revoked login).
        failure: OAuthError | None = None
        with self.store.transaction():
            try:
                if grant_type == "authorization_code":
                    return self._exchange_code(form, client_id)
                return self._refresh(form, client_id)
            except OAuthError as exc:
                failure = exc
        raise failure

    def _exchange_code(self, form: Mapping[str, str], client_id: str) -> dict[str, Any]:
        code = form.get("code")
        if not code:
            raise OAuthError("invalid_request", "code is required")
        row = self.store.execute("SELECT * FROM oauth_codes WHERE code_hash = ?", (hash_secret(code),)).fetchone()
        if row is None or row["client_id"] != client_id:
            raise OAuthError("invalid_grant", "The authorization code is invalid")
        if row["used"]:
            raise OAuthError("invalid_grant", "The authorization code has already been used")
        # Whatever happens next, a presented code is spent.
        self.store.execute("UPDATE oauth_codes SET used = 1 WHERE code_hash = ?", (row["code_hash"],))
        if self._now() >= float(row["issued_at"]) + self.config.authorization_code_ttl:
            raise OAuthError("invalid_grant", "The authorization code has expired")
        if form.get("redirect_uri") != row["redirect_uri"]:
            raise OAuthError("invalid_grant", "redirect_uri does not match the one used to authorize")
        verifier = form.get("code_verifier")
        challenge = row["code_challenge"]
        if challenge is None:
            if verifier is not None:
                raise OAuthError("invalid_grant", "code_verifier sent but no code_challenge was used")
        else:
            if not verifier:
                raise OAuthError("invalid_grant", "code_verifier is required (PKCE was used)")
            if not _PKCE_RE.match(verifier):
                raise OAuthError("invalid_grant", "code_verifier is malformed")
            expected = pkce_s256(verifier) if row["code_challenge_method"] == "S256" else verifier
            if not secrets.compare_digest(expected, challenge):
                raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
        grant_id = self._new_grant(client_id, row["user_id"], row["scope"])
        return self._issue(grant_id, row["scope"], row["user_id"])

    def _refresh(self, form: Mapping[str, str], client_id: str) -> dict[str, Any]:
        token = form.get("refresh_token")
        if not token:
            raise OAuthError("invalid_request", "refresh_token is required")
        row = self.store.execute(
            "SELECT t.*, g.client_id, g.user_id, g.scope, g.revoked FROM oauth_tokens t"
            " JOIN oauth_grants g ON g.id = t.grant_id WHERE t.token_hash = ? AND t.kind = 'refresh'",
            (hash_secret(token),),
        ).fetchone()
        if row is None or row["client_id"] != client_id:
            raise OAuthError("invalid_grant", "The refresh token is invalid")
        if row["revoked"] or row["state"] == "revoked":
            raise OAuthError("invalid_grant", "The refresh token has been revoked")
        if row["state"] == "rotated":
            if self.config.refresh_reuse_revokes_grant:
                self._revoke_grant(row["grant_id"])
            raise OAuthError("invalid_grant", "The refresh token has already been used (tokens rotate)")
        if self._now() >= float(row["expires_at"]):
            raise OAuthError("invalid_grant", "The refresh token has expired")
        self.store.execute("UPDATE oauth_tokens SET state = 'rotated' WHERE token_hash = ?", (row["token_hash"],))
        return self._issue(row["grant_id"], row["scope"], row["user_id"])

    def _revoke_grant(self, grant_id: str) -> None:
        self.store.execute("UPDATE oauth_grants SET revoked = 1 WHERE id = ?", (grant_id,))
        self.store.execute("UPDATE oauth_tokens SET state = 'revoked' WHERE grant_id = ?", (grant_id,))

    def revoke(self, form: Mapping[str, str], *, has_basic_auth: bool = False) -> dict[str, str]:
        """The revoke endpoint; raises :class:`OAuthError`."""
        client_id = self._check_client(form, has_basic_auth)
        token = form.get("token")
        if not token:
            raise OAuthError("invalid_request", "token is required")
        with self.store.transaction():
            row = self.store.execute(
                "SELECT t.grant_id, t.kind, g.client_id FROM oauth_tokens t JOIN oauth_grants g"
                " ON g.id = t.grant_id WHERE t.token_hash = ?",
                (hash_secret(token),),
            ).fetchone()
            # Unknown tokens and access tokens: 200 and nothing happens (RFC 7009; Sage revokes refresh tokens).
            if row is not None and row["kind"] == "refresh" and row["client_id"] == client_id:
                self._revoke_grant(row["grant_id"])
        return {"success": "ok"}

    # ------------------------------------------------------------------ API access

    def authenticate(self, authorization: str | None) -> AccessInfo:
        """The caller of a ``/v3.1`` request; raises a 401 :class:`~.errors.ApiError`."""
        if not authorization:
            raise unauthorized("Authorization header missing: send 'Authorization: Bearer <access token>'.")
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise unauthorized("The Authorization header must be 'Bearer <access token>'.")
        row = self.store.execute(
            "SELECT t.state, t.expires_at, t.grant_id, g.user_id, g.scope, g.client_id, g.revoked"
            " FROM oauth_tokens t JOIN oauth_grants g ON g.id = t.grant_id"
            " WHERE t.token_hash = ? AND t.kind = 'access'",
            (hash_secret(token),),
        ).fetchone()
        if row is None:
            raise unauthorized("The access token is invalid.")
        if row["revoked"] or row["state"] != "active":
            raise unauthorized("The access token has been revoked.")
        if self._now() >= float(row["expires_at"]):
            raise unauthorized("The access token has expired.")
        return AccessInfo(
            user_id=str(row["user_id"]),
            scope=str(row["scope"]),
            grant_id=str(row["grant_id"]),
            client_id=str(row["client_id"]),
        )
