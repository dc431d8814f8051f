"""Private servers for fault-injection tests: a redis-server and a PostgreSQL of the test's own.

A fault test stops and restarts the servers it depends on, so it must never touch
the machine's shared ones (CI's PostgreSQL on 5432 and Redis on 6379 serve other
runs). Each server here runs in a temporary directory, on a free port below 32768,
bound to 127.0.0.1 only, keeps nothing on disk that matters, and stops with its
fixture. ``stop()`` is a real outage: the server process ends and the port refuses
connections; ``start()`` brings it back on the same port (Redis empty, PostgreSQL
with its data).

Fixtures: import ``private_redis_fixture`` / ``private_postgres_fixture`` into a test
module (or a conftest) and ask for ``private_redis`` / ``private_postgres``:

- ``private_redis``: a PrivateRedis for the module, stopped at its end;
- ``private_postgres``: a PrivatePostgres for the module, with one database
  created for the tests, stopped and removed at its end.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import free_port

REDIS_SERVER = "/usr/bin/redis-server"
POSTGRES_BIN = Path("/usr/local/bin")
START_TIMEOUT_S = 30


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _wait_until(condition, *, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


class PrivateRedis:
    """A redis-server of the test's own: 127.0.0.1, a free port, no persistence."""

    def __init__(self, directory: Path | None = None, *, port: int | None = None):
        self.directory = Path(directory or tempfile.mkdtemp(prefix="private-redis-"))
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> PrivateRedis:
        if self.running:
            return self
        argv = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)]
        argv += ["--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes"]
        argv += ["--logfile", str(self.directory / "redis.log")]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_until(self._answers, timeout_s=START_TIMEOUT_S, what=f"redis-server on port {self.port}")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """A real outage: the server process ends (SIGTERM; SIGKILL if it lingers)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """A crash: SIGKILL, no goodbye to the clients."""
        if self.running:
            self.process.kill()
            self.process.wait()
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _answers(self) -> bool:
        if not self.running:
            raise RuntimeError(f"redis-server exited:\n{self._log_tail()}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as client:
                client.sendall(b"PING\r\n")
                return client.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def _log_tail(self) -> str:
        log = self.directory / "redis.log"
        return log.read_text()[-2000:] if log.exists() else ""


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own: initdb into a temporary directory, trust
    authentication, 127.0.0.1 and a free port only, fsync off, and one database ``database``.

    PostgreSQL refuses to run as root: as root, the cluster runs as the ``postgres``
    system user, which then owns the temporary directory.
    """

    def __init__(self, directory: Path | None = None, *, port: int | None = None, database: str = "faults"):
        self.directory = Path(directory or tempfile.mkdtemp(prefix="private-postgres-"))
        self.port = port or free_port()
        self.database = database
        self.user = "postgres"
        self._initialised = False
        self._created = False

    @property
    def url(self) -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{self.database}"

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def running(self) -> bool:
        return _listening(self.port)

    def start(self) -> PrivatePostgres:
        if self._initialised and self.running:
            return self
        if not self._initialised:
            self._initdb()
        self._pg_ctl(
            "start", "-w", "-t", str(START_TIMEOUT_S), "-l", str(self.directory / "postgres.log"), "-o", self._options()
        )
        if not self._created:
            self._create_database()
        return self

    def stop(self, *, mode: str = "immediate") -> None:
        """A real outage: the server ends (``immediate``: connections cut at once, as a crash would)."""
        if self._initialised and (self.data / "postmaster.pid").exists():
            self._pg_ctl("stop", "-w", "-m", mode, check=False)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def log_tail(self, chars: int = 3000) -> str:
        log = self.directory / "postgres.log"
        return log.read_text(errors="replace")[-chars:] if log.exists() else ""

    def _options(self) -> str:
        # The Unix socket goes into our own directory, not /var/run/postgresql.
        return (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
            # fsync off loses nothing when only the server process dies (the kernel keeps its
            # writes); synchronous_commit stays on, or a commit could vanish in an outage.
            "-c fsync=off -c full_page_writes=off -c max_connections=100"
        )

    def _initdb(self) -> None:
        self._own_directory()
        command = [str(POSTGRES_BIN / "initdb"), "-D", str(self.data), "-U", self.user, "--auth=trust"]
        command += ["-E", "UTF8", "--locale=C", "--no-sync"]
        self._run(command)
        self._initialised = True

    def _create_database(self) -> None:
        import psycopg

        dsn = f"host=127.0.0.1 port={self.port} user={self.user} dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.database}"')
        self._created = True

    def _pg_ctl(self, *arguments: str, check: bool = True) -> None:
        self._run([str(POSTGRES_BIN / "pg_ctl"), "-D", str(self.data), *arguments], check=check)

    def _run(self, command: list[str], *, check: bool = True) -> None:
        as_user = self._system_user() if os.geteuid() == 0 else None
        result = subprocess.run(
            command,
            cwd=self.directory,
            capture_output=True,
            text=True,
            user=as_user.pw_uid if as_user else None,
            group=as_user.pw_gid if as_user else None,
            extra_groups=[] if as_user else None,
            env={**os.environ, "LC_ALL": "C"},
            timeout=120,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}\n{self.log_tail()}")

    def _own_directory(self) -> None:
        if os.geteuid() != 0:
            return
        user = self._system_user()
        os.chown(self.directory, user.pw_uid, user.pw_gid)
        self.directory.chmod(0o700)

    @staticmethod
    def _system_user() -> pwd.struct_passwd:
        try:
            return pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError("running as root needs a 'postgres' system user to run PostgreSQL") from None


@pytest.fixture(scope="module", name="private_redis")
def private_redis_fixture():
    if not Path(REDIS_SERVER).exists():
        pytest.skip(f"no {REDIS_SERVER}")
    server = PrivateRedis()
    try:
        yield server.start()
    finally:
        server.cleanup()


@pytest.fixture(scope="module", name="private_postgres")
def private_postgres_fixture():
    if not (POSTGRES_BIN / "initdb").exists():
        pytest.skip(f"no PostgreSQL in {POSTGRES_BIN}")
    server = PrivatePostgres()
    try:
        yield server.start()
    finally:
        server.cleanup()


def database_migrated(database_url: str) -> None:
    """Run the migrations on ``database_url`` (a private server's database) as the service would."""
    from tests.live import ROOT, service_environment

    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=service_environment(DISPATCHER_DATABASE_URL=database_url),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(f"migrate failed:\n{result.stdout}{result.stderr}")
