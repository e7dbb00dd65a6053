"""Tool output and every kind of failure, turned into a ``CallToolResult`` a model can act on.

Success: ``structuredContent`` (matching the tool's outputSchema) plus a compact text rendering
of the same data. Failure: ``isError`` with one message that says what went wrong, which field,
and what to do next. Secrets never appear in either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sized
from typing import TYPE_CHECKING, Any

from mcp.types import CallToolResult, TextContent

from sage_mcp.excerpt import excerpt
from sage_mcp.money import DECIMAL_PATTERN, MoneyError
from sage_mcp.sage.errors import (
    AuthError,
    BusinessMismatchError,
    SageAPIError,
    SageConnectionError,
    SageForbiddenError,
    SageNotFoundError,
    SageRateLimitError,
    SageServerError,
    SageUnauthorizedError,
    SageValidationError,
)
from sage_mcp.tools._base import ToolError

if TYPE_CHECKING:
    from jsonschema import ValidationError

# Sage's field names that our tools rename.
_SOURCE_RENAMES = (
    (re.compile(r"^(invoice|credit_note|quote|estimate)_lines\.(\d+)\."), r"lines[\2]."),
    (re.compile(r"^(invoice|credit_note|quote|estimate)_lines\."), "lines[]."),
    (re.compile(r"^contact_type_ids"), "contact_type"),
    (re.compile(r"^main_address\."), "address."),
    (re.compile(r"^payment_lines\.(\d+)\."), r"lines[\1]."),
    (re.compile(r"^payment_lines\."), "lines[]."),
    (re.compile(r"^allocated_artefacts\.(\d+)\."), r"allocations[\1]."),
    (re.compile(r"^allocated_artefacts\."), "allocations[]."),
    (re.compile(r"^attachment_context_type_id$"), "attach_to.type"),
    (re.compile(r"^attachment_context_id$"), "attach_to.id"),
)


def success(data: Mapping[str, Any]) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=render_text(data))], structured_content=dict(data))


def failure(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)


# -- text rendering -------------------------------------------------------------------------


def _inline(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_inline(v)}" for k, v in value.items() if v is not None) + "}"
    if isinstance(value, list):
        return "[" + "; ".join(_inline(v) for v in value) + "]"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def render_text(data: Mapping[str, Any]) -> str:
    """Compact, line-oriented rendering: scalars as ``key: value``, list items one per line."""
    lines: list[str] = []
    items = data.get("items")
    for key, value in data.items():
        if value is None or (key == "items" and isinstance(items, list)):
            continue
        if key == "business" and isinstance(value, Mapping):
            lines.append(f"business: {value.get('name')} ({value.get('id')})")
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            lines.append(f"{key}:")
            lines.extend(f"- {_inline(v)}" for v in value)
        else:
            lines.append(f"{key}: {_inline(value)}")
    if isinstance(items, list):
        lines.append(f"items ({len(items)}):" if items else "items: none")
        lines.extend(f"- {_inline(v)}" for v in items)
    return "\n".join(lines)


# -- argument validation -----------------------------------------------------------------------


def _field_path(path: Iterable[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "arguments"


#: Patterns whose failure deserves words rather than the regular expression.
_ID_PATTERN = "^[0-9a-f]{32}$"
#: At most this many problems are listed in one message.
_MAX_LISTED = 10


def _unknown_fields(err: ValidationError) -> list[str]:
    allowed = (err.schema.get("properties") or {}) if isinstance(err.schema, Mapping) else {}
    return [k for k in err.instance if k not in allowed] if isinstance(err.instance, Mapping) else []


def describe_validation_error(err: ValidationError, schema: Mapping[str, Any]) -> str:
    """One problem with an argument, naming its field; a caller's value is quoted to at most ~80
    characters, with its length when cut."""
    del schema
    where = _field_path(err.absolute_path)
    validator, expected, value = err.validator, err.validator_value, err.instance
    shown = excerpt(value)
    if validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", err.message)
        name = missing[0] if missing else err.message
        full = f"{where}.{name}" if where != "arguments" else name
        return f"{full}: required field is missing"
    if validator == "additionalProperties":
        props = sorted((err.schema.get("properties") or {}).keys()) if isinstance(err.schema, Mapping) else []
        extra = _unknown_fields(err)
        names = ", ".join(excerpt(e, 40) for e in extra[:5]) + (f" and {len(extra) - 5} more" if len(extra) > 5 else "")
        return f"{where}: unknown field {names or 'given'}; allowed fields: {', '.join(props) or 'none'}"
    if validator == "type":
        return f"{where}: expected {expected}, got {type(value).__name__} {shown}"
    if validator == "pattern" and expected == DECIMAL_PATTERN:
        return (
            f'{where}: {shown} is not a decimal string; write amounts like "120.00" '
            "(at most 13 digits before the point and 6 after)"
        )
    if validator == "pattern" and expected == _ID_PATTERN:
        return f"{where}: {shown} is not a Sage id (32 lowercase hex characters, as list and find tools return)"
    if validator == "pattern":
        return f"{where}: {shown} does not match {expected}"
    if validator == "enum":
        return f"{where}: {shown} is not one of {', '.join(map(str, expected))}"
    if validator == "format":
        return f"{where}: {shown} is not a valid {expected} (use YYYY-MM-DD)"
    if validator in ("maxLength", "minLength"):
        size = len(value) if isinstance(value, str) else 0
        if validator == "minLength":
            return f"{where}: must not be empty" if expected == 1 else f"{where}: at least {expected} characters"
        return f"{where}: {size:,} characters is too long (at most {expected:,}): {shown}"
    if validator in ("maxItems", "minItems", "maxProperties", "minProperties"):
        unit = "fields" if "Properties" in validator else "items"
        bound = "at most" if validator.startswith("max") else "at least"
        size = len(value) if isinstance(value, Sized) else 0
        return f"{where}: {size:,} {unit} given, {bound} {expected} allowed"
    if validator in ("maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum"):
        return f"{where}: {shown} is out of range ({validator} {expected})"
    return f"{where}: {excerpt(err.message, 160)}"


def invalid_arguments(tool: str, errors: list[ValidationError], schema: Mapping[str, Any]) -> CallToolResult:
    errors = sorted(
        errors, key=lambda e: [(0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in e.absolute_path]
    )
    details = "; ".join(describe_validation_error(e, schema) for e in errors[:_MAX_LISTED])
    if len(errors) > _MAX_LISTED:
        details += f"; and {len(errors) - _MAX_LISTED} more"
    return failure(f"Invalid arguments for {tool}: {details}. Nothing was sent to Sage; fix them and call again.")


# -- exceptions ---------------------------------------------------------------------------------


def _rename_source(source: str) -> str:
    for pattern, repl in _SOURCE_RENAMES:
        source = pattern.sub(repl, source)
    return source


def _retry_hint(idempotency_id: str | None) -> str:
    if idempotency_id:
        return (
            f" It may or may not have been recorded: repeat the same call with idempotency_key "
            f"{idempotency_id!r} and Sage will return the original instead of creating a second one."
        )
    return ""


#: Sage collections listed by a tool of another name (the document family is one tool with a type).
LISTED_BY = {
    "sales_invoices": "list_invoices",
    "sales_credit_notes": "list_invoices with type sales_credit_note",
    "sales_quotes": "list_invoices with type sales_quote",
    "sales_estimates": "list_invoices with type sales_estimate",
    "purchase_invoices": "list_invoices with type purchase_invoice",
    "purchase_credit_notes": "list_invoices with type purchase_credit_note",
    "contact_payments": "list_payments",
    "other_payments": "list_bank_transactions",
}


def _lookup_hint(path: str) -> str:
    parts = [p for p in path.strip("/").split("/") if p]
    if len(parts) < 2:
        return ""
    return f" Check the id; {LISTED_BY.get(parts[0], f'list_{parts[0]}')} shows valid ones."


def from_exception(exc: BaseException, *, tool: str, idempotency_id: str | None = None) -> CallToolResult | None:
    """The result for an expected failure, or ``None`` for a bug (the caller logs it)."""
    if isinstance(exc, ToolError | MoneyError):
        return failure(str(exc))
    if isinstance(exc, SageValidationError):
        details = "; ".join(
            (f"{_rename_source(e.source)}: " if e.source and e.source != "base" else "") + e.message for e in exc.errors
        )
        return failure(
            f"Sage refused {tool} (HTTP 422): {details or 'no details given'}. "
            "Nothing was recorded; correct the field(s) named and call again."
        )
    if isinstance(exc, SageNotFoundError):
        msg = "; ".join(e.message for e in exc.errors if e.message) or "not found"
        return failure(f"Sage found nothing at {exc.path} ({msg}).{_lookup_hint(exc.path)}")
    if isinstance(exc, SageUnauthorizedError):
        return failure(
            "Sage rejected the sign-in even after a token refresh. Run `sage-mcp auth login` to sign in again."
        )
    if isinstance(exc, SageForbiddenError):
        msg = "; ".join(e.message for e in exc.errors if e.message)
        return failure(
            f"Sage refused access (HTTP 403): {msg or 'forbidden'}. The signed-in user may lack the role for this "
            "area of Sage, the business may not be theirs, or the sign-in is read-only."
        )
    if isinstance(exc, SageRateLimitError):
        wait = f"{exc.retry_after:.0f} s" if exc.retry_after else "a minute"
        return failure(f"Sage is limiting requests (HTTP 429). Wait {wait} and try again.{_retry_hint(idempotency_id)}")
    if isinstance(exc, SageServerError):
        return failure(
            f"Sage had a server error (HTTP {exc.status}) on {exc.method} {exc.path}."
            + (_retry_hint(idempotency_id) or " Try again shortly.")
            + (f" Sage request id: {exc.request_id}." if exc.request_id else "")
        )
    if isinstance(exc, SageAPIError):
        return failure(f"{exc.summary()}.")
    if isinstance(exc, SageConnectionError):
        return failure(f"{exc}." + (_retry_hint(idempotency_id) or " Try again shortly."))
    if isinstance(exc, AuthError | BusinessMismatchError):
        return failure(str(exc))
    return None
