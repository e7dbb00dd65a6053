"""Tool handlers, one module per toolset. Each handler is ``async (ToolContext, args) -> dict``."""

from sage_mcp.tools import api, business, contacts, sales
from sage_mcp.tools._base import Handler, ToolContext, ToolError

HANDLERS: dict[str, Handler] = {**business.HANDLERS, **contacts.HANDLERS, **sales.HANDLERS, **api.HANDLERS}

__all__ = ["HANDLERS", "Handler", "ToolContext", "ToolError"]
