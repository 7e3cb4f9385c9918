"""The package's house rules, read from its own imports: no import circles, and every import goes down the stages
(events < intake < analysis < checks < render < store < report < demo < cli, ui), imports under TYPE_CHECKING
aside."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "audit_lib"
RANK = {"errors": 0, "version": 0, "memory": 0, "events": 1, "intake": 2, "analysis": 3, "checks": 4, "render": 5,
        "store": 6, "report": 7, "watch": 7, "demo": 8, "cli": 9, "ui": 9}
RANK_OF_ROOT = 10  # audit_lib/__init__.py re-exports from every stage: nothing inside may import it


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, int, bool]]:
    """(module imported, line, at module level) for every `audit_lib` import of a file, TYPE_CHECKING blocks left
    out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for n in ast.walk(node)}
    top = {id(n) for n in tree.body}
    out = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("audit_lib"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                target = sub if (ROOT / (sub.replace(".", "/") + ".py")).exists() or \
                    (ROOT / sub.replace(".", "/")).is_dir() else node.module
                out.append((target, node.lineno, id(node) in top))
        elif isinstance(node, ast.Import):
            out += [(a.name, node.lineno, id(node) in top) for a in node.names if a.name.startswith("audit_lib")]
    return out + _dispatched(path, tree)


DISPATCH = ROOT / "audit_lib" / "cli" / "__init__.py"  # the one place modules are imported by name (lazily)


def _dispatched(path: Path, tree: ast.Module) -> list[tuple[str, int, bool]]:
    """The command modules of the CLI's `COMMANDS` table, counted as module-level imports of the CLI."""
    if path != DISPATCH:
        return []
    table = next(n.value for n in tree.body if isinstance(n, ast.Assign) and ast.unparse(n.targets[0]) == "COMMANDS")
    return [(v.value, table.lineno, True) for v in table.values]


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        graph[_module(path)] = {m for m, _, _ in _imports(path)}
    return graph


def _rank(module: str) -> int:
    parts = module.split(".")
    return RANK_OF_ROOT if len(parts) == 1 or parts[1] == "__main__" else RANK[parts[1]]


def test_no_import_circles() -> None:
    graph = _graph()
    state: dict[str, int] = {}
    circles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                circles.append([*trail[trail.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert circles == []


def test_imports_only_go_down_the_stages() -> None:
    upward = []
    for path in PACKAGE.rglob("*.py"):
        here = _module(path)
        for target, line, _ in _imports(path):
            if target == "audit_lib" and here != "audit_lib" and not here.startswith("audit_lib.__"):
                upward.append(f"{here}:{line} imports the package root")
            elif target != "audit_lib" and _rank(target) > _rank(here):
                upward.append(f"{here}:{line} -> {target}")
    assert upward == []


def test_no_function_local_import_of_our_own_modules() -> None:
    """A local import is for an optional dependency (deltalake, ray, vl_convert), never to dodge a circle."""
    local = [f"{_module(p)}:{line} -> {m}" for p in PACKAGE.rglob("*.py") for m, line, top in _imports(p) if not top]
    assert local == []


def test_modules_are_imported_by_name_only_in_the_cli_dispatch_and_the_package_root() -> None:
    """`import_module` hides an import from these rules: only the CLI's command table (read above as imports)
    and the package root's lazy names (of higher stages by design) may use it."""
    by_name = sorted(_module(p) for p in PACKAGE.rglob("*.py") if "import_module" in p.read_text(encoding="utf-8"))
    assert by_name == ["audit_lib", "audit_lib.cli"]


def test_no_module_imports_a_private_name_of_another() -> None:
    private = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("audit_lib"):
                private += [f"{_module(path)}: {node.module}.{a.name}" for a in node.names
                            if a.name.startswith("_") and not a.name.startswith("__")]
    assert private == []


def test_modules_stay_small_and_say_what_they_do() -> None:
    """Every module states its job in a docstring; one over 560 lines says in it why it is one piece."""
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        doc = ast.get_docstring(ast.parse(text)) or ""
        assert doc or path.name == "__main__.py", f"{path} has no docstring"
        if text.count("\n") > 560:
            assert "one piece" in doc, f"{path} has {text.count(chr(10))} lines"
