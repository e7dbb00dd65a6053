"""Sage's published API description (the vendored Swagger 2.0 files), usable at run time.

Two files in ``sage_mcp/sage/openapi/`` are Sage's own: the "Accounts" spec (169 paths) and the small
"User Accounts" spec (``/businesses``, ``/user``).  The third,
``sage-accounting-v3.1-reporting-supplement.openapi.json``, is **ours**, not Sage's: it describes
``GET /trial_balance`` of Sage's Reporting API, which Sage documents outside the Accounts swagger
(announcement of 2020-05-20; the shape follows Sage's published example, and fields that example lacks
are marked "sandbox extension"), so that the generic tools can call it and the sandbox's answers are
checked like any other.  This module loads the three once and offers:

* :func:`definition_schema` - a JSON Schema (Draft 4, ``$ref``s resolvable inside it) for any spec
  definition, adapted to how Sage really answers: every ``number`` also accepts a decimal string
  (``"120.00"``), and every property the spec does not mark as required also accepts ``null``;
* :func:`validate_response` / :func:`response_issues` - check an object Sage (or the sandbox) returned;
* :func:`validate_request_body` / :func:`request_body_issues` - check a POST/PUT body against the
  operation's body schema (``postContacts`` ...), allowing the ``idempotency_id`` string that Sage
  accepts inside the root object although its schemas do not declare it;
* :func:`find_operation`, :func:`match_path`, :func:`response_definition` - map a concrete path such as
  ``/contacts/abc123`` to its template ``/contacts/{key}`` and the operation / definition behind it.

Everything here is generic: no resource has code of its own.  Validators are compiled once per
definition (or body schema) and cached.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema

__all__ = [
    "DECIMAL_STRING_PATTERN",
    "SchemaIssue",
    "body_definition",
    "body_root_key",
    "definition_names",
    "definition_schema",
    "find_operation",
    "is_list_operation",
    "load_spec",
    "match_path",
    "operations",
    "path_methods",
    "request_body_issues",
    "response_definition",
    "response_issues",
    "unknown_body_fields",
    "validate_request_body",
    "validate_response",
]

OPENAPI_DIR = Path(__file__).resolve().with_name("openapi")
MAIN_SPEC_FILE = "sage-accounting-v3.1.openapi.json"
CORE_SPEC_FILE = "sage-accounting-v3.1-core-businesses-user.openapi.json"
#: Our description of Sage's Reporting API (``/trial_balance``): a supplement, not a file Sage publishes.
REPORTING_SUPPLEMENT_FILE = "sage-accounting-v3.1-reporting-supplement.openapi.json"
SPEC_FILES = (MAIN_SPEC_FILE, CORE_SPEC_FILE, REPORTING_SUPPLEMENT_FILE)
BASE_PATH = "/v3.1"

#: What a decimal string must look like wherever the spec says ``number``.
DECIMAL_STRING_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"

_HTTP_METHODS = ("get", "post", "put", "delete", "patch", "head", "options")
_NULLABLE_SUFFIX = "~nullable"
_DROPPED_KEYWORDS = frozenset({"description", "example", "x-sage-menusection", "title"})


# --------------------------------------------------------------------------------------------- loading


@functools.cache
def load_spec() -> dict[str, Any]:
    """The spec files merged: ``{"paths": {...}, "definitions": {...}}`` (read once, do not mutate)."""
    paths: dict[str, Any] = {}
    definitions: dict[str, Any] = {}
    for file_name in SPEC_FILES:
        with (OPENAPI_DIR / file_name).open(encoding="utf-8") as fh:
            doc = json.load(fh)
        for name, schema in doc.get("definitions", {}).items():
            if name in definitions:  # pragma: no cover - the vendored files do not collide
                raise ValueError(f"definition {name!r} appears in two spec files")
            definitions[name] = schema
        for template, item in doc.get("paths", {}).items():
            if template in paths:  # pragma: no cover
                raise ValueError(f"path {template!r} appears in two spec files")
            paths[template] = item
    return {"paths": paths, "definitions": definitions}


def definition_names() -> list[str]:
    """Every definition name of the specs, sorted."""
    return sorted(load_spec()["definitions"])


# ------------------------------------------------------------------------------ schema transformation


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _schema_types(schema: Mapping[str, Any]) -> list[str]:
    t = schema.get("type")
    if isinstance(t, str):
        return [t]
    if isinstance(t, list):
        return [str(x) for x in t]
    return []


def _transform(schema: Mapping[str, Any], *, nullable: bool) -> dict[str, Any]:
    """Adapt one (sub)schema of the spec to Sage's wire reality (see the module docstring)."""
    if "$ref" in schema:
        name = _ref_name(str(schema["$ref"]))
        return {"$ref": f"#/definitions/{name}{_NULLABLE_SUFFIX if nullable else ''}"}
    required = set(schema.get("required", ()))
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROPPED_KEYWORDS:
            continue
        if key == "properties" and isinstance(value, Mapping):
            out[key] = {
                prop: _transform(sub, nullable=prop not in required)
                for prop, sub in value.items()
                if isinstance(sub, Mapping)
            }
        elif (key == "items" and isinstance(value, Mapping)) or (
            key == "additionalProperties" and isinstance(value, Mapping)
        ):
            out[key] = _transform(value, nullable=False)
        elif key in ("allOf", "anyOf", "oneOf") and isinstance(value, list):
            out[key] = [_transform(sub, nullable=False) for sub in value]
        else:
            out[key] = value
    types = _schema_types(schema)
    if "number" in types and "string" not in types:
        types.append("string")
        out["pattern"] = DECIMAL_STRING_PATTERN
    if nullable and types and "null" not in types:
        types.append("null")
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    if types:
        out["type"] = types[0] if len(types) == 1 else types
    return out


@functools.cache
def _definitions() -> dict[str, Any]:
    """All definitions transformed, each also as a ``<name>~nullable`` twin that accepts null."""
    result: dict[str, Any] = {}
    for name, schema in load_spec()["definitions"].items():
        strict = _transform(schema, nullable=False)
        result[name] = strict
        twin = dict(strict)
        types = _schema_types(strict) or ["object"]
        twin["type"] = [*types, "null"] if "null" not in types else types
        result[name + _NULLABLE_SUFFIX] = twin
    return result


def definition_schema(name: str) -> dict[str, Any]:
    """A Draft 4 JSON Schema for the spec definition ``name`` (``KeyError`` if there is none).

    Numbers also accept decimal strings and non-required properties also accept ``null``.  The
    returned dict shares its ``definitions`` with every other call: treat it as read-only.
    """
    defs = _definitions()
    if name not in defs or name.endswith(_NULLABLE_SUFFIX):
        raise KeyError(f"no definition named {name!r} in the Sage spec")
    return {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "allOf": [{"$ref": f"#/definitions/{name}"}],
        "definitions": defs,
    }


# ------------------------------------------------------------------------------------------ validation

_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_DATE_TIME_RE = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?([Zz]|[+-][0-9]{2}:?[0-9]{2})$"
)


def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE_RE.match(value):
        return False
    try:
        _dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE_TIME_RE.match(value):
        return False
    try:
        _dt.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return False
    return True


@functools.cache
def _format_checker() -> jsonschema.FormatChecker:
    """Only the two formats Sage's spec uses, checked strictly. jsonschema is imported on first use
    (the first spec check), not when the server starts."""
    import jsonschema

    checker = jsonschema.FormatChecker(formats=())
    checker.checks("date")(_is_date)
    checker.checks("date-time")(_is_date_time)
    return checker


def _draft4(schema: Mapping[str, Any], checker: jsonschema.FormatChecker | None = None) -> Any:
    import jsonschema

    return jsonschema.Draft4Validator(schema, format_checker=_format_checker() if checker is None else checker)


@dataclass(frozen=True)
class SchemaIssue:
    """One validation problem: where (``path`` into the instance) and what, in plain words."""

    path: tuple[str | int, ...]
    message: str

    @property
    def dotted_path(self) -> str:
        """The path as ``contact.main_address.city`` / ``sales_invoice.invoice_lines.0.unit_price``."""
        return ".".join(str(p) for p in self.path) or "(body)"

    def __str__(self) -> str:
        return f"{self.dotted_path}: {self.message}"


_JSON_TYPE_NAMES = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "boolean": "true or false",
    "null": "null",
}


def _json_type_of(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return "a number"


def _describe_types(types: Sequence[str]) -> str:
    names: list[str] = []
    if "number" in types:
        names.append("a number or a decimal string such as 12.50")
    names.extend(_JSON_TYPE_NAMES[t] for t in types if t in _JSON_TYPE_NAMES and t not in ("string", "null"))
    if "string" in types and "number" not in types:
        names.append("a string")
    if "null" in types:
        names.append("null")
    return " or ".join(names) if names else "of another type"


def _issues_from_error(error: Any) -> Iterator[SchemaIssue]:
    path = tuple(error.absolute_path)
    validator = error.validator
    value = error.validator_value
    instance = error.instance
    if validator == "required" and isinstance(instance, Mapping):
        for prop in value:
            if prop not in instance:
                yield SchemaIssue((*path, prop), "This field is required.")
        return
    if error.context:
        for sub in error.context:
            yield from _issues_from_error(sub)
        return
    if validator == "type":
        types = [value] if isinstance(value, str) else list(value)
        message = f"must be {_describe_types(types)}, not {_json_type_of(instance)}"
    elif validator == "pattern" and value == DECIMAL_STRING_PATTERN:
        message = f"must be a number or a decimal string such as 12.50, not {instance!r}"
    elif validator == "format":
        example = {"date": "YYYY-MM-DD", "date-time": "YYYY-MM-DDThh:mm:ssZ"}.get(str(value), str(value))
        message = f"must be a valid {value} ({example}), not {instance!r}"
    elif validator == "enum":
        allowed = ", ".join(str(v) for v in value if v is not None)
        message = f"must be one of: {allowed}"
    elif validator == "maxLength":
        message = f"is too long (maximum is {value} characters)"
    elif validator == "minLength":
        message = f"is too short (minimum is {value} characters)"
    elif validator == "maximum":
        message = f"must be at most {value}"
    elif validator == "minimum":
        message = f"must be at least {value}"
    else:
        message = str(error.message)
    yield SchemaIssue(path, message)


def _sort_key(issue: SchemaIssue) -> tuple[str, ...]:
    return tuple(f"{p:09d}" if isinstance(p, int) else p for p in issue.path)


def _collect(validator: Any, instance: object) -> list[SchemaIssue]:
    issues: list[SchemaIssue] = []
    seen: set[SchemaIssue] = set()
    for error in validator.iter_errors(instance):
        for issue in _issues_from_error(error):
            if issue not in seen:
                seen.add(issue)
                issues.append(issue)
    issues.sort(key=_sort_key)
    return issues


@functools.cache
def _response_format_checker() -> jsonschema.FormatChecker:
    """Answers are checked as Sage sends them: recorded real responses leave an unset date as ``""``
    (``"mtd_authenticated_date": ""``), which its spec's ``format: date`` does not foresee."""
    import jsonschema

    checker = jsonschema.FormatChecker(formats=())
    checker.checks("date")(lambda value: value == "" or _is_date(value))
    checker.checks("date-time")(_is_date_time)
    return checker


@functools.cache
def _definition_validator(name: str) -> Any:
    return _draft4(definition_schema(name), _response_format_checker())


def response_issues(definition: str, obj: Any) -> list[SchemaIssue]:
    """Problems of ``obj`` as an instance of the spec definition ``definition`` (empty when valid)."""
    return _collect(_definition_validator(definition), obj)


def validate_response(definition: str, obj: Any) -> list[str]:
    """Error messages (each naming the field path) for ``obj`` against ``definition``; empty when valid."""
    return [str(issue) for issue in response_issues(definition, obj)]


# ------------------------------------------------------------------------------------ paths/operations


def _normalise_path(path: str) -> str:
    path = path.split("?", 1)[0].split("#", 1)[0]
    if path.startswith(BASE_PATH + "/") or path == BASE_PATH:
        path = path[len(BASE_PATH) :]
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    if not path.startswith("/"):
        path = "/" + path
    return path


@functools.cache
def _path_matchers() -> tuple[tuple[re.Pattern[str], str], ...]:
    """(regex, template) pairs, most literal segments first so fixed paths beat parameters."""
    matchers: list[tuple[int, str, re.Pattern[str]]] = []
    for template in load_spec()["paths"]:
        segments = template.strip("/").split("/")
        literal = sum(1 for s in segments if not s.startswith("{"))
        parts = ["[^/]+" if s.startswith("{") and s.endswith("}") else re.escape(s) for s in segments]
        matchers.append((-literal, template, re.compile("^/" + "/".join(parts) + "$")))
    matchers.sort(key=lambda m: (m[0], m[1]))
    return tuple((regex, template) for _, template, regex in matchers)


def match_path(path: str) -> str | None:
    """The spec's path template for a concrete path (``/v3.1`` prefix and query string optional)."""
    path = _normalise_path(path)
    paths = load_spec()["paths"]
    if path in paths:
        return path
    for regex, template in _path_matchers():
        if regex.match(path):
            return template
    return None


def path_methods(path_template: str) -> list[str]:
    """Upper-case HTTP methods the spec declares for ``path_template`` (empty if unknown)."""
    item = load_spec()["paths"].get(path_template, {})
    return [m.upper() for m in _HTTP_METHODS if isinstance(item.get(m), Mapping)]


def find_operation(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    """``(path_template, operation)`` for a method and a concrete (or template) path, or ``None``."""
    template = match_path(path)
    if template is None:
        return None
    operation = load_spec()["paths"][template].get(method.lower())
    if not isinstance(operation, dict):
        return None
    return template, operation


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every ``(METHOD, path_template, operation)`` of the specs."""
    for template, item in load_spec()["paths"].items():
        for method in _HTTP_METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                yield method.upper(), template, operation


def _operation(method: str, path_template: str) -> dict[str, Any] | None:
    item = load_spec()["paths"].get(path_template)
    if item is None:
        found = find_operation(method, path_template)
        return found[1] if found else None
    operation = item.get(method.lower())
    return operation if isinstance(operation, dict) else None


def _success_schema(operation: Mapping[str, Any]) -> Mapping[str, Any] | None:
    responses = operation.get("responses", {})
    for code in sorted(str(c) for c in responses):
        if code.startswith("2"):
            schema = responses[code].get("schema") if isinstance(responses[code], Mapping) else None
            return schema if isinstance(schema, Mapping) else None
    return None


def response_definition(method: str, path_template: str) -> str | None:
    """Definition name of the success response (for lists: the item definition), or ``None``."""
    operation = _operation(method, path_template)
    if operation is None:
        return None
    schema = _success_schema(operation)
    if schema is None:
        return None
    if "$ref" in schema:
        return _ref_name(str(schema["$ref"]))
    items = schema.get("items")
    if schema.get("type") == "array" and isinstance(items, Mapping) and "$ref" in items:
        return _ref_name(str(items["$ref"]))
    return None


def is_list_operation(method: str, path_template: str) -> bool:
    """True for collection GETs (declared as arrays; Sage wraps them in the ``$items`` envelope)."""
    operation = _operation(method, path_template)
    schema = _success_schema(operation) if operation else None
    return method.upper() == "GET" and schema is not None and schema.get("type") == "array"


def body_definition(method: str, path_template: str) -> str | None:
    """Definition name of the operation's body parameter (e.g. ``postContacts``), or ``None``."""
    operation = _operation(method, path_template)
    if operation is None:
        return None
    for param in operation.get("parameters", ()):
        if isinstance(param, Mapping) and param.get("in") == "body":
            schema = param.get("schema", {})
            if isinstance(schema, Mapping) and "$ref" in schema:
                return _ref_name(str(schema["$ref"]))
    return None


def body_root_key(method: str, path_template: str) -> str | None:
    """The single root key a body must be wrapped in (``contact``, ``sales_invoice`` ...), or ``None``."""
    name = body_definition(method, path_template)
    if name is None:
        return None
    props = load_spec()["definitions"][name].get("properties", {})
    return next(iter(props)) if len(props) == 1 else None


@functools.cache
def _body_validator(definition: str) -> Any:
    props = load_spec()["definitions"][definition].get("properties", {})
    extra = {root: {"properties": {"idempotency_id": {"type": "string"}}} for root in props}
    schema = {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "object",
        "allOf": [{"$ref": f"#/definitions/{definition}"}],
        "properties": extra,
        "definitions": _definitions(),
    }
    return _draft4(schema)


def request_body_issues(method: str, path_template: str, body: Any) -> list[SchemaIssue]:
    """Problems of ``body`` for the operation (``path_template`` may also be a concrete path)."""
    operation = _operation(method, path_template)
    if operation is None:
        return [SchemaIssue((), f"{method.upper()} {path_template} is not an operation of the Sage API")]
    definition = body_definition(method, path_template)
    if definition is None:
        if body is None:
            return []
        return [SchemaIssue((), f"{method.upper()} {path_template} takes no request body")]
    if body is None:
        return [SchemaIssue((), "a request body is required")]
    return _collect(_body_validator(definition), body)


def validate_request_body(method: str, path_template: str, body: Any) -> list[str]:
    """Error messages (each naming the field path, e.g. ``contact.name``) for a POST/PUT body."""
    return [str(issue) for issue in request_body_issues(method, path_template, body)]


def _resolve(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    definitions = load_spec()["definitions"]
    seen = 0
    while "$ref" in schema and seen < 32:
        schema = definitions[_ref_name(str(schema["$ref"]))]
        seen += 1
    return schema


def _walk_unknown(
    schema: Mapping[str, Any], instance: Any, path: tuple[str | int, ...], found: list[SchemaIssue]
) -> None:
    schema = _resolve(schema)
    props = schema.get("properties")
    if isinstance(instance, Mapping) and isinstance(props, Mapping) and props:
        for key, value in instance.items():
            if key in props:
                _walk_unknown(props[key], value, (*path, key), found)
            elif not (len(path) == 1 and key == "idempotency_id"):
                where = ".".join(str(p) for p in path if not isinstance(p, int)) or "the body"
                found.append(SchemaIssue((*path, key), f"is not an attribute of {where} in the Sage API"))
    elif isinstance(instance, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(instance):
            _walk_unknown(schema["items"], item, (*path, index), found)


def unknown_body_fields(method: str, path_template: str, body: Any) -> list[SchemaIssue]:
    """Body fields the operation's schema does not declare (Sage would silently ignore them).

    ``idempotency_id`` directly inside the root object is allowed.  Objects whose schema declares no
    properties are free-form and not inspected.
    """
    definition = body_definition(method, path_template)
    if definition is None:
        return []
    found: list[SchemaIssue] = []
    _walk_unknown({"$ref": f"#/definitions/{definition}"}, body, (), found)
    return found
