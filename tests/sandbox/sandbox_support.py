"""Helpers for the sandbox's own tests: real HTTP against servers on 127.0.0.1.

Every response the clients made here receive is checked against Sage's spec (``spec.py``): single
objects against the operation's response definition, list items one by one, error bodies against
Sage's error-array shape.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx2

from sage_mcp.sage import spec
from sage_mcp.sandbox import SandboxServer
from tests.helpers import with_line_tax

TODAY = dt.date(2025, 6, 30)
#: 2025-06-30T12:00:00Z
NOON = 1751284800.0
ENVELOPE_KEYS = {"$total", "$page", "$next", "$back", "$itemsPerPage", "$items"}
ERROR_KEYS = {"$severity", "$dataCode", "$message", "$source"}


class FakeClock:
    """An injectable clock (epoch seconds) that only moves when told to."""

    def __init__(self, start: float = NOON) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Conformance:
    """Validates every sandbox response against the spec; counts what it checked."""

    def __init__(self) -> None:
        self.objects_checked = 0

    def check(self, response: httpx2.Response) -> None:
        response.read()
        path = response.request.url.path
        if not path.startswith("/v3.1/") or not response.content:
            return
        body = response.json()
        if response.status_code >= 400:
            assert isinstance(body, list) and body, body
            for item in body:
                assert set(item) == ERROR_KEYS, item
                assert item["$severity"] == "error"
                assert all(isinstance(v, str) for v in item.values()), item
            return
        method = response.request.method
        found = spec.find_operation(method, path)
        assert found is not None, f"{method} {path} is not a spec operation"
        template, _ = found
        definition = spec.response_definition(method, template)
        assert definition is not None, f"{method} {template} declares no response body"
        if spec.is_list_operation(method, template):
            size_key = "$items_per_page" if template == "/businesses" else "$itemsPerPage"
            assert set(body) == (ENVELOPE_KEYS - {"$itemsPerPage"}) | {size_key}, sorted(body)
            objects = body["$items"]
        else:
            objects = [body]
        for obj in objects:
            errors = spec.validate_response(definition, obj)
            assert not errors, f"{method} {path}: {definition} invalid: {errors[:5]}"
            self.objects_checked += 1


class SageTestClient(httpx2.Client):
    """An HTTP client that, like any real Sage client, sends each artefact line's VAT (``tax_amount``)
    when the test leaves it out; ``send_as_is=True`` sends a body exactly as given."""

    def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> httpx2.Response:  # type: ignore[override]
        send_as_is = kwargs.pop("send_as_is", False)
        if not send_as_is and method.upper() in ("POST", "PUT") and kwargs.get("json") is not None:
            kwargs["json"] = with_line_tax(json.loads(json.dumps(kwargs["json"], default=str)))
        return super().request(method, url, *args, **kwargs)

    def post(self, url: Any, *args: Any, **kwargs: Any) -> httpx2.Response:  # type: ignore[override]
        return self.request("POST", url, *args, **kwargs)

    def put(self, url: Any, *args: Any, **kwargs: Any) -> httpx2.Response:  # type: ignore[override]
        return self.request("PUT", url, *args, **kwargs)


def make_client(server: SandboxServer, conformance: Conformance, token: str | None = None, **kw: Any) -> httpx2.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    headers.update(kw.pop("headers", {}))
    return SageTestClient(
        base_url=server.api_url,
        headers=headers,
        event_hooks={"response": [conformance.check]},
        timeout=10,
        **kw,
    )


def error_of(response: httpx2.Response) -> dict[str, str]:
    """The single item of a Sage error array."""
    body = response.json()
    assert isinstance(body, list) and len(body) == 1, body
    item: dict[str, str] = body[0]
    return item


def items(api: httpx2.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every field of up to 200 records of a list."""
    response = api.get(path, params={"attributes": "all", "items_per_page": 200, **params})
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["$items"]
    return found


def couldnt_find(response: httpx2.Response) -> set[str]:
    """The models a 422 could not find, answered as real Sage does (sage-real-responses row 9):
    ``RecordInvalid`` "Couldn't find Supplier." with an empty ``$source``."""
    assert response.status_code == 422, response.text
    found = set()
    for item in response.json():
        if item["$message"].startswith("Couldn't find "):
            assert item["$source"] == "" and item["$dataCode"] == "RecordInvalid", item
            found.add(item["$message"].removeprefix("Couldn't find ").rstrip("."))
    return found


def sources(response: httpx2.Response) -> set[str]:
    """The ``$source`` fields of a 422 answer."""
    assert response.status_code == 422, response.text
    return {item["$source"] for item in response.json()}
