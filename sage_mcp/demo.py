"""The demo: sage-mcp signed in to the embedded sandbox instead of Sage.

The only production module that imports :mod:`sage_mcp.sandbox` (the ``demo`` command and
``call --sandbox`` use it; so do the tests).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from sage_mcp.config import Settings
from sage_mcp.sage.tokens import FileTokenStore, StoredLogin, TokenSet
from sage_mcp.sandbox import LEAD_BUSINESS_ID, SandboxConfig, SandboxServer, running_sandbox


def sandbox_settings(
    sandbox: SandboxServer,
    data_dir: Path,
    *,
    pin: str | None = LEAD_BUSINESS_ID,
    scope: str = "full_access",
    **overrides: Any,
) -> Settings:
    """Settings pointing at ``sandbox``, with a fresh login saved in a token store under ``data_dir``."""
    settings = Settings(
        client_id=sandbox.config.client_id,
        client_secret=SecretStr(sandbox.config.client_secret),
        api_base_url=sandbox.api_url,
        authorize_url=sandbox.authorize_url,
        token_url=sandbox.token_url,
        revoke_url=sandbox.revoke_url,
        data_dir=data_dir,
        business_id=None,
        **{"emulated_operations": ",".join(sandbox.emulated_operations()), **overrides},
    )
    tokens = TokenSet.from_response(sandbox.mint_tokens(scope=scope), time.time())
    FileTokenStore(settings.token_store_path).save(StoredLogin(tokens=tokens, business_id=pin, saved_at=time.time()))
    return settings


#: The demo's database when none is named: a file in its temporary folder, so that
#: ``sage-mcp call --sandbox --db FILE`` run beside it reads and writes the same books.
DEMO_DB_NAME = "sandbox.sqlite"


@contextlib.contextmanager
def running_demo(
    *, port: int = 0, db: str | None = None, db_in_data_dir: bool = False, **overrides: Any
) -> Iterator[Settings]:
    """Start a seeded sandbox, sign in to it with the lead business pinned, and yield the settings.

    The sandbox keeps its books in ``db``, else (``db_in_data_dir``) in ``DEMO_DB_NAME`` inside the
    demo's temporary data folder, else in memory.
    """
    data_dir = Path(tempfile.mkdtemp(prefix="sage-mcp-demo-"))
    if db is None and db_in_data_dir:
        db = str(data_dir / DEMO_DB_NAME)
    try:
        with running_sandbox(SandboxConfig(db_path=db), port=port) as sandbox:
            yield sandbox_settings(sandbox, data_dir, **overrides)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
