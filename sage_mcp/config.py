"""Settings for sage-mcp, read from ``SAGE_*`` environment variables (CLI flags override).

Plain pydantic reads them (``Settings._from_environment``) rather than pydantic-settings: these are a
dozen flat values, and pydantic-settings with its dotenv and cloud-secret sources would be the largest
import of a start that only answers ``tools/list``. Hosted mode, off that path, keeps pydantic-settings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo

SAGE_API_BASE_URL = "https://api.accounting.sage.com/v3.1"
SAGE_AUTHORIZE_URL = "https://www.sageone.com/oauth2/auth/central?filter=apiv3.1"
SAGE_TOKEN_URL = "https://oauth.accounting.sage.com/token"
SAGE_REVOKE_URL = "https://oauth.accounting.sage.com/revoke"


def default_data_dir() -> Path:
    """The platform's per-user data folder (imported here: unused when ``SAGE_DATA_DIR`` is set)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("sage-mcp", appauthor=False))


ENV_PREFIX = "SAGE_"


def _names(name: str, field: FieldInfo) -> tuple[str, ...]:
    """The names a field may be given by: its own and its aliases (``SAGE_MCP_TOOLSETS``, ``toolsets``)."""
    alias = field.validation_alias
    choices = alias.choices if isinstance(alias, AliasChoices) else [alias] if isinstance(alias, str) else []
    return (name, *(c for c in choices if isinstance(c, str)))


def env_names(name: str, field: FieldInfo) -> tuple[str, ...]:
    """Environment variables that set a field: its ``SAGE_MCP_*`` alias if it has one, else ``SAGE_<NAME>``."""
    upper = tuple(n for n in _names(name, field) if n.isupper())
    return upper or (f"{ENV_PREFIX}{name.upper()}",)


def variable_for(name: str) -> str:
    """The environment variable that sets field ``name`` (``call_timeout`` → ``SAGE_MCP_CALL_TIMEOUT``);
    any other name is returned as it is."""
    field = Settings.model_fields.get(name)
    return env_names(name, field)[0] if field else name


class Settings(BaseModel):
    """Everything sage-mcp needs to reach Sage. Secrets are ``SecretStr`` and never logged.

    A value passed in wins; otherwise the environment's (names matched ignoring case, as Windows does);
    otherwise the default. Values from the environment are validated like any other."""

    model_config = ConfigDict(extra="ignore", validate_by_name=True, validate_by_alias=True, validate_default=True)

    client_id: str = Field(default="", description="Client id of your app at developer.sage.com")
    client_secret: SecretStr = Field(default=SecretStr(""), description="Client secret of your app")
    api_base_url: str = Field(default=SAGE_API_BASE_URL, description="Sage API base URL")
    authorize_url: str = Field(default=SAGE_AUTHORIZE_URL, description="Sage OAuth authorize URL")
    token_url: str = Field(default=SAGE_TOKEN_URL, description="Sage OAuth token URL")
    revoke_url: str = Field(default=SAGE_REVOKE_URL, description="Sage OAuth revoke URL")
    redirect_uri: str = Field(
        default="http://127.0.0.1:8765/callback",
        description="Redirect URI registered with Sage; its port is where `auth login` listens",
    )
    business_id: str | None = Field(default=None, description="Business to use when a call names none")
    data_dir: Path = Field(default_factory=default_data_dir, description="Where tokens and the audit log live")
    token_store: Path | None = Field(default=None, description="Token store file (default: DATA_DIR/tokens.json)")
    refresh_token: SecretStr | None = Field(
        default=None, description="Seeds the token store on first start (headless use)"
    )
    timeout: float = Field(default=30.0, description="Seconds before a Sage request times out")
    token_refresh_leeway: float = Field(
        default=60.0, ge=0, description="Refresh the access token this many seconds before it expires"
    )
    max_retries: int = Field(default=2, ge=0, le=10, description="Retries for safe requests on 429/5xx")
    toolsets: str = Field(
        default="default",
        validation_alias=AliasChoices("SAGE_MCP_TOOLSETS", "toolsets"),
        description="Comma-separated toolsets, `default` or `all`",
    )
    read_only: bool = Field(
        default=False,
        validation_alias=AliasChoices("SAGE_MCP_READ_ONLY", "read_only"),
        description="Remove every tool that writes",
    )
    file_roots: str = Field(
        default="",
        validation_alias=AliasChoices("SAGE_MCP_FILE_ROOTS", "file_roots"),
        description="Folders the attachment tools may read and write, separated by os.pathsep or commas",
    )
    call_timeout: float = Field(
        default=60.0,
        gt=0,
        validation_alias=AliasChoices("SAGE_MCP_CALL_TIMEOUT", "call_timeout"),
        description="Seconds one tool call may take in all, retries included",
    )
    http_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SAGE_MCP_HTTP_TOKEN", "http_token"),
        description="Bearer token HTTP clients must send (default: generated once, kept in DATA_DIR/http_token)",
    )
    allowed_hosts: str = Field(
        default="",
        validation_alias=AliasChoices("SAGE_MCP_ALLOWED_HOSTS", "allowed_hosts"),
        description="Comma-separated Host values the HTTP server answers (default: loopback names and the bound host)",
    )
    allowed_origins: str = Field(
        default="",
        validation_alias=AliasChoices("SAGE_MCP_ALLOWED_ORIGINS", "allowed_origins"),
        description="Comma-separated browser Origins the HTTP server accepts (default: loopback and the bound host)",
    )
    emulated_operations: str | None = Field(
        default=None,
        validation_alias=AliasChoices("SAGE_MCP_EMULATED_OPERATIONS", "emulated_operations"),
        description="When Sage is an emulator that serves part of the API: its operations, comma-separated "
        "`METHOD /path` (find_sage_endpoint marks the others); unset for real Sage",
    )
    report_concurrency: int = Field(
        default=8,
        ge=1,
        le=150,
        validation_alias=AliasChoices("SAGE_MCP_REPORT_CONCURRENCY", "report_concurrency"),
        description="Sage requests a report keeps in flight at once (Sage allows 150 per app)",
    )

    no_confirm: bool = Field(
        default=False,
        validation_alias=AliasChoices("SAGE_MCP_NO_CONFIRM", "no_confirm"),
        description="Do not ask the user before irreversible writes (unattended automation only)",
    )
    confirm_above: Decimal | None = Field(
        default=None,
        ge=0,
        validation_alias=AliasChoices("SAGE_MCP_CONFIRM_ABOVE", "confirm_above"),
        description="Also ask the user before any write whose amounts total more than this",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_environment(cls, data: Any) -> Any:
        given = dict(data) if isinstance(data, Mapping) else {}
        environ = {key.upper(): value for key, value in os.environ.items()}
        for name, field in cls.model_fields.items():
            if any(n in given for n in _names(name, field)):
                continue
            for env_name in env_names(name, field):
                if env_name in environ:
                    given[name] = environ[env_name]
                    break
        return given

    @field_validator("confirm_above", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def fingerprint_store_path(self) -> Path:
        return self.data_dir / "fingerprints.sqlite"

    @property
    def emulated_operation_set(self) -> frozenset[str] | None:
        """``{"GET /stock_items", ...}`` when Sage is an emulator serving only these, else ``None``."""
        if self.emulated_operations is None:
            return None
        return frozenset(op.strip() for op in self.emulated_operations.split(",") if op.strip())

    @property
    def token_store_path(self) -> Path:
        return self.token_store or self.data_dir / "tokens.json"

    @property
    def audit_log_path(self) -> Path:
        return self.data_dir / "audit.jsonl"

    @property
    def http_token_path(self) -> Path:
        return self.data_dir / "http_token"

    @property
    def file_root_paths(self) -> list[Path]:
        """The folders named in ``SAGE_MCP_FILE_ROOTS`` (``~`` expanded; blanks dropped), in order."""
        parts = self.file_roots.replace(",", os.pathsep).split(os.pathsep)
        return [Path(p.strip()).expanduser() for p in parts if p.strip()]
