"""Typed errors for everything that can go wrong talking to Sage.

Sage answers errors with a JSON array of ``{"$severity", "$dataCode", "$message", "$source"}``
objects. :func:`error_from_response` turns a status code and body into one exception class per
status, so callers (the tool layer) can explain each kind of failure differently.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class SageErrorItem:
    """One entry of Sage's error array."""

    message: str
    data_code: str = ""
    source: str = ""
    severity: str = "error"

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> SageErrorItem:
        return cls(
            message=str(raw.get("$message") or raw.get("message") or ""),
            data_code=str(raw.get("$dataCode") or raw.get("dataCode") or ""),
            source=str(raw.get("$source") or raw.get("source") or ""),
            severity=str(raw.get("$severity") or raw.get("severity") or "error"),
        )

    def describe(self) -> str:
        where = f"{self.source}: " if self.source and self.source != "base" else ""
        code = f" ({self.data_code})" if self.data_code else ""
        return f"{where}{self.message}{code}"


class SageError(Exception):
    """Base class of every error raised by :mod:`sage_mcp.sage`."""


class SageConnectionError(SageError):
    """Sage could not be reached, or the connection failed before a response arrived."""


class SageTimeoutError(SageConnectionError):
    """Sage did not answer in time."""


class AuthError(SageError):
    """A problem with the Sage sign-in itself (not with one request)."""


class NotSignedInError(AuthError):
    """No Sage login is stored yet."""


class ReauthorizationRequired(AuthError):
    """The refresh token expired or was revoked (``invalid_grant``); the user must sign in again."""


class BusinessMismatchError(SageError):
    """Sage answered for a different business than the one requested (``X-Business`` echo)."""

    def __init__(self, requested: str, answered: str) -> None:
        super().__init__(
            f"Sage answered for business {answered!r} but {requested!r} was requested; the response was discarded."
        )
        self.requested = requested
        self.answered = answered


class SageAPIError(SageError):
    """Sage answered with an error status."""

    status: int

    def __init__(
        self,
        status: int,
        errors: list[SageErrorItem],
        *,
        method: str = "",
        path: str = "",
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.errors = errors
        self.method = method
        self.path = path
        self.request_id = request_id
        self.retry_after = retry_after
        super().__init__(self.summary())

    def summary(self) -> str:
        details = "; ".join(e.describe() for e in self.errors) or "no details given"
        where = f" on {self.method} {self.path}" if self.method else ""
        return f"Sage returned HTTP {self.status}{where}: {details}"

    @property
    def sources(self) -> list[str]:
        return [e.source for e in self.errors if e.source]


class SageBadRequestError(SageAPIError):
    pass


class SageUnauthorizedError(SageAPIError):
    pass


class SageForbiddenError(SageAPIError):
    pass


class SageNotFoundError(SageAPIError):
    pass


class SageConflictError(SageAPIError):
    pass


class SageValidationError(SageAPIError):
    """422: the data was refused; ``errors[].source`` names the field."""


class SageRateLimitError(SageAPIError):
    pass


class SageServerError(SageAPIError):
    pass


class SageRetryLaterError(SageAPIError):
    """Sage refused (429/503) and asked to be retried after more time than the call has left.

    Nothing was carried out by the refused request; ``retry_after`` holds Sage's wait in seconds.
    """

    def summary(self) -> str:
        wait = f"{self.retry_after:.0f} s" if self.retry_after is not None else "a while"
        where = f" (HTTP {self.status} on {self.method} {self.path})" if self.method else f" (HTTP {self.status})"
        return f"Sage asks to retry after {wait}{where}"


_STATUS_CLASSES: dict[int, type[SageAPIError]] = {
    400: SageBadRequestError,
    401: SageUnauthorizedError,
    403: SageForbiddenError,
    404: SageNotFoundError,
    409: SageConflictError,
    422: SageValidationError,
    429: SageRateLimitError,
}


def parse_error_items(body: Any) -> list[SageErrorItem]:
    """Read Sage's error array; tolerate a single object or an OAuth-style error."""
    if isinstance(body, list):
        return [SageErrorItem.from_json(x) for x in body if isinstance(x, Mapping)]
    if isinstance(body, Mapping):
        if "error" in body and isinstance(body["error"], str):
            return [SageErrorItem(message=str(body.get("error_description") or ""), data_code=body["error"])]
        for key in ("errors", "$errors"):
            if isinstance(body.get(key), list):
                return parse_error_items(body[key])
        return [SageErrorItem.from_json(body)]
    if isinstance(body, str) and body.strip():
        return [SageErrorItem(message=body.strip()[:500])]
    return []


def error_from_response(
    status: int,
    body: Any,
    *,
    method: str = "",
    path: str = "",
    request_id: str | None = None,
    retry_after: float | None = None,
) -> SageAPIError:
    cls = _STATUS_CLASSES.get(status, SageServerError if status >= 500 else SageAPIError)
    return cls(
        status,
        parse_error_items(body),
        method=method,
        path=path,
        request_id=request_id,
        retry_after=retry_after,
    )


# -- errors that do not say which field ------------------------------------------------------------------

_COULD_NOT_FIND_RE = re.compile(r"^Couldn't find ([A-Z][A-Za-z]*)\b")
#: Sage's model names whose ids go in fields not named after them.
_MODEL_FIELDS = {
    "Customer": ("contact", "customer"),
    "Supplier": ("contact", "supplier", "vendor"),
    "Vendor": ("contact", "supplier", "vendor"),
}
#: Sage's model name -> the collection its records are read from, where it is not the plural of its name.
_MODEL_COLLECTIONS = {"Customer": "contacts", "Supplier": "contacts", "Vendor": "contacts", "Address": "addresses"}


def _snake(model: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", model).lower()


def missing_reference_model(item: SageErrorItem) -> str | None:
    """The model of an error such as Sage's ``RecordInvalid`` "Couldn't find Supplier." that names no
    field (empty ``$source``), else ``None``."""
    if item.source and item.source != "base":
        return None
    found = _COULD_NOT_FIND_RE.match(item.message)
    if found is None or found.group(1) == "Record":
        return None
    return found.group(1)


def reference_collection(model: str) -> str:
    """The collection the records of a Sage model live in (``LedgerAccount`` -> ``ledger_accounts``)."""
    return _MODEL_COLLECTIONS.get(model) or _snake(model) + "s"


def reference_candidates(model: str, body: Any) -> list[tuple[str, str]]:
    """``(source, id)`` of every field of a request body that holds an id of ``model``, Sage-style
    sources inside the root object (``invoice_lines.1.ledger_account_id``): the field named after the
    model (``ledger_account_id``) or ending with it (``to_bank_account_id``)."""
    names = _MODEL_FIELDS.get(model) or (_snake(model),)
    wanted = re.compile(rf"^(?:[a-z_]+_)?(?:{'|'.join(map(re.escape, names))})_id$")
    root = next(iter(body.values())) if isinstance(body, Mapping) and len(body) == 1 else body
    fields = list(_fields(root, ""))
    found = [(path, value) for path, key, value in fields if wanted.match(key) and value]
    if found:
        return found
    # a polymorphic reference: ``attachment_context_type_id: SALES_INVOICE`` names the model of
    # ``attachment_context_id`` next to it
    kind = _snake(model).upper()
    typed = {path.removesuffix("_type_id") for path, key, value in fields if key.endswith("_type_id") and value == kind}
    return [(path, value) for path, _, value in fields if path.removesuffix("_id") in typed and value]


def _fields(value: Any, prefix: str) -> Iterator[tuple[str, str, str]]:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            path = f"{prefix}{key}"
            if isinstance(inner, str):
                yield path, str(key), inner
            else:
                yield from _fields(inner, path + ".")
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _fields(inner, f"{prefix}{index}.")


def located(item: SageErrorItem, sources: list[tuple[str, str]]) -> list[SageErrorItem]:
    """``item`` once per field found to hold an unknown id (``sources``: ``(field, id)``), naming it;
    ``[item]`` when none was found."""
    if not sources:
        return [item]
    return [
        replace(item, source=path, message=item.message.rstrip(".") + f": the id {value!r} sent was not found.")
        for path, value in dict.fromkeys(sources)
    ]
