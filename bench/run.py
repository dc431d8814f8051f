"""Throughput of the dispatcher's requests beside two bare yardsticks, at any registry size.

Starts the service as `make run` does (`manage.py serve`: gunicorn's asyncio worker
with dispatcher_site.web, DISPATCHER_WEB_WORKERS x DISPATCHER_WEB_THREADS, the
django-q2 cluster, default logging) and, beside it, the yardsticks of bench/bare.py
served by the same gunicorn command and settings: a bare Django no-op view and a
bare view making one INSERT and commit on the same kind of database with our
default durability. Drives each with `wrk` on loopback, round after round, every
scenario on every service in turn (the order rotating) after the yardsticks of that
round, so that the drift of this shared machine's speed falls on all alike. Prints
req/s (median and best), the median of the rounds' ratios to the yardsticks, to
the smallest registry, and (lists) of a user owning 500 jobs to one owning one.

    .venv/bin/python bench/run.py                              # SQLite + ORM broker, empty registry
    .venv/bin/python bench/run.py --database postgres          # PostgreSQL + a private Redis
    .venv/bin/python bench/run.py --registry 0,1000000 --scenarios poll,join,admin-list

``--database postgres`` uses DISPATCHER_DATABASE_URL's server (default
postgres://postgres@127.0.0.1:5432/bench_g) with databases of its own named after
that URL's: ``<name>_<size>`` per registry size (the empty one ``<name>_0_<variant>``)
and ``<name>_bare``; only those are ever created or dropped. A registry of N jobs
(``--registry``) is seeded once through the models (bench/seed.py) and kept: a SQLite
file under ``--cache-dir``, copied for each run; a PostgreSQL database ``<name>_<N>``. The empty registry is made afresh
each run. ``--variants`` (bench/settings.py) compares versions of the database path or
of logging. ``--memory N`` then sends N requests of the scenarios in turn to the last
service and compares its web workers' RSS with that after the first 1,000.

Exits 1 when a goal is missed, a request failed, or a submission run made fewer new
jobs than it had answers. Needs `wrk` (Debian package wrk), and `redis-server` for
PostgreSQL.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = (
    "shipped", "plain", "plain-queued", "fastpath-stock", "pg-pool", "pg-health-check", "quiet",
)  # fmt: skip
# The bench's own token secret: every service of a run, and the seeder, share it.
TOKEN_SECRET = "bench-token-secret-not-for-production-0123456789"  # noqa: S105
SCENARIOS = (
    "submit", "join", "poll", "instr-list", "inspect-one", "inspect-many", "rest-one", "rest-many",
    "uws-one", "uws-many", "admin-list", "admin-search", "stack-noop",
)  # fmt: skip
# Goals of issue 17: (yardstick, least ratio).
WRITES = ("submit", "join")  # also compared with the one-INSERT yardstick
GOALS = {"submit": ("insert", 0.8), "poll": ("noop", 0.5), "instr-list": ("noop", 0.7)}
SIZE_GOAL = 0.67  # of the rate against the smallest registry
OWNER_GOAL = 0.67  # lists of a user with 500 jobs against one with one
_runs = itertools.count(1)


@dataclass
class Service:
    label: str
    variant: str
    size: int
    base: str
    process: subprocess.Popen
    data_dir: Path
    seeded: dict = field(default_factory=dict)  # bench/seed.py's tokens, session cookie, id prefix
    scenarios: dict[str, tuple[str, str, list[str]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Run:
    rate: float  # requests per second
    requests: int
    errors: str
    cpu_s: float = 0.0  # CPU time the service used during the run


def main() -> int:
    options = _arguments()
    if not shutil.which("wrk"):
        print("bench needs wrk: apt-get install wrk", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="dispatcher-bench-"))
    started: list[subprocess.Popen] = []
    try:
        broker = _broker(options, workdir, started)
        bare = _bare_start(options, workdir, started)
        _wait_healthy(bare, path="/noop")  # bound to its port before a service looks for a free one
        services = []
        for variant in options.variants:
            for size in options.registry:
                services.append(_service_start(options, variant, size, broker, workdir))
                started.append(services[-1].process)
                _wait_healthy(services[-1].base)  # bound to its port before the next one looks for a free one
        for service in services:
            service.scenarios = _scenarios(service, _a_done_job(service.base))
        figures = _measure(services, bare, options)
        failed = _report(services, figures, options)
        if options.memory:
            failed |= _memory(services[-1], options)
        return failed
    finally:
        for process in started:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in started:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        if not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=5, help="duration of each wrk run")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections (wrk -t2)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved runs of each scenario and service")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--registry", default=[0], type=_sizes, help="comma-separated registry sizes (jobs)")
    parser.add_argument("--scenarios", default=list(SCENARIOS), type=_scenario_list, help=", ".join(SCENARIOS))
    parser.add_argument("--variants", default=["shipped"], type=_variant_list, help=", ".join(VARIANTS))
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "dispatcher-bench-registry")
    parser.add_argument("--keep", action="store_true", help="keep the run's directory (logs) for a look")
    parser.add_argument(
        "--memory", type=int, default=0, metavar="N", help="then N requests of the scenarios in turn: web workers' RSS"
    )
    return parser.parse_args()


def _names(text: str, known: tuple[str, ...], what: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names or len(set(names)) != len(names) or any(name not in known for name in names):
        raise argparse.ArgumentTypeError(f"{what} are distinct names among {', '.join(known)}")
    return names


def _variant_list(text: str) -> list[str]:
    return _names(text, VARIANTS, "variants")


def _scenario_list(text: str) -> list[str]:
    return _names(text, SCENARIOS, "scenarios")


def _sizes(text: str) -> list[int]:
    sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    if not sizes or sizes[0] < 0:
        raise argparse.ArgumentTypeError("registry sizes are whole numbers of jobs")
    return sizes


# --- the services -------------------------------------------------------------------------


def _gunicorn(bind: str) -> list[str]:
    """As dispatcher_site/management/commands/serve.py starts it (workers and threads from the environment)."""
    workers = os.environ.get("DISPATCHER_WEB_WORKERS", "2")
    command = [sys.executable, "-m", "gunicorn", "dispatcher_site.web:application", "--worker-class", "asgi"]
    return [*command, "--bind", bind, "--workers", workers, "--graceful-timeout", "10", "--chdir", str(ROOT)]


def _postgres_url(options, suffix: str) -> str:
    base = os.environ.get("DISPATCHER_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_g")
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{parts.path.strip('/') or 'bench_g'}_{suffix}"))


def _postgres_admin(url: str, statement: str) -> None:
    """CREATE/DROP DATABASE of the bench's own names, from the server's maintenance database."""
    import psycopg

    parts = urlsplit(url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as connection:
        connection.execute(statement)


def _postgres_exists(url: str) -> bool:
    import psycopg

    name = urlsplit(url).path.strip("/")
    parts = urlsplit(url)
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as connection:
        return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def _postgres_fresh(url: str) -> None:
    name = urlsplit(url).path.strip("/")
    assert re.fullmatch(r"bench_\w+", name), f"the bench drops only databases of its own, not {name!r}"
    _postgres_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _postgres_admin(url, f'CREATE DATABASE "{name}"')


def _broker(options, workdir: Path, started: list) -> dict[str, str]:
    """PostgreSQL's runs use Redis (as the distributed recipe does): a private redis-server."""
    if options.database == "sqlite":
        return {}
    port = _free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(workdir)],
        stdout=(workdir / "redis.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    started.append(process)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return {"DISPATCHER_REDIS_URL": f"redis://127.0.0.1:{port}/0"}
        time.sleep(0.1)
    raise RuntimeError("redis-server did not start")


def _bare_start(options, workdir: Path, started: list) -> str:
    data_dir = workdir / "bare"
    data_dir.mkdir()
    if options.database == "postgres":
        target = _postgres_url(options, "bare")
        _postgres_fresh(target)
    else:
        target = str(data_dir / "bare.sqlite3")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.bare", "DISPATCHER_BENCH_BARE_DATABASE": target}
    subprocess.run([sys.executable, "-m", "bench.bare"], cwd=ROOT, env=env, check=True)
    port = _free_port()
    process = subprocess.Popen(
        _gunicorn(f"127.0.0.1:{port}"),
        cwd=ROOT,
        env=env,
        stdout=(data_dir / "gunicorn.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    started.append(process)
    return f"http://127.0.0.1:{port}"


def _service_start(options, variant: str, size: int, broker: dict[str, str], workdir: Path) -> Service:
    label = f"{variant}@{size:,}" if len(options.variants) > 1 else f"{size:,} jobs"
    data_dir = workdir / f"{variant}-{size}"
    data_dir.mkdir(mode=0o700)
    port = _free_port()
    env = {
        **os.environ,
        **broker,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DISPATCHER_BENCH_VARIANT": variant,
        "DISPATCHER_DATA_DIR": str(data_dir),
        "DISPATCHER_BIND": f"127.0.0.1:{port}",
        "DISPATCHER_BENCH_ENDPOINTS": "1",
        "DISPATCHER_TOKEN_SECRET": TOKEN_SECRET,
        "DISPATCHER_QUEUE_NAME": f"bench-{os.getpid()}-{variant}-{size}",
        # The seeded registry spans 60 days (so that purge_jobs can be measured on it): the
        # service's daily purge must not start on it during the runs.
        "DISPATCHER_RETENTION_DAYS": "90",
    }
    if options.database == "postgres":
        # An empty registry is made afresh for each variant; a seeded one is shared.
        suffix = str(size) if size else f"0_{variant.replace('-', '_')}"
        env["DISPATCHER_DATABASE_URL"] = _postgres_url(options, suffix)
        if size == 0 or not _postgres_exists(env["DISPATCHER_DATABASE_URL"]):
            _postgres_fresh(env["DISPATCHER_DATABASE_URL"])
    else:
        env.pop("DISPATCHER_DATABASE_URL", None)
        if size:
            shutil.copyfile(_sqlite_registry(options, size, env), data_dir / "dispatcher.sqlite3")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    seeded = _seed(env, size)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve"],
        cwd=ROOT,
        env=env,
        stdout=(data_dir / "service.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Service(label, variant, size, f"http://127.0.0.1:{port}", process, data_dir, seeded)


def _seed(env: dict[str, str], size: int) -> dict:
    """The registry's other jobs and the bench's users (bench/seed.py; nothing new on a seeded one)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.seed", "--others", str(size)],
        cwd=ROOT,
        env={**env, "DISPATCHER_LOG_LEVEL": "WARNING"},
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _sqlite_registry(options, size: int, env: dict[str, str]) -> Path:
    """A seeded SQLite registry of ``size`` other jobs, made once and kept in the cache."""
    cached = options.cache_dir / f"sqlite-{size}.sqlite3"
    if cached.exists():
        return cached
    seeding = options.cache_dir / f"seeding-sqlite-{size}"
    shutil.rmtree(seeding, ignore_errors=True)
    seeding.mkdir(parents=True)
    seed_env = {**env, "DISPATCHER_DATA_DIR": str(seeding)}
    print(f"seeding a registry of {size:,} jobs (once; kept in {cached})", file=sys.stderr)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=seed_env, check=True)
    _seed(seed_env, size)
    database = seeding / "dispatcher.sqlite3"
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    database.rename(cached)
    shutil.rmtree(seeding, ignore_errors=True)
    return cached


def _scenarios(service: Service, done_job: dict) -> dict[str, tuple[str, str, list[str]]]:
    base, seeded = service.base, service.seeded
    asked = "instrument=empty&product_type=dummy&query_type=Dummy"
    session = f"session_id={done_job['session_id']}"
    poll = f"{base}/run_analysis?{asked}&query_status=done&job_id={done_job['job_id']}&{session}"
    join = f"{base}/run_analysis?{asked}&query_status=new&{session}"

    def bearer(token: str) -> list[str]:
        return ["-H", f"Authorization: Bearer {token}"]

    admin = ["-H", f"Cookie: {seeded['session_cookie']}"]
    every = {
        "submit": (f"{base}/run_analysis", "submit.lua", []),
        "join": (join, "errors.lua", []),
        "poll": (poll, "errors.lua", []),
        "instr-list": (f"{base}/api/instr-list", "errors.lua", []),
        "inspect-one": (f"{base}/inspect-user-state?token={seeded['token_one']}", "errors.lua", []),
        "inspect-many": (f"{base}/inspect-user-state?token={seeded['token_many']}", "errors.lua", []),
        "rest-one": (f"{base}/api/v1/jobs/", "errors.lua", bearer(seeded["token_one"])),
        "rest-many": (f"{base}/api/v1/jobs/", "errors.lua", bearer(seeded["token_many"])),
        "uws-one": (f"{base}/uws/jobs?LAST=10", "errors.lua", bearer(seeded["token_one"])),
        "uws-many": (f"{base}/uws/jobs?LAST=10", "errors.lua", bearer(seeded["token_many"])),
        "admin-list": (f"{base}/admin/jobs/job/", "errors.lua", admin),
        "admin-search": (f"{base}/admin/jobs/job/?q={seeded['prefix']}", "errors.lua", admin),
        "stack-noop": (f"{base}/bench/noop", "errors.lua", []),
    }
    return every


# --- measuring ----------------------------------------------------------------------------


def _measure(services: list[Service], bare: str, options) -> dict[tuple[str, str], list[Run]]:
    """Per (scenario or yardstick, service label): one Run per round."""
    results: dict[tuple[str, str], list[Run]] = {}
    yardsticks = {"noop": (f"{bare}/noop", "errors.lua", []), "insert": (f"{bare}/insert", "errors.lua", [])}
    for url, script, headers in yardsticks.values():  # warm-up: first requests import and cache
        _wrk(url, script, headers, 2, options)
    for service in services:
        for name in options.scenarios:
            run = _wrk(*service.scenarios[name], 1, options)
            if run.errors:
                raise RuntimeError(f"{name} on {service.label} fails: {run.errors} (see {service.data_dir})")
        _wait_queue_drained(service.base)
    for round_number in range(options.rounds):
        print(f"round {round_number + 1}/{options.rounds}, load average {os.getloadavg()[0]:.1f}", file=sys.stderr)
        turn = round_number % len(services)
        order = services[turn:] + services[:turn]  # rotating: none always first after a pause, or last
        for name in options.scenarios:
            for yardstick in ("noop", "insert") if name in WRITES else ("noop",):
                results.setdefault((yardstick, name), []).append(_wrk(*yardsticks[yardstick], options.seconds, options))
            for service in order:
                results.setdefault((name, service.label), []).append(_measure_once(service, name, options))
    return results


def _measure_once(service: Service, name: str, options) -> Run:
    last_id = _service_counts(service.base)["last_id"] if name == "submit" else 0
    cpu_before = _cpu_s(service.process.pid)
    run = _wrk(*service.scenarios[name], options.seconds, options)
    run = replace(run, cpu_s=_cpu_s(service.process.pid) - cpu_before)
    if name == "submit":
        new_jobs = _service_counts(service.base, since=last_id)["new_jobs"]
        if new_jobs < run.requests:  # every submission must make a job of its own, or it measured joins
            run = replace(run, errors=_join(run.errors, f"{run.requests} submissions made only {new_jobs} new jobs"))
    _wait_queue_drained(service.base)  # what a scenario queued must not load the next run
    return run


def _wrk(url: str, script: str, headers: list[str], seconds: int, options) -> Run:
    # A fresh tag per run: submit.lua makes its jobs' names from it.
    tag = f"run{next(_runs)}-{os.getpid()}-{time.time_ns()}"
    command = ["wrk", "-t2", f"-c{options.connections}", f"-d{seconds}s", "--latency", *headers, "-s", script, url]
    output = subprocess.run(
        [*command, "--", tag], cwd=ROOT / "bench", capture_output=True, text=True, check=True
    ).stdout
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


def _memory(service: Service, options) -> int:
    """RSS of each web worker after 1,000 requests and after ``--memory`` (the scenarios in turn)."""
    done, marks = 0, {}
    scenarios = itertools.cycle(options.scenarios)
    for mark in (1000, options.memory):
        while done < mark:
            done += _wrk(*service.scenarios[next(scenarios)], 1 if mark == 1000 else 5, options).requests
            _wait_queue_drained(service.base)
        marks[done] = _worker_rss_mb(service.process.pid)
    (first, early), (last, late) = marks.items()
    print(f"\nweb workers' RSS on {service.label} (MB): after {first:,} requests {early}, after {last:,} {late}")
    grown = max(b / a for a, b in zip(early, late, strict=True))
    print(f"largest growth {grown:.2f}x: {'met' if grown <= 1.1 else 'MISSED'} <= 1.10")
    return int(grown > 1.1)


def _worker_rss_mb(session: int) -> list[float]:
    """Resident memory of gunicorn's workers (children of its master) in a service's session."""
    processes = {}
    for entry in os.listdir("/proc"):
        try:
            stat = Path(f"/proc/{entry}/stat").read_text() if entry.isdigit() else ""
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ") if stat else b""
        except OSError:
            continue
        if stat:
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[3]) == session and b"gunicorn" in command:
                processes[int(entry)] = (int(fields[1]), int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20)
    return sorted(round(rss, 1) for parent, rss in processes.values() if parent in processes)


# --- the table ----------------------------------------------------------------------------


def _ratio(runs: list[Run], against: list[Run]) -> float:
    """The median of the rounds' ratios (each round's runs measured minutes apart at most)."""
    return statistics.median(run.rate / other.rate for run, other in zip(runs, against, strict=True) if other.rate)


def _report(services: list[Service], results: dict[tuple[str, str], list[Run]], options) -> int:
    database = "PostgreSQL + Redis" if options.database == "postgres" else "SQLite + ORM broker"
    workers = os.environ.get("DISPATCHER_WEB_WORKERS", "2")
    threads = os.environ.get("DISPATCHER_WEB_THREADS", "8")
    print(f"\n{database}; wrk -t2 -c{options.connections}, {options.rounds} interleaved rounds of {options.seconds} s")
    print(f"gunicorn asyncio worker, {workers} workers x {threads} threads (service and yardsticks alike)")
    print(f"load average at the end: {' '.join(f'{n:.1f}' for n in os.getloadavg())}")
    noop_all = [run for name in options.scenarios for run in results[("noop", name)]]
    insert_all = [run for name in options.scenarios if name in WRITES for run in results[("insert", name)]]
    insert_rate = f"{statistics.median(r.rate for r in insert_all):.0f}" if insert_all else "-"
    print(
        f"yardsticks, median req/s: bare no-op {statistics.median(r.rate for r in noop_all):.0f}, "
        f"bare one-INSERT {insert_rate}"
    )
    yardsticks = (runs for key, runs in results.items() if key[0] in ("noop", "insert"))
    yardstick_errors = _join(*(run.errors for runs in yardsticks for run in runs))
    failed = bool(yardstick_errors)
    if yardstick_errors:
        print(f"YARDSTICK ERRORS: {yardstick_errors}")
    header = f"{'scenario':<14}{'registry':>12}{'req/s':>8}{'best':>7}{'/no-op':>8}{'/INSERT':>8}"
    print(header + f"{'/empty':>8}{'/one':>7}{'CPU ms':>8}  goal")
    smallest = {service.variant: service for service in services if service.size == options.registry[0]}
    for name in options.scenarios:
        for service in services:
            runs = results[(name, service.label)]
            to_noop = _ratio(runs, results[("noop", name)])
            to_insert = _ratio(runs, results[("insert", name)]) if name in WRITES else None
            verdicts = []
            if name in GOALS and service.size == options.registry[0]:
                yardstick, least = GOALS[name]
                reached = (to_insert if yardstick == "insert" else to_noop) >= least
                verdicts.append(f"{'met' if reached else 'MISSED'} >= {least} of {yardstick}")
                failed |= not reached
            to_empty = ""
            if service.size != options.registry[0]:
                value = _ratio(runs, results[(name, smallest[service.variant].label)])
                to_empty = f"{value:.2f}"
                verdicts.append(f"{'met' if value >= SIZE_GOAL else 'MISSED'} >= {SIZE_GOAL} of smallest")
                failed |= value < SIZE_GOAL
            to_one = ""
            if name.endswith("-many") and name.replace("-many", "-one") in options.scenarios:
                value = _ratio(runs, results[(name.replace("-many", "-one"), service.label)])
                to_one = f"{value:.2f}"
                verdicts.append(f"{'met' if value >= OWNER_GOAL else 'MISSED'} >= {OWNER_GOAL} of one")
                failed |= value < OWNER_GOAL
            errors = _join(*(run.errors for run in runs))
            failed |= bool(errors)
            cpu_ms = statistics.median(1000 * run.cpu_s / run.requests for run in runs if run.requests)
            rates = [run.rate for run in runs]
            print(
                f"{name:<14}{service.label:>12}{statistics.median(rates):>8.0f}{max(rates):>7.0f}{to_noop:>8.2f}"
                f"{'' if to_insert is None else f'{to_insert:.2f}':>8}{to_empty:>8}{to_one:>7}{cpu_ms:>8.2f}"
                f"  {'; '.join(verdicts)}"
                f"{'  ERRORS: ' + errors if errors else ''}"
            )
    print("all goals met" if not failed else "A GOAL IS MISSED (or a request failed)")
    return 1 if failed else 0


# --- helpers ------------------------------------------------------------------------------


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


def _service_counts(base: str, since: int = 0) -> dict[str, int]:
    return requests.get(f"{base}/bench/queue", params={"since": since}, timeout=30).json()


def _wait_healthy(base: str, path: str = "/healthz") -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}{path}", timeout=2).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):  # workers still booting
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{base} never became healthy")


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
