"""The sandbox instance: database, OAuth server, resources and request counters."""

from __future__ import annotations

import collections
import json
import threading
from typing import Any

from .config import SandboxConfig
from .context import Context
from .oauth import OAuthServer
from .resources import Collection, build_registry
from .seed import seed_sandbox
from .store import Store


class Sandbox:
    """Everything one running sandbox holds (``app.state.sandbox``)."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.store = Store(self.config.db_path, self.config.seed)
        self.oauth = OAuthServer(self.store, self.config)
        self.collections: dict[str, Collection] = build_registry()
        self.counters: collections.Counter[tuple[str, str]] = collections.Counter()
        self._counter_lock = threading.Lock()
        with self.store.transaction():
            if self.store.get_meta("seeded") is None:
                seed_sandbox(self.store, self.config)
                self.store.set_meta(
                    "seeded",
                    json.dumps({"seed": self.config.seed, "today": self.config.current_date().isoformat()}),
                )
        self.store.ensure_index()  # a file written by an older sandbox gets its list index built once

    # ------------------------------------------------------------------ requests counters

    def count_request(self, method: str, path: str) -> None:
        with self._counter_lock:
            self.counters[(method.upper(), path)] += 1

    def reset_counters(self) -> None:
        with self._counter_lock:
            self.counters.clear()

    # ------------------------------------------------------------------ helpers for callers and tests

    def mint_tokens(self, scope: str = "full_access") -> dict[str, Any]:
        """A token pair exactly as a completed login's token response."""
        return self.oauth.mint(scope)

    def context(self, business_id: str, user_id: str) -> Context:
        business = self.store.get_business(business_id)
        if business is None:
            raise KeyError(f"no business {business_id}")
        return Context(
            self.store,
            self.config,
            business,
            user_id,
            now=float(self.config.clock()),
            today=self.config.current_date(),
        )

    def close(self) -> None:
        self.store.close()
