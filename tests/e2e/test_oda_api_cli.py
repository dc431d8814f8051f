"""The real oda-api command line (PyPI 1.3.5) against the live service: ``oda-api get`` for
every built-in product of the earlier dispatcher's test instruments, and ``oda-api inspect``.

Each run is a subprocess, as a user types it; the test reads its exit status and what it
printed (the client logs to stderr).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from oda_api.api import DispatcherAPI

from dispatcher_site.tokens import token_issue
from jobs.models import Job

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CLI = str(Path(sys.executable).with_name("oda-api"))
ROLES = ["general", "unige-hpc-full", "oda workflow developer"]

# (instrument, product, arguments): every built-in product that ends done.
PRODUCTS = [
    ("empty", "dummy", ["product_type=Dummy"]),
    ("empty", "numerical", ["p=5"]),
    ("empty", "file_dummy", ["dummy_file=https://example.org/data/events.fits"]),
    ("empty", "parametrical", ["sb=20"]),
    ("empty", "echo", ["ang=2", "energ=3"]),
    ("empty", "restricted", ["bounded_int_par=3", "string_select_par=eggs"]),
    ("empty", "structured", ['struct={"a": [3, 4]}']),
    ("empty", "optional", ["optional_def_none=1.5"]),
    ("empty-development", "dummy", ["product_type=Dummy"]),
    ("empty-development", "numerical", ["p=60"]),
    ("empty-development", "parametrical", []),
    ("empty-development", "echo", []),
    ("empty-async", "dummy", []),
    ("empty-async", "dummy-log-submit", []),
    ("empty-async", "numerical", ["string_like_name=mine"]),
    ("empty-semi-async", "dummy", []),
    ("empty-semi-async", "numerical", []),
    ("empty-with-conf", "dummy", []),
    ("empty-async-return-progress", "dummy", ["p=7"]),
    ("empty-with-posix-path", "file_dummy", ["dummy_POSIX_file=/data/events.fits"]),
    ("demo-lightcurve", "lightcurve", ["src_name=Crab", "T1=2020-01-01T00:00:00", "T2=2020-01-01T01:00:00"]),
]
IMAGES = {"numerical", "file_dummy"}


def oda_api(live_service, tmp_path: Path, *args: str, token: str | None = None) -> subprocess.CompletedProcess:
    """``oda-api -u URL ARGS`` as a user runs it, in a clean home (no token file but ours)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ODA_", "DISPATCHER_"))}
    env.update(HOME=str(tmp_path), PYTHONUNBUFFERED="1")
    if token:
        env["ODA_TOKEN"] = token
    return subprocess.run(
        [CLI, "-u", live_service.url, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def printed(run: subprocess.CompletedProcess) -> str:
    return run.stdout + run.stderr


@pytest.mark.parametrize(("instrument", "product", "arguments"), PRODUCTS, ids=[f"{i}/{p}" for i, p, _ in PRODUCTS])
def test_oda_api_get_gives_every_builtin_product(live_service, tmp_path, instrument, product, arguments):
    token = token_issue(email="cli@example.org", roles=ROLES)
    argv = ["get", "-i", instrument, "-p", product, *(a for argument in arguments for a in ("-a", argument))]
    run = oda_api(live_service, tmp_path, *argv, token=token)
    output = printed(run)
    assert run.returncode == 0, output[-3000:]
    assert "got product:" in output
    assert "Traceback" not in output
    # No warning that the parameter names could not be checked, even for a restricted instrument.
    assert "parameter check not available" not in output
    assert "is not among valid ones" not in output
    if product in IMAGES:
        assert "user_image" in output and ">> [[0. 0. 0." in output
    job = Job.objects.get(instrument=instrument, product_type=product, owner="cli@example.org")
    assert job.status == "done"


def test_oda_api_get_of_the_failing_product_exits_with_its_message(live_service, tmp_path):
    run = oda_api(
        live_service,
        tmp_path,
        "get",
        "-i",
        "empty",
        "-p",
        "failing",
        token=token_issue(email="f@example.org", roles=[]),
    )
    assert run.returncode != 0
    assert "always fails" in printed(run)


def test_oda_api_get_without_the_role_prints_the_earlier_refusal(live_service, tmp_path):
    token = token_issue(email="general@example.org", roles=["general"])
    run = oda_api(live_service, tmp_path, "get", "-i", "empty", "-p", "numerical", "-a", "p=55", token=token)
    assert run.returncode != 0
    assert "You are lacking all of the following roles:" in printed(run)
    assert "unige-hpc-full role is needed for p>50 as well" in printed(run)


@pytest.fixture
def two_jobs(live_service):
    """A job of alice's (done, notified by nobody) and one of bob's, through the real client."""
    for email in ("alice@example.org", "bob@example.org"):
        api = DispatcherAPI(url=live_service.url, wait=True)
        token = token_issue(email=email, roles=["general"])
        api.get_product(instrument="empty", product="echo", product_type="Real", token=token, silent=True)
    return {job.owner: job.job_id for job in Job.objects.filter(product_type="echo")}


def test_oda_api_inspect_lists_the_jobs(live_service, tmp_path, two_jobs):
    manager = token_issue(email="staff@example.org", roles=["job manager"])
    run = oda_api(live_service, tmp_path, "inspect", token=manager)
    output = printed(run)
    assert run.returncode == 0, output[-3000:]
    for job_id in two_jobs.values():
        assert f"job_id: {job_id}" in output
    assert output.count("Request completed successfully") == 2
    assert (tmp_path / "dispatcher-state.json").exists()  # what -l reads back
    again = oda_api(live_service, tmp_path, "inspect", "-l", token=manager)
    assert again.returncode == 0 and printed(again).count("Request completed successfully") == 2


def test_oda_api_inspect_by_job_id_prefix_and_grouped(live_service, tmp_path, two_jobs):
    manager = token_issue(email="staff@example.org", roles=["job manager"])
    alices = two_jobs["alice@example.org"]
    run = oda_api(live_service, tmp_path, "inspect", "-j", alices[:8], "--group-by-job", token=manager)
    output = printed(run)
    assert run.returncode == 0, output[-3000:]
    assert f"job_id: {alices}" in output
    assert two_jobs["bob@example.org"] not in output
    session_id = Job.objects.get(job_id=alices).session_id
    assert f"session_id: {session_id} - request completed successfully" in output


def test_inspect_state_of_the_client_reads_our_records(live_service, two_jobs, monkeypatch):
    monkeypatch.setenv("ODA_TOKEN", token_issue(email="staff@example.org", roles=["job manager"]))
    state = DispatcherAPI(url=live_service.url).inspect_state(job_id=two_jobs["bob@example.org"][:8])
    (record,) = state["records"]
    assert record["job_id"] == two_jobs["bob@example.org"] and record["request_completed"] is True
    assert record["analysis_parameters"]["email_history"] == [] and record["token_expired"] is False
    assert record["finished"] >= record["created"]
