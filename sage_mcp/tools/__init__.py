"""Tool handlers, one module per toolset. Each handler is ``async (ToolContext, args) -> dict``."""

from sage_mcp.tools import (
    api,
    attachments,
    banking,
    business,
    contacts,
    invoices,
    ledger,
    payments,
    products,
    reports,
    tax,
    workflows,
)
from sage_mcp.tools._base import Handler, ToolContext, ToolError

HANDLERS: dict[str, Handler] = {
    name: handler
    for module in (
        business,
        contacts,
        invoices,
        payments,
        banking,
        ledger,
        products,
        tax,
        reports,
        attachments,
        api,
        workflows,
    )
    for name, handler in module.HANDLERS.items()
}

__all__ = ["HANDLERS", "Handler", "ToolContext", "ToolError"]
