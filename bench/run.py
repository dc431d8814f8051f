"""Throughput of the dispatcher's hot endpoints beside a no-op Django view.

Starts the service as `make run` does (gunicorn with 2 workers, 2 threads each,
plus the django-q2 cluster) on a fresh data directory, drives it with `wrk` on
loopback, and prints requests per second and the ratio to the no-op view
measured in rounds interleaved with each scenario. Exits 1 when a target is
missed, any request failed, or a submission run made fewer new jobs than it
had answers.

    .venv/bin/python bench/run.py [--seconds 8] [--connections 16] [--rounds 3]

Uses DISPATCHER_DATABASE_URL / DISPATCHER_REDIS_URL when set (else SQLite + ORM
broker); the jobs it makes stay in that database.
Needs `wrk` (Debian package wrk).
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"submissions": 0.25, "polls": 0.5, "instr-list": 0.6}
_runs = itertools.count(1)


def main() -> int:
    options = _arguments()
    if not shutil.which("wrk"):
        print("bench needs wrk: apt-get install wrk", file=sys.stderr)
        return 2
    data_dir = Path(tempfile.mkdtemp(prefix="dispatcher-bench-"))
    port = _free_port()
    env = _environment(data_dir, port)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    service = subprocess.Popen(
        [sys.executable, "manage.py", "serve"],
        cwd=ROOT,
        env=env,
        stdout=(data_dir / "service.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base)
        done_job = _a_done_job(base)
        return _report(_measure(base, done_job, options), options)
    finally:
        os.killpg(service.pid, signal.SIGTERM)
        service.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=8, help="duration of each wrk run")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs of each; the best counts")
    return parser.parse_args()


def _environment(data_dir: Path, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="dispatcher_site.settings",
        DISPATCHER_DATA_DIR=str(data_dir),
        DISPATCHER_BIND=f"127.0.0.1:{port}",
        DISPATCHER_WEB_WORKERS="2",
        DISPATCHER_BENCH_ENDPOINTS="1",
        DISPATCHER_LOG_LEVEL="WARNING",
        DISPATCHER_ACCESS_LOG="0",
    )
    return env


@dataclass(frozen=True)
class Run:
    rate: float  # requests per second
    requests: int
    errors: str


def _measure(base: str, done_job: dict, options) -> dict[str, tuple[float, float, str]]:
    poll = (
        f"{base}/run_analysis?instrument=empty&product_type=dummy&query_type=Dummy"
        f"&query_status=done&job_id={done_job['job_id']}&session_id={done_job['session_id']}"
    )
    scenarios = {
        "submissions": (f"{base}/run_analysis", "submit.lua"),
        "polls": (poll, "errors.lua"),
        "instr-list": (f"{base}/api/instr-list", "errors.lua"),
    }
    results = {}
    for name, (url, script) in scenarios.items():
        # Warm both up: the first requests of a worker import and cache what they use.
        _wrk(url, script, 2, options)
        _wait_queue_drained(base)
        _wrk(f"{base}/bench/noop", "errors.lua", 2, options)
        # Interleaved rounds, best of each: which gunicorn worker accepts which
        # keep-alive connection is luck, and one unlucky spread halves a figure.
        noop_runs, runs = [], []
        for _ in range(options.rounds):
            noop_runs.append(_wrk(f"{base}/bench/noop", "errors.lua", options.seconds, options))
            jobs_before = _service_counts(base)["jobs"]
            run = _wrk(url, script, options.seconds, options)
            if name == "submissions":
                run = _checked_new_jobs(run, _service_counts(base)["jobs"] - jobs_before)
            runs.append(run)
            _wait_queue_drained(base)
        errors = _join(*(run.errors for run in noop_runs + runs))
        results[name] = (max(run.rate for run in runs), max(run.rate for run in noop_runs), errors)
    return results


def _checked_new_jobs(run: Run, new_jobs: int) -> Run:
    """Every submission must have made a job of its own, or the run measured joins."""
    if new_jobs >= run.requests:
        return run
    return replace(run, errors=_join(run.errors, f"{run.requests} submissions made only {new_jobs} new jobs"))


def _wrk(url: str, script: str, seconds: int, options) -> Run:
    # A fresh tag per run: submit.lua makes its jobs' names from it.
    tag = f"run{next(_runs)}-{os.getpid()}-{time.time_ns()}"
    command = ["wrk", "-t2", f"-c{options.connections}", f"-d{seconds}s", "--latency", "-s", script, url, "--", tag]
    output = subprocess.run(command, cwd=ROOT / "bench", capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    requests_done = int(re.search(r"(\d+) requests in", output).group(1))
    errors = []
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        errors.append(f"{non_2xx.group(1)} non-2xx")
    counted = re.search(r"errors: connect=(\d+) read=(\d+) write=(\d+) status=(\d+) timeout=(\d+)", output)
    if counted and any(int(n) for n in counted.groups()):
        errors.append(counted.group(0))
    return Run(rate, requests_done, ", ".join(errors))


def _report(results: dict[str, tuple[float, float, str]], options) -> int:
    print(f"wrk: 2 threads, {options.connections} connections, best of {options.rounds} runs of {options.seconds} s")
    print("service: gunicorn 2 workers x 2 threads, django-q2 cluster with 2 workers")
    print(f"{'scenario':<14}{'req/s':>10}{'no-op req/s':>14}{'ratio':>8}{'target':>8}  errors")
    failed = False
    for name, (rate, noop_rate, errors) in results.items():
        ratio = rate / noop_rate if noop_rate else 0.0
        ok = ratio >= TARGETS[name] and not errors
        failed |= not ok
        print(f"{name:<14}{rate:>10.0f}{noop_rate:>14.0f}{ratio:>8.2f}{TARGETS[name]:>8.2f}  {errors or 'none'}")
    print("all targets met" if not failed else "TARGET MISSED")
    return 1 if failed else 0


def _a_done_job(base: str) -> dict:
    params = {"instrument": "empty", "product_type": "dummy", "query_type": "Dummy", "session_id": "BENCHPOLL0000000"}
    answer = requests.get(f"{base}/run_analysis", params={**params, "query_status": "new"}, timeout=30).json()
    job_id = answer["job_monitor"]["job_id"]
    deadline = time.monotonic() + 60
    while answer["query_status"] != "done" and time.monotonic() < deadline:
        time.sleep(0.3)
        answer = requests.get(
            f"{base}/run_analysis", params={**params, "query_status": "submitted", "job_id": job_id}, timeout=30
        ).json()
    if answer["query_status"] != "done":
        raise RuntimeError(f"the poll target never finished: {answer['exit_status']}")
    return {"job_id": job_id, "session_id": params["session_id"]}


def _wait_queue_drained(base: str, timeout_s: float = 300) -> None:
    """Let the workers finish what a scenario queued, so it does not load the next one."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _service_counts(base)["queued"] == 0:
            return
        time.sleep(1)


def _service_counts(base: str) -> dict[str, int]:
    return requests.get(f"{base}/bench/queue", timeout=10).json()


def _wait_healthy(base: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):  # workers still booting
            pass
        time.sleep(0.3)
    raise RuntimeError("the service never became healthy")


def _free_port() -> int:
    for port in range(23000, 32000):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def _join(*parts: str) -> str:
    return "; ".join(part for part in parts if part)


if __name__ == "__main__":
    sys.exit(main())
