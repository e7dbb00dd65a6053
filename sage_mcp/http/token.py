"""The HTTP bearer token: ``SAGE_MCP_HTTP_TOKEN``, or one generated on first start and kept in the data dir.

The file (``DATA_DIR/http_token``) is created with mode 0600 in a 0700 folder and reused on every
start; a looser mode found later is tightened. :class:`StaticTokenVerifier` checks a presented token
against it in constant time and answers with the SDK's ``AccessToken``, so a hosted mode can put an
OAuth verifier (the SDK's ``TokenVerifier`` protocol) behind the same check.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from mcp.server.auth.provider import AccessToken

from sage_mcp.config import Settings

log = logging.getLogger(__name__)

ENV_VAR = "SAGE_MCP_HTTP_TOKEN"
#: RFC 6750 ``b64token``: what may follow ``Bearer `` in an Authorization header.
TOKEN_SYNTAX = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
MIN_LENGTH = 16
#: The principal a static token stands for (one local user).
LOCAL_CLIENT_ID = "sage-mcp-local"


class TokenError(Exception):
    """The token cannot be used; the message says what to do."""


@dataclass(frozen=True)
class HttpToken:
    """The token HTTP clients must present, and where it came from (never shown in ``repr``)."""

    value: str = field(repr=False)
    path: Path | None  # None: from SAGE_MCP_HTTP_TOKEN

    @property
    def header(self) -> str:
        return f"Authorization: Bearer {self.value}"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def check_token(value: str, where: str) -> str:
    """``value`` if it can be a bearer token, else :class:`TokenError` naming ``where`` it came from."""
    if len(value) < MIN_LENGTH:
        raise TokenError(
            f"{where} is too short for a bearer token (at least {MIN_LENGTH} characters); "
            'make one with: python3 -c "import secrets; print(secrets.token_urlsafe(32))"'
        )
    if not TOKEN_SYNTAX.fullmatch(value):
        raise TokenError(f"{where} may hold only letters, digits and - . _ ~ + / (then = padding)")
    return value


def load_or_create_token(path: Path) -> str:
    """The token in ``path``, creating the file (mode 0600, folder 0700) with a fresh random one first."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    for _ in range(3):
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            token = new_token()
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it first: read theirs
                continue
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(token + "\n")
            return token
        except OSError as exc:
            raise TokenError(f"cannot read the HTTP token file {path}: {exc.strerror or exc}") from None
        with os.fdopen(fd, "r", encoding="utf-8", errors="replace") as fh:
            mode = os.fstat(fh.fileno()).st_mode
            text = fh.read(4096).strip()
        if stat.S_IMODE(mode) & 0o077:
            os.chmod(path, 0o600)
            log.warning("the HTTP token file %s was readable by others; its mode is now 0600", path)
        if not text:  # an empty file (e.g. a crash while creating it): start again
            path.unlink(missing_ok=True)
            continue
        return check_token(text, f"the HTTP token file {path} (delete it to have a new token generated)")
    raise TokenError(f"could not create the HTTP token file {path}")


def http_token(settings: Settings) -> HttpToken:
    """``SAGE_MCP_HTTP_TOKEN`` when set, else the token kept in ``settings.http_token_path``."""
    if settings.http_token is not None and settings.http_token.get_secret_value():
        return HttpToken(check_token(settings.http_token.get_secret_value().strip(), ENV_VAR), None)
    path = settings.http_token_path
    return HttpToken(load_or_create_token(path), path)


class StaticTokenVerifier:
    """The SDK's ``TokenVerifier`` for one shared secret, compared in constant time."""

    def __init__(self, token: str) -> None:
        self._expected = token.encode("utf-8")
        # Names the token in AccessToken without carrying the secret itself.
        self._fingerprint = "sha256:" + hashlib.sha256(self._expected).hexdigest()[:16]

    async def verify_token(self, token: str) -> AccessToken | None:
        if not hmac.compare_digest(token.encode("utf-8"), self._expected):
            return None
        return AccessToken(token=self._fingerprint, client_id=LOCAL_CLIENT_ID, scopes=[], subject=LOCAL_CLIENT_ID)
