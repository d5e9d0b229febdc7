"""Architecture rules that code review alone would let slip."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def python_files(folder: str) -> list[Path]:
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files, f"no Python files under {folder}"
    return files


@pytest.mark.parametrize("path", python_files("core"), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_never_imports_streamlit(path):
    assert "streamlit" not in imported_modules(path)


@pytest.mark.parametrize("path", [ROOT / "app.py", *python_files("views")], ids=lambda p: p.name)
def test_pages_hold_no_database_or_http_code(path):
    forbidden = {"duckdb", "sqlalchemy", "httpx", "requests", "boto3", "psycopg"}
    assert not imported_modules(path) & forbidden


def test_no_unsafe_html_anywhere():
    for folder in ("views", "components"):
        for path in python_files(folder):
            assert "unsafe_allow_html" not in path.read_text(encoding="utf-8"), path
