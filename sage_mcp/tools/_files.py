"""Local files for the tools: read and write only inside allowed folders, never sage-mcp's own data.

Allowed folders ("roots") are the folders named in ``SAGE_MCP_FILE_ROOTS`` plus, on a local
connection (stdio), the folders the MCP client shares as roots (``file://`` URIs only). Over HTTP
the client's roots are not used: they name folders on the client's machine, which need not be this
one, and anyone holding the HTTP credential could claim ``/`` as a root; only the folders the
operator configured count. With no root at all, local paths are refused.

Every path is made absolute (``~`` expanded) and resolved (symlinks, ``..``) before it is checked,
so a symlink or a ``..`` that leads out of a root is refused. sage-mcp's data folder (token store,
audit log, HTTP credential) and the token store wherever it lives are refused even inside a root,
compared by file identity as well as by name so case-insensitive file systems cannot dodge it.

A download is written to a temporary file in the resolved target folder and moved into place: it
never writes through a symlink, and it never replaces an existing file unless asked to (without
``overwrite`` the move is a hard link, which fails if the name was taken meanwhile).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sage_mcp.config import Settings
from sage_mcp.sage import writeplan
from sage_mcp.tools._base import ToolContext, ToolError

log = logging.getLogger(__name__)

ROOTS_ENV = "SAGE_MCP_FILE_ROOTS"
#: How many files of the data folder (and of its sub-folders) are compared by identity.
MAX_DATA_FILES = 1000
#: How much of a caller's value an error message quotes.
QUOTE_LIMIT = 80
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)


def quoted(value: object) -> str:
    """``repr`` of a caller's value, cut to about :data:`QUOTE_LIMIT` characters."""
    text = str(value)
    if len(text) > QUOTE_LIMIT:
        return repr(text[: QUOTE_LIMIT - 1]) + "…"
    return repr(text)


def root_path(uri: str) -> Path | None:
    """The local folder of an MCP root URI; ``None`` unless it is a ``file://`` URI on this machine."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return None
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return None
    text = unquote(parts.path)
    if os.name == "nt" and re.match(r"^/[A-Za-z]:", text):
        text = text[1:]
    if not text or "\x00" in text:
        return None
    path = Path(text)
    return path if path.is_absolute() else None


def _resolve(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop, or a component that cannot be read
        return Path(os.path.abspath(path))


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except (OSError, ValueError):
        return None
    return (st.st_dev, st.st_ino)


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _is_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(path.stat().st_mode)
    except (OSError, ValueError):
        return False


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


@dataclass(frozen=True)
class FileAccess:
    """The folders one call may use and the paths it may never touch (all resolved)."""

    roots: tuple[Path, ...]
    data_dir: Path
    token_store: Path
    audit_log: Path
    over_http: bool = False
    client_roots_offered: bool = False

    @classmethod
    def build(
        cls,
        settings: Settings,
        client_roots: Iterable[Path] = (),
        *,
        over_http: bool = False,
        client_roots_offered: bool = False,
    ) -> FileAccess:
        roots: list[Path] = []
        for path in [*settings.file_root_paths, *client_roots]:
            if not path.is_absolute():
                log.warning("ignoring the file root %s: it is not an absolute path", path)
                continue
            resolved = _resolve(path)
            if resolved not in roots:
                roots.append(resolved)
        return cls(
            roots=tuple(roots),
            data_dir=_resolve(settings.data_dir),
            token_store=_resolve(settings.token_store_path),
            audit_log=_resolve(settings.audit_log_path),
            over_http=over_http,
            client_roots_offered=client_roots_offered,
        )

    # -- checks ---------------------------------------------------------------------------------

    def require_roots(self, field: str, verb: str) -> None:
        if self.roots:
            return
        how = f"set {ROOTS_ENV} to the folders it may use (several separated by {os.pathsep!r} or ',')"
        if self.over_http:
            how += "; over HTTP only that setting counts, not the client's roots"
        elif self.client_roots_offered:
            how += ", or add the folder to the roots your MCP client shares (it shares none on this machine now)"
        else:
            how += ", or let your MCP client share the folder as a root (clients on protocol 2025-11-25 or older)"
        raise ToolError(f"{field}: sage-mcp may not {verb} local files: no folder is allowed. To allow one, {how}.")

    def _protected(self, path: Path) -> bool:
        """Whether ``path`` (resolved) is sage-mcp's data folder, inside it, or the token store and its
        companions (lock, temporary files)."""
        if _inside(path, self.data_dir):
            return True
        store = self.token_store
        if path.parent == store.parent and (
            path.name in (store.name, store.name + ".lock")
            or (path.name.startswith(".tokens-") and path.name.endswith(".tmp"))
        ):
            return True
        # By identity too: a case-insensitive file system spells one folder many ways.
        data_id = _identity(self.data_dir)
        if data_id is not None:
            for ancestor in (path, *path.parents):
                if _identity(ancestor) == data_id:
                    return True
        target = _identity(path)
        return target is not None and target in self._protected_files()

    def _protected_files(self) -> set[tuple[int, int] | None]:
        """Identities of the token store, its lock, the audit log and every file in the data folder (the
        HTTP credential …), so a hard link to one of them in an allowed folder gives nothing away."""
        store = self.token_store
        files = [store, store.with_name(store.name + ".lock"), self.audit_log]
        with contextlib.suppress(OSError):
            for count, (folder, _, names) in enumerate(os.walk(self.data_dir)):
                files += [Path(folder, name) for name in names[:MAX_DATA_FILES]]
                if count >= MAX_DATA_FILES:
                    break
        return {_identity(f) for f in files} - {None}

    def check(self, given: str, resolved: Path, field: str) -> None:
        """Refuse ``resolved`` unless it lies inside a root and outside sage-mcp's own data."""
        if self._protected(resolved):
            raise ToolError(
                f"{field}: {quoted(given)} is sage-mcp's own data (sign-in tokens, audit log), which no tool may "
                "read or write. Use a file in one of your own folders."
            )
        if not any(_inside(resolved, root) for root in self.roots):
            folders = ", ".join(str(r) for r in self.roots)
            raise ToolError(
                f"{field}: {quoted(given)} is outside the folders sage-mcp may use ({folders}), once symlinks and "
                f"'..' are followed. Use a path inside one of them, or allow another folder with {ROOTS_ENV}."
            )

    def _absolute(self, value: str, field: str) -> Path:
        if "\x00" in value:
            raise ToolError(f"{field}: a path cannot contain a NUL character")
        try:
            path = Path(value).expanduser()
        except RuntimeError:  # ~user for a user this machine does not know
            raise ToolError(f"{field}: cannot tell which home folder {quoted(value)} means; give a full path") from None
        if not path.is_absolute():
            raise ToolError(f"{field}: give an absolute path (starting with / or ~), not {quoted(value)}")
        return path

    # -- reading --------------------------------------------------------------------------------

    def read(
        self, value: str, *, limit: int, too_large: Callable[[int, str], ToolError], field: str = "path"
    ) -> tuple[bytes, Path]:
        """The bytes of the regular file at ``value`` (at most ``limit``) and its resolved path."""
        self.require_roots(field, "read")
        resolved = _resolve(self._absolute(value, field))
        self.check(value, resolved, field)
        try:
            fd = os.open(resolved, os.O_RDONLY | _O_NOFOLLOW | _O_NONBLOCK | _O_BINARY)
        except FileNotFoundError:
            raise ToolError(f"{field}: {quoted(value)} is not a file") from None
        except OSError as exc:
            raise ToolError(f"{field}: {quoted(value)} cannot be read ({_why(exc)})") from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise ToolError(f"{field}: {quoted(value)} is not a file")
            if (st.st_dev, st.st_ino) in self._protected_files():
                raise ToolError(f"{field}: {quoted(value)} is sage-mcp's own data, which no tool may read")
            if st.st_size > limit:
                raise too_large(st.st_size, f"{field}: {resolved.name}")
        except BaseException:
            os.close(fd)
            raise
        with os.fdopen(fd, "rb") as fh:
            content = fh.read(limit + 1)
        if len(content) > limit:
            raise too_large(len(content), f"{field}: {resolved.name}")
        return content, resolved

    # -- writing --------------------------------------------------------------------------------

    def target(self, value: str, default_name: str, *, overwrite: bool, field: str = "path") -> Path:
        """Where a file for ``value`` (a file, or a folder to put ``default_name`` in) would be written,
        checked before anything is fetched: inside a root, its folder exists, and nothing is replaced
        unless ``overwrite``."""
        self.require_roots(field, "write")
        resolved = _resolve(self._absolute(value, field))
        if _is_dir(resolved):
            resolved = _resolve(resolved / default_name)
        self.check(value, resolved, field)
        if not _is_dir(resolved.parent):
            raise ToolError(f"{field}: the folder {quoted(resolved.parent)} does not exist")
        self._check_existing(resolved, overwrite=overwrite, field=field)
        return resolved

    @staticmethod
    def _check_existing(target: Path, *, overwrite: bool, field: str) -> None:
        try:
            st = target.lstat()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise ToolError(f"{field}: {quoted(target)} cannot be used ({_why(exc)})") from None
        if not overwrite:
            raise ToolError(f"{field}: {quoted(target)} already exists; pass overwrite: true to replace it")
        if not stat.S_ISREG(st.st_mode):
            raise ToolError(f"{field}: {quoted(target)} exists and is not a regular file; it was left alone")

    def write(self, target: Path, content: bytes, *, overwrite: bool, field: str = "path") -> Path:
        """Write ``content`` to ``target`` (from :meth:`target`) through a temporary file in its folder."""
        folder = target.parent
        if _resolve(folder) != folder:
            raise ToolError(f"{field}: the folder {quoted(folder)} changed while the file was fetched; nothing written")
        self.check(str(target), target, field)
        self._check_existing(target, overwrite=overwrite, field=field)
        writeplan.local_write(str(target), len(content), overwrite=overwrite)
        try:
            fd, tmp = tempfile.mkstemp(prefix=".sage-download-", dir=folder)
        except OSError as exc:
            raise ToolError(f"{field}: cannot write in {quoted(folder)} ({_why(exc)})") from None
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
            if overwrite:
                os.replace(tmp, target)  # replaces the name itself: never writes through a symlink
            else:
                self._place_new(tmp, target, field)
        except OSError as exc:
            raise ToolError(f"{field}: could not write {quoted(target)} ({_why(exc)})") from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        return target

    @staticmethod
    def _place_new(tmp: str, target: Path, field: str) -> None:
        """Give ``tmp`` the name ``target`` only if no file has that name (atomic where hard links work)."""
        try:
            os.link(tmp, target)
        except FileExistsError:
            raise ToolError(f"{field}: {quoted(target)} already exists; pass overwrite: true to replace it") from None
        except OSError:  # no hard links on this file system
            if os.path.lexists(target):
                raise ToolError(
                    f"{field}: {quoted(target)} already exists; pass overwrite: true to replace it"
                ) from None
            os.replace(tmp, target)


async def file_access(ctx: ToolContext) -> FileAccess:
    """The allowed folders for this call: ``SAGE_MCP_FILE_ROOTS`` plus the client's roots on a local
    connection (asked once per call)."""
    cached = ctx.cache.get("file_access")
    if isinstance(cached, FileAccess):
        return cached
    client_roots: list[Path] = []
    offered = ctx.client_roots is not None and not ctx.over_http
    if offered and ctx.client_roots is not None:
        for uri in await ctx.client_roots():
            path = root_path(uri)
            if path is None:
                log.info("ignoring the client's root %s: only file:// roots on this machine count", uri[:200])
            else:
                client_roots.append(path)
    access = FileAccess.build(ctx.settings, client_roots, over_http=ctx.over_http, client_roots_offered=offered)
    ctx.cache["file_access"] = access
    return access
