"""The generic tools take a path from the model: it is percent-decoded and checked before it is matched
against Sage's spec, so no encoding of '..' (or of '/', '\\', NUL …) reaches Sage."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mcp import Client

from sage_mcp.sandbox import SandboxServer
from sage_mcp.tools._base import ToolError
from sage_mcp.tools.api import _check_path, clean_path
from tests.test_tools import err, ok

pytestmark = pytest.mark.anyio

TRAVERSALS = [
    "/contacts/%2E%2E%2Fbusinesses",
    "/contacts/%2e%2e/businesses",
    "/contacts/..",
    "/..",
    "/contacts/%252e%252e",
    "/contacts/%252E%252E%252Fbusinesses",
    "/contacts/.%2E",
    "/contacts/%2E",
    "/contacts/./x",
    "/contacts/..%2F..%2Fuser",
    "/contacts/a%2Fb",
    "/contacts//businesses",
    "/contacts/a\\..\\b",
    "/contacts/%5C..%5Cb",
    "/contacts/abc%00",
    "/contacts/abc\x00",
    "/contacts/abc%0d%0aX-Business:%20other",
    "/contacts/x%3Fsearch=1",
    "/contacts/%FF",
]


def requests_so_far(sandbox: SandboxServer) -> dict[tuple[str, str], int]:
    return dict(sandbox.counters)


@pytest.mark.parametrize("path", TRAVERSALS)
async def test_generic_get_refuses_dot_segments_and_tricks_in_any_encoding(
    client: Client, sandbox: SandboxServer, path: str
) -> None:
    before = requests_so_far(sandbox)
    message = await err(client, "sage_api_get", {"path": path})
    assert message.startswith("path: ") and "a valid path looks like /stock_items" in message, message
    sent = {key[1] for key, n in requests_so_far(sandbox).items() if n != before.get(key, 0)}
    assert sent <= {"/v3.1/businesses", "/v3.1/businesses/lead"}, "nothing but the business lookup reached Sage"


@pytest.mark.parametrize("path", ["/contacts/%2E%2E%2Fbusinesses", "/contacts/%2e%2e", "/contacts/%252e%252e"])
async def test_generic_write_refuses_them_too(client: Client, path: str) -> None:
    message = await err(
        client, "sage_api_write", {"method": "PUT", "path": path, "body": {"contact": {"name": "Renamed"}}}
    )
    assert message.startswith("path: ") and ("'.' or '..'" in message or "encoded twice" in message), message


async def test_plain_and_harmlessly_encoded_paths_still_work(client: Client) -> None:
    contacts = await ok(client, "sage_api_get", {"path": "/contacts/", "query": {"items_per_page": 1}})
    assert contacts["path"] == "/contacts"
    contact_id = contacts["data"]["$items"][0]["id"]
    one = await ok(client, "sage_api_get", {"path": f"/contacts/{contact_id}"})
    assert one["path"] == "/contacts/{key}" and one["data"]["id"] == contact_id
    encoded = "".join(f"%{ord(c):02X}" if c in "abc" else c for c in contact_id)
    again = await ok(client, "sage_api_get", {"path": f"/contacts/{encoded}"})
    assert again["data"]["id"] == contact_id
    rate = await ok(client, "sage_api_get", {"path": "/tax_rates/GB_STANDARD"})
    assert rate["data"]["id"] == "GB_STANDARD"


# -- clean_path on its own, over many spellings ------------------------------------------------------------------

_SAFE = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=12)


@st.composite
def encoded_dot(draw: st.DrawFn) -> str:
    """'.' as itself, %2e / %2E, or %252e / %252E."""
    return draw(st.sampled_from([".", "%2e", "%2E", "%252e", "%252E"]))


@st.composite
def dot_segment(draw: st.DrawFn) -> str:
    return "".join(draw(encoded_dot()) for _ in range(draw(st.integers(1, 2))))


@st.composite
def slash(draw: st.DrawFn) -> str:
    return draw(st.sampled_from(["/", "%2F", "%2f", "%252F"]))


@given(
    before=st.lists(_SAFE, max_size=3),
    dots=dot_segment(),
    after=st.lists(_SAFE, max_size=3),
    separator=slash(),
)
@settings(max_examples=300, deadline=None)
def test_a_dot_segment_is_refused_however_it_is_encoded(
    before: list[str], dots: str, after: list[str], separator: str
) -> None:
    path = (
        "/" + "/".join(before) + ("/" if before else "") + dots + (separator + separator.join(after) if after else "")
    )
    with pytest.raises(ToolError, match=r"^path: "):
        clean_path(path)


@given(segments=st.lists(st.text(min_size=1, max_size=10).filter(lambda s: s not in (".", "..")), max_size=4))
@settings(max_examples=300, deadline=None)
def test_a_clean_path_keeps_its_segments(segments: list[str]) -> None:
    """Whatever clean_path accepts has exactly the segments it was given, each encoded once, none a dot."""
    path = "/" + "/".join(quote(s, safe="") for s in segments)
    try:
        cleaned = clean_path(path)
    except ToolError:
        # only for characters that must never reach Sage
        assert any(any(not c.isprintable() or c in "/\\?#%" for c in s) for s in segments), path
        return
    assert cleaned.count("/") == max(1, len(segments))
    assert cleaned == "/" + "/".join(quote(s, safe="-._~!$&'()*+,;=:@") for s in segments)


@pytest.mark.parametrize(
    "path", ["/contacts/\udcff", "/contacts/\u2028", "/contacts/%C2%85", "/contacts/%E2%80%AE", "/contacts/%ED%B3%BF"]
)
def test_invisible_characters_and_broken_utf8_are_refused_not_crashed_on(path: str) -> None:
    with pytest.raises(ToolError, match=r"^path: "):
        _check_path("GET", path)
