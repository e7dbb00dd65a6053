"""The suite-wide conformance recorder: on for every sandbox of the test run, and it catches bad answers.

``tests/conftest.py`` sets ``SAGE_SANDBOX_CONFORMANCE=1`` for the whole run and fails the run at the
end if any sandbox recorded a violation (``sage_mcp.sandbox.conformance.VIOLATIONS``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from sage_mcp.sandbox import SandboxConfig, SandboxServer, conformance, running_sandbox
from sage_mcp.sandbox.conformance import ConformanceRecorder, Violation


@pytest.fixture
def forget_violations() -> Iterator[list[Violation]]:
    """Violations a test provokes on purpose; they are taken out of the run-wide list afterwards."""
    provoked: list[Violation] = []
    yield provoked
    for violation in provoked:
        if violation in conformance.VIOLATIONS:
            conformance.VIOLATIONS.remove(violation)


def _get(server: SandboxServer, path: str, **params: Any) -> httpx2.Response:
    token = server.mint_tokens()["access_token"]
    with httpx2.Client(base_url=server.api_url, headers={"Authorization": f"Bearer {token}"}) as client:
        return client.get(path, params=params)


def test_the_recorder_is_on_for_the_test_run(sandbox: SandboxServer) -> None:
    assert conformance.enabled(SandboxConfig())
    assert not conformance.enabled(SandboxConfig(conformance=False))
    assert sandbox.recorder is not None
    before = sandbox.recorder.objects_checked
    assert _get(sandbox, "/contacts", attributes="all", items_per_page=5).status_code == 200
    assert sandbox.recorder.objects_checked == before + 5
    assert sandbox.violations == []


def test_the_environment_variable_decides_when_the_config_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(conformance.ENV_VAR, "0")
    assert not conformance.enabled(SandboxConfig())
    assert conformance.enabled(SandboxConfig(conformance=True))
    monkeypatch.delenv(conformance.ENV_VAR)
    assert not conformance.enabled(SandboxConfig())


def test_a_response_that_breaks_the_spec_is_recorded(forget_violations: list[Violation]) -> None:
    with running_sandbox(SandboxConfig(conformance=True)) as server:
        tax_rates = server.sandbox.collections["tax_rates"]
        original = tax_rates.render_many

        def broken(ctx: Any, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [{**obj, "percentage": "twenty"} for obj in original(ctx, records)]

        tax_rates.render_many = broken  # type: ignore[method-assign]
        assert _get(server, "/tax_rates", attributes="percentage").status_code == 200
        assert _get(server, "/tax_rates/GB_STANDARD").status_code == 200
        assert _get(server, "/contacts", items_per_page=2).status_code == 200  # a good answer
        forget_violations += server.violations
        assert [(v.method, v.path) for v in server.violations] == [
            ("GET", "/v3.1/tax_rates"),
            ("GET", "/v3.1/tax_rates/GB_STANDARD"),
        ]
        assert all(v in conformance.VIOLATIONS for v in server.violations)
        assert any("$items.0.percentage" in m for m in server.violations[0].messages)
        assert server.violations[1].messages[0].startswith("TaxRate percentage:")


def test_recorder_checks(forget_violations: list[Violation]) -> None:
    recorder = ConformanceRecorder("unit")
    slim = b'{"$total":1,"$page":1,"$next":null,"$back":null,"$itemsPerPage":20,"$items":[{"id":"GB_ZERO"}]}'
    assert recorder.check("GET", "/v3.1/tax_rates", 200, "application/json", slim) == []
    bad_item = slim.replace(b'{"id":"GB_ZERO"}', b'{"id":"GB_ZERO","percentage":"abc"}')
    assert recorder.check("GET", "/v3.1/tax_rates", 200, "application/json", bad_item)
    no_envelope = b'[{"id":"GB_ZERO"}]'
    assert recorder.check("GET", "/v3.1/tax_rates", 200, "application/json", no_envelope)
    error = b'[{"$severity":"error","$dataCode":"RecordNotFound","$message":"x","$source":""}]'
    assert recorder.check("GET", "/v3.1/tax_rates/x", 404, "application/json", error) == []
    assert recorder.check("GET", "/v3.1/tax_rates/x", 404, "application/json", b'{"error":"x"}')
    assert recorder.check("GET", "/v3.1/no_such_thing", 200, "application/json", b"{}")
    assert recorder.check("GET", "/token", 200, "application/json", b"{}") == []  # not the API
    assert recorder.check("DELETE", "/v3.1/contacts/x", 204, "", b"") == []
    forget_violations += recorder.violations
    assert len(recorder.violations) == 4
