"""Shared fixtures: one seeded sandbox per session, settings signed in to it, MCP clients in both eras."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from sage_mcp.config import Settings
from sage_mcp.sage.tokens import FileTokenStore, StoredLogin, TokenSet
from sage_mcp.sandbox import LEAD_BUSINESS_ID, SandboxConfig, SandboxServer, running_sandbox
from sage_mcp.server import create_server

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    with running_sandbox(SandboxConfig()) as server:
        yield server


def sandbox_settings(
    sandbox: SandboxServer,
    data_dir: Path,
    *,
    pin: str | None = LEAD_BUSINESS_ID,
    scope: str = "full_access",
    **overrides: Any,
) -> Settings:
    """Settings pointing at ``sandbox`` with a fresh login in a token store under ``data_dir``."""
    settings = Settings(
        client_id=sandbox.config.client_id,
        client_secret=sandbox.config.client_secret,
        api_base_url=sandbox.api_url,
        authorize_url=sandbox.authorize_url,
        token_url=sandbox.token_url,
        revoke_url=sandbox.revoke_url,
        data_dir=data_dir,
        business_id=None,
        **overrides,
    )
    tokens = TokenSet.from_response(sandbox.mint_tokens(scope=scope), time.time())
    FileTokenStore(settings.token_store_path).save(StoredLogin(tokens=tokens, business_id=pin, saved_at=time.time()))
    return settings


@pytest.fixture
def settings(sandbox: SandboxServer, tmp_path: Path) -> Settings:
    return sandbox_settings(sandbox, tmp_path)


@pytest.fixture(params=["auto", "legacy"])
async def client(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[Client]:
    """An MCP client connected in memory, once per protocol era (2026 stateless and legacy handshake)."""
    async with Client(create_server(settings), mode=request.param) as c:
        yield c
