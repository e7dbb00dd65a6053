"""The sandbox as a Starlette application."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .api import Api, ApiRequest
from .config import SandboxConfig
from .errors import ErrorItem
from .oauth import OAuthError
from .state import Sandbox

_ALL_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def _error_array(status: int, message: str, data_code: str, headers: dict[str, str] | None = None) -> Response:
    return _json(status, [ErrorItem(message, data_code).to_json()], headers)


class _CountRequests:
    """Counts every HTTP request as ``(METHOD, path)`` before anything else looks at it."""

    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.sandbox.count_request(str(scope["method"]), str(scope["path"]))
        await self.app(scope, receive, send)


def _sandbox(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


async def _form(request: Request) -> tuple[dict[str, str], bool]:
    """The urlencoded form body (last value wins) and whether HTTP Basic credentials were sent."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "The body must be application/x-www-form-urlencoded")
    raw = (await request.body()).decode("utf-8", errors="replace")
    form = dict(parse_qsl(raw, keep_blank_values=True))
    has_basic = request.headers.get("authorization", "").lower().startswith("basic ")
    return form, has_basic


async def authorize_endpoint(request: Request) -> Response:
    outcome = _sandbox(request).oauth.authorize(dict(request.query_params))
    if outcome.location is not None:
        return RedirectResponse(outcome.location, status_code=302)
    return HTMLResponse(outcome.page, status_code=outcome.status)


async def token_endpoint(request: Request) -> Response:
    try:
        form, has_basic = await _form(request)
        return _json(200, _sandbox(request).oauth.token(form, has_basic_auth=has_basic), _NO_STORE)
    except OAuthError as error:
        return _json(error.status, error.body(), _NO_STORE)


async def revoke_endpoint(request: Request) -> Response:
    try:
        form, has_basic = await _form(request)
        return _json(200, _sandbox(request).oauth.revoke(form, has_basic_auth=has_basic), _NO_STORE)
    except OAuthError as error:
        return _json(error.status, error.body(), _NO_STORE)


async def api_endpoint(request: Request) -> Response:
    api: Api = request.app.state.api
    body = await request.body()
    rest = request.path_params.get("rest", "")
    api_request = ApiRequest(
        method=request.method.upper(),
        path="/" + str(rest),
        query=request.query_params,
        raw_query=request.url.query,
        headers=request.headers,
        body=body,
    )
    result = api.handle(api_request)
    headers = dict(result.headers)
    headers["x_request_id"] = uuid.uuid4().hex
    if result.payload is None:
        return Response(status_code=result.status, headers=headers)
    return _json(result.status, result.payload, headers)


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        return _error_array(405, f"{request.method} is not allowed on {request.url.path}", "MethodNotAllowed", headers)
    if exc.status_code == 404:
        return _error_array(404, f"No such endpoint: {request.url.path}", "RecordNotFound", headers)
    return _error_array(exc.status_code, str(exc.detail), "BadRequest", headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    del request, exc
    return _error_array(500, "An unexpected error occurred.", "UnexpectedError")


def create_app(config: SandboxConfig | None = None) -> Starlette:
    """A fresh, seeded sandbox application (``app.state.sandbox`` is its :class:`Sandbox`)."""
    sandbox = Sandbox(config)
    routes = [
        Route("/oauth2/auth/central", authorize_endpoint, methods=["GET"]),
        Route("/token", token_endpoint, methods=["POST"]),
        Route("/revoke", revoke_endpoint, methods=["POST"]),
        Route("/v3.1", api_endpoint, methods=_ALL_METHODS),
        Route("/v3.1/{rest:path}", api_endpoint, methods=_ALL_METHODS),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_exception, 500: _server_error},
    )
    app.state.sandbox = sandbox
    app.state.api = Api(sandbox)
    app.add_middleware(_CountRequests, sandbox=sandbox)
    return app
