"""The long tail: any of Sage's 292 operations, checked against Sage's own spec before anything is sent."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote

from sage_mcp.sage import spec
from sage_mcp.sage.idempotency import supports_idempotency, with_idempotency_id
from sage_mcp.tools._base import ToolContext, ToolError, idempotency_id

CORE_PREFIXES = ("/businesses", "/user")
PAGING = {"page", "items_per_page", "attributes"}
PATH_EXAMPLE = "a valid path looks like /stock_items or /stock_items/<id>: plain segments, no query string"
#: Characters a path segment may carry unencoded when it is sent on (RFC 3986 pchar less '%').
SEGMENT_SAFE = "-._~!$&'()*+,;=:@"
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")


def _words(text: str) -> list[str]:
    words = re.findall(r"[a-z0-9]+", text.lower().replace("_", " "))
    return [w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words]


def _query_params(operation: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [p for p in operation.get("parameters") or [] if p.get("in") == "query"]


def _body_fields(method: str, template: str) -> tuple[str | None, list[str]]:
    definition = spec.body_definition(method, template)
    root = spec.body_root_key(method, template)
    if definition is None or root is None:
        return None, []
    schema = spec.load_spec()["definitions"][definition]["properties"][root]
    required = set(schema.get("required") or [])
    fields = [f"{name}*" if name in required else name for name in schema.get("properties") or {}]
    return root, fields


def describe_operation(method: str, template: str, operation: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"method": method, "path": template, "summary": operation.get("summary", "")}
    params = [p["name"] for p in _query_params(operation) if p["name"] not in PAGING]
    if params:
        out["query"] = params
    root, fields = _body_fields(method, template)
    if root:
        out["body_root"] = root
        out["body_fields"] = fields
    return out


async def find_sage_endpoint(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    wanted = set(_words(args["query"]))
    method_filter = args.get("method")
    scored: list[tuple[int, str, str, dict[str, Any]]] = []
    for method, template, operation in spec.operations():
        if method_filter and method != method_filter:
            continue
        path_words = set(_words(template.replace("{key}", "")))
        text_words = set(_words(f"{operation.get('summary', '')} {' '.join(operation.get('tags') or [])}"))
        score = 3 * len(wanted & path_words) + len(wanted & text_words)
        if score:
            scored.append((score, template, method, operation))
    scored.sort(key=lambda s: (-s[0], s[1], s[2]))
    limit = args.get("limit", 8)
    items = [describe_operation(m, t, op) for _, t, m, op in scored[:limit]]
    served = ctx.sage.settings.emulated_operation_set
    if served is not None:
        for item in items:
            if f"{item['method']} {item['path']}" not in served:
                item["available"] = False
        if any(item.get("available") is False for item in items):
            return {
                "total": len(scored),
                "items": items,
                "note": "This Sage is an emulator (the demo sandbox): operations marked available: false "
                "are not served by it and would answer 404; the others work with sage_api_get/sage_api_write.",
            }
    return {"total": len(scored), "items": items}


def _bad_path(path: str, why: str) -> ToolError:
    shown = path if len(path) <= 80 else path[:79] + "…"
    return ToolError(f"path: {shown!r} {why}; {PATH_EXAMPLE} (query parameters go in query).")


def clean_path(path: str) -> str:
    """``path`` percent-decoded, checked and re-encoded one way, ready to match against the spec and send.

    Refused (whether written plainly or percent-encoded, once or twice): ``.`` and ``..`` segments,
    empty segments (``//``), backslashes, NUL and other invisible characters, ``?`` and ``#``, and an
    encoded ``/`` inside a segment. Each segment is then encoded exactly once.
    """
    if not path.startswith("/"):
        raise _bad_path(path, "must start with /")
    decoded = unquote(path, errors="strict") if "%" in path else path
    if _PERCENT.search(decoded):
        raise _bad_path(path, "is percent-encoded twice")
    for form in (path, decoded):
        if "\\" in form:
            raise _bad_path(path, "contains a backslash")
        if not form.isprintable():
            raise _bad_path(path, "contains a control or other invisible character")
        if "?" in form or "#" in form:
            raise _bad_path(path, "contains ? or #")
    segments = decoded[1:].split("/")
    if any(s in (".", "..") for s in segments):
        raise _bad_path(path, "has a '.' or '..' segment")
    if decoded.count("/") != path.count("/"):
        raise _bad_path(path, "contains an encoded / (%2F)")
    if len(segments) > 1 and segments[-1] == "":
        segments.pop()  # one trailing slash is harmless
    if "" in segments and segments != [""]:
        raise _bad_path(path, "has an empty segment (//)")
    return "/" + "/".join(quote(s, safe=SEGMENT_SAFE) for s in segments)


def _check_path(method: str, path: str) -> tuple[str, Mapping[str, Any], str]:
    """The spec's template and operation for ``method`` on ``path``, and the clean path to send."""
    try:
        clean = clean_path(path)
    except UnicodeError:
        raise _bad_path(path, "is not valid UTF-8 (plainly or percent-encoded)") from None
    found = spec.find_operation(method, clean)
    if found is None:
        template = spec.match_path(clean)
        if template is None:
            raise ToolError(
                f"path: {clean[:80]!r} is not a path of the Sage API. Use find_sage_endpoint to find the right one."
            )
        methods = ", ".join(spec.path_methods(template))
        raise ToolError(f"{method} is not allowed on {template}; Sage allows: {methods}.")
    return found[0], found[1], clean


def _check_query(operation: Mapping[str, Any], template: str, query: Mapping[str, Any]) -> dict[str, Any]:
    declared = {p["name"]: p for p in _query_params(operation)}
    out: dict[str, Any] = {}
    for name, value in query.items():
        param = declared.get(name)
        if param is None:
            allowed = ", ".join(sorted(declared)) or "none"
            raise ToolError(f"query.{name} is not a parameter of {template}; allowed: {allowed}")
        kind = param.get("type")
        if kind == "integer" and not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
            raise ToolError(f"query.{name} must be an integer, got {value!r}")
        if kind == "boolean" and not (isinstance(value, bool) or value in ("true", "false")):
            raise ToolError(f"query.{name} must be true or false, got {value!r}")
        if param.get("enum") and str(value) not in [str(e) for e in param["enum"]]:
            raise ToolError(f"query.{name} must be one of {', '.join(map(str, param['enum']))}, got {value!r}")
        out[name] = value
    return out


def _is_core(path: str) -> bool:
    return path.startswith(CORE_PREFIXES)


def _check_served(ctx: ToolContext, method: str, template: str) -> None:
    """Refuse, before sending, an operation the emulator standing in for Sage (the demo) does not serve."""
    served = ctx.sage.settings.emulated_operation_set
    if served is not None and f"{method} {template}" not in served:
        raise ToolError(
            f"{method} {template} is part of Sage's API but not of the emulator this server talks to (the demo "
            "sandbox): nothing was sent. find_sage_endpoint marks what it serves."
        )


async def sage_api_get(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    template, operation, path = _check_path("GET", args["path"])
    _check_served(ctx, "GET", template)
    query = _check_query(operation, template, args.get("query") or {})
    data = await (ctx.sage.get(path, query) if _is_core(path) else ctx.business.get(path, query))
    return {"path": template, "data": data}


async def sage_api_write(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    method = args["method"]
    template, operation, path = _check_path(method, args["path"])
    _check_served(ctx, method, template)
    query = _check_query(operation, template, args.get("query") or {})
    body = args.get("body")
    if method == "DELETE" and body is not None:
        raise ToolError("DELETE takes no body; pass parameters such as void_reason in query")
    if method != "DELETE":
        problems = spec.request_body_issues(method, template, body) + spec.unknown_body_fields(method, template, body)
        if problems:
            raise ToolError(
                f"the body does not match Sage's definition for {method} {template}: "
                + "; ".join(str(p) for p in problems[:10])
                + ". Nothing was sent. find_sage_endpoint lists the body fields (* = required)."
            )
    key: str | None = None
    if isinstance(body, dict) and supports_idempotency(spec.body_root_key(method, template)):
        key = idempotency_id(ctx, args.get("idempotency_key"))
        body = with_idempotency_id(body, key)
    if _is_core(path):
        resp = await ctx.sage.request(method, path, business_id=None, params=query, json=body)
    else:
        resp = await ctx.sage.request(method, path, business_id=ctx.business.business_id, params=query, json=body)
    out: dict[str, Any] = {"path": template, "status": resp.status, "data": resp.body}
    if key:
        out["idempotency_id"] = key
    return out


HANDLERS = {f.__name__: f for f in (find_sage_endpoint, sage_api_get, sage_api_write)}
