"""``sage-mcp``: serve, demo, tools, call, auth, doctor, sandbox.

In stdio mode stdout carries the MCP protocol and nothing else; every message for people goes to
stderr. Other commands print their results on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import sys
from typing import TYPE_CHECKING, Any

from mcp.types import CallToolResult

from sage_mcp import __version__
from sage_mcp.config import Settings
from sage_mcp.registry import ConfigError, Registry, catalogue_markdown
from sage_mcp.server import configure_logging, confirms_every_write, create_server, run_http, run_stdio

if TYPE_CHECKING:
    from sage_mcp.http import HttpSecurity, HttpToken

# The HTTP transport's modules (sage_mcp.http) load in the commands that serve HTTP, so a stdio server
# starts without them.

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _err(*parts: object) -> None:
    print(*parts, file=sys.stderr)


def _settings(args: argparse.Namespace, **overrides: Any) -> Settings:
    values: dict[str, Any] = {}
    if getattr(args, "toolsets", None):
        values["toolsets"] = args.toolsets
    if getattr(args, "read_only", False):
        values["read_only"] = True
    if getattr(args, "no_confirm", False):
        values["no_confirm"] = True
    values.update(overrides)
    return Settings(**values)


def _registry(settings: Settings) -> Registry:
    try:
        return Registry.build(
            settings.toolsets, read_only=settings.read_only, confirm_writes=confirms_every_write(settings)
        )
    except ConfigError as exc:
        _err(f"sage-mcp: {exc}")
        raise SystemExit(2) from None


def _demo(
    args: argparse.Namespace, *, default_toolsets: str | None = None, **kwargs: Any
) -> contextlib.AbstractContextManager[Settings]:
    """The demo's settings; toolsets from ``--toolsets``, else ``default_toolsets``, else as ``serve``
    (``SAGE_MCP_TOOLSETS`` or the default set)."""
    from sage_mcp.demo import running_demo

    overrides: dict[str, Any] = {}
    toolsets = getattr(args, "toolsets", None) or default_toolsets
    if toolsets:
        overrides["toolsets"] = toolsets
    if getattr(args, "read_only", False):
        overrides["read_only"] = True
    if getattr(args, "no_confirm", False):
        overrides["no_confirm"] = True
    return running_demo(**kwargs, **overrides)


# -- commands -------------------------------------------------------------------------------------


def _http_security(args: argparse.Namespace, settings: Settings) -> HttpSecurity:
    """The HTTP server's guard from the flags and settings; exit 2 (before binding) if it must not start."""
    from sage_mcp.http import HttpSetupError, plan_http

    try:
        return plan_http(
            settings,
            args.host,
            allowed_hosts=args.allowed_hosts,
            allowed_origins=args.allowed_origins,
            unsafe_no_auth=args.unsafe_no_auth,
        )
    except HttpSetupError as exc:
        _err(f"sage-mcp: {exc}")
        raise SystemExit(2) from None


def _check_port_free(host: str, port: int) -> None:
    """Exit 2 with the ``--port`` hint, before anything starts or is printed, if ``host:port`` is taken."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        _err(f"sage-mcp: cannot listen on {host!r}: {exc.strerror}. Give --host an address of this machine.")
        raise SystemExit(2) from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        if os.name != "nt":  # as uvicorn does; on Windows this option would let the bind succeed
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)) or "in use" in str(exc):
                _err(
                    f"sage-mcp: port {port} on {host} is already in use (another sage-mcp or demo?). "
                    f"Stop it, or choose another port with --port, e.g. --port {port + 1}."
                )
            else:
                _err(f"sage-mcp: cannot listen on {host}:{port}: {exc.strerror or exc}.")
            raise SystemExit(2) from None


def _mcp_url(host: str, port: int) -> str:
    """The URL a client on this machine uses (a wildcard bind is reached through loopback)."""
    from sage_mcp.http.allow import host_name

    name = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "[::1]"}.get(host.strip(), host_name(host))
    return f"http://{name}:{port}/mcp"


def cmd_serve(args: argparse.Namespace) -> int:
    if args.hosted:
        return _serve_hosted(args)
    configure_logging(args.log_level)
    settings = _settings(args)
    security = _http_security(args, settings) if args.transport == "http" else None
    if security is not None:
        _check_port_free(args.host, args.port)
    server = create_server(settings, _registry(settings))
    if security is None:
        run_stdio(server)
        return 0
    from sage_mcp.http import token_hint

    url = _mcp_url(args.host, args.port)
    _err(f"sage-mcp {__version__}: streamable HTTP on {url}")
    if security.token is not None:
        _err(token_hint(security.token))
        header = (
            "Authorization: Bearer $SAGE_MCP_HTTP_TOKEN"
            if security.token.path is None
            else f'Authorization: Bearer $(cat "{security.token.path}")'
        )
        _err(f'Claude Code:  claude mcp add --transport http sage {url} --header "{header}"')
    for warning in security.warnings(args.port):
        _err(warning)
    with contextlib.suppress(KeyboardInterrupt):
        run_http(server, security, args.port)
    _err("sage-mcp: stopped.")
    return 0


def demo_instructions(url: str, token: HttpToken | None, db: str | None, argv0: str | None = None) -> str:
    """What the demo prints: a config for each client, in its own shape, and a command to try."""
    from sage_mcp.clients import CLIENTS, http_configs, launcher, shell_line, stdio_configs

    program = launcher(argv0)
    http = http_configs(url, f"Bearer {token.value}" if token is not None else None, "sage-demo")
    stdio = stdio_configs(program, ["demo", "--stdio"], "sage-demo")
    blocks = [f"{CLIENTS['claude_code'][0]}:\n  {http['claude_code']}"]
    for key in ("vscode", "cursor", "http"):
        name, where = CLIENTS[key]
        blocks.append(f"{name} ({where}):\n{json.dumps(http[key], indent=2)}")
    name, where = CLIENTS["claude_desktop"]
    blocks.append(
        f"{name} ({where}; it starts its own demo over stdio, no token):\n"
        + json.dumps(stdio["claude_desktop"], indent=2)
    )
    db_args = ["--db", db] if db else []
    example = shell_line([*program, "call", "--sandbox", *db_args, "list_contacts", '{"search": "ltd"}'])
    shared = " (the same books: its writes show up here)" if db else ""
    return "Connect a client:\n\n" + "\n\n".join(blocks) + f"\n\nTry it without a client{shared}:\n  {example}"


def _serve_hosted(args: argparse.Namespace) -> int:
    """Hosted multi-user mode: every user signs in with Sage through MCP OAuth; state in Redis."""
    if args.transport != "http":
        _err("sage-mcp: --hosted needs --transport http")
        return 2
    if args.unsafe_no_auth:
        _err("sage-mcp: --hosted always authenticates users; drop --unsafe-no-auth")
        return 2
    _check_port_free(args.host, args.port)
    from sage_mcp.http import HttpSetupError

    try:
        from sage_mcp.http.hosted import HostedSettings, run_hosted
        from sage_mcp.http.hosted.app import build_hosted_app, plan_hosted
        from sage_mcp.http.hosted.ops import configure_json_logging
    except ImportError as exc:
        _err(
            "sage-mcp: hosted mode needs the 'hosted' extra: "
            f"pip install 'sage-accounting-mcp[hosted]' ({exc.name} is missing)"
        )
        return 2
    settings = _settings(args)
    try:
        hosted = HostedSettings()
    except ValueError as exc:
        _err(f"sage-mcp: {exc}")
        return 2
    replica = hosted.replica or f"{socket.gethostname()}:{args.port}"
    hosted = hosted.model_copy(update={"replica": replica})
    try:
        security = plan_hosted(
            settings, hosted, args.host, allowed_hosts=args.allowed_hosts, allowed_origins=args.allowed_origins
        )
        app = build_hosted_app(settings, hosted, security, _registry(settings))
    except (HttpSetupError, ValueError) as exc:
        _err(f"sage-mcp: {exc}")
        return 2
    _err(f"sage-mcp {__version__}: hosted, on {args.host}:{args.port}; users connect to {hosted.resource_url}")
    configure_json_logging(args.log_level if args.log_level != "WARNING" else "INFO", replica)
    run_hosted(app, args.host, args.port)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from sage_mcp.http import HttpSetupError, check_bind

    configure_logging(args.log_level)
    if not args.stdio:
        try:
            check_bind(args.host, unsafe_no_auth=args.unsafe_no_auth)  # before the sandbox starts
        except HttpSetupError as exc:
            _err(f"sage-mcp: {exc}")
            return 2
        _check_port_free(args.host, args.port)
    db_in_data_dir = not args.stdio and args.db is None
    with _demo(args, port=args.sandbox_port, db=args.db, db_in_data_dir=db_in_data_dir) as settings:
        security = None if args.stdio else _http_security(args, settings)
        server = create_server(settings, _registry(settings))
        if security is None:
            run_stdio(server)
            return 0
        url = _mcp_url(args.host, args.port)
        from sage_mcp.demo import DEMO_DB_NAME

        db = args.db or str(settings.data_dir / DEMO_DB_NAME)
        print(f"sage-mcp {__version__} demo: a seeded Sage sandbox at {settings.api_base_url}", flush=True)
        print(f"Its books: {db} (deleted when the demo stops)" if args.db is None else f"Its books: {db}")
        print(f"MCP server (streamable HTTP): {url}")
        if security.token is not None:
            where = (
                "from SAGE_MCP_HTTP_TOKEN"
                if security.token.path is None
                else "a new token each run; set SAGE_MCP_HTTP_TOKEN to keep one"
            )
            print(f"Clients send the header  {security.token.header}  ({where})")
        print("Tools: " + ", ".join(_registry(settings).toolsets) + " (--toolsets or SAGE_MCP_TOOLSETS for more)")
        print("\n" + demo_instructions(url, security.token, db))
        print("\nPress Ctrl+C to stop.", flush=True)
        for warning in security.warnings(args.port):
            _err(warning)
        with contextlib.suppress(KeyboardInterrupt):
            run_http(server, security, args.port)
    return 0


def cmd_tools(args: argparse.Namespace) -> int:
    settings = _settings(args)
    registry = _registry(settings)
    if args.markdown:
        print(catalogue_markdown())
        return 0
    if args.json:
        dumped = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in registry.list_tools()]
        print(json.dumps(dumped, indent=2))
        return 0
    width = max((len(n) for n in registry.tools), default=10)
    current = None
    for tool in registry.tools.values():
        if tool.spec.toolset != current:
            current = tool.spec.toolset
            print(f"\n[{current}]")
        kind = "read " if tool.spec.read_only else ("WRITE!" if tool.spec.annotations["destructiveHint"] else "write")
        print(f"  {tool.spec.name:<{width}}  {kind:<6}  {tool.spec.title}")
    print(
        f"\n{len(registry.tools)} tools; toolsets: {', '.join(registry.toolsets)}"
        + (" (read-only)" if registry.read_only else "")
    )
    return 0


async def _call(settings: Settings, registry: Registry, name: str, arguments: dict[str, Any]) -> tuple[bool, str, Any]:
    from sage_mcp.dispatch import Dispatcher
    from sage_mcp.safety.confirm import is_preview, terminal_asker
    from sage_mcp.sage.client import SageClient

    async with SageClient(settings) as sage:
        result = await Dispatcher(registry, settings).call(sage, name, arguments, asker=terminal_asker())
    assert isinstance(result, CallToolResult)  # only a 2026-era MCP client is answered with a question
    text = "\n".join(getattr(c, "text", "") for c in result.content)
    if is_preview(result):
        _err(
            "sage-mcp call: this write needs confirmation and a token works only in the process that issued it; "
            "run the command at a terminal to be asked, or pass --no-confirm (unattended use)."
        )
    return result.is_error, text, result.structured_content


def cmd_call(args: argparse.Namespace) -> int:
    configure_logging(args.log_level)
    try:
        arguments = json.loads(args.arguments) if args.arguments else {}
    except json.JSONDecodeError as exc:
        _err(f"sage-mcp call: the arguments are not valid JSON ({exc.msg} at position {exc.pos})")
        return 2
    if not isinstance(arguments, dict):
        _err('sage-mcp call: the arguments must be a JSON object, e.g. \'{"search": "ltd"}\'')
        return 2
    with contextlib.ExitStack() as stack:
        settings = (
            stack.enter_context(_demo(args, default_toolsets="all", db=args.db)) if args.sandbox else _settings(args)
        )
        registry = _registry(settings)
        is_error, text, structured = asyncio.run(_call(settings, registry, args.tool, arguments))
    if args.json and structured is not None:
        print(json.dumps(structured, indent=2))
    else:
        print(text)
    return 1 if is_error else 0


def _fmt_expiry(at: float | None, now: float) -> str:
    if at is None:
        return "unknown"
    left = at - now
    if left <= 0:
        return "expired"
    days, rest = divmod(int(left), 86400)
    return f"in {days} d {rest // 3600} h" if days else f"in {rest // 60} min"


async def _finish_login(settings: Settings, code: str, verifier: str, redirect_uri: str, business: str | None) -> int:
    import time

    from sage_mcp.sage.client import SageClient
    from sage_mcp.sage.tokens import FileTokenStore, StoredLogin, TokenSet

    store = FileTokenStore(settings.token_store_path)
    async with SageClient(settings, store=store) as sage:
        resp = await sage.exchange_code(code, redirect_uri, verifier)
        tokens = TokenSet.from_response(resp, time.time())
        async with store.alock():
            store.save(StoredLogin(tokens=tokens, business_id=None, saved_at=time.time()))
        businesses = await sage.list_businesses()
        ids = {str(b.get("id")) for b in businesses}
        if business and business not in ids:
            print(f"Signed in, but business {business!r} is not one of yours; nothing pinned.")
            business = None
        if business:
            async with store.alock():
                current = store.load()
                assert current is not None
                store.save(StoredLogin(tokens=current.tokens, business_id=business, saved_at=time.time()))
    print(f"Signed in to Sage ({tokens.scope or 'scope not stated'}). Token store: {store.path}")
    for b in businesses:
        mark = "  <- pinned" if b.get("id") == business else ""
        print(f"  {b.get('id')}  {b.get('name') or b.get('displayed_as')}{mark}")
    if len(businesses) > 1 and not business:
        print("Several businesses: pin one with `sage-mcp auth login --business ID` or SAGE_BUSINESS_ID.")
    return 0


def cmd_auth_login(args: argparse.Namespace) -> int:
    import webbrowser

    from sage_mcp.sage.errors import SageError
    from sage_mcp.sage.oauth import CallbackServer, code_from_callback, start_login

    overrides: dict[str, Any] = {}
    if args.redirect_uri:
        overrides["redirect_uri"] = args.redirect_uri
    settings = _settings(args, **overrides)
    try:
        req = start_login(settings, scope=args.scope, country=args.country, locale=args.locale)
        _err(f"Sign in to Sage in your browser:\n  {req.url}\n")
        if args.no_browser:
            try:
                callback = input("Paste the full URL your browser was redirected to: ")
            except EOFError:
                _err("\nsage-mcp auth login: no URL was pasted; nothing changed. Run it again to sign in.")
                return 1
        else:
            with CallbackServer(req.redirect_uri) as listener:
                webbrowser.open(req.url)
                _err(f"Waiting for Sage to redirect to {req.redirect_uri} …")
                callback = listener.wait(args.timeout)
        code = code_from_callback(callback, req.state)
        return asyncio.run(_finish_login(settings, code, req.code_verifier, req.redirect_uri, args.business))
    except SageError as exc:
        _err(f"sage-mcp auth login: {exc}")
        return 1


def cmd_auth_status(args: argparse.Namespace) -> int:
    import time

    from sage_mcp.sage.client import SageClient
    from sage_mcp.sage.errors import SageError
    from sage_mcp.sage.tokens import FileTokenStore

    settings = _settings(args)
    store = FileTokenStore(settings.token_store_path)
    try:
        login = store.load()
    except SageError as exc:
        _err(f"sage-mcp auth status: {exc}")
        return 1
    if login is None:
        print(f"Not signed in (no token store at {store.path}). Run `sage-mcp auth login`.")
        return 1
    now = time.time()
    tok = login.tokens
    print(f"Token store:     {store.path}")
    print(f"Scope:           {tok.scope or 'unknown'}{' (read-only)' if tok.read_only else ''}")
    print(f"Pinned business: {settings.business_id or login.business_id or 'none'}")
    print(f"Access token:    expires {_fmt_expiry(tok.expires_at, now)}")
    print(f"Refresh token:   expires {_fmt_expiry(tok.refresh_expires_at, now)}")
    if tok.refresh_expires_at is not None and tok.refresh_expires_at - now < 3 * 86400:
        print("WARNING: the sign-in expires within 3 days; run `sage-mcp auth login` to renew it.")

    async def remote() -> None:
        async with SageClient(settings, store=store) as sage:
            user = await sage.get_user()
            print(f"User:            {user.get('displayed_as') or user.get('email')} ({user.get('email')})")
            for b in await sage.list_businesses():
                print(f"  business {b.get('id')}  {b.get('name') or b.get('displayed_as')}")

    try:
        asyncio.run(remote())
    except SageError as exc:
        print(f"Sage: {exc}")
        return 1
    return 0


def cmd_auth_logout(args: argparse.Namespace) -> int:
    from sage_mcp.sage.client import SageClient
    from sage_mcp.sage.errors import SageError
    from sage_mcp.sage.tokens import FileTokenStore

    settings = _settings(args)
    store = FileTokenStore(settings.token_store_path)
    try:
        login = store.load()
    except SageError:  # unreadable: nothing to revoke, but the file still goes
        store.delete()
        print(f"The token store {store.path} could not be read; deleted it. Nothing could be revoked at Sage:")
        print("  if the sign-in may still be live, remove this app's access in your Sage account settings.")
        return 0
    if login is None:
        print("Not signed in; nothing to do.")
        return 0

    async def revoke() -> None:
        async with SageClient(settings, store=store) as sage:
            await sage.revoke(login.tokens.refresh_token)

    try:
        asyncio.run(revoke())
        revoked = "revoked at Sage"
    except SageError as exc:
        revoked = f"not revoked at Sage ({exc})"
    store.delete()
    print(f"Signed out: the refresh token was {revoked}; local tokens deleted.")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from sage_mcp.doctor import as_json, run_checks

    configure_logging("CRITICAL")  # the checks report problems themselves
    with contextlib.ExitStack() as stack:
        settings = stack.enter_context(_demo(args)) if args.sandbox else _settings(args)
        checks = asyncio.run(run_checks(settings, http=args.http))
    if args.json:
        print(json.dumps(as_json(checks), indent=2))
    else:
        for check in checks:
            print(check.line())
        failed = sum(not c.ok for c in checks)
        print(f"\n{failed} problem{'s' if failed != 1 else ''} found." if failed else "\nAll good.")
    return 0 if all(c.ok for c in checks) else 1


def cmd_sandbox_serve(args: argparse.Namespace) -> int:
    configure_logging(args.log_level)
    from sage_mcp.sandbox import SandboxConfig, serve

    config = SandboxConfig(db_path=args.db, seed=args.seed)
    _err(
        f"Sage sandbox on http://{args.host}:{args.port}  (API: /v3.1, token: /token, "
        f"client_id={config.client_id}, client_secret={config.client_secret})"
    )
    serve(config, host=args.host, port=args.port)
    return 0


def cmd_sandbox_seed(args: argparse.Namespace) -> int:
    import datetime as dt

    from sage_mcp.sandbox.bigbooks import build_big_books

    try:
        today = dt.date.fromisoformat(args.today) if args.today else None
        report = build_big_books(
            args.db,
            contacts=args.contacts,
            invoices=args.invoices,
            seed=args.seed,
            today=today,
            replace=args.force,
            progress=lambda message: _err(f"  {message}"),
        )
    except (ValueError, FileExistsError) as exc:
        _err(f"sage-mcp sandbox seed: {exc}")
        return 2
    statuses = ", ".join(f"{count} {status.lower()}" for status, count in report.statuses.items())
    print(
        f"Wrote {report.path}: {report.contacts} contacts and {report.invoices} sales invoices ({statuses}), "
        f"{report.receipts} receipts added, as of {report.today} (seed {report.seed}) in {report.seconds:.1f} s.\n"
        f"Serve it with: sage-mcp sandbox serve --db {report.path}"
    )
    return 0


# -- parser ---------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sage-mcp", description="MCP server for Sage Accounting (API v3.1).")
    parser.add_argument("--version", action="version", version=f"sage-mcp {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--toolsets", help="comma-separated toolsets, `default` or `all` (env SAGE_MCP_TOOLSETS)")
        p.add_argument("--read-only", action="store_true", help="offer no tool that writes (env SAGE_MCP_READ_ONLY)")
        p.add_argument(
            "--no-confirm",
            action="store_true",
            help="do not ask the user before voids, deletes and other irreversible writes; for unattended "
            "automation only (env SAGE_MCP_NO_CONFIRM)",
        )
        p.add_argument(
            "--log-level",
            default="WARNING",
            type=str.upper,
            choices=LOG_LEVELS,
            help="log level for stderr (default WARNING)",
        )

    def http_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--allowed-hosts",
            metavar="LIST",
            help="comma-separated Host values HTTP answers, e.g. mcp.lan:8000 or mcp.lan (any port) "
            "(env SAGE_MCP_ALLOWED_HOSTS; default: 127.0.0.1, localhost, [::1] and --host)",
        )
        p.add_argument(
            "--allowed-origins",
            metavar="LIST",
            help="comma-separated browser Origins HTTP accepts, e.g. https://app.example.com "
            "(env SAGE_MCP_ALLOWED_ORIGINS; default: http:// and the allowed loopback names and --host)",
        )
        p.add_argument(
            "--unsafe-no-auth",
            action="store_true",
            help="UNSAFE: serve HTTP without the bearer token; refused unless --host is 127.0.0.1, localhost or ::1",
        )

    p = sub.add_parser("serve", help="run the MCP server against Sage")
    p.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument(
        "--hosted",
        action="store_true",
        help="multi-user: each user signs in with their own Sage account (MCP OAuth); state in Redis; "
        "settings SAGE_MCP_PUBLIC_URL, SAGE_MCP_REDIS_URL, SAGE_MCP_ENCRYPTION_KEY ... (see README)",
    )
    http_flags(p)
    common(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="run the MCP server against a seeded local Sage sandbox (no Sage account needed)")
    p.add_argument("--stdio", action="store_true", help="speak MCP on stdio (for desktop clients)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000, help="MCP HTTP port (default 8000)")
    p.add_argument("--sandbox-port", type=int, default=0, help="sandbox port (default: any free port)")
    p.add_argument(
        "--db", help="sandbox database file, kept after the demo (default: a temporary file; in memory with --stdio)"
    )
    http_flags(p)
    common(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("tools", help="list the tool catalogue")
    p.add_argument("--json", action="store_true", help="print the tools/list entries as JSON")
    p.add_argument("--markdown", action="store_true", help="print the README's tool table")
    common(p)
    p.set_defaults(func=cmd_tools)

    p = sub.add_parser("call", help="run one tool and print its result")
    p.add_argument("tool")
    p.add_argument("arguments", nargs="?", default="{}", help="tool arguments as a JSON object")
    p.add_argument("--sandbox", action="store_true", help="against an embedded seeded sandbox, not Sage")
    p.add_argument("--db", help="with --sandbox: its database file, e.g. the one a running demo prints")
    p.add_argument("--json", action="store_true", help="print the structured result as JSON")
    common(p)
    p.set_defaults(func=cmd_call)

    p = sub.add_parser("doctor", help="check configuration, sign-in, reachability and businesses; say how to fix")
    p.add_argument("--json", action="store_true", help="print the checks as JSON")
    p.add_argument("--http", action="store_true", help="also check the HTTP bearer token (checked once one exists)")
    p.add_argument("--sandbox", action="store_true", help="check a demo sign-in to an embedded sandbox instead")
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("auth", help="sign in to Sage, show or remove the stored login")
    asub = p.add_subparsers(dest="auth_command", required=True)
    ap = asub.add_parser("login", help="sign in through the browser (authorization code + PKCE)")
    ap.add_argument("--no-browser", action="store_true", help="print the URL and paste the redirected URL back")
    ap.add_argument("--scope", choices=["full_access", "readonly"], default="full_access")
    ap.add_argument("--country", choices=["gb", "ie", "ca"], help="Sage region to sign in to")
    ap.add_argument("--locale", help="sign-in page language, e.g. en-GB, fr-CA")
    ap.add_argument("--business", help="pin this business id for calls that name none")
    ap.add_argument("--redirect-uri", help="loopback redirect URI registered with Sage (env SAGE_REDIRECT_URI)")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the browser")
    ap.set_defaults(func=cmd_auth_login)
    ap = asub.add_parser("status", help="who is signed in, scope, businesses, expiry (never a token)")
    ap.set_defaults(func=cmd_auth_status)
    ap = asub.add_parser("logout", help="revoke the refresh token at Sage and delete the local tokens")
    ap.set_defaults(func=cmd_auth_logout)

    p = sub.add_parser("sandbox", help="the embedded Sage sandbox")
    ssub = p.add_subparsers(dest="sandbox_command", required=True)
    sp = ssub.add_parser("serve", help="serve the sandbox API for manual use (curl)")
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=int, default=8800)
    sp.add_argument("--db", help="database file (default: in memory)")
    sp.add_argument("--seed", type=int, default=7)
    sp.add_argument("--log-level", default="INFO", type=str.upper, choices=LOG_LEVELS)
    sp.set_defaults(func=cmd_sandbox_serve)
    sp = ssub.add_parser("seed", help="write big books (many contacts and invoices) into a database file")
    sp.add_argument("--db", required=True, help="database file to create")
    sp.add_argument("--contacts", type=int, default=10_000, help="contacts of the lead business (default 10000)")
    sp.add_argument("--invoices", type=int, default=100_000, help="sales invoices of it (default 100000)")
    sp.add_argument("--seed", type=int, default=7)
    sp.add_argument("--today", help="the date the books end on, YYYY-MM-DD (default: today)")
    sp.add_argument("--force", action="store_true", help="overwrite an existing file")
    sp.set_defaults(func=cmd_sandbox_seed)
    return parser


def main(argv: list[str] | None = None) -> int:
    from pydantic import ValidationError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        _err("\nsage-mcp: interrupted.")
        return 130
    except ValidationError as exc:  # a SAGE_* variable that does not parse
        from sage_mcp.config import variable_for

        problems = "; ".join(
            f"{'.'.join(variable_for(str(part)) for part in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        _err(f"sage-mcp: invalid configuration ({problems}). Fix the SAGE_* environment variable named.")
        return 2
