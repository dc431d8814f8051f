from django.db import migrations

NAME = "empty-async-return-progress"
BEFORE = "A simulated backend answering its p; return_progress is not served yet."
AFTER = "A simulated backend answering its p; return_progress=True shows its progress page."


def describe(apps, schema_editor, *, old: str, new: str) -> None:
    """Only a description nobody edited changes (an operator's own text stays)."""
    Instrument = apps.get_model("instruments", "Instrument")
    Instrument.objects.filter(name=NAME, description=old).update(description=new)


class Migration(migrations.Migration):
    dependencies = [("instruments", "0003_earlier_test_instruments")]

    operations = [
        migrations.RunPython(
            lambda apps, editor: describe(apps, editor, old=BEFORE, new=AFTER),
            lambda apps, editor: describe(apps, editor, old=AFTER, new=BEFORE),
        )
    ]
