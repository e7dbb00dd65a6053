"""What guards one HTTP server: its allow-lists and its credential, decided before anything is bound."""

from __future__ import annotations

from dataclasses import dataclass

from mcp.server.auth.provider import TokenVerifier
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp

from sage_mcp.config import Settings
from sage_mcp.http.allow import AllowList, default_hosts, default_origins, is_loopback, parse_list
from sage_mcp.http.guard import HttpGuard
from sage_mcp.http.token import ENV_VAR, HttpToken, StaticTokenVerifier, TokenError, http_token

UNSAFE_FLAG = "--unsafe-no-auth"


class HttpSetupError(Exception):
    """The HTTP server must not start; the message says why and what to do (the CLI exits 2)."""


@dataclass(frozen=True)
class HttpSecurity:
    """The bound host, its Host and Origin allow-lists, and the token (``None`` only with --unsafe-no-auth)."""

    host: str
    hosts: AllowList
    origins: AllowList
    token: HttpToken | None

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    def verifier(self) -> TokenVerifier | None:
        return None if self.token is None else StaticTokenVerifier(self.token.value)

    def transport_settings(self) -> TransportSecuritySettings:
        """The same allow-lists for the SDK's own check behind ours."""
        return TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=self.hosts.for_sdk(),
            allowed_origins=self.origins.for_sdk(),
        )

    def wrap(self, app: ASGIApp) -> ASGIApp:
        return HttpGuard(app, hosts=self.hosts, origins=self.origins, verifier=self.verifier())

    def warnings(self, port: int) -> list[str]:
        """What the person starting the server must know about this bind (for stderr)."""
        notes: list[str] = []
        if self.token is None:
            notes.append(
                f"WARNING: {UNSAFE_FLAG}: no authentication. Every process on this machine, and every web "
                f"page whose origin is allowed ({self.origins}), can read and post to the books through "
                f"port {port}."
            )
        if not self.loopback:
            notes.append(
                f"WARNING: listening on {self.host}, which other machines may reach. Requests must carry the "
                f"bearer token; the Host header must be one of: {self.hosts} (--allowed-hosts, "
                f"SAGE_MCP_ALLOWED_HOSTS); a browser Origin one of: {self.origins} (--allowed-origins, "
                "SAGE_MCP_ALLOWED_ORIGINS). Clients that use another name for this machine get 421 until it "
                "is listed. This is plain HTTP: put TLS in front of it (a reverse proxy) beyond a trusted network."
            )
        return notes


def check_bind(host: str, *, unsafe_no_auth: bool) -> None:
    """Refuse ``--unsafe-no-auth`` on anything but a loopback name (127.0.0.1, localhost, ::1)."""
    if unsafe_no_auth and not is_loopback(host):
        raise HttpSetupError(
            f"{UNSAFE_FLAG} is refused on {host}: without authentication the server may only listen on "
            "127.0.0.1, localhost or ::1. Drop the flag (clients then send the bearer token) or bind a "
            "loopback address."
        )


def plan_http(
    settings: Settings,
    host: str,
    *,
    allowed_hosts: str | None = None,
    allowed_origins: str | None = None,
    unsafe_no_auth: bool = False,
) -> HttpSecurity:
    """Decide how an HTTP server on ``host`` is guarded, or refuse (:class:`HttpSetupError`).

    Flags (``allowed_*`` given) replace the ``SAGE_MCP_ALLOWED_*`` settings, which replace the
    defaults. ``unsafe_no_auth`` is accepted on a loopback name only (127.0.0.1, localhost, ::1).
    """
    check_bind(host, unsafe_no_auth=unsafe_no_auth)
    host_text = allowed_hosts if allowed_hosts is not None else settings.allowed_hosts
    origin_text = allowed_origins if allowed_origins is not None else settings.allowed_origins
    try:
        hosts = AllowList.hosts(parse_list(host_text) or default_hosts(host))
        origins = AllowList.origins(parse_list(origin_text) or default_origins(host))
    except ValueError as exc:
        raise HttpSetupError(str(exc)) from None
    if unsafe_no_auth:
        return HttpSecurity(host, hosts, origins, None)
    try:
        token = http_token(settings)
    except TokenError as exc:
        raise HttpSetupError(str(exc)) from None
    return HttpSecurity(host, hosts, origins, token)


def token_hint(token: HttpToken) -> str:
    """Where the token is and how a client passes it, without printing the token itself."""
    if token.path is None:
        return f"Bearer token: from {ENV_VAR}. Clients send the header: Authorization: Bearer ${ENV_VAR}"
    return (
        f"Bearer token: in {token.path} (mode 0600; {ENV_VAR} overrides it). "
        f'Clients send the header: Authorization: Bearer $(cat "{token.path}")'
    )
