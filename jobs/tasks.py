"""django-q2 task entry points: each parses its arguments and calls one service."""

from __future__ import annotations

from typing import Any

from jobs import execution


def job_run_task(job_id: str) -> None:
    execution.job_execute(job_id=job_id)


def job_poll_task(job_id: str) -> None:
    execution.job_poll(job_id=job_id)


def job_complete_task(job_id: str, report: dict[str, Any]) -> None:
    execution.job_complete_from_report(job_id=job_id, report=report)
