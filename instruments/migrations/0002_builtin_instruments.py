"""Create the built-in instruments. An existing row of the same name is left as the admin set it."""

from django.db import migrations

from instruments.builtin import BUILTIN_INSTRUMENTS

# Seeded from the same list the registry offers when no row exists.
BUILTIN = BUILTIN_INSTRUMENTS


def create(apps, schema_editor):
    Instrument = apps.get_model("instruments", "Instrument")
    for spec in BUILTIN:
        fields = {key: value for key, value in spec.items() if key != "name"}
        Instrument.objects.get_or_create(name=spec["name"], defaults=fields)


def remove(apps, schema_editor):
    Instrument = apps.get_model("instruments", "Instrument")
    Instrument.objects.filter(name__in=[spec["name"] for spec in BUILTIN]).delete()


class Migration(migrations.Migration):
    dependencies = [("instruments", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
