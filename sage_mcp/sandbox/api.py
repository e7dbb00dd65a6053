"""Handling of one ``/v3.1/...`` request, independent of the web framework.

Order of checks: bearer token (401) -> route (404/405) -> scope for writes (403) -> ``X-Business``
(403) -> body: media type (415), JSON (400), spec schema and unknown fields (422), idempotency
replay -> the resource's own rules (422) -> answer.  Everything after the token check runs inside one
database transaction, so a refused request changes nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ..sage import spec
from ..sage.idempotency import supports_idempotency
from .context import Context, iso_utc, public
from .core import get_user, list_businesses, resolve_business_key, update_business, update_user
from .errors import ApiError, ErrorItem, forbidden, method_not_allowed, not_found
from .listing import envelope, parse_paging, select_attributes
from .oauth import AccessInfo
from .resources import OPERATIONS, Collection
from .resources.base import expand_links
from .shapes import keeps_own_numbers, sage_numbers, shape_objects
from .state import Sandbox

WRITE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})
_BUSINESS_ID_RE = re.compile(r"^[0-9a-f]{32}$")
_JSON_MEDIA_RE = re.compile(r"^application/([a-z0-9.+-]+\+)?json$")


@dataclass
class ApiRequest:
    method: str
    path: str  # the path after /v3.1, starting with "/"
    query: Mapping[str, str]
    raw_query: str
    headers: Mapping[str, str]
    body: bytes


@dataclass
class ApiResponse:
    status: int
    payload: Any = None  # JSON-able, None for an empty body, or bytes (a file, Content-Type in headers)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    kind: str  # "businesses", "business", "user", "collection"
    operation: str  # list/get/create/update/delete/action
    collection: Collection | None = None
    key: str | None = None
    action: str | None = None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_json(body: bytes) -> Any:
    if not body.strip():
        return {}
    try:
        return json.loads(body, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, [ErrorItem(f"The request body is not valid JSON: {exc}", "BadRequest")]) from None


def _check_media_type(headers: Mapping[str, str]) -> None:
    content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if not _JSON_MEDIA_RE.match(content_type):
        raise ApiError(
            415,
            [
                ErrorItem(
                    f"Unsupported media type {content_type or '(none)'!r}: send application/json.",
                    "UnsupportedMediaType",
                )
            ],
        )


def _source_and_message(issue: spec.SchemaIssue, root_key: str | None) -> tuple[str, str]:
    """Sage's ``$source`` for a schema issue: the field path inside the root object, without list
    indexes (``invoice_lines.unit_price``); the index goes into the message instead."""
    path = list(issue.path)
    if root_key and path and path[0] == root_key:
        path = path[1:]
        if not path:
            return root_key, issue.message
    names: list[str] = []
    where: list[str] = []
    for part in path:
        if isinstance(part, int):
            where.append(f" ({names[-1] if names else 'list'} item {part + 1})")
        else:
            names.append(part)
    return (".".join(names) or "base"), issue.message + "".join(where)


_UNKNOWN_RECORD_RE = re.compile(r"^The [a-z ]+ '[^']*' was not found")
_MISSING_REFERENCE_RE = re.compile(
    r"^(?:The (?P<label>[a-z ]+?) '[^']*' was not found|can't find (?P<party>customer|supplier)\b)"
)


def sage_reference_errors(error: ApiError) -> ApiError:
    """``error`` as real Sage words an unknown reference (sage-real-responses row 9): a 422 item about an
    id that names nothing becomes ``RecordInvalid`` "Couldn't find Supplier." with an **empty**
    ``$source`` (which field is not said), and a 404 for an unknown record ``RecordNotFound``
    "Couldn't find record."; every other error is left as it is."""
    items: list[ErrorItem] = []
    for item in error.items:
        if error.status == 404 and item.data_code == "RecordNotFound" and _UNKNOWN_RECORD_RE.match(item.message):
            item = ErrorItem("Couldn't find record.", "RecordNotFound")
        elif error.status == 422 and (found := _MISSING_REFERENCE_RE.match(item.message)):
            label = (found["label"] or found["party"] or "record").split(" or ")[0]
            model = "".join(word.capitalize() for word in label.split())
            item = ErrorItem(f"Couldn't find {model}.", "RecordInvalid")
        if item not in items:
            items.append(item)
    return ApiError(error.status, items, error.headers)


class Api:
    """The ``/v3.1`` dispatcher of one :class:`~.state.Sandbox`."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    # ------------------------------------------------------------------ entry point

    def handle(self, request: ApiRequest) -> ApiResponse:
        headers: dict[str, str] = {}
        try:
            access = self.sandbox.oauth.authenticate(request.headers.get("authorization"))
            route = self._route(request)
            if request.method in WRITE_METHODS and access.scope != "full_access":
                raise forbidden("The current user is not allowed to access that resource with that method.")
            with self.sandbox.store.transaction():
                response = self._dispatch(request, route, access, headers)
            if self.sandbox.config.strict and response.status < 300 and not keeps_own_numbers(request.path):
                response.payload = sage_numbers(response.payload)
            return response
        except ApiError as error:
            if self.sandbox.config.strict:
                error = sage_reference_errors(error)
            headers.update(error.headers)
            return ApiResponse(error.status, error.body(), headers)

    # ------------------------------------------------------------------ routing

    def _route(self, request: ApiRequest) -> Route:
        segments = [s for s in request.path.split("/") if s]
        method = request.method
        if not segments:
            raise not_found("No such endpoint: /v3.1/")
        head = segments[0]
        if head == "businesses" and len(segments) <= 2:
            allowed = ["GET"] if len(segments) == 1 else ["GET", "PUT"]
            if method not in allowed:
                raise method_not_allowed(method, "/" + "/".join(segments), allowed)
            if len(segments) == 1:
                return Route("businesses", "list")
            return Route("business", "get" if method == "GET" else "update", key=segments[1])
        if head == "user" and len(segments) == 1:
            if method not in ("GET", "PUT"):
                raise method_not_allowed(method, "/user", ["GET", "PUT"])
            return Route("user", "get" if method == "GET" else "update")
        collection = self.sandbox.collections.get(head)
        if collection is None or len(segments) > 3:
            if spec.match_path(request.path) is not None:
                raise not_found(f"The sandbox does not emulate {request.path} yet.")
            raise not_found(f"No such endpoint: /v3.1{request.path}")
        if getattr(collection, "singleton", False):
            # settings singletons: GET and PUT on the collection path itself
            if len(segments) != 1:
                raise not_found(f"No such endpoint: /v3.1{request.path}")
            allowed = [m for m, op in (("GET", "get"), ("PUT", "update")) if op in collection.operations]
            if method not in allowed:
                raise method_not_allowed(method, request.path, allowed)
            return Route("collection", "get" if method == "GET" else "update", collection, key="")
        if len(segments) == 3 and segments[2] in getattr(collection, "downloads", frozenset()):
            # a file of a record (``GET /attachments/{key}/file``)
            if method != "GET":
                raise method_not_allowed(method, request.path, ["GET"])
            return Route("collection", "download", collection, key=segments[1], action=segments[2])
        if len(segments) == 3:
            action = segments[2]
            if action not in collection.actions:
                raise not_found(f"No such endpoint: /v3.1{request.path}")
            if method != "POST":
                raise method_not_allowed(method, request.path, ["POST"])
            return Route("collection", "action", collection, key=segments[1], action=action)
        one = len(segments) == 2
        wanted = next((op for op, (m, single) in OPERATIONS.items() if m == method and single == one), None)
        if wanted is None or wanted not in collection.operations:
            allowed = [m for op, (m, single) in OPERATIONS.items() if single == one and op in collection.operations]
            raise method_not_allowed(method, request.path, allowed)
        return Route("collection", wanted, collection, key=segments[1] if one else None)

    def emulated_operations(self) -> list[str]:
        """Every spec operation this sandbox serves, as ``METHOD /template`` (the others answer 404 or 405)."""
        served = []
        for method, template, _ in spec.operations():
            path = re.sub(r"\{[^}]+\}", "x", template)
            try:
                self._route(ApiRequest(method, path, {}, "", {}, b""))
            except ApiError:
                continue
            served.append(f"{method} {template}")
        return served

    # ------------------------------------------------------------------ dispatch

    def _dispatch(self, request: ApiRequest, route: Route, access: AccessInfo, headers: dict[str, str]) -> ApiResponse:
        store = self.sandbox.store
        now_iso = self._context_now()
        if route.kind == "businesses":
            return ApiResponse(200, list_businesses(store, access.user_id, request.query), headers)
        if route.kind == "business":
            business = resolve_business_key(store, access.user_id, route.key or "")
            if route.operation == "update":
                payload = self._body(request, "/businesses/{key}", "business")
                business = update_business(store, business, payload, now_iso)
            obj = select_attributes(public(business), request.query.get("attributes"), default_all=True)
            return ApiResponse(200, obj, headers)
        if route.kind == "user":
            user = get_user(store, access.user_id)
            if route.operation == "update":
                payload = self._body(request, "/user", "user")
                user = update_user(store, user, payload, now_iso)
            return ApiResponse(200, public(user), headers)

        assert route.collection is not None
        collection = route.collection
        ctx = self._business_context(request, access)
        ctx.query = request.query
        headers["X-Business"] = ctx.business_id
        if route.operation == "list":
            return ApiResponse(200, self._list(ctx, collection, request), headers)
        if route.operation == "create":
            template = f"/{collection.name}"
            return self._write(ctx, request, collection, template, 201, None, headers)
        record = collection.load(ctx, route.key or "")
        if route.operation == "get":
            obj = select_attributes(collection.render(ctx, record), request.query.get("attributes"), default_all=True)
            expand_links(ctx, [obj], request.query.get("nested_attributes"), self.sandbox.collections)
            return ApiResponse(200, self._shaped(collection, obj, request), headers)
        if route.operation == "update":
            template = f"/{collection.name}/{{key}}" if route.key else f"/{collection.name}"
            return self._write(ctx, request, collection, template, 200, record, headers)
        if route.operation == "download":
            download = getattr(collection, "download", None)
            assert callable(download)
            content, file_headers = download(ctx, record, request.headers)
            return ApiResponse(200, content, {**headers, **file_headers})
        if route.operation == "delete":
            result = collection.delete(ctx, record, request.query)
            if result is None:
                return ApiResponse(204, None, headers)
            return ApiResponse(200, self._shaped(collection, collection.render(ctx, result), request), headers)
        result = collection.action(ctx, record, route.action or "")
        return ApiResponse(201, self._shaped(collection, collection.render(ctx, result), request), headers)

    def _shaped(self, collection: Collection, obj: Any, request: ApiRequest) -> Any:
        """A rendered object as real Sage shapes it (strict mode; :mod:`.shapes`)."""
        if self.sandbox.config.strict and isinstance(obj, dict):
            shape_objects(collection.name, [obj], request.query)
        return obj

    def _context_now(self) -> str:
        return iso_utc(float(self.sandbox.config.clock()))

    def _business_context(self, request: ApiRequest, access: AccessInfo) -> Context:
        store = self.sandbox.store
        requested = (request.headers.get("x-business") or "").strip()
        if not requested:
            lead = store.lead_business_id(access.user_id)
            if lead is None:  # pragma: no cover - the sandbox user always has businesses
                raise forbidden("The user has no business.", "X-Business")
            return self.sandbox.context(lead, access.user_id)
        if not _BUSINESS_ID_RE.match(requested) or not store.may_use_business(access.user_id, requested):
            raise forbidden(
                f"The business {requested!r} does not exist or the current user may not access it "
                "(see GET /businesses).",
                "X-Business",
            )
        return self.sandbox.context(requested, access.user_id)

    def _list(self, ctx: Context, collection: Collection, request: ApiRequest) -> dict[str, Any]:
        paging = parse_paging(request.query)
        records, total, page = collection.select(ctx, request.query, paging)
        answer = envelope(total, page, paging, f"/{collection.name}", request.raw_query)
        attributes = request.query.get("attributes")
        answer["$items"] = [
            select_attributes(obj, attributes, default_all=False) for obj in collection.render_many(ctx, records)
        ]
        expand_links(ctx, answer["$items"], request.query.get("nested_attributes"), self.sandbox.collections)
        if self.sandbox.config.strict:
            shape_objects(collection.name, answer["$items"], request.query)
        return answer

    # ------------------------------------------------------------------ bodies and idempotency

    def _body(self, request: ApiRequest, template: str, root_key: str) -> dict[str, Any]:
        """The validated root object of a JSON body (``idempotency_id`` removed)."""
        return self._body_and_key(request, template, root_key)[0]

    def _body_and_key(self, request: ApiRequest, template: str, root_key: str) -> tuple[dict[str, Any], str | None]:
        """The validated root object of a JSON body, and its ``idempotency_id`` (removed from it)."""
        _check_media_type(request.headers)
        body = _parse_json(request.body)
        issues = spec.request_body_issues(request.method, template, body)
        issues += spec.unknown_body_fields(request.method, template, body)
        if issues:
            items = []
            for issue in issues:
                source, message = _source_and_message(issue, root_key)
                items.append(ErrorItem(message, "RecordInvalid", source))
            raise ApiError(422, items)
        payload = dict(body[root_key])
        idempotency_id = payload.pop("idempotency_id", None)
        return payload, (str(idempotency_id) if idempotency_id else None)

    def _write(
        self,
        ctx: Context,
        request: ApiRequest,
        collection: Collection,
        template: str,
        status: int,
        record: dict[str, Any] | None,
        headers: dict[str, str],
    ) -> ApiResponse:
        root_key = collection.root_key or ""
        payload, idempotency_id = self._body_and_key(request, template, root_key)
        if not supports_idempotency(root_key):
            idempotency_id = None  # Sage honours it only on its listed resources (not attachment, ...)
        if idempotency_id:
            replay = self._replay(ctx, idempotency_id, root_key)
            if replay is not None:
                return ApiResponse(replay[0], replay[1], headers)
        result = collection.create(ctx, payload) if record is None else collection.update(ctx, record, payload)
        obj = self._shaped(collection, collection.render(ctx, result), request)
        if idempotency_id:
            ctx.store.execute(
                "INSERT OR REPLACE INTO idempotency (business_id, user_id, idempotency_id, resource, status, body,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (ctx.business_id, ctx.user_id, idempotency_id, root_key, status, json.dumps(obj), ctx.now),
            )
        return ApiResponse(status, obj, headers)

    def _replay(self, ctx: Context, idempotency_id: str, root_key: str) -> tuple[int, Any] | None:
        row = ctx.store.execute(
            "SELECT resource, status, body, created_at FROM idempotency"
            " WHERE business_id = ? AND user_id = ? AND idempotency_id = ?",
            (ctx.business_id, ctx.user_id, idempotency_id),
        ).fetchone()
        if row is None or float(row["created_at"]) + self.sandbox.config.idempotency_ttl <= ctx.now:
            return None
        if row["resource"] != root_key:
            raise ApiError(
                422,
                [ErrorItem("Entity type mismatch", "IdempotencyResourceMismatch", "idempotency_id")],
            )
        return int(row["status"]), json.loads(row["body"])
