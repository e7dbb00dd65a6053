"""The Sage API client: one pooled HTTP client, business-scoped views, retries that never double a write.

This is the only module that imports the HTTP library (``httpx2``). authlib's
``AsyncOAuth2Client`` *is* an ``httpx2.AsyncClient``, so one connection pool serves both the API
calls and the token endpoint.

* :meth:`SageClient.for_business` returns a :class:`BusinessClient` that sends ``X-Business``
  on every request and refuses an answer for any other business.
* GETs retry on 429, 5xx and network failures with backoff (honouring ``Retry-After``). Writes
  retry only when the body carries an ``idempotency_id`` (Sage then replays the first result),
  or when the failure proves the request never reached Sage (connect error, 429).
* A caller may give the work a deadline (:data:`call_budget`): a retry that would wait past it is
  not attempted, and a ``Retry-After`` longer than the time left raises :class:`SageRetryLaterError`
  instead of being slept through.
* A 401 triggers one token refresh and one retry.
* POSTs to Sage's numbered artefacts are never sent in parallel within a business.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json as _json_module
import logging
import math
import random
import time
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

import httpx2

from sage_mcp import __version__
from sage_mcp.config import Settings
from sage_mcp.money import to_wire_number
from sage_mcp.sage import writeplan
from sage_mcp.sage.errors import (
    AuthError,
    BusinessMismatchError,
    ReauthorizationRequired,
    SageAPIError,
    SageConnectionError,
    SageError,
    SageErrorItem,
    SageNotFoundError,
    SageRetryLaterError,
    SageTimeoutError,
    error_from_response,
    located,
    missing_reference_model,
    parse_error_items,
    reference_candidates,
    reference_collection,
)
from sage_mcp.sage.pagination import MAX_ITEMS_PER_PAGE, iter_pages
from sage_mcp.sage.tokens import REAUTH_MESSAGE, FileTokenStore, TokenManager, TokenStore

if TYPE_CHECKING:
    from authlib.integrations.httpx_client import AsyncOAuth2Client

log = logging.getLogger(__name__)

CORE_PATHS = ("/businesses", "/user")

#: When set (to a list) by a caller, Sage's ``x_request_id`` of every write sent in this context is appended.
write_request_ids: ContextVar[list[str] | None] = ContextVar("write_request_ids", default=None)
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
#: The longest ``Retry-After`` waited out even without a deadline; a longer one is reported.
MAX_RETRY_AFTER = 60.0


@dataclass
class CallBudget:
    """One unit of work (a tool call): when it must be over, and how many writes it has sent so far."""

    deadline: float | None = None
    """``time.monotonic()`` value after which nothing more should be waited for (``None``: no limit)."""
    writes_sent: int = 0
    """Requests other than GET handed to the network (answered or not)."""

    def left(self) -> float | None:
        """Seconds until the deadline (may be negative), or ``None`` without one."""
        return None if self.deadline is None else self.deadline - time.monotonic()


#: Set by a caller around a unit of work; the client reads the deadline and counts the writes it sends.
call_budget: ContextVar[CallBudget | None] = ContextVar("call_budget", default=None)


def _time_left() -> float | None:
    budget = call_budget.get()
    return budget.left() if budget is not None else None


def _can_wait(delay: float) -> bool:
    """Whether sleeping ``delay`` seconds still leaves time before the deadline to try again."""
    left = _time_left()
    return left is None or delay < left


# Sage: "do not make parallel POSTs where references are unique or numbers are sequential".
SERIAL_POST_COLLECTIONS = frozenset(
    {
        "contacts",
        "products",
        "services",
        "stock_items",
        "purchase_corrective_invoices",
        "purchase_credit_notes",
        "purchase_invoices",
        "purchase_quick_entries",
        "sales_corrective_invoices",
        "sales_credit_notes",
        "sales_estimates",
        "sales_invoices",
        "sales_quick_entries",
        "sales_quotes",
    }
)


def path_segment(value: str) -> str:
    """Percent-encode one path segment (ids come from models; never let them add path parts)."""
    if value in {"", ".", ".."}:
        raise ValueError(f"invalid path segment {value!r}")
    return quote(value, safe="")


def _is_core(path: str) -> bool:
    bare = path.split("?", 1)[0]
    return any(bare == p or bare.startswith(p + "/") for p in CORE_PATHS)


def _carries_idempotency_id(body: Any) -> bool:
    if not isinstance(body, Mapping) or len(body) != 1:
        return False
    root = next(iter(body.values()))
    return isinstance(root, Mapping) and bool(root.get("idempotency_id"))


def _retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delay-seconds or an HTTP date), ``None`` if absent or unreadable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if parsed.tzinfo is None:
            return None
        seconds = parsed.timestamp() - time.time()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def backoff_delay(attempt: int, retry_after: float | None) -> float:
    """Seconds to wait before retry ``attempt`` (0-based): Retry-After if sane, else 0.5·2ⁿ ≤ 8 s, jittered."""
    if retry_after is not None:
        return retry_after
    base: float = min(0.5 * 2**attempt, 8.0)
    return base * (1 - 0.25 * random.random())


class RequestGate(Protocol):
    """Admission to Sage for each HTTP request (hosted replicas share Sage's app-wide limits through it).

    ``admit`` is held while the request is on the wire and may raise to refuse it (nothing is sent);
    ``answered`` hears the status of every answer (for metrics).
    """

    def admit(self) -> contextlib.AbstractAsyncContextManager[None]: ...

    def answered(self, status: int) -> None: ...


@dataclass(frozen=True)
class SageResponse:
    status: int
    body: Any
    request_id: str | None
    business_id: str | None
    content: bytes = b""


class SageClient:
    """Talks to Sage for one login. Create once per process; share everywhere."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: TokenStore | None = None,
        tokens: TokenManager | None = None,
        clock: Any = time.time,
        transport: Any = None,
        gate: RequestGate | None = None,
    ) -> None:
        self.settings = settings
        self._gate = gate
        self.base_url = settings.api_base_url.rstrip("/")
        self._transport = transport
        self._http_client: AsyncOAuth2Client | None = None
        bootstrap = settings.refresh_token.get_secret_value() if settings.refresh_token else None
        self.tokens = tokens or TokenManager(
            store or FileTokenStore(settings.token_store_path),
            self._refresh,
            clock=clock,
            leeway=settings.token_refresh_leeway,
            bootstrap_refresh_token=bootstrap,
        )
        self._serial_posts: dict[tuple[str, str], asyncio.Lock] = {}
        self._businesses: list[dict[str, Any]] | None = None
        self._businesses_at = 0.0
        self._lead_business: str | None = None
        self._businesses_lock = asyncio.Lock()

    async def __aenter__(self) -> SageClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def _http(self) -> AsyncOAuth2Client:
        """The pooled client, made on first use: authlib and the TLS context cost start-up time that
        ``tools/list`` never needs."""
        if self._http_client is None:
            from authlib.integrations.httpx_client import AsyncOAuth2Client

            self._http_client = AsyncOAuth2Client(
                client_id=self.settings.client_id,
                client_secret=self.settings.client_secret.get_secret_value(),
                token_endpoint_auth_method="client_secret_post",
                revocation_endpoint_auth_method="client_secret_post",
                timeout=httpx2.Timeout(self.settings.timeout, connect=10.0),
                limits=httpx2.Limits(max_connections=64, max_keepalive_connections=32),
                headers={"User-Agent": f"sage-mcp/{__version__}"},
                **({"transport": self._transport} if self._transport is not None else {}),
            )
        return self._http_client

    async def aclose(self) -> None:
        if self._http_client is not None:
            await self._http_client.aclose()

    # -- OAuth -----------------------------------------------------------------------------

    async def _refresh(self, refresh_token: str) -> Mapping[str, Any]:
        from authlib.integrations.base_client import OAuthError

        try:
            token = await self._http.refresh_token(self.settings.token_url, refresh_token=refresh_token)
        except OAuthError as exc:
            if exc.error == "invalid_grant":
                raise ReauthorizationRequired(REAUTH_MESSAGE) from None
            raise AuthError(f"Sage refused the token refresh: {exc.error}: {exc.description}") from None
        except httpx2.TimeoutException as exc:
            raise SageTimeoutError(f"Sage's token endpoint did not answer in time ({type(exc).__name__})") from None
        except httpx2.HTTPError as exc:
            raise SageConnectionError(f"could not reach Sage's token endpoint ({type(exc).__name__})") from None
        return dict(token)

    async def exchange_code(self, code: str, redirect_uri: str, code_verifier: str | None) -> dict[str, Any]:
        """Swap an authorization code for tokens (the last step of a login)."""
        from authlib.integrations.base_client import OAuthError

        extra: dict[str, str] = {"code_verifier": code_verifier} if code_verifier else {}
        try:
            token = await self._http.fetch_token(
                self.settings.token_url,
                grant_type="authorization_code",
                code=code,
                redirect_uri=redirect_uri,
                **extra,
            )
        except OAuthError as exc:
            raise AuthError(f"Sage refused the sign-in: {exc.error}: {exc.description}") from None
        except httpx2.HTTPError as exc:
            raise SageConnectionError(f"could not reach Sage's token endpoint ({type(exc).__name__})") from None
        return dict(token)

    async def revoke(self, refresh_token: str) -> None:
        try:
            resp = await self._http.revoke_token(
                self.settings.revoke_url, token=refresh_token, token_type_hint="refresh_token"
            )
        except httpx2.HTTPError as exc:
            raise SageConnectionError(f"could not reach Sage's revoke endpoint ({type(exc).__name__})") from None
        if resp.status_code >= 400:
            raise AuthError(f"Sage refused to revoke the token (HTTP {resp.status_code})")

    # -- requests ----------------------------------------------------------------------------

    def for_business(self, business_id: str) -> BusinessClient:
        return BusinessClient(self, business_id)

    def _url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            raise ValueError("absolute URLs are not accepted; pass a path relative to the API base")
        if not path.startswith("/"):
            path = "/" + path
        return self.base_url + path

    def _serial_lock(self, method: str, path: str, business_id: str | None) -> asyncio.Lock | None:
        if method != "POST" or business_id is None:
            return None
        collection = path.split("?", 1)[0].strip("/").split("/", 1)[0]
        if collection not in SERIAL_POST_COLLECTIONS:
            return None
        key = (business_id, collection)
        lock = self._serial_posts.get(key)
        if lock is None:
            lock = self._serial_posts[key] = asyncio.Lock()
        return lock

    async def request(
        self,
        method: str,
        path: str,
        *,
        business_id: str | None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        accept: str = "application/json",
    ) -> SageResponse:
        """Send one logical request (with its retries). Raises a :class:`SageError` subclass on failure."""
        method = method.upper()
        if business_id is None and not _is_core(path):
            raise ValueError(f"{path} is business-scoped: use for_business(id) so X-Business is sent")
        mode = writeplan.current() if method != "GET" else None
        if isinstance(mode, writeplan.Replay | writeplan.DryRun):
            return await self._unsent_write(mode, method, path, business_id, params, json)
        lock = self._serial_lock(method, path, business_id)
        if lock is None:
            resp = await self._send_with_retries(method, path, business_id, params, json, accept)
        else:
            async with lock:
                resp = await self._send_with_retries(method, path, business_id, params, json, accept)
        if isinstance(mode, writeplan.WriteLog):
            mode.records.append(writeplan.record_path(method, path, resp.body))
        return resp

    async def _unsent_write(
        self,
        mode: writeplan.Replay | writeplan.DryRun,
        method: str,
        path: str,
        business_id: str | None,
        params: Mapping[str, Any] | None,
        body: Any,
    ) -> SageResponse:
        """A write that is not sent: a replay reads the record the original wrote; a dry run notes the
        write (with the record it would change, read now) and stops the work."""
        if isinstance(mode, writeplan.Replay):
            return await self._send_with_retries(
                "GET", mode.next_path(method, path), business_id, None, None, "application/json"
            )
        target = writeplan.record_path(method, path, None)
        record = None
        if target is not None:
            record = (await self._send_with_retries("GET", target, business_id, None, None, "application/json")).body
        mode.planned = writeplan.PlannedWrite(
            method, path.split("?", 1)[0], dict(params or {}), body, record if isinstance(record, dict) else None
        )
        raise writeplan.DryRunStop(f"{method} {path} not sent (dry run)")

    async def _send_with_retries(
        self,
        method: str,
        path: str,
        business_id: str | None,
        params: Mapping[str, Any] | None,
        body: Any,
        accept: str,
    ) -> SageResponse:
        body = to_wire(body) if body is not None else None
        safe_to_repeat = method == "GET" or _carries_idempotency_id(body)
        url = self._url(path)
        clean_params = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        token = await self.tokens.access_token()
        reauthed = False
        attempt = 0
        while True:
            headers = {"Authorization": f"Bearer {token}", "Accept": accept}
            if business_id is not None:
                headers["X-Business"] = business_id
            try:
                async with self._gate.admit() if self._gate is not None else contextlib.nullcontext():
                    if method != "GET" and (budget := call_budget.get()) is not None:
                        budget.writes_sent += 1
                    resp = await self._http.request(
                        method,
                        url,
                        params=clean_params or None,
                        json=body,
                        headers=headers,
                        withhold_token=True,
                    )
            except httpx2.HTTPError as exc:
                never_sent = isinstance(exc, httpx2.ConnectError | httpx2.ConnectTimeout)
                delay = backoff_delay(attempt, None)
                if (safe_to_repeat or never_sent) and attempt < self.settings.max_retries and _can_wait(delay):
                    await asyncio.sleep(delay)
                    attempt += 1
                    continue
                if isinstance(exc, httpx2.TimeoutException):
                    raise SageTimeoutError(
                        f"Sage did not answer {method} {path} in time"
                        + ("" if safe_to_repeat else "; the write may or may not have been applied")
                    ) from None
                raise SageConnectionError(
                    f"could not reach Sage for {method} {path} ({type(exc).__name__})"
                    + ("" if safe_to_repeat or never_sent else "; the write may or may not have been applied")
                ) from None

            request_id = resp.headers.get("x_request_id") or resp.headers.get("x-request-id")
            status = resp.status_code
            if self._gate is not None:
                self._gate.answered(status)
            if method != "GET" and (sent := write_request_ids.get()) is not None:
                sent.append(request_id or f"(none, HTTP {status})")
            if status == 401 and not reauthed:
                reauthed = True
                await resp.aclose()
                token = await self.tokens.renew_after_rejection(token)
                continue
            retryable = status in RETRYABLE_STATUS and (safe_to_repeat or status == 429)
            retry_after = _retry_after_seconds(resp.headers.get("retry-after"))
            if retryable and attempt < self.settings.max_retries:
                left = _time_left()
                longest = MAX_RETRY_AFTER if left is None else min(MAX_RETRY_AFTER, left)
                if retry_after is not None and retry_after > longest:
                    raise SageRetryLaterError(
                        status,
                        parse_error_items(_json_or_text(resp)),
                        method=method,
                        path=path.split("?", 1)[0],
                        request_id=request_id,
                        retry_after=retry_after,
                    )
                delay = backoff_delay(attempt, retry_after)
                if _can_wait(delay):
                    await resp.aclose()
                    log.info("Sage answered %s to %s %s; retrying in %.2f s", status, method, path, delay)
                    await asyncio.sleep(delay)
                    attempt += 1
                    continue
            answered = resp.headers.get("x-business")
            if status >= 400:
                error = error_from_response(
                    status,
                    _json_or_text(resp),
                    method=method,
                    path=path.split("?", 1)[0],
                    request_id=request_id,
                    retry_after=retry_after,
                )
                if status == 422 and body is not None and business_id is not None:
                    await self._locate_missing_references(error, body, business_id)
                raise error
            if business_id is not None and answered and answered.lower() != business_id.lower():
                raise BusinessMismatchError(business_id, answered)
            if accept == "application/json":
                parsed = _json_or_text(resp) if resp.content else None
                return SageResponse(status, parsed, request_id, answered)
            return SageResponse(status, None, request_id, answered, content=resp.content)

    async def _locate_missing_references(self, error: SageAPIError, body: Any, business_id: str) -> None:
        """Name the field of an error that does not (Sage's ``RecordInvalid`` "Couldn't find Supplier."
        with an empty ``$source``), worked out from what was sent: the body's fields holding an id of
        that kind; when several hold different ids, the ones Sage cannot find (a GET each)."""
        items: list[SageErrorItem] = []
        for item in error.errors:
            model = missing_reference_model(item)
            candidates = reference_candidates(model, body) if model else []
            if model and len({value for _, value in candidates}) > 1:
                collection = reference_collection(model)
                missing = []
                for value in dict.fromkeys(value for _, value in candidates):
                    try:
                        await self.request("GET", f"/{collection}/{path_segment(value)}", business_id=business_id)
                    except SageNotFoundError:
                        missing.append(value)
                    except (SageError, ValueError):
                        missing = []
                        break
                candidates = [(path, value) for path, value in candidates if value in missing] or candidates
            items.extend(located(item, candidates))
        error.errors = items

    # -- core endpoints (no X-Business) ----------------------------------------------------

    async def list_businesses(self, *, max_age: float = 300.0) -> list[dict[str, Any]]:
        """Every business the signed-in user can access (cached for ``max_age`` seconds)."""
        async with self._businesses_lock:
            now = time.monotonic()
            if self._businesses is not None and now - self._businesses_at < max_age:
                return self._businesses
            items: list[dict[str, Any]] = []
            async for page in iter_pages(self, "/businesses", {"items_per_page": MAX_ITEMS_PER_PAGE}):
                items.extend(page.items)
            self._businesses, self._businesses_at = items, now
            return items

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET a core (not business-scoped) path: ``/businesses…`` or ``/user``."""
        return (await self.request("GET", path, business_id=None, params=params)).body

    async def lead_business_id(self) -> str:
        """The user's lead business: the one Sage uses when no ``X-Business`` is sent."""
        if self._lead_business is None:
            body = await self.get("/businesses/lead")
            self._lead_business = str(body["id"])
        return self._lead_business

    async def get_user(self) -> dict[str, Any]:
        return dict(await self.get("/user") or {})

    async def probe(self, url: str) -> tuple[int, str | None]:
        """One unauthenticated GET of ``url`` (no token, no retry): its HTTP status and ``Date`` header.

        For ``sage-mcp doctor``: any answer proves the endpoint is reachable; raises
        :class:`SageConnectionError` or :class:`SageTimeoutError` when none comes.
        """
        try:
            async with httpx2.AsyncClient(timeout=httpx2.Timeout(10.0), follow_redirects=False) as bare:
                resp = await bare.get(url, headers={"User-Agent": f"sage-mcp/{__version__}"})
        except httpx2.TimeoutException:
            raise SageTimeoutError(f"{url} did not answer within 10 s") from None
        except httpx2.HTTPError as exc:
            raise SageConnectionError(f"could not reach {url} ({type(exc).__name__})") from None
        return resp.status_code, resp.headers.get("date")


class BusinessClient:
    """A view of :class:`SageClient` scoped to one business: ``X-Business`` goes on every request."""

    def __init__(self, client: SageClient, business_id: str) -> None:
        if not business_id:
            raise ValueError("business_id is required")
        self.client = client
        self.business_id = business_id

    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return (await self.client.request("GET", path, business_id=self.business_id, params=params)).body

    async def post(self, path: str, body: Any) -> SageResponse:
        return await self.client.request("POST", path, business_id=self.business_id, json=body)

    async def put(self, path: str, body: Any) -> SageResponse:
        return await self.client.request("PUT", path, business_id=self.business_id, json=body)

    async def delete(self, path: str, params: Mapping[str, Any] | None = None) -> SageResponse:
        return await self.client.request("DELETE", path, business_id=self.business_id, params=params)

    async def download(self, path: str) -> bytes:
        resp = await self.client.request("GET", path, business_id=self.business_id, accept="application/octet-stream")
        return resp.content


def to_wire(value: Any) -> Any:
    """Body ready for JSON: ``Decimal`` amounts become JSON numbers with exactly the same digits."""
    if isinstance(value, Decimal):
        return to_wire_number(value)
    if isinstance(value, Mapping):
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_wire(v) for v in value]
    return value


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return value


def _json_or_text(resp: httpx2.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return resp.text


async def fetch_json_document(url: str, *, max_bytes: int = 65536, timeout: float = 5.0) -> Any:
    """GET a small JSON document from ``url`` (no redirects, at most ``max_bytes``), e.g. an OAuth client's
    metadata document. Raises ``ValueError`` saying what was wrong."""
    try:
        async with (
            httpx2.AsyncClient(timeout=timeout, follow_redirects=False) as http,
            http.stream("GET", url, headers={"Accept": "application/json"}) as resp,
        ):
            if resp.status_code != 200:
                raise ValueError(f"{url} answered HTTP {resp.status_code}")
            body = bytearray()
            async for chunk in resp.aiter_bytes():
                body.extend(chunk)
                if len(body) > max_bytes:
                    raise ValueError(f"{url} is larger than {max_bytes} bytes")
    except httpx2.HTTPError as exc:
        raise ValueError(f"{url} could not be fetched ({type(exc).__name__})") from None
    try:
        return _json_module.loads(bytes(body))
    except ValueError:
        raise ValueError(f"{url} is not JSON") from None
