"""Handlers of the ledger toolset."""

from __future__ import annotations

from sage_mcp.tools._base import Handler

HANDLERS: dict[str, Handler] = {}
