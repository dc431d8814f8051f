"""The commands' progress bar: redrawn in place on a terminal (a pseudo-terminal here), a line per tenth elsewhere."""

from __future__ import annotations

import io
import os
import pty
import select

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def _read_all(fd: int) -> bytes:
    chunks = []
    while select.select([fd], [], [], 0.2)[0]:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_on_a_terminal_the_bar_is_redrawn_on_one_line_without_error_styling(make_job):
    for _ in range(450):  # three batches of the purge: three redraws
        make_job(age_days=40)
    leader, follower = pty.openpty()
    terminal = os.fdopen(follower, "w", encoding="utf-8")
    try:
        call_command("purge_jobs", "--older-than", "30", stdout=io.StringIO(), stderr=terminal)
        terminal.flush()
        shown = _read_all(leader).decode()
    finally:
        terminal.close()
        os.close(leader)
    assert "450/450" in shown
    assert shown.count("\r") >= 3, shown  # redrawn in place
    # One line in all: the bar, closed by one newline (a pty turns \n into \r\n).
    assert shown.replace("\r\n", "\n").count("\n") == 1, repr(shown)
    assert "\x1b[31" not in shown and "\x1b[1;31" not in shown  # not styled as an error


def test_into_a_file_it_writes_a_line_per_tenth(make_job):
    for _ in range(450):
        make_job(age_days=40)
    err = io.StringIO()
    call_command("purge_jobs", "--older-than", "30", stdout=io.StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert lines == [" 44%  200/450 jobs", " 89%  400/450 jobs", "100%  450/450 jobs"]


def test_no_progress_hides_it(make_job):
    make_job(age_days=40)
    leader, follower = pty.openpty()
    terminal = os.fdopen(follower, "w", encoding="utf-8")
    try:
        call_command("purge_jobs", "--older-than", "30", "--no-progress", stdout=io.StringIO(), stderr=terminal)
        terminal.flush()
        shown = _read_all(leader)
    finally:
        terminal.close()
        os.close(leader)
    assert shown == b""
