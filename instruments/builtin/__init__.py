"""The built-in instruments, used by every test and demo.

Kept free of Django and heavy imports: the simulated backend runs this package
in a bare ``python -m`` process.
"""

# The built-in instruments: always offered (rows of the same name, seeded by a data
# migration and editable in the admin, override them; disable a row to hide one).
BUILTIN_INSTRUMENTS: tuple[dict, ...] = (
    {"name": "empty", "kind": "empty", "description": "No backend: dummy, echo, numerical and failing products."},
    {
        "name": "empty-async",
        "kind": "empty-async",
        "description": "A simulated backend that reports through call-backs.",
    },
    {
        "name": "empty-semi-async",
        "kind": "empty-semi-async",
        "description": "Done p seconds after it starts, by polling.",
    },
    {
        "name": "empty-development",
        "kind": "empty",
        "roles": ["oda workflow developer"],
        "description": "Like empty, for workflow developers only.",
    },
    {"name": "demo-lightcurve", "kind": "demo-lightcurve", "description": "A simulated light curve of any source."},
)
