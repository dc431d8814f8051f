"""The import rules of docs/architecture.md, checked on the source: a forbidden import fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# (package, what it must never import, why)
RULES = [
    ("jobs", "notifications", "notifications subscribe to job events; jobs never know them"),
    ("instruments", "jobs", "the plugin framework knows nothing of the registry that uses it"),
    ("instruments", "notifications", "the plugin framework knows nothing of notices"),
    ("jobs/services", "jobs.interfaces", "the application layer serves every interface and knows none"),
    ("jobs/access.py", "jobs.interfaces", "the access gate serves every interface and knows none"),
    ("jobs/services", "rest_framework", "the application layer is not DRF's"),
    ("jobs/access.py", "rest_framework", "the access gate is not DRF's"),
]


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def sources(place: str) -> list[Path]:
    target = ROOT / place
    if target.is_file():
        return [target]
    return [path for path in target.rglob("*.py") if "migrations" not in path.parts]


@pytest.mark.parametrize(("place", "forbidden", "why"), RULES, ids=[f"{p}-{f}" for p, f, _ in RULES])
def test_a_layer_never_imports_what_it_must_not(place, forbidden, why):
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sources(place)
        for module in sorted(imported_modules(path))
        if module == forbidden or module.startswith(f"{forbidden}.")
    ]
    assert not offenders, f"{why}: {offenders}"


def test_the_rules_see_an_import_inside_a_function(tmp_path):
    # The check itself must be able to fail: a lazy import counts as much as a top-level one.
    module = tmp_path / "sneaky.py"
    module.write_text("def f():\n    from notifications.models import Delivery\n    return Delivery\n")
    assert "notifications.models" in imported_modules(module)


def test_no_view_catches_our_errors_itself():
    """Each interface renders ServiceErrors in one place (its renderer), never in a view."""
    assert len([path for path in sources("jobs/interfaces") if path.name == "views.py"]) == 4
    catching = []
    views = [path for path in sources("jobs/interfaces") if path.name == "views.py"]
    for path in [*views, ROOT / "dispatcher_site" / "token_views.py"]:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                names = {n.id for n in ast.walk(node.type) if isinstance(n, ast.Name)}
                names |= {n.attr for n in ast.walk(node.type) if isinstance(n, ast.Attribute)}
                domain = {"ServiceError", "AuthError", "JobError", "InstrumentError", "ParameterError"}
                if names & domain:
                    catching.append(f"{path.relative_to(ROOT)}:{node.lineno} catches {sorted(names & domain)}")
    assert not catching, catching
