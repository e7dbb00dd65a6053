"""Settings of hosted mode (``serve --transport http --hosted``), from ``SAGE_MCP_*`` environment variables."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class HostedSettings(BaseSettings):
    """Where the hosted server is reached, where its state lives and Sage's app-wide limits."""

    model_config = SettingsConfigDict(env_prefix="SAGE_MCP_", extra="ignore")

    public_url: str = Field(
        default="",
        description="The URL users reach this server at (scheme://host[:port], no path), e.g. https://mcp.example.com; "
        "the MCP endpoint is PUBLIC_URL/mcp and Sage sends users back to PUBLIC_URL/oauth/sage/callback",
    )
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", description="The Redis every replica shares")
    redis_prefix: str = Field(default="sage-mcp:", description="Prefix of every Redis key this server writes")
    encryption_key: SecretStr = Field(
        default=SecretStr(""),
        description="Fernet key(s), comma-separated: the first encrypts Sage logins at rest, any decrypts",
    )
    access_token_ttl: int = Field(default=600, ge=60, le=3600, description="Seconds an MCP access token lives")
    refresh_token_ttl: int = Field(
        default=30 * 86400, ge=3600, description="Seconds an MCP refresh token lives (rotated on every use)"
    )
    sage_concurrency: int = Field(
        default=150, ge=1, le=150, description="Sage requests in flight at once across all replicas (Sage: 150/app)"
    )
    user_concurrency: int = Field(
        default=20, ge=1, le=150, description="Sage requests one user may have in flight at once (fairness)"
    )
    daily_quota: int = Field(default=1_296_000, ge=1, description="Sage requests per UTC day for the whole app")
    limit_wait: float = Field(
        default=20.0, gt=0, description="Seconds a request may wait for a free Sage slot before the call gives up"
    )
    lock_ttl: float = Field(
        default=15.0, gt=0, description="Seconds a replica's lock on a user's Sage login lasts if it stops renewing"
    )
    insecure_client_metadata: bool = Field(
        default=False,
        description="Accept http://127.0.0.1 client ID metadata document URLs (local testing only)",
    )
    metrics_token: SecretStr = Field(
        default=SecretStr(""), description="When set, /metrics answers only requests bearing this token"
    )
    replica: str = Field(default="", description="This replica's name in logs and metrics (default: host:port)")

    @field_validator("public_url")
    @classmethod
    def _origin_only(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
            raise ValueError(
                "SAGE_MCP_PUBLIC_URL must be scheme://host[:port] with no path, e.g. https://mcp.example.com"
            )
        return value

    @property
    def resource_url(self) -> str:
        return self.public_url + "/mcp"

    @property
    def sage_redirect_uri(self) -> str:
        return self.public_url + "/oauth/sage/callback"

    def encryption_keys(self) -> list[str]:
        return [k.strip() for k in self.encryption_key.get_secret_value().split(",") if k.strip()]
