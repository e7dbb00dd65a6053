"""Signing in to Sage: the authorization-code flow with PKCE (S256) and state, through authlib.

:func:`start_login` builds the authorize URL; the user's browser comes back to a loopback
redirect URI, which :class:`CallbackServer` catches (or the user pastes it);
:func:`code_from_callback` checks ``state`` and extracts the code; the caller exchanges it with
:meth:`SageClient.exchange_code`.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

from authlib.oauth2.client import OAuth2Client

from sage_mcp.config import Settings
from sage_mcp.sage.errors import AuthError

SCOPES = ("full_access", "readonly")
COUNTRIES = ("gb", "ie", "ca")


@dataclass(frozen=True)
class LoginRequest:
    url: str
    state: str
    code_verifier: str
    redirect_uri: str


def start_login(
    settings: Settings, *, scope: str = "full_access", country: str | None = None, locale: str | None = None
) -> LoginRequest:
    if scope not in SCOPES:
        raise AuthError(f"scope must be one of {', '.join(SCOPES)}")
    if not settings.client_id:
        raise AuthError("SAGE_CLIENT_ID is not set: register an app at developer.sage.com and set its client id")
    extra: dict[str, str] = {}
    if country:
        extra["country"] = country.lower()
    if locale:
        extra["locale"] = locale
    verifier = secrets.token_urlsafe(64)[:96]
    oauth = OAuth2Client(
        None,
        client_id=settings.client_id,
        redirect_uri=settings.redirect_uri,
        scope=scope,
        code_challenge_method="S256",
    )
    url, state = oauth.create_authorization_url(settings.authorize_url, code_verifier=verifier, **extra)
    return LoginRequest(url=url, state=state, code_verifier=verifier, redirect_uri=settings.redirect_uri)


def code_from_callback(callback_url: str, expected_state: str) -> str:
    """The authorization code from the redirect, after checking ``state``; errors are explained."""
    query = parse_qs(urlsplit(callback_url.strip()).query)
    if "error" in query:
        reason = query.get("error_description", query["error"])[0]
        raise AuthError(f"Sage did not authorize the sign-in: {query['error'][0]} ({reason})")
    state = query.get("state", [""])[0]
    if not secrets.compare_digest(state, expected_state):
        raise AuthError("the sign-in response's state does not match this login attempt; start `auth login` again")
    code = query.get("code", [""])[0]
    if not code:
        raise AuthError("the redirect URL carries no authorization code")
    return code


class CallbackServer:
    """Listens on the loopback redirect URI (bound on creation, before the browser is opened)."""

    def __init__(self, redirect_uri: str) -> None:
        parts = urlsplit(redirect_uri)
        host = parts.hostname or "127.0.0.1"
        if host not in {"127.0.0.1", "localhost", "::1"}:
            raise AuthError(
                f"redirect URI {redirect_uri} is not a loopback address; use --no-browser and paste the URL"
            )
        self.redirect_uri = redirect_uri
        received: list[str] = []
        done = threading.Event()
        self._received, self._done = received, done

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if urlsplit(self.path).path != (parts.path or "/"):
                    self.send_error(404)
                    return
                received.append(f"{parts.scheme}://{parts.netloc}{self.path}")
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(b"<h1>Signed in to Sage.</h1><p>You can close this window and return to sage-mcp.</p>")
                done.set()

            def log_message(self, format: str, *args: object) -> None:
                del format, args

        try:
            self._server = HTTPServer((host, parts.port or 80), Handler)
        except OSError as exc:
            raise AuthError(f"cannot listen on {redirect_uri} ({exc.strerror}); is another login running?") from None
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def wait(self, timeout: float = 300.0) -> str:
        """The full URL the browser was redirected to."""
        if not self._done.wait(timeout):
            raise AuthError(f"no sign-in arrived at {self.redirect_uri} within {timeout:.0f} s")
        return self._received[0]

    def close(self) -> None:
        self._server.shutdown()
        with contextlib.suppress(OSError):
            self._server.server_close()

    def __enter__(self) -> CallbackServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
