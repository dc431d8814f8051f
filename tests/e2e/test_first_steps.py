"""The first steps run as printed: `make run` in a fresh project folder (its settings in .env),
then what it prints and the README's "First steps" block, each pasted into a new shell."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
from pathlib import Path

import jwt
import pytest

from tests.live import wait_healthy

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e
COPIED = ("dispatcher_site", "jobs", "instruments", "notifications", "manage.py", "Makefile", "README.md",
          "requirements.txt", "requirements-test.txt", "pyproject.toml")  # fmt: skip


def new_shell(script: str, cwd: Path) -> subprocess.CompletedProcess:
    """bash with nothing of ours in its environment, as a newcomer's second terminal."""
    environment = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(cwd), "DJANGO_SUPERUSER_PASSWORD": "pw-12345678"}
    return subprocess.run(
        ["bash", "-ec", script], cwd=cwd, env=environment, capture_output=True, text=True, timeout=120
    )


def test_make_run_and_the_readme_first_steps_work_as_pasted(tmp_path, port):
    project = tmp_path / "project"
    project.mkdir()
    for name in COPIED:
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
        copy(
            ROOT / name,
            project / name,
            **({"ignore": shutil.ignore_patterns("__pycache__")} if (ROOT / name).is_dir() else {}),
        )
    (project / ".venv").symlink_to(ROOT / ".venv")
    (project / ".env").write_text(f"DISPATCHER_DATA_DIR={tmp_path / 'data'}\nDISPATCHER_BIND=127.0.0.1:{port}\n")
    log = (tmp_path / "run.log").open("w+")
    environment = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path)}
    process = subprocess.Popen(["make", "run"], cwd=project, env=environment, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)  # fmt: skip

    def printed() -> str:
        log.seek(0)
        return log.read()

    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz", process, lambda: printed()[-3000:], timeout_s=180)
        text = printed()
        export = next(line.strip() for line in text.splitlines() if line.strip().startswith("export ODA_TOKEN=ey"))
        claims = jwt.decode(export.split("=", 1)[1], options={"verify_signature": False})
        assert claims["roles"] == ["general"] and "oda_api" not in text
        steps = text.split("Next steps", 1)[1].splitlines()[1:3]
        assert steps[0].strip().startswith("curl") and "createsuperuser" in steps[1]
        done = new_shell(f"{export}\n{steps[0]}", project)
        assert '"query_status": "done"' in done.stdout or "'query_status': 'done'" in done.stdout, done

        section = (project / "README.md").read_text().split("## First steps", 1)[1].split("\n#", 1)[0]
        block = [line[4:] for line in section.splitlines() if line.startswith("    ")]
        script = "\n".join(block).replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        # createsuperuser asks on a terminal: the same command, answered by its options and environment.
        script = script.replace(
            "createsuperuser", "createsuperuser --noinput --username newcomer --email n@example.org"
        )
        ran = new_shell(script, project)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.count('"query_status": "done"') == 1, ran.stdout
        # The same database as the service's: no second var/ in the project folder.
        assert not (project / "var").exists()
        with sqlite3.connect(tmp_path / "data" / "dispatcher.sqlite3") as db:
            assert db.execute("SELECT is_superuser FROM auth_user WHERE username = 'newcomer'").fetchone() == (1,)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=40)
    # Started again on the same data directory: no demo token this time.
    again = subprocess.Popen(["make", "run"], cwd=project, env=environment, stdout=subprocess.PIPE, text=True,
                             stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        first_lines = []
        while not first_lines or ("Next steps" not in first_lines[-1] and len(first_lines) < 60):
            first_lines.append(again.stdout.readline())
    finally:
        os.killpg(again.pid, signal.SIGTERM)
        again.wait(timeout=40)
    assert not any("export ODA_TOKEN=ey" in line for line in first_lines), first_lines
    assert any("issue_token" in line for line in first_lines), first_lines
