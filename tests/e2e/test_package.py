"""The dispatcher as an installed package: a wheel built from pyproject.toml, installed into a
virtualenv of its own, run from a folder without the checkout through the `dispatcher` command;
the Procfile's processes started with honcho answer /healthz and run a job through the workers;
the systemd units name commands the package has and pass `systemd-analyze verify`."""

from __future__ import annotations

import configparser
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest
import requests

from tests.live import wait_healthy

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e
SOURCES = ("dispatcher_site", "jobs", "instruments", "notifications", "pyproject.toml", "README.md", "requirements.txt")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A virtualenv with the package installed from its wheel (dependencies seen from the project's .venv)."""
    work = tmp_path_factory.mktemp("package")
    source = work / "source"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", work / "wheel", source])
    venv = work / "venv"
    run([sys.executable.replace(".venv/bin/python", ".venv/bin/python3"), "-m", "venv", "--without-pip", venv])
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    wheel = next((work / "wheel").glob("oda_dispatcher-*.whl"))
    run([sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q", "--no-deps", wheel])
    return venv


def run(argv, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{argv}: {result.stdout}\n{result.stderr}"
    return result


def environment(venv: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DISPATCHER_", "PYTHON", "DJANGO_"))}
    clean["PATH"] = f"{venv / 'bin'}:/usr/bin:/bin"
    return clean


def test_the_package_installs_with_its_command_and_plugin_group(installed, tmp_path):
    shown = run([installed / "bin" / "dispatcher", "help"], cwd=tmp_path, env=environment(installed))
    for command in ("serve", "qcluster", "matrix_bot", "issue_token", "purge_jobs"):
        assert command in shown.stdout
    script = (
        "from importlib import metadata; import jobs; print(jobs.__file__); "
        "print(sorted(e.name for e in metadata.entry_points(group='dispatcher.instruments')))"
    )
    found = run([installed / "bin" / "python", "-c", script], cwd=tmp_path, env=environment(installed))
    where, kinds = found.stdout.splitlines()
    assert str(installed) in where  # the installed copy, not the checkout
    assert "'empty'" in kinds and "'nb2workflow'" in kinds
    checked = run([installed / "bin" / "dispatcher", "check"], cwd=tmp_path, env=environment(installed))
    assert "already provided" not in checked.stderr and "W00" not in checked.stderr + checked.stdout
    assert (tmp_path / "var").is_dir()  # its data directory in the folder it runs in


def test_the_procfile_started_with_honcho_serves_and_runs_jobs(installed, tmp_path, port):
    site = tmp_path / "site"
    site.mkdir()
    (site / ".env").write_text(
        f"DISPATCHER_DATA_DIR={site / 'data'}\nDISPATCHER_BIND=127.0.0.1:{port}\n"
        f"DISPATCHER_QUEUE_NAME=procfile-{port}\nDISPATCHER_WEB_WORKERS=1\nDISPATCHER_QUEUE_WORKERS=1\n"
    )
    env = environment(installed)
    run([installed / "bin" / "dispatcher", "migrate", "--noinput"], cwd=site, env=env)
    token = run(
        [installed / "bin" / "dispatcher", "issue_token", "--email", "a@example.org", "--roles", "general"],
        cwd=site,
        env=env,
    ).stdout.strip()
    log = (tmp_path / "honcho.log").open("w+")
    honcho = shutil.which("honcho", path=str(Path(sys.executable).parent))
    process = subprocess.Popen(
        [honcho, "-f", ROOT / "Procfile", "-d", site, "start", "web", "worker"],
        cwd=site,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def tail() -> str:
        log.seek(0)
        return log.read()[-4000:]

    try:
        health = wait_healthy(f"http://127.0.0.1:{port}/healthz", process, tail, timeout_s=90).json()
        assert health["broker"]["state"] == "ok"
        assert "ODA dispatcher" in requests.get(f"http://127.0.0.1:{port}/", timeout=5).text
        query = {"instrument": "empty-semi-async", "product_type": "dummy", "query_type": "Real", "p": "0.5",
                 "token": token, "query_status": "new"}  # fmt: skip
        answer = requests.get(f"http://127.0.0.1:{port}/run_analysis", params=query, timeout=10).json()
        query.update(query_status=answer["query_status"], job_id=answer["job_monitor"]["job_id"])
        deadline = time.monotonic() + 60
        while answer["query_status"] not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(0.5)
            answer = requests.get(f"http://127.0.0.1:{port}/run_analysis", params=query, timeout=10).json()
        assert answer["query_status"] == "done", tail()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


@pytest.mark.parametrize("unit", sorted(p.name for p in (ROOT / "deploy" / "systemd").glob("*.service")))
def test_the_systemd_units_verify_and_name_the_packages_commands(installed, tmp_path, unit):
    parsed = configparser.ConfigParser(strict=False, interpolation=None)
    parsed.optionxform = str
    parsed.read(ROOT / "deploy" / "systemd" / unit)
    program, *arguments = parsed["Service"]["ExecStart"].split()
    assert program == "/srv/dispatcher/venv/bin/dispatcher"
    run([installed / "bin" / "dispatcher", *arguments, "--help"], cwd=tmp_path, env=environment(installed))
    if shutil.which("systemd-analyze"):
        local = tmp_path / unit
        text = (ROOT / "deploy" / "systemd" / unit).read_text()
        local.write_text(text.replace("/srv/dispatcher/venv", str(installed)).replace("/srv/dispatcher", str(tmp_path)))
        verified = subprocess.run(["systemd-analyze", "verify", local], capture_output=True, text=True, timeout=60)
        problems = [line for line in verified.stderr.splitlines() if unit in line]
        assert not problems, verified.stderr
