"""The import rules of docs/architecture.md that `lint-imports` cannot check.

`make lint` runs the import-linter contracts of pyproject.toml (layers, independent services,
pure domain code, which package owns which client library, private modules of mailpipe's own
packages). Two rules are out of its sight and are checked here:

- a ``_private`` *name* (``from pkg.mod import _helper``) or a private module of another
  distribution (the standard library's included) is imported only from inside its own package;
- importing the broker facade loads no broker client: its kombu-based parts load on first use,
  and import-linter counts such a deferred import as an import.

The private-import check reads every import of mailpipe's packages, so it also repeats the
``private-modules`` contract for their own modules.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: mailpipe's own packages; tests may import private modules of the code they test.
PACKAGES = ("mailpipe", "libs", "services", "bench")
#: Deliberate exceptions: (importer, imported) → why.
ALLOWED = {
    ("services.sender.domain.mime", "email._header_value_parser"): (
        "a header class that folds at spaces and never decodes needs a value parser returning "
        "the email package's token list, which it offers under no public name"
    ),
}


def module_name(path: Path) -> tuple[str, str]:
    """The dotted name of a source file and the package it belongs to."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
        return ".".join(parts), ".".join(parts)
    return ".".join(parts), ".".join(parts[:-1])


def imported(tree: ast.AST, package: str) -> Iterator[tuple[int, str]]:
    """Every module and every ``from`` name a source imports, as absolute dotted names."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def is_private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def is_plain_module(dotted: str) -> bool:
    """Whether ``dotted`` is a module file rather than a package."""
    path = ROOT.joinpath(*dotted.split("."))
    if path.is_dir() or path.with_suffix(".py").is_file():
        return not path.is_dir()
    try:
        spec = importlib.util.find_spec(dotted)
    except (ImportError, ValueError):
        return False
    return spec is not None and spec.submodule_search_locations is None


def owner(target: str) -> str | None:
    """The package a private part of ``target`` belongs to; ``None`` when nothing is private.

    ``a.b._c`` belongs to ``a.b``; a private name of the module ``a.b.m`` to ``a.b``. A top-level
    module has no package to be private to."""
    parts = target.split(".")
    for i in range(1, len(parts)):
        if is_private(parts[i]):
            prefix = ".".join(parts[:i])
            return prefix.rpartition(".")[0] if is_plain_module(prefix) else prefix
    return None


def violations(source: str, module: str, package: str) -> list[str]:
    found = []
    for line, target in imported(ast.parse(source), package):
        home = owner(target)
        inside = home is not None and (package == home or package.startswith(home + "."))
        if home is not None and not inside:
            found.append(f"{module}:{line} imports {target}")
    return found


def all_violations() -> list[str]:
    found = []
    for top in PACKAGES:
        for path in sorted((ROOT / top).rglob("*.py")):
            module, package = module_name(path)
            found += violations(path.read_text(encoding="utf-8"), module, package)
    return found


def allowed(violation: str) -> bool:
    module, _, rest = violation.partition(":")
    return (module, rest.split(" imports ")[1]) in ALLOWED


def test_nothing_imports_another_package_s_private_modules_or_names() -> None:
    assert [v for v in all_violations() if not allowed(v)] == []


def test_every_allowed_exception_is_still_needed() -> None:
    used = {v for v in all_violations() if allowed(v)}
    assert len(used) == len(ALLOWED)


def test_the_check_sees_private_modules_and_names_across_packages() -> None:
    source = (
        "from libs.common.db._base import StoreBase\n"
        "from libs.common.broker import _LAZY\n"
        "from libs.common.db.engine import _private_helper\n"
        "import email._header_value_parser\n"
    )
    assert violations(source, "services.fetcher.state", "services.fetcher") == [
        "services.fetcher.state:1 imports libs.common.db._base.StoreBase",
        "services.fetcher.state:2 imports libs.common.broker._LAZY",
        "services.fetcher.state:3 imports libs.common.db.engine._private_helper",
        "services.fetcher.state:4 imports email._header_value_parser",
    ]


def test_the_check_lets_a_package_use_its_own_private_parts() -> None:
    store = "services.ticketer.store"
    own = (
        "from services.ticketer.store import _rows\n"
        "from . import _sql\n"
        "from ._writes import insert\n"
        "from services.ticketer.store.models import _helper\n"
        "import _thread\n"
        "from __future__ import annotations\n"
    )
    assert violations(own, f"{store}.queries", store) == []
    # a subpackage is inside its parent package, wherever the import says it from
    graph = "libs.common.graph.sub"
    assert violations("from libs.common.graph._http import x\n", f"{graph}.m", graph) == []
    assert violations("from .._http import x\n", f"{graph}.m", graph) == []


def test_the_check_resolves_relative_imports_out_of_the_package() -> None:
    broker = "libs.common.broker"
    assert violations("from ..db._base import StoreBase\n", f"{broker}.x", broker) == [
        "libs.common.broker.x:1 imports libs.common.db._base.StoreBase"
    ]
    assert violations("from . import _x\n", broker, broker) == []


def test_importing_the_broker_facade_loads_no_broker_client() -> None:
    code = (
        "import sys, libs.common.broker as b; from libs.common.broker.names import Names; "
        "print('kombu' in sys.modules, 'amqp' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
