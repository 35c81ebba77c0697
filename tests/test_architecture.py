"""The layering the code relies on: imports point one way (screenrecording -> certificates -> keystore -> portal),
and certificate parsing is plain code over cryptography, with no Django."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Each package and the packages it must never import.
FORBIDDEN = {
    "portal": ("keystore", "certificates", "screenrecording"),
    "keystore": ("certificates", "screenrecording"),
    "certificates": ("screenrecording",),
}
PURE_MODULES = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "certificates" / "x509").glob("*.py"))


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in imported_modules(path)
        if name.split(".")[0] in FORBIDDEN[package]
    ]
    assert offenders == []


@pytest.mark.parametrize("module", PURE_MODULES)
def test_certificate_parsing_does_not_use_django(module: str) -> None:
    assert not [name for name in imported_modules(ROOT / module) if name.split(".")[0] == "django"]
