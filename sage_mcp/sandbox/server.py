"""Running the sandbox: in a background thread for tests and the demo, or blocking for the CLI."""

from __future__ import annotations

import collections
import logging
import logging.config
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from .api import Api
from .app import SandboxApp, create_app
from .config import SandboxConfig
from .conformance import ConformanceRecorder, Violation
from .faults import FaultInjector
from .state import Sandbox

logger = logging.getLogger("sage_mcp.sandbox")

_STDERR_LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "plain"}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "sage_mcp.sandbox": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}


class SandboxServer:
    """A sandbox served by uvicorn on 127.0.0.1 in a background thread (see :func:`running_sandbox`)."""

    def __init__(self, app: SandboxApp, config: SandboxConfig, host: str, port: int) -> None:
        self.app = app
        self.config = config
        self.sandbox: Sandbox = app.state.sandbox
        self.host = host
        self.port = port
        self.base_url = f"http://{host}:{port}"
        self.api_url = self.base_url + "/v3.1"
        self.authorize_url = self.base_url + "/oauth2/auth/central?filter=apiv3.1"
        self.token_url = self.base_url + "/token"
        self.revoke_url = self.base_url + "/revoke"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def counters(self) -> collections.Counter[tuple[str, str]]:
        """Requests received so far, by ``(METHOD, path)`` (path without the query string), faulted
        and refused ones included; counted as they arrive."""
        return self.sandbox.counters

    @property
    def status_counters(self) -> collections.Counter[tuple[str, str, int]]:
        """Requests answered so far, by ``(METHOD, path, status)``; status 0: the connection was dropped."""
        return self.app.status_counters

    def reset_counters(self) -> None:
        """Zero both request counters."""
        self.sandbox.reset_counters()
        self.app.reset_status_counters()

    def emulated_operations(self) -> list[str]:
        """The spec operations this sandbox serves (``METHOD /template``); every other answers 404 or 405.
        Production code learns them through ``Settings.emulated_operations`` (the demo passes them in)."""
        api: Api = self.app.state.api
        return api.emulated_operations()

    @property
    def faults(self) -> FaultInjector:
        """Limits and faults of this sandbox, changeable while it runs (:mod:`sage_mcp.sandbox.faults`)."""
        return self.app.faults

    @property
    def recorder(self) -> ConformanceRecorder | None:
        """The conformance recorder, or ``None`` when recording is off."""
        return self.app.recorder

    @property
    def violations(self) -> list[Violation]:
        """Responses of this sandbox that did not match the spec (empty when recording is off)."""
        return list(self.app.recorder.violations) if self.app.recorder is not None else []

    def mint_tokens(self, scope: str = "full_access") -> dict[str, Any]:
        """A token pair exactly as a completed login's token response (no browser needed)."""
        return self.sandbox.mint_tokens(scope)

    def start(self, timeout: float = 10.0) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = int(sock.getsockname()[1])
        self.base_url = f"http://{self.host}:{self.port}"
        self.api_url = self.base_url + "/v3.1"
        self.authorize_url = self.base_url + "/oauth2/auth/central?filter=apiv3.1"
        self.token_url = self.base_url + "/token"
        self.revoke_url = self.base_url + "/revoke"
        if self.app.recorder is not None:
            self.app.recorder.name = self.base_url
        uv_config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
            log_config=None,
        )
        server = uvicorn.Server(uv_config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"sage-sandbox-{self.port}", daemon=True
        )
        self._server, self._thread, self._socket = server, thread, sock
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive():
                self._cleanup()
                raise RuntimeError("the sandbox server failed to start")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the sandbox server did not start in time")
            time.sleep(0.005)

    def stop(self) -> None:
        """Stop serving and wait for the server thread; safe to call twice."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._cleanup()

    def _cleanup(self) -> None:
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None


@contextmanager
def running_sandbox(config: SandboxConfig | None = None, *, port: int = 0) -> Iterator[SandboxServer]:
    """Serve a fresh sandbox on 127.0.0.1 (``port=0``: any free port) for the ``with`` block.

    Returns once the server accepts connections; on exit it stops and the thread is joined.
    """
    config = config or SandboxConfig()
    app = create_app(config)
    server = SandboxServer(app, config, "127.0.0.1", port)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        server.sandbox.close()


def serve(config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 8800) -> None:
    """Serve the sandbox until interrupted (for ``sage-mcp sandbox serve``); logs go to stderr."""
    config = config or SandboxConfig()
    logging.config.dictConfig(_STDERR_LOGGING)
    app = create_app(config)
    logger.info(
        "Sage sandbox on http://%s:%d (API http://%s:%d/v3.1, client_id=%s)",
        host,
        port,
        host,
        port,
        config.client_id,
    )
    uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, lifespan="off", ws="none", log_config=_STDERR_LOGGING)
    ).run()
