"""Where the tests find the ODA ontology: the project publishes it, and it is not ours to copy.

It sits in the platform's shared folder (``shared/data/oda-ontology.ttl``) beside the
checkout, or above it when the checkout is nested deeper; ``DISPATCHER_TEST_ONTOLOGY``
names it anywhere else. A test that needs it fails, naming where it looked, when none is found.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RELATIVE = Path("shared") / "data" / "oda-ontology.ttl"


def oda_ontology_path() -> Path:
    named = os.environ.get("DISPATCHER_TEST_ONTOLOGY")
    candidates = [Path(named)] if named else [folder / RELATIVE for folder in ROOT.parents]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(candidate) for candidate in candidates)
    raise AssertionError(f"the ODA ontology was not found (looked at {looked}); set DISPATCHER_TEST_ONTOLOGY")
