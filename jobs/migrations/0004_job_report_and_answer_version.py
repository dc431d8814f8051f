"""Job.updated_at meant three things; it becomes two explicit fields.

- last_report_at: the last sign of life of the job's run (the stale-job sweep's clock),
  taken from updated_at for existing jobs, which is what the sweep read until now;
- answer_version: the version of a job's answer (the answer cache's key).
"""

from django.db import migrations, models
from django.db.models import F


def keep_the_sweeps_clock(apps, schema_editor):
    Job = apps.get_model("jobs", "Job")
    Job.objects.update(last_report_at=F("updated_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0003_job_products"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="last_report_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="last report"),
        ),
        migrations.AddField(
            model_name="job",
            name="answer_version",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(keep_the_sweeps_clock, migrations.RunPython.noop),
        migrations.RemoveField(model_name="job", name="updated_at"),
    ]
