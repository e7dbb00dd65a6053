"""The least a Python MCP server can be: the SDK's low-level ``Server`` over stdio, one tool, nothing else.

``bench/overhead.py`` starts it as a second cold-start baseline (spawn, handshake, tools/list)."""

from __future__ import annotations

from typing import Any

import anyio
from mcp.server import Server, ServerRequestContext
from mcp.server.stdio import stdio_server
from mcp.types import ListToolsResult, PaginatedRequestParams, Tool


async def list_tools(_ctx: ServerRequestContext[Any], _params: PaginatedRequestParams | None) -> ListToolsResult:
    return ListToolsResult(tools=[Tool(name="ping", description="Answers pong.", input_schema={"type": "object"})])


async def main() -> None:
    server: Server[Any] = Server("bare", version="0", on_list_tools=list_tools)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


if __name__ == "__main__":
    anyio.run(main)
