"""``sage-mcp doctor``: check a set-up end to end and say how to fix each thing that fails.

Each check gives one line: what was found, and for a failure the fix. Later checks that need an
earlier one (a sign-in needs a readable token store) fail with a pointer to it rather than guessing.
"""

from __future__ import annotations

import email.utils
import os
import stat
import time
from dataclasses import asdict, dataclass
from typing import Any

from sage_mcp.config import SAGE_API_BASE_URL, SAGE_TOKEN_URL, Settings
from sage_mcp.sage.errors import SageError
from sage_mcp.sage.tokens import STORE_VERSION, FileTokenStore, StoredLogin

#: More than this between our clock and the token server's is a problem: access tokens live 300 s.
MAX_SKEW = 60.0
RENEW_WITHIN = 3 * 86400


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"{'✓' if self.ok else '✗'} {self.name}: {self.detail}"
        return text + (f"\n    fix: {self.fix}" if self.fix and not self.ok else "")


def _duration(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86400)
    return f"{days} d {rest // 3600} h" if days else f"{rest // 3600} h {rest % 3600 // 60} min"


def _configuration(settings: Settings) -> Check:
    missing = [
        name
        for name, value in (
            ("SAGE_CLIENT_ID", settings.client_id),
            ("SAGE_CLIENT_SECRET", settings.client_secret.get_secret_value()),
        )
        if not value
    ]
    own = settings.api_base_url == SAGE_API_BASE_URL and settings.token_url == SAGE_TOKEN_URL
    where = "Sage endpoints are Sage's" if own else f"Sage endpoints overridden (API {settings.api_base_url})"
    if missing:
        return Check(
            "configuration",
            False,
            f"{' and '.join(missing)} not set; {where}",
            "set SAGE_CLIENT_ID and SAGE_CLIENT_SECRET to your app's credentials from developer.sage.com "
            "(in your MCP client's config, env block)",
        )
    return Check("configuration", True, f"client id and secret set; {where}")


def _token_store(store: FileTokenStore, seeded: bool) -> tuple[Check, StoredLogin | None]:
    if not store.path.exists():
        if seeded:
            return Check("token store", True, f"none yet at {store.path}; SAGE_REFRESH_TOKEN seeds it"), None
        return (
            Check("token store", False, f"none at {store.path}", "run `sage-mcp auth login` to sign in to Sage"),
            None,
        )
    try:
        login = store.load()
    except SageError:
        return (
            Check(
                "token store",
                False,
                f"{store.path} is unreadable (not a version {STORE_VERSION} store)",
                "run `sage-mcp auth login` to replace it",
            ),
            None,
        )
    except OSError as exc:
        return (
            Check(
                "token store",
                False,
                f"{store.path} cannot be read ({exc.strerror})",
                "make it readable by this user",
            ),
            None,
        )
    if os.name != "nt":
        mode = stat.S_IMODE(store.path.stat().st_mode)
        if mode & 0o077:
            return (
                Check(
                    "token store",
                    False,
                    f"{store.path} is readable by others (mode {mode:04o})",
                    f"chmod 600 {store.path}",
                ),
                login,
            )
        return Check("token store", True, f"{store.path} (mode {mode:04o}, version {STORE_VERSION})"), login
    return Check("token store", True, f"{store.path} (version {STORE_VERSION})"), login


def _sign_in(login: StoredLogin | None, now: float, seeded: bool) -> Check:
    if login is None and seeded:
        return Check("sign-in", True, "from SAGE_REFRESH_TOKEN (its expiry shows once it is used)")
    if login is None:
        return Check("sign-in", False, "no stored sign-in (see the token store)", "run `sage-mcp auth login`")
    tokens = login.tokens
    scope = tokens.scope or "not stated"
    if tokens.refresh_expires_at is None:
        return Check("sign-in", True, f"refresh token expiry not stated by Sage; scope {scope}")
    left = tokens.refresh_expires_at - now
    if left <= 0:
        return Check("sign-in", False, f"the refresh token expired {_duration(-left)} ago", "run `sage-mcp auth login`")
    soon = "; renew it with `sage-mcp auth login` before then" if left < RENEW_WITHIN else ""
    return Check("sign-in", True, f"refresh token valid for {_duration(left)}{soon}; scope {scope}")


def _http_credential(settings: Settings) -> Check:
    from sage_mcp.http.token import ENV_VAR, TokenError, check_token

    if settings.http_token is not None and settings.http_token.get_secret_value():
        try:
            check_token(settings.http_token.get_secret_value().strip(), ENV_VAR)
        except TokenError as exc:
            return Check("HTTP credential", False, str(exc), f"set {ENV_VAR} to a longer random token")
        return Check("HTTP credential", True, f"bearer token from {ENV_VAR}")
    path = settings.http_token_path
    if not path.exists():
        return Check(
            "HTTP credential",
            False,
            f"no bearer token: {ENV_VAR} unset and no {path}",
            f"start `sage-mcp serve --transport http` once (it creates {path}) or set {ENV_VAR}",
        )
    try:
        text = path.read_text(encoding="utf-8").strip()
        check_token(text, f"the HTTP token file {path}")
    except (OSError, UnicodeDecodeError) as exc:
        return Check("HTTP credential", False, f"{path} cannot be read ({exc})", f"delete {path}; a new one is made")
    except TokenError as exc:
        return Check("HTTP credential", False, str(exc), f"delete {path}; a new one is made on the next start")
    if os.name != "nt" and stat.S_IMODE(path.stat().st_mode) & 0o077:
        return Check("HTTP credential", False, f"{path} is readable by others", f"chmod 600 {path}")
    return Check("HTTP credential", True, f"bearer token in {path}")


async def run_checks(settings: Settings, *, http: bool = False) -> list[Check]:
    """Every check, in order. ``http``: the HTTP transport is in use (its credential is checked)."""
    from sage_mcp.sage.client import SageClient

    now = time.time()
    checks = [_configuration(settings)]
    store = FileTokenStore(settings.token_store_path)
    seeded = settings.refresh_token is not None and bool(settings.refresh_token.get_secret_value())
    store_check, login = _token_store(store, seeded)
    checks += [store_check, _sign_in(login, now, seeded)]

    async with SageClient(settings, store=store) as sage:
        # Reachability and the clock: Sage's token server and API, no credentials needed.
        date: str | None = None
        unreachable = []
        for label, url in (("token server", settings.token_url), ("API", settings.api_base_url.rstrip("/") + "/")):
            try:
                status, stamp = await sage.probe(url)
                date = date or (stamp if label == "token server" else None)
                if status >= 500:
                    unreachable.append(f"{label} answered {status}")
            except SageError as exc:
                unreachable.append(f"{label}: {exc}")
        if unreachable:
            checks.append(
                Check(
                    "Sage reachable",
                    False,
                    "; ".join(unreachable),
                    "check the network, a proxy (HTTPS_PROXY) or firewall, and SAGE_API_BASE_URL/SAGE_TOKEN_URL",
                )
            )
        else:
            checks.append(Check("Sage reachable", True, "token server and API answered"))
        if date is None:
            checks.append(Check("clock", False, "the token server sent no Date to compare with", "see Sage reachable"))
        else:
            skew = time.time() - email.utils.parsedate_to_datetime(date).timestamp()
            checks.append(
                Check(
                    "clock",
                    abs(skew) <= MAX_SKEW,
                    f"{abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} the token server's clock",
                    "set this machine's clock by network time (NTP): tokens expire by the clock",
                )
            )

        # Scope and businesses: a real call (it refreshes the access token if it must).
        businesses: list[dict[str, Any]] | None = None
        if login is None and not seeded:
            checks.append(Check("businesses", False, "not signed in", "run `sage-mcp auth login`"))
        else:
            try:
                businesses = await sage.list_businesses()
                lead = await sage.lead_business_id()
                current = sage.tokens.current
                scope = (current.tokens.scope if current else "") or "not stated"
                names = {str(b.get("id")): b.get("name") or b.get("displayed_as") for b in businesses}
                checks.append(
                    Check("businesses", True, f"{len(businesses)} (lead: {names.get(lead, lead)}); scope {scope}")
                )
            except SageError as exc:
                checks.append(Check("businesses", False, f"Sage refused: {exc}", "run `sage-mcp auth login`"))

        pinned = settings.business_id or (login.business_id if login else None)
        source = "SAGE_BUSINESS_ID" if settings.business_id else "auth login --business"
        if not pinned:
            if businesses is None:
                detail = "none pinned"
            elif len(businesses) > 1:
                detail = "none; writes must name a business_id (pin one with `sage-mcp auth login --business ID`)"
            else:
                detail = "none; the only business is used"
            checks.append(Check("pinned business", True, detail))
        elif businesses is None:
            checks.append(Check("pinned business", False, f"{pinned} could not be checked", "see businesses"))
        else:
            names = {str(b.get("id")): b.get("name") or b.get("displayed_as") for b in businesses}
            if pinned in names:
                checks.append(Check("pinned business", True, f"{pinned} {names[pinned]} (from {source})"))
            else:
                checks.append(
                    Check(
                        "pinned business",
                        False,
                        f"{pinned} (from {source}) is not one this sign-in can use",
                        "pin another with `sage-mcp auth login --business ID` or fix SAGE_BUSINESS_ID "
                        f"(yours: {', '.join(names) or 'none'})",
                    )
                )

    if http or (settings.http_token is not None) or settings.http_token_path.exists():
        checks.append(_http_credential(settings))
    return checks


def as_json(checks: list[Check]) -> dict[str, Any]:
    return {"ok": all(c.ok for c in checks), "checks": [asdict(c) for c in checks]}
