"""Sage's error array, as the sandbox raises and renders it.

Every API error is a JSON array of ``{"$severity", "$dataCode", "$message", "$source"}`` objects.
Handlers raise :class:`ApiError`; the app turns it into the response.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorItem:
    message: str
    data_code: str
    source: str = ""
    severity: str = "error"

    def to_json(self) -> dict[str, str]:
        return {
            "$severity": self.severity,
            "$dataCode": self.data_code,
            "$message": self.message,
            "$source": self.source,
        }


class ApiError(Exception):
    """An error answer: HTTP status, Sage's error items, optional extra headers."""

    def __init__(self, status: int, items: Sequence[ErrorItem], headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{status}: " + "; ".join(i.message for i in items))
        self.status = status
        self.items = list(items)
        self.headers = dict(headers or {})

    def body(self) -> list[dict[str, Any]]:
        return [item.to_json() for item in self.items]


def unauthorized(message: str) -> ApiError:
    return ApiError(401, [ErrorItem(message, "AuthorizationFailure")], {"WWW-Authenticate": "Bearer"})


def forbidden(message: str, source: str = "") -> ApiError:
    return ApiError(403, [ErrorItem(message, "MultiUserAccessDenied", source)])


def not_found(message: str = "Resource not found", source: str = "") -> ApiError:
    return ApiError(404, [ErrorItem(message, "RecordNotFound", source)])


def method_not_allowed(method: str, path: str, allowed: Sequence[str]) -> ApiError:
    return ApiError(
        405,
        [ErrorItem(f"{method} is not allowed on {path}", "MethodNotAllowed")],
        {"Allow": ", ".join(allowed)},
    )


def invalid(source: str, message: str) -> ApiError:
    """A single 422 ``RecordInvalid`` item."""
    return ApiError(422, [ErrorItem(message, "RecordInvalid", source)])


def required(source: str) -> ApiError:
    return invalid(source, "This field is required.")


class Problems:
    """Collects several 422 items so one answer can report every invalid field at once."""

    def __init__(self) -> None:
        self.items: list[ErrorItem] = []

    def add(self, source: str, message: str, data_code: str = "RecordInvalid") -> None:
        item = ErrorItem(message, data_code, source)
        if item not in self.items:
            self.items.append(item)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise ApiError(422, list(self.items))
