"""Shared fixtures: one seeded sandbox per session, settings signed in to it, MCP clients in both eras."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from sage_mcp.config import Settings
from sage_mcp.demo import sandbox_settings
from sage_mcp.sandbox import SandboxConfig, SandboxServer, running_sandbox
from sage_mcp.server import create_server

REPO = Path(__file__).resolve().parent.parent
_CONFORMANCE_PREVIOUS = pytest.StashKey[str | None]()
_NO_CONFIRM_PREVIOUS = pytest.StashKey[str | None]()
NO_CONFIRM = "SAGE_MCP_NO_CONFIRM"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    with running_sandbox(SandboxConfig()) as server:
        yield server


@pytest.fixture
def settings(sandbox: SandboxServer, tmp_path: Path) -> Settings:
    """Signed in to the session sandbox, lead business pinned, every toolset on."""
    return sandbox_settings(sandbox, tmp_path, toolsets="all")


@pytest.fixture(params=["auto", "legacy"])
async def client(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[Client]:
    """An MCP client connected in memory, once per protocol era (2026 stateless and legacy handshake)."""
    async with Client(create_server(settings), mode=request.param) as c:
        yield c


# -- suite-wide spec conformance: every sandbox the tests start checks each /v3.1 answer against the spec


def pytest_configure(config: pytest.Config) -> None:
    """Turn the sandbox's conformance recorder on for every sandbox of this test process."""
    from sage_mcp.sandbox import conformance

    config.stash[_CONFORMANCE_PREVIOUS] = os.environ.get(conformance.ENV_VAR)
    os.environ[conformance.ENV_VAR] = "1"
    # Tests not about confirming irreversible writes run as unattended automation does (--no-confirm);
    # the tests about confirmation pass no_confirm=False.
    config.stash[_NO_CONFIRM_PREVIOUS] = os.environ.get(NO_CONFIRM)
    os.environ[NO_CONFIRM] = "1"


def pytest_unconfigure(config: pytest.Config) -> None:
    from sage_mcp.sandbox import conformance

    for var, key in ((conformance.ENV_VAR, _CONFORMANCE_PREVIOUS), (NO_CONFIRM, _NO_CONFIRM_PREVIOUS)):
        previous = config.stash.get(key, None)
        if previous is None:
            os.environ.pop(var, None)
        else:
            os.environ[var] = previous


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any sandbox answered something that does not match the spec."""
    from sage_mcp.sandbox import conformance

    if conformance.VIOLATIONS and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    from sage_mcp.sandbox import conformance

    checked = conformance.responses_checked()
    if checked:
        terminalreporter.write_line(
            f"sandbox conformance: {checked} answers and {conformance.objects_checked()} objects checked against "
            f"the spec, {len(conformance.VIOLATIONS)} violations"
        )
    if conformance.VIOLATIONS:
        terminalreporter.write_sep("=", "sandbox answers that do not match the spec", red=True)
        for violation in conformance.VIOLATIONS[:50]:
            terminalreporter.write_line(str(violation))
        if len(conformance.VIOLATIONS) > 50:
            terminalreporter.write_line(f"... and {len(conformance.VIOLATIONS) - 50} more")


@pytest.fixture(autouse=True)
def sent_bodies_match_the_spec(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str, Any]]]:
    """Every POST/PUT body a tool sends to Sage in this test is checked against Sage's Post*/Put* definition."""
    from sage_mcp.sage import spec
    from sage_mcp.sage.client import SageClient, to_wire

    sent: list[tuple[str, str, Any]] = []
    original = SageClient.request

    async def recording(self: SageClient, method: str, path: str, **kwargs: Any) -> Any:
        if method.upper() in ("POST", "PUT") and kwargs.get("json") is not None:
            sent.append((method.upper(), path, kwargs["json"]))
        return await original(self, method, path, **kwargs)

    monkeypatch.setattr(SageClient, "request", recording)
    yield sent
    problems = []
    for method, path, body in sent:
        template = spec.match_path(path) or path
        wire = to_wire(body)
        issues = spec.request_body_issues(method, template, wire) + spec.unknown_body_fields(method, template, wire)
        problems += [f"{method} {path}: {issue}" for issue in issues]
    assert problems == [], "a tool sent a body that does not match Sage's spec"
