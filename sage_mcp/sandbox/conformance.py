"""An opt-in recorder that checks every ``/v3.1`` response body the sandbox sends against the spec.

Enabled per sandbox with ``SandboxConfig(conformance=True)``, or for every sandbox of a process
with the environment variable ``SAGE_SANDBOX_CONFORMANCE=1`` (what the test suite does).  For each
answer it checks:

* a 2xx JSON body: the operation (:func:`~sage_mcp.sage.spec.find_operation`) and its response
  definition (:func:`~sage_mcp.sage.spec.response_definition`); a single object is validated with
  :func:`~sage_mcp.sage.spec.validate_response`, a list's envelope keys are checked and each of its
  ``$items`` validated (numbers may be decimal strings; items slimmed by ``attributes`` are
  validated on the fields they carry - response definitions declare no required fields);
* any other JSON body on ``/v3.1``: Sage's error array (``$severity``, ``$dataCode``, ``$message``,
  ``$source``, all strings).

Problems are recorded, never raised: on the recorder (``SandboxServer.violations``) and in the
process-wide :data:`VIOLATIONS` list that the test suite inspects when it finishes.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from typing import Any

from ..sage import spec
from .config import SandboxConfig

ENV_VAR = "SAGE_SANDBOX_CONFORMANCE"
API_PREFIX = "/v3.1"
ENVELOPE_KEYS = frozenset({"$total", "$page", "$next", "$back", "$itemsPerPage", "$items"})
BUSINESSES_ENVELOPE_KEYS = (ENVELOPE_KEYS - {"$itemsPerPage"}) | {"$items_per_page"}
ERROR_KEYS = frozenset({"$severity", "$dataCode", "$message", "$source"})
_CACHE_LIMIT = 200_000


@dataclass(frozen=True)
class Violation:
    """A response that does not match the spec."""

    method: str
    path: str
    status: int
    messages: tuple[str, ...]
    sandbox: str = ""

    def __str__(self) -> str:
        head = f"{self.method} {self.path} -> {self.status}"
        return head + (f" [{self.sandbox}]" if self.sandbox else "") + ": " + "; ".join(self.messages[:5])


#: Every violation recorded by any sandbox of this process, in order.
VIOLATIONS: list[Violation] = []
_LOCK = threading.Lock()
_VALID: set[bytes] = set()
_stats = {"objects_checked": 0, "responses_checked": 0}


def enabled(config: SandboxConfig) -> bool:
    """Whether a sandbox with ``config`` records conformance (the field, else the environment)."""
    if config.conformance is not None:
        return config.conformance
    return os.environ.get(ENV_VAR, "").strip().lower() in ("1", "true", "yes", "on")


def objects_checked() -> int:
    """Objects validated so far by every recorder of this process."""
    return _stats["objects_checked"]


def responses_checked() -> int:
    return _stats["responses_checked"]


def _validate(definition: str, obj: Any) -> list[str]:
    """``spec.validate_response``, remembering objects already found valid (the suite repeats many)."""
    canonical = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    key = hashlib.blake2b(f"{definition}\x1f{canonical}".encode(), digest_size=16).digest()
    with _LOCK:
        if key in _VALID:
            return []
    errors = spec.validate_response(definition, obj)
    if not errors:
        with _LOCK:
            if len(_VALID) > _CACHE_LIMIT:
                _VALID.clear()
            _VALID.add(key)
    return errors


def _error_array_problems(body: Any) -> list[str]:
    if not isinstance(body, list) or not body:
        return [f"an error body must be a non-empty array of error objects, not {type(body).__name__}"]
    problems = []
    for index, item in enumerate(body):
        if not isinstance(item, dict) or set(item) != ERROR_KEYS:
            keys = sorted(item) if isinstance(item, dict) else type(item).__name__
            problems.append(f"error item {index} must have exactly {sorted(ERROR_KEYS)}, has {keys}")
        elif not all(isinstance(v, str) for v in item.values()):
            problems.append(f"error item {index}: every value must be a string")
    return problems


class ConformanceRecorder:
    """Checks the answers of one sandbox (see the module docstring)."""

    def __init__(self, name: str = "") -> None:
        self.name = name
        self.violations: list[Violation] = []
        self.objects_checked = 0

    def check(self, method: str, path: str, status: int, content_type: str, body: bytes) -> list[str]:
        """Check one answer; records and returns its problems (empty when it conforms)."""
        if not (path == API_PREFIX or path.startswith(API_PREFIX + "/")) or not body:
            return []
        if "json" not in content_type.lower():
            return []
        try:
            payload = json.loads(body)
        except ValueError as exc:
            problems = [f"the body is not valid JSON: {exc}"]
        else:
            problems = self._problems(method, path, status, payload)
        with _LOCK:
            _stats["responses_checked"] += 1
        if problems:
            violation = Violation(method, path, status, tuple(problems), self.name)
            with _LOCK:
                self.violations.append(violation)
                VIOLATIONS.append(violation)
        return problems

    def _problems(self, method: str, path: str, status: int, payload: Any) -> list[str]:
        if not 200 <= status < 300:
            return _error_array_problems(payload)
        found = spec.find_operation(method, path)
        if found is None:
            return [f"{method} {path} is not an operation of the spec"]
        template, _ = found
        definition = spec.response_definition(method, template)
        if definition is None:
            return [f"{method} {template} declares no response body, but one was sent"]
        if spec.is_list_operation(method, template):
            if not isinstance(payload, dict):
                return [f"a list answer must be the $items envelope, not {type(payload).__name__}"]
            expected = BUSINESSES_ENVELOPE_KEYS if template == "/businesses" else ENVELOPE_KEYS
            if set(payload) != expected:
                return [f"envelope keys {sorted(payload)} != {sorted(expected)}"]
            items = payload["$items"]
            if not isinstance(items, list):
                return ["$items must be an array"]
            objects: list[Any] = items
            prefix = "$items.{}."
        else:
            objects = [payload]
            prefix = ""
        problems: list[str] = []
        for index, obj in enumerate(objects):
            where = prefix.format(index)
            problems += [f"{definition} {where}{error}" for error in _validate(definition, obj)]
            self.objects_checked += 1
            with _LOCK:
                _stats["objects_checked"] += 1
        return problems
