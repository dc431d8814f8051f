"""jobs never imports notifications, not even inside a function: notifications subscribe and extend from their side."""

from __future__ import annotations

import ast
from pathlib import Path

import jobs


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.append((node.lineno, node.module or ""))
    return found


def test_jobs_never_imports_notifications():
    root = Path(jobs.__file__).parent
    offending = [
        f"{path.relative_to(root)}:{line} {module}"
        for path in sorted(root.rglob("*.py"))
        for line, module in imported_modules(ast.parse(path.read_text(), filename=str(path)))
        if module.split(".")[0] == "notifications"
    ]
    assert offending == []
