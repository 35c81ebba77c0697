"""The layering the code relies on, as a reader meets it: imports point one way (the apps that assign or watch
certificates -> certificates -> keystore -> portal), those upper apps never import one another, code outside
keystore/ reaches the keystore through keystore.api alone, there is no import circle anywhere, and certificate
parsing is plain code over cryptography, with no Django. ``make lint`` checks the same rules with import-linter
(pyproject.toml)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ["portal", "keystore", "certificates", "ivr", "screenrecording", "expiry", "recordings", "lkm"]
UPPER = ("ivr", "screenrecording", "expiry", "recordings", "lkm")
# Each package and the packages it must never import.
FORBIDDEN = {
    "portal": ("keystore", "certificates", *UPPER),
    "keystore": ("certificates", *UPPER),
    "certificates": UPPER,
    **{app: tuple(other for other in UPPER if other != app) for app in UPPER},
}
PURE_MODULES = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "certificates" / "x509").glob("*.py"))


def source_files(package: str) -> list[Path]:
    return sorted(path for path in (ROOT / package).rglob("*.py") if "migrations" not in path.parts)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function, relative imports resolved."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # "from . import x" imports module x
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package: str) -> None:
    files = source_files(package)
    assert files, f"no Python files in {package}/"
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in imported_modules(path)
        if name.split(".")[0] in FORBIDDEN[package]
    ]
    assert offenders == []


@pytest.mark.parametrize("package", [*(app for app in APPS if app != "keystore"), "benchmarks"])
def test_only_keystore_api_is_imported_from_outside_the_keystore(package: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in source_files(package)
        for name in imported_modules(path)
        # "from keystore import api" also yields "keystore" itself, which loads no other keystore module.
        if name.split(".")[0] == "keystore" and name != "keystore" and name.split(".")[1] != "api"
    ]
    assert offenders == []


def test_there_is_no_import_circle() -> None:
    modules = {module_name(path): path for app in APPS for path in source_files(app)}
    assert {name.split(".")[0] for name in modules} == set(APPS)
    graph = {name: {m for m in imported_modules(path) if m in modules and m != name} for name, path in modules.items()}
    # Tarjan's strongly connected components: any component of more than one module is a circle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    assert circles == []


@pytest.mark.parametrize("module", PURE_MODULES)
def test_certificate_parsing_does_not_use_django(module: str) -> None:
    assert not [name for name in imported_modules(ROOT / module) if name.split(".")[0] == "django"]
