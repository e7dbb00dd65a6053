"""Mutation testing of the modules where a silent fault costs users the most (``make mutation``).

For each module below, mutmut (pinned in constraints.txt) injects small faults one at a time and runs
only the tests listed for that module, and of those only the ones that reach the mutated function.
Each module runs in its own work folder, ``<WORK>/<module>/`` (printed at the start; outside the
checkout), whose ``pyproject.toml`` is this
repository's plus a ``[tool.mutmut]`` table naming the files to mutate and the tests to select; the
source and tests are linked, not copied, so the run always sees the checkout as it is.

Score per module = killed / (killed + survived), where timeouts count as killed and a mutant that no
selected test reaches counts as survived. Mutants judged equivalent are listed, with the reason, in
``tests/mutation-equivalents.md``; they are counted like any other survivor. The run names every survivor
that file does not list, and fails (exit 1) on any module below 90 % or with such a survivor.

    .venv/bin/python bench/mutation.py                 # every module, one after the other
    .venv/bin/python bench/mutation.py money errors    # some of them
    .venv/bin/python bench/mutation.py --resume money  # keep earlier verdicts, test only what changed
    .venv/bin/python bench/mutation.py --list          # the modules, their files and tests

Run it niced on a shared machine; ``--jobs`` sets mutmut's parallelism (default 2).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: Outside the checkout: the work folders link to ``sage_mcp/``, ``tests/`` and ``tool_schemas/``, and inside
#: the tree those links would be picked up by the sdist's include patterns. ``MUTATION_WORK`` overrides it.
WORK = Path(
    os.environ.get("MUTATION_WORK")
    or Path(tempfile.gettempdir()) / f"sage-mcp-mutation-{hashlib.sha256(str(REPO).encode()).hexdigest()[:8]}"
)
#: What the tests read besides the package and the tests themselves.
LINKED = ("sage_mcp", "tests", "tool_schemas", "README.md", "server.json", "bench")
TARGET = 0.90
MUTMUT = str(Path(sys.executable).parent / "mutmut")
EQUIVALENTS = REPO / "tests" / "mutation-equivalents.md"


@dataclass(frozen=True)
class Module:
    name: str
    files: tuple[str, ...]
    tests: tuple[str, ...]


MODULES = (
    Module("money", ("sage_mcp/money.py",), ("tests/test_money.py", "tests/test_bounds.py")),
    Module("idempotency", ("sage_mcp/sage/idempotency.py",), ("tests/test_idempotency.py",)),
    Module("errors", ("sage_mcp/sage/errors.py",), ("tests/test_errors.py",)),
    Module("pagination", ("sage_mcp/sage/pagination.py",), ("tests/test_pagination.py",)),
    Module("tokens", ("sage_mcp/sage/tokens.py",), ("tests/test_tokens.py", "tests/test_token_lifecycle.py")),
    Module("tools_base", ("sage_mcp/tools/_base.py",), ("tests/test_tools_base.py", "tests/tools/test_api_paths.py")),
    Module(
        "sandbox_ledger",
        ("sage_mcp/sandbox/ledger.py",),
        (
            "tests/sandbox/test_sandbox_postings.py",
            "tests/sandbox/test_sandbox_ledger.py",
            "tests/sandbox/test_sandbox_journals.py",
        ),
    ),
    *(
        Module(f"reports_{name}", (f"sage_mcp/reports/{name}.py",), tests)
        for name, tests in (
            (
                "statements",
                (
                    "tests/reports/test_ledger_units.py",
                    "tests/test_report_calculations.py",
                    "tests/reports/test_statement_details.py",
                ),
            ),
            (
                "ledger",
                (
                    "tests/reports/test_ledger_units.py",
                    "tests/test_report_calculations.py",
                    "tests/reports/test_statement_details.py",
                ),
            ),
            ("periods", ("tests/reports/test_ledger_units.py", "tests/test_report_periods.py")),
            (
                "aged",
                (
                    "tests/reports/test_open_items_units.py",
                    "tests/test_report_calculations.py",
                    "tests/reports/test_aged_details.py",
                ),
            ),
            (
                "vat",
                (
                    "tests/reports/test_open_items_units.py",
                    "tests/test_report_calculations.py",
                    "tests/reports/test_vat_details.py",
                ),
            ),
            ("activity", ("tests/reports/test_ledger_units.py", "tests/test_report_calculations.py")),
            (
                "summary",
                (
                    "tests/test_report_calculations.py",
                    "tests/reports/test_open_items_summary.py",
                    "tests/reports/test_summary_details.py",
                ),
            ),
        )
    ),
)
BY_NAME = {m.name: m for m in MODULES}

KILLED = {"killed", "timeout", "segfault", "caught by type check"}
SURVIVED = {"survived", "no tests"}


def _toml_list(values: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def prepare(module: Module, *, resume: bool) -> Path:
    work = WORK / module.name
    if work.exists() and not resume:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    for name in LINKED:
        link = work / name
        if not link.is_symlink() and (REPO / name).exists():
            link.symlink_to(REPO / name)
    tests = [t for t in module.tests if (REPO / t).exists()]
    config = (REPO / "pyproject.toml").read_text(encoding="utf-8") + (
        "\n[tool.mutmut]\n"
        'source_paths = ["sage_mcp"]\n'
        f"only_mutate = {_toml_list(module.files)}\n"
        f"pytest_add_cli_args_test_selection = {_toml_list(tests)}\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider"]\n'
        'also_copy = ["tool_schemas", "README.md", "server.json", "bench"]\n'
        "use_git_change_detection = false\n"
    )
    (work / "pyproject.toml").write_text(config, encoding="utf-8")
    return work


def statuses(work: Path) -> Counter[str]:
    """Every mutant's verdict, read from ``mutmut results --all true``."""
    out = subprocess.run(
        [MUTMUT, "results", "--all", "true"],
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    counts: Counter[str] = Counter()
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name:
            counts[status] += 1
    return counts


def survivors(work: Path) -> list[str]:
    """The surviving mutants' names. ``mutmut results`` also lists timeouts, which count as killed."""
    out = subprocess.run([MUTMUT, "results"], cwd=work, capture_output=True, text=True, check=True).stdout
    found = (line.strip().rpartition(": ") for line in out.splitlines())
    return [name for name, sep, status in found if sep and "__mutmut_" in name and status in SURVIVED]


def listed_equivalents(text: str) -> dict[str, set[str]]:
    """The mutants ``tests/mutation-equivalents.md`` lists, per source file: ``{"sage_mcp/money.py":
    {"x_decimal_str__mutmut_5", ...}}``. A row's first cell names them as `` `x_fn__mutmut_5`, `_7`,
    `_12` … `_15`; `x_other__mutmut_2` `` (a bare `` `_N` `` continues the last function named; ``…``
    spans a range)."""
    listed: dict[str, set[str]] = {}
    current: set[str] | None = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = listed.setdefault(line[3:].strip(), set())
            continue
        if current is None or not line.startswith("| `"):
            continue
        cell = line.split("|")[1]
        function, previous, spanning = "", 0, False
        for name, ellipsis in re.findall(r"`([^`]+)`|(…)", cell):
            if ellipsis:
                spanning = True  # the next number closes a range
                continue
            if "__mutmut_" in name:
                function, number = name.rsplit("__mutmut_", 1)
            elif name.startswith("_") and name[1:].isdigit() and function:
                number = name[1:]
            else:
                continue
            n = int(number)
            first = previous + 1 if spanning else n
            current.update(f"{function}__mutmut_{i}" for i in range(first, n + 1))
            previous, spanning = n, False
    return listed


def unlisted(module: Module, names: list[str]) -> list[str]:
    """Survivors (mutmut's full names) not listed as equivalent for ``module``'s files."""
    listed = listed_equivalents(EQUIVALENTS.read_text(encoding="utf-8"))
    known = set().union(*(listed.get(f, set()) for f in module.files))
    return [n for n in names if n.rsplit(".", 1)[-1] not in known]


def score(counts: Counter[str]) -> tuple[int, int, float]:
    killed = sum(n for s, n in counts.items() if s in KILLED)
    survived = sum(n for s, n in counts.items() if s in SURVIVED)
    return killed, survived, killed / (killed + survived) if killed + survived else 1.0


def run(module: Module, *, jobs: int, resume: bool, verbose: bool) -> tuple[Counter[str], float]:
    work = prepare(module, resume=resume)
    started = time.monotonic()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(
        [MUTMUT, "run", "--max-children", str(jobs)],
        cwd=work,
        env=env,
        stdout=None if verbose else subprocess.DEVNULL,
        stderr=None if verbose else subprocess.PIPE,
        text=True,
    )
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        print(f"{module.name}: mutmut run failed (exit {proc.returncode})", file=sys.stderr)
        if proc.stderr:
            print(proc.stderr[-4000:], file=sys.stderr)
    return statuses(work), elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help=f"any of {', '.join(BY_NAME)} (default: all)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--resume", action="store_true", help="keep the verdicts of an earlier run")
    parser.add_argument("--list", action="store_true", help="print the modules and exit")
    parser.add_argument("--survivors", action="store_true", help="name every surviving mutant")
    parser.add_argument("-v", "--verbose", action="store_true", help="show mutmut's own output")
    args = parser.parse_args(argv)
    unknown = [n for n in args.modules if n not in BY_NAME]
    if unknown:
        parser.error(f"unknown module {', '.join(unknown)}; choose from {', '.join(BY_NAME)}")
    chosen = [BY_NAME[n] for n in args.modules] if args.modules else list(MODULES)
    if args.list:
        for m in chosen:
            print(f"{m.name}: {' '.join(m.files)}\n    tests: {' '.join(m.tests)}")
        return 0
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True, text=True)
    print(f"mutation scores of {commit.stdout.strip() or 'this checkout'} (mutmut, {args.jobs} at a time)", flush=True)
    print(f"work folders (mutmut results, show, browse): {WORK}", flush=True)
    rows = []
    for module in chosen:
        counts, elapsed = run(module, jobs=args.jobs, resume=args.resume, verbose=args.verbose)
        killed, survived, ratio = score(counts)
        detail = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        print(
            f"{module.name:15} {ratio:6.1%}  killed {killed:4}  survived {survived:4}  ({detail}; {elapsed:.0f} s)",
            flush=True,
        )
        names = survivors(WORK / module.name)
        new = unlisted(module, names)
        print(f"{'':15} {len(names) - len(new)} survivors listed as equivalent, {len(new)} not listed", flush=True)
        for name in names if args.survivors else new:
            print(f"    {name}{'' if name in new else '  (listed)'}")
        rows.append((module.name, ratio, len(new)))
    failing = [name for name, ratio, _ in rows if ratio < TARGET]
    open_survivors = [name for name, _, new in rows if new]
    if failing:
        print(f"below {TARGET:.0%}: {', '.join(failing)}")
    if open_survivors:
        print(f"survivors neither killed nor listed in {EQUIVALENTS.relative_to(REPO)}: {', '.join(open_survivors)}")
    if failing or open_survivors:
        return 1
    print(f"every module at {TARGET:.0%} or more, every survivor listed as equivalent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
