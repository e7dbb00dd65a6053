"""Quoting a caller's value in a message without echoing all of it back."""

from __future__ import annotations

from collections.abc import Mapping, Sized
from typing import Any

#: At most this many characters of a value appear in a message.
LIMIT = 80


def excerpt(value: Any, limit: int = LIMIT) -> str:
    """``repr(value)``, cut to ``limit`` characters with an ellipsis and the value's length when longer:
    ``'aaaa…' (65536 characters)``."""
    try:
        text = repr(value)
    except ValueError:  # an int too long to print (Python's 4,300-digit limit)
        return "a number of more than 4,300 digits"
    if len(text) <= limit:
        return text
    unit = "characters" if isinstance(value, str | bytes) else "fields" if isinstance(value, Mapping) else "items"
    size = f"{len(value):,} {unit if len(value) != 1 else unit[:-1]}" if isinstance(value, Sized) else ""
    return f"{text[:limit]}…" + (f" ({size})" if size else "")
