"""Rows for the earlier dispatcher's test instruments added since 0002, and empty-development's own kind.

An existing row of the same name is left as the admin set it; empty-development
moves to its own kind only while its row is still as 0002 seeded it.
"""

from django.db import migrations

ADDED = (
    {
        "name": "empty-with-conf",
        "kind": "empty-with-conf",
        "settings": {"products_url": ""},
        "description": "Its dummy product shows the products_url set in its settings (edit them here).",
    },
    {
        "name": "empty-async-return-progress",
        "kind": "empty-async-return-progress",
        "description": "A simulated backend answering its p; return_progress is not served yet.",
    },
    {
        "name": "empty-with-posix-path",
        "kind": "empty-with-posix-path",
        "description": "file_dummy with a file parameter given as a URL or a path.",
    },
)


def forward(apps, schema_editor):
    Instrument = apps.get_model("instruments", "Instrument")
    for spec in ADDED:
        fields = {key: value for key, value in spec.items() if key != "name"}
        Instrument.objects.get_or_create(name=spec["name"], defaults=fields)
    Instrument.objects.filter(name="empty-development", kind="empty", settings={}).update(
        kind="empty-development", description="Like empty (fewer products), for workflow developers only."
    )


def backward(apps, schema_editor):
    Instrument = apps.get_model("instruments", "Instrument")
    Instrument.objects.filter(name__in=[spec["name"] for spec in ADDED]).delete()
    Instrument.objects.filter(name="empty-development", kind="empty-development").update(kind="empty")


class Migration(migrations.Migration):
    dependencies = [("instruments", "0002_builtin_instruments")]

    operations = [migrations.RunPython(forward, backward)]
