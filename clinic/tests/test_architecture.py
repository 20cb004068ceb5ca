"""The layering of docs/architecture.md, checked on the source itself.

Apps depend one way: supplies → notes → appointments → treatments →
patients → clinic. Every `import` and `from … import` is read with `ast`,
module level and inside functions alike, so a lazy import cannot hide an
upward dependency. Two kinds of module sit outside the layers:

- the project's wiring in `clinic/` (URLconf, the API router, the role
  dashboards, the demo seeding command), which assembles every app and is
  imported by none;
- tests, which build whole clinics to exercise a layer.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("clinic", "patients", "treatments", "appointments", "notes", "supplies", "homecare")
WIRING = {
    "clinic.urls",
    "clinic.api_urls",
    "clinic.dashboard",
    "clinic.views",
    "clinic.management.commands.seed_demo",
}


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_product(module: str) -> bool:
    parts = module.split(".")
    return parts[0] in LAYERS and "tests" not in parts and "migrations" not in parts


def app_modules(root: Path = ROOT) -> dict[str, Path]:
    found = {}
    for app in LAYERS:
        for path in (root / app).rglob("*.py") if (root / app).is_dir() else ():
            name = module_name(path, root)
            if is_product(name):
                found[name] = path
    return found


def imports_of(path: Path, known: set[str]) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import in the file, resolved to a
    known module where `from package import module` names one."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                yield (candidate if candidate in known else node.module), node.lineno


def layer_of(module: str) -> int | None:
    top = module.split(".")[0]
    return LAYERS.index(top) if top in LAYERS else None


def upward_imports(root: Path = ROOT) -> list[str]:
    modules = app_modules(root)
    problems = []
    for name, path in sorted(modules.items()):
        if name in WIRING:
            continue
        own = layer_of(name)
        for target, line in imports_of(path, set(modules)):
            theirs = layer_of(target)
            if target in WIRING and not name.startswith("clinic."):
                problems.append(f"{path.relative_to(root)}:{line} imports the wiring module {target}")
            elif theirs is not None and theirs > own:
                problems.append(f"{path.relative_to(root)}:{line} imports {target} (a layer above {name})")
    return problems


def import_cycles(root: Path = ROOT) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    modules = app_modules(root)
    graph = {
        name: {t for t, _ in imports_of(path, set(modules)) if t in modules and t != name}
        for name, path in modules.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_no_module_imports_a_layer_above_it():
    assert upward_imports() == []


def test_no_import_cycle_among_app_modules():
    assert import_cycles() == []


def test_every_app_is_a_known_layer():
    apps = {p.parent.name for p in ROOT.glob("*/apps.py")}
    assert apps <= set(LAYERS), f"place {apps - set(LAYERS)} in LAYERS (docs/architecture.md)"


@pytest.fixture
def fake_project(tmp_path: Path) -> Path:
    for app in ("clinic", "treatments", "appointments"):
        (tmp_path / app).mkdir()
        (tmp_path / app / "__init__.py").write_text("")
    (tmp_path / "appointments" / "models.py").write_text("from treatments import models\n")
    (tmp_path / "treatments" / "models.py").write_text("from clinic import models\n")
    (tmp_path / "clinic" / "models.py").write_text("")
    return tmp_path


def test_the_check_sees_a_lazy_upward_import(fake_project: Path):
    assert upward_imports(fake_project) == []
    (fake_project / "treatments" / "services.py").write_text(
        "def close():\n    from appointments.models import Appointment\n"
    )
    assert upward_imports(fake_project) == [
        "treatments/services.py:2 imports appointments.models (a layer above treatments.services)"
    ]


def test_the_check_sees_a_cycle(fake_project: Path):
    assert import_cycles(fake_project) == []
    (fake_project / "clinic" / "a.py").write_text("import clinic.b\n")
    (fake_project / "clinic" / "b.py").write_text("def f():\n    from clinic import a\n")
    assert import_cycles(fake_project) == [["clinic.a", "clinic.b"]]


def test_tests_and_wiring_are_outside_the_layers(fake_project: Path):
    (fake_project / "clinic" / "tests").mkdir()
    (fake_project / "clinic" / "tests" / "test_x.py").write_text("import appointments.models\n")
    (fake_project / "clinic" / "urls.py").write_text("import appointments.models\n")
    assert upward_imports(fake_project) == []
    (fake_project / "treatments" / "views.py").write_text("from clinic import urls\n")
    assert upward_imports(fake_project) == ["treatments/views.py:1 imports the wiring module clinic.urls"]
