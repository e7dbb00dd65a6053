"""Operations for hosted replicas: Prometheus metrics, a request-timing layer, JSON logs without secrets.

Metrics live in a registry of their own per app (``/metrics`` serves it), so two apps in one process
(tests) never share counters. Request lines are logged by path only: query strings carry OAuth codes
and states, so they are never logged (uvicorn's access log is off in hosted mode for the same reason).
"""

from __future__ import annotations

import datetime
import json
import logging
import sys
import time
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("sage_mcp.http.hosted.requests")

#: Paths reported by name; anything else is "other" (bounded label values).
KNOWN_PATHS = frozenset(
    {
        "/mcp",
        "/authorize",
        "/token",
        "/register",
        "/revoke",
        "/oauth/sage/callback",
        "/healthz",
        "/readyz",
        "/metrics",
        "/.well-known/oauth-authorization-server",
        "/.well-known/oauth-protected-resource/mcp",
    }
)


class Metrics:
    """Every counter and histogram of one replica."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "sage_mcp_http_requests", "HTTP requests answered", ["path", "method", "status"], registry=r
        )
        self.latency = Histogram(
            "sage_mcp_http_request_seconds",
            "Time to answer an HTTP request",
            ["path"],
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.sage_requests = Counter(
            "sage_mcp_sage_requests", "Requests answered by Sage, by status class", ["status"], registry=r
        )
        self.sage_429 = Counter("sage_mcp_sage_429", "Sage answers of 429 Too Many Requests", registry=r)
        self.sage_in_flight = Gauge("sage_mcp_sage_in_flight", "Sage requests this replica has in flight", registry=r)
        self.refreshes = Counter(
            "sage_mcp_token_refreshes",
            "Sage token refreshes by outcome (ok, invalid_grant, error)",
            ["outcome"],
            registry=r,
        )
        self.limit_waits = Counter(
            "sage_mcp_limit_waits",
            "Sage requests that had to wait for a slot (app: app-wide, user: the user's share)",
            ["limit"],
            registry=r,
        )
        self.limit_wait_seconds = Histogram(
            "sage_mcp_limit_wait_seconds",
            "Time waited for a Sage slot, by requests that waited",
            registry=r,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.limit_refusals = Counter(
            "sage_mcp_limit_refusals", "Calls refused by Sage's limits (quota, full)", ["reason"], registry=r
        )
        self.sign_ins = Counter("sage_mcp_sign_ins", "Completed Sage sign-ins through the hosted flow", registry=r)
        self.redis_round_trips = Gauge(
            "sage_mcp_redis_round_trips", "Redis commands and scripts this replica has sent", registry=r
        )

    def render(self) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

    async def endpoint(self, request: Request) -> Response:
        del request
        return self.render()


class RequestMetrics:
    """ASGI layer: counts and times every HTTP request, and logs it by path (never the query string)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            path = str(scope.get("path", ""))
            label = path if path in KNOWN_PATHS else "other"
            elapsed = time.perf_counter() - started
            self.metrics.requests.labels(label, str(scope.get("method", "")), str(status)).inc()
            self.metrics.latency.labels(label).observe(elapsed)
            log.info(
                "request",
                extra={"path": label, "method": scope.get("method"), "status": status, "ms": round(elapsed * 1000, 1)},
            )


#: LogRecord attributes that are not extras.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the replica and any extras given."""

    def __init__(self, replica: str) -> None:
        super().__init__()
        self.replica = replica

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "replica": self.replica,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, str | int | float | bool) or value is None else str(value)
        if record.exc_info and record.exc_info[0] is not None:
            entry["error"] = record.exc_info[0].__name__
        return json.dumps(entry)


def configure_json_logging(level: str, replica: str) -> None:
    """Structured logs on stderr (exception types only, never tracebacks with local values or tokens)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(replica))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "httpx2", "httpcore2"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
