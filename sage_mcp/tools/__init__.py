"""Tool handlers, one module per toolset: ``sage_mcp.tools.<toolset>`` holds ``HANDLERS`` for the tools of
``tool_schemas/<toolset>/``. Each handler is ``async (ToolContext, args) -> dict``.

A toolset's module is imported on the first call of one of its tools, not at start-up: listing tools
needs only the schema files, so a server answers tools/list without loading any handler code. The
pairing of schema files and handlers is checked by the tests (``registry.check_pairing``).
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import import_module

from sage_mcp.tools._base import Handler, ToolContext, ToolError


def handlers_of(toolset: str) -> dict[str, Handler]:
    """The handlers of one toolset, importing its module on first use."""
    handlers: dict[str, Handler] = import_module(f"{__name__}.{toolset}").HANDLERS
    return handlers


def handler_for(toolset: str, name: str) -> Handler:
    return handlers_of(toolset)[name]


def all_handlers(toolsets: Iterable[str]) -> dict[str, Handler]:
    """Every handler of ``toolsets`` (imports each module): for checks, not for serving."""
    return {name: handler for toolset in toolsets for name, handler in handlers_of(toolset).items()}


__all__ = ["Handler", "ToolContext", "ToolError", "all_handlers", "handler_for", "handlers_of"]
