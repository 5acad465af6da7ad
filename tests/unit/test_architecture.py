"""The house rules of docs/architecture.md, checked on the source itself: arrows point one
way along the data flow, no two modules import each other, no function is too long to read
at once, and the manifest's file name is known in one place."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "boldhub"
MAX_FUNCTION_LINES = 100


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(SRC).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every boldhub module ``name`` imports, at the top or inside a function."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:
                full = f"{module}.{alias.name}"
                found.add(full if full in MODULES else module)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


@pytest.mark.parametrize(
    ("rooms", "forbidden"),
    [
        (("linkage", "council", "privacy"), ("hub", "outcomes", "cli")),
        (("linkage",), ("council",)),
        (("schemas",), ("council", "privacy", "hub", "linkage", "outcomes", "cli", "synth")),
    ],
)
def test_arrows_point_one_way(rooms: tuple[str, ...], forbidden: tuple[str, ...]) -> None:
    wrong = sorted(
        f"{a} imports {b}"
        for a, deps in GRAPH.items()
        for b in deps
        if _room(a) in rooms and _room(b) in forbidden
    )
    assert not wrong, wrong


def test_no_two_modules_import_each_other() -> None:
    # Strongly connected components of the import graph (Tarjan): any with two or more
    # modules is a cycle, however long.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    assert not cycles, cycles


def test_no_function_is_longer_than_a_screenful_or_two() -> None:
    long = sorted(
        f"{path.relative_to(SRC)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for path in MODULES.values()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    )
    assert not long, long


def test_the_manifest_file_name_is_known_in_one_module() -> None:
    holders = sorted(
        str(path.relative_to(SRC))
        for path in MODULES.values()
        if '"manifest.json"' in path.read_text(encoding="utf-8")
    )
    assert holders == ["boldhub/privacy/package.py"], holders


def test_every_exception_class_is_in_the_errors_module() -> None:
    """errors.py draws the tree of the package's exceptions; a class defined elsewhere
    would be missing from it."""
    elsewhere = sorted(
        f"{path.relative_to(SRC)}: {node.name}"
        for name, path in MODULES.items()
        if name != "boldhub.errors"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef)
        and any(
            (isinstance(b, ast.Name) and (b.id.endswith(("Error", "Exception")) or b.id in _OURS))
            or (isinstance(b, ast.Attribute) and b.attr.endswith(("Error", "Exception")))
            for b in node.bases
        )
    )
    assert not elsewhere, elsewhere


_OURS = {"UserError", "PackageError", "SchemaError", "InputFileError", "HubStateError"}


def _names_used(path: Path) -> set[str]:
    return {
        node.id if isinstance(node, ast.Name) else node.name
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Name | ast.alias)
        for _ in [0]
        if not isinstance(node, ast.alias) or node.asname is None
    }


def test_the_linkage_side_never_reads_attributes_nor_the_analysis_side_encodings() -> None:
    # Separation of functions (hub/analysis.py): the linkage side reads encodings and
    # writes person keys; the analysis side joins person keys to attributes.
    linkage_side = [m for m in MODULES if m.startswith("boldhub.linkage")]
    linkage_side += ["boldhub.hub.linking"]
    analysis_side = ["boldhub.hub.analysis", "boldhub.hub.releases"]
    analysis_side += [m for m in MODULES if m.startswith("boldhub.outcomes")]
    wrong = [m for m in linkage_side if "ATTRIBUTES_DIR" in _names_used(MODULES[m])]
    wrong += [m for m in analysis_side if "ENCODINGS_DIR" in _names_used(MODULES[m])]
    assert not wrong, wrong
