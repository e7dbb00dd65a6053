"""Shared fixtures: one seeded sandbox per session, settings signed in to it, MCP clients in both eras."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from mcp import Client

from sage_mcp.config import Settings
from sage_mcp.demo import sandbox_settings
from sage_mcp.sandbox import SandboxConfig, SandboxServer, running_sandbox
from sage_mcp.server import create_server

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    with running_sandbox(SandboxConfig()) as server:
        yield server


@pytest.fixture
def settings(sandbox: SandboxServer, tmp_path: Path) -> Settings:
    return sandbox_settings(sandbox, tmp_path)


@pytest.fixture(params=["auto", "legacy"])
async def client(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[Client]:
    """An MCP client connected in memory, once per protocol era (2026 stateless and legacy handshake)."""
    async with Client(create_server(settings), mode=request.param) as c:
        yield c
