"""Data flows one way: index/ -> search/ -> api/. Imports are checked from the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "index": {"search", "api", "flask", "marshmallow"},
    "search": {"api", "flask", "marshmallow", "os.environ"},
    "api": {"whoosh"},
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_downstream(package):
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top in FORBIDDEN[package] or module in FORBIDDEN[package]:
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert not offenders


def test_search_reads_no_environment():
    for path in sorted((ROOT / "search").rglob("*.py")):
        assert "os.environ" not in path.read_text("utf-8"), path


# Whoosh's file format and private internals: only index/codec/ may touch them.
CODEC = ROOT / "index" / "codec"
WHOOSH_PRIVATE_MODULES = (
    "whoosh.codec",
    "whoosh.filedb",
    "whoosh.system",
    "whoosh.util.numeric",
    "whoosh.util.numlists",
    "whoosh.writing",
)
PACKAGES = ("index", "search", "api")
# Public API with a leading underscore (namedtuple's), not anyone's internals.
UNDERSCORED_PUBLIC = frozenset({"_replace", "_asdict", "_fields", "_make"})


def _sources(*, codec: bool):
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.is_relative_to(CODEC) == codec:
                yield path


def _own_names() -> set[str]:
    """Every name Sift defines outside the codec: functions, classes, assigned names and
    attributes (so a private name of Whoosh's is not one of them)."""
    names = set()
    for path in _sources(codec=False):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.alias):
                names.add(node.asname or node.name.split(".")[-1])
    return names


def test_only_the_codec_imports_whoosh_internals():
    offenders = []
    for path in _sources(codec=False):
        for module in imported_modules(path):
            if module.startswith(WHOOSH_PRIVATE_MODULES):
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert not offenders


def test_only_the_codec_reads_private_attributes_of_others():
    """`x._name` outside index/codec/ must name something Sift defines, never Whoosh's."""
    own = _own_names() | UNDERSCORED_PUBLIC
    offenders = []
    for path in _sources(codec=False):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Attribute):
                name = node.attr
            elif (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) in ("getattr", "hasattr")
                and len(node.args) > 1
                and isinstance(node.args[1], ast.Constant)
            ):
                name = str(node.args[1].value)
            else:
                continue
            if name.startswith("_") and not name.startswith("__") and name not in own:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} reads .{name}")
    assert not offenders


def test_the_codec_refuses_another_whoosh_release():
    source = (CODEC / "__init__.py").read_text("utf-8")
    assert "WHOOSH_VERSION" in source and "versionstring" in source
