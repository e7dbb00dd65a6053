"""Hosted mode (``serve --transport http --hosted``): many users, each signed in with their own Sage
account through the MCP authorization flow, on stateless replicas sharing state through Redis.

Needs the optional extra ``hosted`` (``pip install 'sage-accounting-mcp[hosted]'``: redis, cryptography,
prometheus-client). See :mod:`.app` for what a replica serves and :mod:`.provider` for the sign-in.
"""

from sage_mcp.http.hosted.settings import HostedSettings

__all__ = ["HostedSettings", "run_hosted"]


def run_hosted(app: object, host: str, port: int) -> None:
    """Serve a hosted app with uvicorn (no access log: query strings carry OAuth codes)."""
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, proxy_headers=True)  # type: ignore[arg-type]
    uvicorn.Server(config).run()
