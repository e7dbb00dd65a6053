"""Fixtures for the sandbox's own tests: sandboxes served by uvicorn on 127.0.0.1, httpx2 clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest
from sandbox_support import TODAY, Conformance, items, make_client

from sage_mcp.sandbox import SandboxConfig, SandboxServer, running_sandbox


@pytest.fixture(scope="session")
def conformance() -> Conformance:
    return Conformance()


@pytest.fixture(scope="session")
def shared_server() -> Iterator[SandboxServer]:
    """A seeded sandbox for read-only tests (nothing may write to it)."""
    with running_sandbox(SandboxConfig(today=TODAY)) as server:
        yield server


@pytest.fixture(scope="session")
def api(shared_server: SandboxServer, conformance: Conformance) -> Iterator[httpx2.Client]:
    """A signed-in client of the read-only sandbox (base URL ``.../v3.1``)."""
    token = shared_server.mint_tokens()["access_token"]
    with make_client(shared_server, conformance, token) as client:
        yield client


@pytest.fixture(scope="module")
def writable_server() -> Iterator[SandboxServer]:
    """A sandbox of its own for each module that writes."""
    with running_sandbox(SandboxConfig(today=TODAY)) as server:
        yield server


@pytest.fixture(scope="module")
def wapi(writable_server: SandboxServer) -> Iterator[httpx2.Client]:
    conformance = Conformance()
    token = writable_server.mint_tokens()["access_token"]
    with make_client(writable_server, conformance, token) as client:
        yield client


@pytest.fixture
def client_for(conformance: Conformance) -> Iterator[Callable[..., httpx2.Client]]:
    """Makes extra clients (closed after the test)."""
    clients: list[httpx2.Client] = []

    def factory(server: SandboxServer, token: str | None = None, **kw: Any) -> httpx2.Client:
        client = make_client(server, conformance, token, **kw)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()


@pytest.fixture(scope="module")
def codes(wapi: httpx2.Client) -> dict[int, str]:
    """Nominal code -> ledger account id in the module's writable sandbox."""
    return {a["nominal_code"]: a["id"] for a in items(wapi, "/ledger_accounts")}
