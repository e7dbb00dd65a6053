"""sage-mcp: an MCP server for Sage Accounting (REST API v3.1)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sage-accounting-mcp")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
