"""What `make install` and `make test` rely on: the lock matches pyproject.toml, every
package the code imports is declared, and no test can pass by skipping."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions

from tests.conftest import ROOT

PACKAGES = ("index", "search", "api")
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(requirements: list[str]) -> set[str]:
    return {_normalise(re.match(r"[A-Za-z0-9._-]+", req).group()) for req in requirements}


def _imported_modules(folders) -> set[str]:
    """Top-level names of every module imported (absolute imports) under `folders`."""
    names: set[str] = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - set(PACKAGES)


def _distributions(modules: set[str]) -> set[str]:
    found = packages_distributions()
    missing = sorted(m for m in modules if m not in found)
    assert not missing, f"imported but installed by no distribution: {missing}"
    return {_normalise(dist) for m in modules for dist in found[m]}


def test_the_lock_files_match_pyproject():
    result = subprocess.run(
        [
            sys.executable,
            "scripts/lockfile.py",
            "check",
            "requirements/runtime.txt",
            "requirements/dev.txt",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_every_package_the_code_imports_is_a_declared_dependency():
    imported = _distributions(_imported_modules(PACKAGES))
    undeclared = imported - _declared(PROJECT["dependencies"])
    assert not undeclared, f"add to [project].dependencies in pyproject.toml: {undeclared}"


def test_every_declared_dependency_is_imported():
    unused = _declared(PROJECT["dependencies"]) - _distributions(_imported_modules(PACKAGES))
    assert not unused, f"declared in pyproject.toml but imported nowhere: {unused}"


def test_the_test_tools_are_installed():
    """`make test` installs them (scripts/system-deps); run through pytest alone, say how."""
    for tool, package in (("chromium", "chromium"), ("searchd", "sphinxsearch")):
        assert shutil.which(tool), (
            f"{tool} is missing: `make test-tools` (apt-get install {package})"
        )


def test_a_skipped_test_fails(tmp_path):
    (tmp_path / "test_skips.py").write_text(
        "import pytest\n\n"
        "def test_needs_a_tool():\n"
        "    pytest.skip('the tool is missing')\n\n"
        "@pytest.mark.skipif(True, reason='never here')\n"
        "def test_marked():\n"
        "    pass\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.no_skips",
            "-p",
            "no:cacheprovider",
            "-q",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1, result.stdout
    # A skip in the test is a failure; a skip marker acts in setup, so an error.
    assert "1 failed, 1 error" in result.stdout and "skipped" not in result.stdout.splitlines()[-1]
    assert "the tool is missing" in result.stdout and "never here" in result.stdout


def _system_deps(tmp_path, *needs: str, uid: int, python: str = sys.executable):
    """Run scripts/system-deps with a recording `apt-get` and an `id` saying `uid`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    calls = tmp_path / "apt-calls"
    (bin_dir / "apt-get").write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    (bin_dir / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "PYTHON": python}
    result = subprocess.run(
        ["scripts/system-deps", *needs], cwd=ROOT, env=env, capture_output=True, text=True
    )
    return result, calls.read_text().splitlines() if calls.exists() else []


def test_system_deps_asks_apt_only_for_what_is_missing(tmp_path):
    result, calls = _system_deps(tmp_path, "venv", "chromium", "searchd", uid=0)
    assert result.returncode == 0 and calls == []  # all present: not even `apt-get update`
    result, calls = _system_deps(tmp_path, "venv", "chromium", uid=0, python="/nonexistent")
    assert result.returncode == 0
    assert calls == ["update -qq", "install -y -qq python3-venv"]


def test_system_deps_without_root_says_what_to_install(tmp_path):
    result, calls = _system_deps(tmp_path, "venv", uid=1000, python="/nonexistent")
    assert result.returncode == 1 and calls == []
    assert result.stderr.strip().splitlines() == [
        "Sift needs these system packages: python3-venv. Install them (e.g. sudo apt-get "
        "install -y python3-venv) and run make again."
    ]
