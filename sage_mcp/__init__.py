"""sage-mcp: an MCP server for Sage Accounting (REST API v3.1)."""

#: The one place the version is written: the build reads it from here (pyproject's ``[tool.hatch.version]``),
#: and the server reports it without a metadata look-up at start-up.
__version__ = "0.1.0"

__all__ = ["__version__"]
