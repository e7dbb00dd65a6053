"""Origin and Host allow-lists, checked on every bind (DNS rebinding and cross-site requests).

A Host entry is ``name``, ``name:port`` or ``name:*``; an Origin entry is ``scheme://name`` with the
same optional port. An entry without a port matches the name on any port. Names compare without
regard to case; IPv6 addresses are written in brackets (``[::1]``). The defaults are the loopback
names (127.0.0.1, localhost, [::1]) plus the address the server is bound to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: The names that mean "this machine only". 127.0.0.2 and the rest of 127/8 are not among them on
#: purpose: only these three are treated as loopback for the defaults and for ``--unsafe-no-auth``.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
#: Bind addresses that listen on every interface: no client reaches the server by these names.
WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def is_loopback(host: str) -> bool:
    return host.strip().strip("[]").lower() in LOOPBACK_HOSTS


def host_name(host: str) -> str:
    """How ``host`` appears in a Host header: IPv6 addresses in brackets, lower case."""
    bare = host.strip().strip("[]").lower()
    return f"[{bare}]" if ":" in bare else bare


def _split_authority(authority: str) -> tuple[str, str | None] | None:
    """``name[:port]`` -> (name, port or None); None when malformed."""
    authority = authority.strip().lower()
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            return None
        name, rest = authority[: end + 1], authority[end + 1 :]
        if not rest:
            return name, None
        if not rest.startswith(":"):
            return None
        port = rest[1:]
    elif ":" in authority:
        name, _, port = authority.partition(":")
    else:
        return (authority, None) if authority else None
    if not name or not (port == "*" or (port.isdigit() and len(port) <= 5)):
        return None
    return name, port


def _split_origin(origin: str) -> tuple[str, str, str | None] | None:
    scheme, sep, authority = origin.strip().lower().partition("://")
    if not sep or scheme not in ("http", "https") or "/" in authority:
        return None
    parts = _split_authority(authority)
    return None if parts is None else (scheme, parts[0], parts[1])


def _port_matches(allowed: str | None, given: str | None) -> bool:
    return allowed in (None, "*") or allowed == given


@dataclass(frozen=True)
class AllowList:
    """Allowed Host values or Origins, as given (for messages) and parsed (for matching)."""

    kind: str  # "host" or "origin"
    entries: tuple[str, ...]

    @classmethod
    def hosts(cls, entries: Iterable[str]) -> AllowList:
        cleaned = tuple(e.strip() for e in entries if e.strip())
        for entry in cleaned:
            if "://" in entry or _split_authority(entry) is None:
                raise ValueError(f"{entry!r} is not a host allow-list entry (name, name:port or name:*)")
        return cls("host", cleaned)

    @classmethod
    def origins(cls, entries: Iterable[str]) -> AllowList:
        cleaned = tuple(e.strip().rstrip("/") for e in entries if e.strip())
        for entry in cleaned:
            if _split_origin(entry) is None:
                raise ValueError(
                    f"{entry!r} is not an origin allow-list entry (http[s]://name, with :port or :* if needed)"
                )
        return cls("origin", cleaned)

    def allows(self, value: str | None) -> bool:
        """Whether a Host header value (or an Origin header value) is on the list."""
        if not value:
            return False
        if self.kind == "host":
            given = _split_authority(value)
            if given is None or given[1] == "*":
                return False
            for entry in self.entries:
                name, port = _split_authority(entry) or ("", None)
                if name == given[0] and _port_matches(port, given[1]):
                    return True
            return False
        origin = _split_origin(value)
        if origin is None or origin[2] == "*":
            return False
        for entry in self.entries:
            scheme, name, port = _split_origin(entry) or ("", "", None)
            if (scheme, name) == origin[:2] and _port_matches(port, origin[2]):
                return True
        return False

    def for_sdk(self) -> list[str]:
        """The same list in the SDK's notation (exact strings, ``:*`` for any port)."""
        out: list[str] = []
        for entry in self.entries:
            lowered = entry.lower()
            if self.kind == "host":
                port = (_split_authority(lowered) or ("", None))[1]
            else:
                port = (_split_origin(lowered) or ("", "", None))[2]
            out += [lowered, lowered + ":*"] if port is None else [lowered]
        return out

    def __str__(self) -> str:
        return ", ".join(self.entries) or "(none)"


def default_hosts(bound: str) -> list[str]:
    names = ["127.0.0.1", "localhost", "[::1]"]
    if bound.strip() not in WILDCARD_HOSTS and host_name(bound) not in names:
        names.append(host_name(bound))
    return names


def default_origins(bound: str) -> list[str]:
    return [f"http://{name}" for name in default_hosts(bound)]


def parse_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]
