"""The sandbox as a Starlette application, behind its edge (:class:`SandboxApp`).

Every HTTP request passes the edge first: it is counted by ``(METHOD, path)`` (and, once answered,
by ``(METHOD, path, status)``, status 0 for a dropped connection), then limits and faults are
applied (:mod:`.faults`), then the routes below answer; with conformance recording on, each
``/v3.1`` answer is checked against the spec (:mod:`.conformance`).
"""

from __future__ import annotations

import asyncio
import collections
import json
import threading
import uuid
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from .api import Api, ApiRequest
from .config import SandboxConfig
from .conformance import ConformanceRecorder, enabled
from .errors import ErrorItem
from .faults import UNEXPECTED_ERROR, Admission, FaultInjector, Refusal
from .oauth import OAuthError
from .state import Sandbox

_ALL_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_API_PREFIX = "/v3.1"


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def _error_array(status: int, message: str, data_code: str, headers: dict[str, str] | None = None) -> Response:
    return _json(status, [ErrorItem(message, data_code).to_json()], headers)


class DroppedConnection(ConnectionAbortedError):
    """Raised to abort a request when the server gives no access to the connection (not uvicorn)."""


async def _drop_connection(send: Send) -> None:
    """Close the client's connection without an answer.

    Under uvicorn the ASGI ``send`` is a method of the request cycle, which holds the connection's
    transport: aborting it closes the socket at once, and waiting for ``connection_lost`` to mark
    the cycle disconnected stops uvicorn from sending its own 500 afterwards.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise DroppedConnection("the sandbox dropped the connection (fault injection)")
    transport.abort()
    for _ in range(100):
        if getattr(cycle, "disconnected", True):
            return
        await asyncio.sleep(0)


class _Exchange:
    """One HTTP request at the edge: what was answered (status 0 until started, content type and, if
    kept, the body) and the bookkeeping done once it is over (:meth:`finish`)."""

    def __init__(self, app: SandboxApp, method: str, path: str, keep_body: bool) -> None:
        self.app = app
        self.method = method
        self.path = path
        self.keep_body = keep_body
        self.status = 0
        self.content_type = ""
        self.body = bytearray()
        self.admission: Admission | None = None
        self.finished = False

    def observe(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            for name, value in message.get("headers", ()):
                if bytes(name).lower() == b"content-type":
                    self.content_type = bytes(value).decode("latin-1")
        elif message["type"] == "http.response.body" and self.keep_body:
            self.body.extend(message.get("body", b""))

    def finish(self) -> None:
        """Release the request's in-flight slot, count its status, check its body; runs once, before
        the client can see the end of the answer (so counters are exact when a test reads them)."""
        if self.finished:
            return
        self.finished = True
        if self.admission is not None:
            self.app.faults.release(self.admission)
        with self.app.status_lock:
            self.app.status_counters[(self.method, self.path, self.status)] += 1
        if self.app.recorder is not None and self.keep_body and self.status:
            self.app.recorder.check(self.method, self.path, self.status, self.content_type, bytes(self.body))


class SandboxApp(Starlette):
    """The sandbox's Starlette app with its edge (see the module docstring).

    ``sandbox`` is the :class:`~.state.Sandbox`, ``faults`` its :class:`~.faults.FaultInjector`,
    ``recorder`` its :class:`~.conformance.ConformanceRecorder` (``None`` when recording is off).
    """

    def __init__(self, sandbox: Sandbox, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sandbox = sandbox
        self.faults = FaultInjector(sandbox.config)
        self.recorder: ConformanceRecorder | None = ConformanceRecorder() if enabled(sandbox.config) else None
        self.status_counters: collections.Counter[tuple[str, str, int]] = collections.Counter()
        self.status_lock = threading.Lock()

    def reset_status_counters(self) -> None:
        with self.status_lock:
            self.status_counters.clear()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        method = str(scope["method"]).upper()
        path = str(scope["path"])
        self.sandbox.count_request(method, path)
        is_api = path == _API_PREFIX or path.startswith(_API_PREFIX + "/")
        exchange = _Exchange(self, method, path, keep_body=self.recorder is not None and is_api)

        async def observed_send(message: Message) -> None:
            exchange.observe(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                exchange.finish()
            await send(message)

        try:
            await self._edge(scope, receive, send, observed_send, exchange)
        finally:
            exchange.finish()

    async def _edge(self, scope: Scope, receive: Receive, raw_send: Send, send: Send, exchange: _Exchange) -> None:
        admission = exchange.admission = self.faults.admit(exchange.method, exchange.path)
        if admission.refusal is not None:
            await self._refuse(scope, receive, send, admission.refusal)
            return
        if admission.delay > 0:
            await asyncio.sleep(admission.delay)
        if admission.in_flight:
            await self.faults.wait_until_open()
        fault = admission.fault
        if fault is None:
            await super().__call__(scope, receive, send)
            return
        refusal = self.faults.refusal_for(admission)
        if refusal is not None:
            await self._refuse(scope, receive, send, refusal)
            return
        if fault == "drop":
            exchange.finish()
            await _drop_connection(raw_send)
            return

        if fault == "commit_then_late":  # carried out and committed now; the answer leaves much later
            held: list[Message] = []

            async def hold(message: Message) -> None:
                held.append(message)

            await super().__call__(scope, receive, hold)
            await asyncio.sleep(self.faults.settings.late_answer_delay)
            for message in held:
                try:
                    await send(message)
                except OSError:  # pragma: no cover - the client is long gone
                    return
            return

        async def discard(message: Message) -> None:
            del message

        await super().__call__(scope, receive, discard)  # carried out and committed; the answer is lost
        if fault == "commit_then_500":
            await self._refuse(
                scope, receive, send, Refusal(500, "An unexpected error occurred.", UNEXPECTED_ERROR, None)
            )
        else:
            exchange.finish()
            await _drop_connection(raw_send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, refusal: Refusal) -> None:
        headers = {"x_request_id": uuid.uuid4().hex}
        if refusal.retry_after is not None:
            headers["Retry-After"] = str(refusal.retry_after)
        response = _error_array(refusal.status, refusal.message, refusal.data_code, headers)
        await response(scope, receive, send)


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
    if isinstance(result.payload, bytes):  # a file download; its Content-Type is among the headers
        return Response(result.payload, status_code=result.status, headers=headers)
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


def create_app(config: SandboxConfig | None = None) -> SandboxApp:
    """A fresh, seeded sandbox application (``app.sandbox``/``app.state.sandbox`` is its :class:`Sandbox`)."""
    sandbox = Sandbox(config)
    routes = [
        Route("/oauth2/auth/central", authorize_endpoint, methods=["GET"]),
        Route("/token", token_endpoint, methods=["POST"]),
        Route("/revoke", revoke_endpoint, methods=["POST"]),
        Route("/v3.1", api_endpoint, methods=_ALL_METHODS),
        Route("/v3.1/{rest:path}", api_endpoint, methods=_ALL_METHODS),
    ]
    app = SandboxApp(
        sandbox,
        routes=routes,
        exception_handlers={HTTPException: _http_exception, 500: _server_error},
    )
    app.state.sandbox = sandbox
    app.state.api = Api(sandbox)
    return app
