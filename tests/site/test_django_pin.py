"""Django stays on 5.2.x: jobs.sql and the SQLite backend lean on its internals.

Moving to another minor version means reading what those two modules use
(their docstrings list it) against the new Django, and measuring again
(bench/run.py --variants shipped,plain).
"""

import re
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parents[2]


def test_the_running_django_is_5_2():
    assert django.VERSION[:2] == (5, 2)


def test_every_requirements_file_that_names_django_pins_5_2():
    pins = {}
    for path in [*ROOT.glob("requirements*.txt"), *(ROOT / "tests").glob("*requirements*.txt")]:
        for line in path.read_text().splitlines():
            requirement = line.split("#")[0].strip()
            if re.match(r"django(\s|[<>=!~\[;]|$)", requirement, re.IGNORECASE):
                pins[path.name] = requirement
    assert pins == {"requirements.txt": pins.get("requirements.txt")}
    assert re.fullmatch(r"Django==5\.2\.\d+", pins["requirements.txt"])
