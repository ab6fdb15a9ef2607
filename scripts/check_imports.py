"""Check that the project's import graph runs one way.

Reads every module of our apps (tests, benchmarks and migrations aside) and fails, naming the
modules, when:
- two or more modules import each other in a circle (a service that enqueues its own app's task
  may keep that one pair: `<app>.services` <-> `<app>.tasks`);
- two or more apps import each other in a circle (`mentorship/`, the configuration that wires
  every app together, stands above them all and is not counted as an app);
- `matching/engine/` imports Django or any app: it is pure so it can be tested and benchmarked
  without a database.

Imports under `if TYPE_CHECKING:` are annotations, not run, and do not count.
Run: `python scripts/check_imports.py` (part of `make lint`).
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (
    *("accounts", "common", "core", "goals", "matching", "mentorship", "notifications"),
    "programs",
    "reports",
)
CONFIG_PACKAGE = "mentorship"
PURE_PACKAGE = "matching.engine"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules(root: Path = ROOT, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    modules = {}
    for package in packages:
        for path in (root / package).rglob("*.py"):
            if "migrations" not in path.parts:
                modules[module_name(path, root)] = path
    return modules


def _is_type_checking_block(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import that runs, at any depth (functions included), but not under TYPE_CHECKING."""
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking_block(child):
                pending.extend(child.orelse)
                continue
            pending.append(child)


def imported_names(module: str, path: Path) -> Iterator[str]:
    """Dotted names `module` imports: `from a.b import c` gives `a.b.c` (a module, or a name
    whose module is `a.b`)."""
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in _import_nodes(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = module.split(".")
            if not is_package:
                anchor.pop()
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in node.names:
            yield f"{base}.{alias.name}"


def resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module a dotted name lives in, or None for anything outside the project."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively; components of one node without a self-loop are left out."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in graph.get(node, ()):
                        components.append(sorted(component))
    return components


def _allowed_task_pair(component: list[str]) -> bool:
    if len(component) != 2:
        return False
    first, second = component
    app = first.split(".")[0]
    names = {first, second}
    return (
        second.split(".")[0] == app
        and f"{app}.tasks" in names
        and any(name == f"{app}.services" or name.startswith(f"{app}.services.") for name in names)
    )


def problems(modules: dict[str, Path]) -> Iterable[str]:
    graph: dict[str, set[str]] = defaultdict(set)
    external: dict[str, set[str]] = defaultdict(set)
    for module, path in modules.items():
        graph[module]
        for name in imported_names(module, path):
            target = resolve(name, modules)
            if target is None:
                external[module].add(name.split(".")[0])
            elif target != module and not module.startswith(f"{target}."):
                # A package's own __init__ is imported on the way to any of its modules, so a
                # module naming its package is no edge back.
                graph[module].add(target)

    for component in strongly_connected(graph):
        if not _allowed_task_pair(component):
            yield "modules import each other in a circle: " + " <-> ".join(component)

    apps: dict[str, set[str]] = defaultdict(set)
    for module, targets in graph.items():
        source = module.split(".")[0]
        if source == CONFIG_PACKAGE:
            continue
        for target in targets:
            app = target.split(".")[0]
            if app not in (source, CONFIG_PACKAGE):
                apps[source].add(app)
    for component in strongly_connected(apps):
        edges = [f"{a} -> {b}" for a in component for b in sorted(apps[a]) if b in component]
        yield "apps import each other in a circle: " + ", ".join(edges)

    for module, targets in graph.items():
        if module == PURE_PACKAGE or module.startswith(f"{PURE_PACKAGE}."):
            impure = sorted(t for t in targets if not t.startswith(PURE_PACKAGE))
            impure += sorted(name for name in external[module] if name == "django")
            if impure:
                yield f"{module} must stay pure but imports " + ", ".join(impure)


def main() -> int:
    found = list(problems(project_modules()))
    for problem in found:
        sys.stderr.write(f"import graph: {problem}\n")
    if found:
        return 1
    sys.stdout.write("import graph: one way, no cycles\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
