"""The built-in instruments, used by every test and demo.

Kept free of Django and heavy imports: the simulated backend runs this package
in a bare ``python -m`` process.
"""

# The built-in instruments: always offered (rows of the same name, seeded by a data
# migration and editable in the admin, override them; disable a row to hide one).
BUILTIN_INSTRUMENTS: tuple[dict, ...] = (
    {"name": "empty", "kind": "empty", "description": "No backend: the earlier dispatcher's test products."},
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
        "kind": "empty-development",
        "roles": ["oda workflow developer"],
        "description": "Like empty (fewer products), for workflow developers only.",
    },
    {
        "name": "empty-with-conf",
        "kind": "empty-with-conf",
        "settings": {"products_url": ""},
        "description": "Its dummy product shows the products_url set in its settings (edit them here).",
    },
    {
        "name": "empty-async-return-progress",
        "kind": "empty-async-return-progress",
        "description": "A simulated backend answering its p; return_progress=True shows its progress page.",
    },
    {
        "name": "empty-with-posix-path",
        "kind": "empty-with-posix-path",
        "description": "file_dummy with a file parameter given as a URL or a path.",
    },
    {"name": "demo-lightcurve", "kind": "demo-lightcurve", "description": "A simulated light curve of any source."},
)
