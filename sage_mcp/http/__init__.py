"""HTTP transport security: a bearer token on every request, Origin and Host allow-lists on every bind.

``plan_http`` decides, before anything is bound, how one server is guarded (and refuses
``--unsafe-no-auth`` off loopback); ``HttpSecurity.wrap`` puts :class:`HttpGuard` in front of the
SDK's streamable HTTP app. Authentication goes through the SDK's ``TokenVerifier`` protocol: today a
static token (:class:`StaticTokenVerifier`), later an OAuth verifier for hosted use behind the same guard.

Why a guard of our own rather than the SDK's ``auth=AuthSettings(...)``: AuthSettings needs an
``issuer_url`` and, with a resource URL, publishes it as the authorization server in the RFC 9728
metadata; a static token has no authorization server to name. The SDK's check would also run after
its authentication, so a foreign page would learn 401 before 403/421. The guard keeps the SDK's
contract (``TokenVerifier``, ``AccessToken``, ``scope["user"]``) so hosted mode can add the metadata
route (``resource_metadata_url``, ``public_paths``) without changing the check.
"""

from sage_mcp.http.allow import AllowList, is_loopback
from sage_mcp.http.guard import HttpGuard
from sage_mcp.http.security import UNSAFE_FLAG, HttpSecurity, HttpSetupError, check_bind, plan_http, token_hint
from sage_mcp.http.token import ENV_VAR, HttpToken, StaticTokenVerifier, TokenError, load_or_create_token

__all__ = [
    "ENV_VAR",
    "UNSAFE_FLAG",
    "AllowList",
    "HttpGuard",
    "HttpSecurity",
    "HttpSetupError",
    "HttpToken",
    "StaticTokenVerifier",
    "TokenError",
    "check_bind",
    "is_loopback",
    "load_or_create_token",
    "plan_http",
    "token_hint",
]
