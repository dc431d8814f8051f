"""Throughput of the dispatcher's hot endpoints beside a no-op Django view.

Starts the service as `make run` does (gunicorn with 2 workers, 2 threads each,
plus the django-q2 cluster) on a fresh data directory, drives it with `wrk` on
loopback, and prints requests per second, the ratio to the no-op view measured
by the same service just before each run, and the service's CPU time per
request. Exits 1 when the first variant misses a target, any request failed, or
a submission run made fewer new jobs than it had answers.

    .venv/bin/python bench/run.py [--seconds 8] [--connections 16] [--rounds 3]
                                  [--variants shipped,plain]

``--variants`` (bench/settings.py says what each one is) starts one service per
variant, all at once, and interleaves their runs: round after round, each
scenario runs on every variant in turn, the order rotating, so that the drift of
this machine's speed falls on all of them alike. Best and median are printed;
compare medians. Other variants than the first are there to be compared with, so
their targets do not decide the exit status.

Uses DISPATCHER_DATABASE_URL / DISPATCHER_REDIS_URL when set (else SQLite + ORM
broker, a database per variant); the jobs it makes stay in that database, which
all variants then share.
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
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"submissions": 0.25, "polls": 0.5, "instr-list": 0.6}
VARIANTS = ("shipped", "plain", "plain-queued", "fastpath-stock")
_runs = itertools.count(1)


@dataclass
class Service:
    variant: str
    base: str
    process: subprocess.Popen
    data_dir: Path
    scenarios: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Run:
    rate: float  # requests per second
    requests: int
    errors: str
    cpu_s: float = 0.0  # CPU time the service used during the run


@dataclass
class Figures:
    runs: list[Run] = field(default_factory=list)
    noop_runs: list[Run] = field(default_factory=list)


def main() -> int:
    options = _arguments()
    if not shutil.which("wrk"):
        print("bench needs wrk: apt-get install wrk", file=sys.stderr)
        return 2
    services: list[Service] = []
    try:
        for variant in options.variants:
            services.append(_start(variant))
            # Bound to its port before the next service looks for a free one.
            _wait_healthy(services[-1].base)
        for service in services:
            service.scenarios = _scenarios(service.base, _a_done_job(service.base))
        return _report(_measure(services, options), options)
    finally:
        for service in services:
            os.killpg(service.process.pid, signal.SIGTERM)
        for service in services:
            service.process.wait(timeout=60)
            shutil.rmtree(service.data_dir, ignore_errors=True)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=8, help="duration of each wrk run")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs of each scenario and variant")
    parser.add_argument(
        "--variants", default="shipped", type=_variant_list, help=f"comma-separated, of {', '.join(VARIANTS)}"
    )
    return parser.parse_args()


def _variant_list(text: str) -> list[str]:
    variants = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in variants if name not in VARIANTS]
    if unknown or not variants or len(set(variants)) != len(variants):
        raise argparse.ArgumentTypeError(f"variants are distinct names among {', '.join(VARIANTS)}")
    return variants


def _start(variant: str) -> Service:
    data_dir = Path(tempfile.mkdtemp(prefix=f"dispatcher-bench-{variant}-"))
    port = _free_port()
    env = _environment(data_dir, port, variant)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve"],
        cwd=ROOT,
        env=env,
        stdout=(data_dir / "service.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Service(variant, f"http://127.0.0.1:{port}", process, data_dir)


def _environment(data_dir: Path, port: int, variant: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DISPATCHER_BENCH_VARIANT=variant,
        DISPATCHER_DATA_DIR=str(data_dir),
        DISPATCHER_BIND=f"127.0.0.1:{port}",
        DISPATCHER_WEB_WORKERS="2",
        DISPATCHER_BENCH_ENDPOINTS="1",
        DISPATCHER_LOG_LEVEL="WARNING",
        DISPATCHER_ACCESS_LOG="0",
    )
    return env


def _scenarios(base: str, done_job: dict) -> dict[str, tuple[str, str]]:
    poll = (
        f"{base}/run_analysis?instrument=empty&product_type=dummy&query_type=Dummy"
        f"&query_status=done&job_id={done_job['job_id']}&session_id={done_job['session_id']}"
    )
    return {
        "submissions": (f"{base}/run_analysis", "submit.lua"),
        "polls": (poll, "errors.lua"),
        "instr-list": (f"{base}/api/instr-list", "errors.lua"),
    }


def _measure(services: list[Service], options) -> dict[tuple[str, str], Figures]:
    results: dict[tuple[str, str], Figures] = {}
    for service in services:
        # Warm each up: the first requests of a worker import and cache what they use.
        for url, script in service.scenarios.values():
            _wrk(url, script, 2, options)
        _wrk(f"{service.base}/bench/noop", "errors.lua", 2, options)
        _wait_queue_drained(service.base)
    for round_number in range(options.rounds):
        # Rotating the order: no variant always runs first after a pause, or last.
        turn = round_number % len(services)
        order = services[turn:] + services[:turn]
        for name in TARGETS:
            for service in order:
                figures = results.setdefault((name, service.variant), Figures())
                noop, run = _measure_once(service, name, options)
                figures.noop_runs.append(noop)
                figures.runs.append(run)
    return results


def _measure_once(service: Service, name: str, options) -> tuple[Run, Run]:
    """One no-op run, then one run of the scenario, on the same service."""
    url, script = service.scenarios[name]
    noop = _wrk(f"{service.base}/bench/noop", "errors.lua", options.seconds, options)
    jobs_before = _service_counts(service.base)["jobs"]
    cpu_before = _cpu_s(service.process.pid)
    run = _wrk(url, script, options.seconds, options)
    run = replace(run, cpu_s=_cpu_s(service.process.pid) - cpu_before)
    if name == "submissions":
        run = _checked_new_jobs(run, _service_counts(service.base)["jobs"] - jobs_before)
    _wait_queue_drained(service.base)  # what a scenario queued must not load the next run
    return noop, run


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


def _cpu_s(session: int) -> float:
    """CPU seconds used so far by the live processes of a service (its session: gunicorn, qcluster)."""
    ticks = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # gone meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after the command name, which may hold spaces
        if int(fields[3]) == session:
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _report(results: dict[tuple[str, str], Figures], options) -> int:
    rounds = f"{options.rounds} interleaved runs of {options.seconds} s"
    print(f"wrk: 2 threads, {options.connections} connections, {rounds}")
    print("service: gunicorn 2 workers x 2 threads, django-q2 cluster with 2 workers")
    print(
        f"{'scenario':<13}{'variant':<16}{'req/s best':>11}{'median':>8}{'no-op best':>11}"
        f"{'ratio':>7}{'median':>8}{'target':>8}{'CPU ms/req':>11}  errors"
    )
    failed = False
    for (name, variant), figures in results.items():
        best = max(run.rate for run in figures.runs)
        noop_best = max(run.rate for run in figures.noop_runs)
        ratio = best / noop_best if noop_best else 0.0
        median_ratio = statistics.median(
            run.rate / noop.rate for run, noop in zip(figures.runs, figures.noop_runs, strict=True) if noop.rate
        )
        cpu_ms = statistics.median(1000 * run.cpu_s / run.requests for run in figures.runs if run.requests)
        errors = _join(*(run.errors for run in figures.noop_runs + figures.runs))
        if variant == options.variants[0]:
            failed |= ratio < TARGETS[name] or bool(errors)
        print(
            f"{name:<13}{variant:<16}{best:>11.0f}{statistics.median(run.rate for run in figures.runs):>8.0f}"
            f"{noop_best:>11.0f}{ratio:>7.2f}{median_ratio:>8.2f}{TARGETS[name]:>8.2f}{cpu_ms:>11.2f}"
            f"  {errors or 'none'}"
        )
    print(f"all targets met ({options.variants[0]})" if not failed else f"TARGET MISSED ({options.variants[0]})")
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
