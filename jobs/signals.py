"""What the jobs app tells the rest of the project.

``notifications`` subscribes to these in its AppConfig, so ``jobs`` never
imports it. Sent after the transaction that wrote the event commits.
"""

from django.dispatch import Signal

# Sent with ``event`` (a JobEvent) for every status change and progress report.
job_event_recorded = Signal()
