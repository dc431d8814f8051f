"""A real Synapse homeserver for the end-to-end tests, in a virtualenv of its own.

The virtualenv is built once under var/venvs/synapse-<hash of the pinned
requirements> and reused by later runs; a run only generates a fresh config
and data directory, so every session starts from an empty homeserver.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import requests

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "tests" / "synapse-requirements.txt"
SERVER_NAME = "localhost"

# Rate limits out of the way: the tests send bursts that real users never do.
_GENEROUS = {"per_second": 1000, "burst_count": 1000}
_OVERRIDES = {
    "report_stats": False,
    "registration_shared_secret": "e2e-registration-secret",
    "trusted_key_servers": [],
    "suppress_key_server_warning": True,
    "federation_domain_whitelist": [],
    "presence": {"enabled": False},
    "bcrypt_rounds": 4,
    "enable_metrics": False,
    "url_preview_enabled": False,
    "rc_message": _GENEROUS,
    "rc_registration": _GENEROUS,
    "rc_login": {"address": _GENEROUS, "account": _GENEROUS, "failed_attempts": _GENEROUS},
    "rc_joins": {"local": _GENEROUS, "remote": _GENEROUS},
    "rc_joins_per_room": _GENEROUS,
    "rc_invites": {"per_room": _GENEROUS, "per_user": _GENEROUS, "per_issuer": _GENEROUS},
    "rc_admin_redaction": _GENEROUS,
}
# Run by the homeserver's own Python, which has PyYAML: load, override, dump.
_EDIT_CONFIG = """
import json, sys, yaml
path, overrides = sys.argv[1], json.loads(sys.argv[2])
config = yaml.safe_load(open(path))
config.update(overrides)
yaml.safe_dump(config, open(path, "w"))
"""


def synapse_python() -> Path:
    """The virtualenv's Python, building the virtualenv first if this pin set is new."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:12]
    venv = ROOT / "var" / "venvs" / f"synapse-{digest}"
    python = venv / "bin" / "python"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".synapse-{digest}.lock", "w") as lock:
        # Two sessions starting together build it once.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / ".complete").exists():
            _build(venv, python)
    return python


def _build(venv: Path, python: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)], check=True)
    (venv / ".complete").touch()


class Synapse:
    def __init__(self, *, workdir: Path, port: int):
        self.workdir = workdir
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.python = synapse_python()
        self.config = workdir / "homeserver.yaml"
        self.process: subprocess.Popen | None = None

    def generate(self) -> Synapse:
        data = self.workdir / "data"
        data.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [str(self.python), "-m", "synapse.app.homeserver", "--server-name", SERVER_NAME,
             "--config-path", str(self.config), "--data-directory", str(data), "--generate-config",
             "--report-stats=no"],
            check=True, cwd=self.workdir, capture_output=True,
        )  # fmt: skip
        overrides = {
            **_OVERRIDES,
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": {"name": "sqlite3", "args": {"database": str(data / "homeserver.db")}},
        }
        subprocess.run([str(self.python), "-c", _EDIT_CONFIG, str(self.config), json.dumps(overrides)], check=True)
        return self

    def start(self) -> Synapse:
        log = (self.workdir / "synapse.out").open("a")
        self.process = subprocess.Popen(
            [str(self.python), "-m", "synapse.app.homeserver", "--config-path", str(self.config)],
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready()
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def register(self, username: str, password: str = "e2e-password") -> MatrixUser:  # noqa: S107
        """A new user, through the shared-secret admin API."""
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        nonce = requests.get(endpoint, timeout=10).json()["nonce"]
        mac = hmac.new(
            _OVERRIDES["registration_shared_secret"].encode(),
            b"\x00".join([nonce.encode(), username.encode(), password.encode(), b"notadmin"]),
            hashlib.sha1,
        ).hexdigest()
        answer = requests.post(
            endpoint,
            json={"nonce": nonce, "username": username, "password": password, "admin": False, "mac": mac},
            timeout=10,
        )
        answer.raise_for_status()
        body = answer.json()
        return MatrixUser(self, body["user_id"], body["access_token"])

    def log_tail(self, chars: int = 3000) -> str:
        path = self.workdir / "synapse.out"
        return path.read_text()[-chars:] if path.exists() else ""

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"synapse exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(f"{self.url}/_matrix/client/versions", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"synapse did not answer:\n{self.log_tail()}")


class MatrixUser:
    """A person in a Matrix client, reduced to the client-server API calls the tests need."""

    def __init__(self, server: Synapse, user_id: str, access_token: str):
        self.server = server
        self.user_id = user_id
        self.access_token = access_token
        self._txn = 0

    def call(self, method: str, path: str, **kwargs) -> dict:
        answer = requests.request(
            method,
            f"{self.server.url}/_matrix/client/v3{path}",
            headers={"Authorization": f"Bearer {self.access_token}"},
            timeout=20,
            **kwargs,
        )
        answer.raise_for_status()
        return answer.json()

    def create_room(self, *, invite: list[str] = (), encrypted: bool = False) -> str:
        body: dict = {"preset": "private_chat", "invite": list(invite)}
        if encrypted:
            body["initial_state"] = [
                {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
            ]
        return self.call("POST", "/createRoom", json=body)["room_id"]

    def invite(self, room_id: str, user_id: str) -> None:
        self.call("POST", f"/rooms/{quote(room_id)}/invite", json={"user_id": user_id})

    def say(self, room_id: str, text: str) -> str:
        self._txn += 1
        path = f"/rooms/{quote(room_id)}/send/m.room.message/t{time.time_ns()}-{self._txn}"
        return self.call("PUT", path, json={"msgtype": "m.text", "body": text})["event_id"]

    def members(self, room_id: str) -> set[str]:
        return set(self.call("GET", f"/rooms/{quote(room_id)}/joined_members")["joined"])

    def download(self, mxc_url: str) -> requests.Response:
        """A file of the media repository, as a client fetches it (authenticated media)."""
        server_name, media_id = mxc_url.removeprefix("mxc://").split("/", 1)
        return requests.get(
            f"{self.server.url}/_matrix/client/v1/media/download/{server_name}/{media_id}",
            headers={"Authorization": f"Bearer {self.access_token}"},
            timeout=20,
        )

    def messages(self, room_id: str, *, sender: str | None = None) -> list[dict]:
        """The room's text messages, oldest first, optionally from one sender only."""
        chunk = self.call("GET", f"/rooms/{quote(room_id)}/messages", params={"dir": "b", "limit": 100})["chunk"]
        messages = [e for e in reversed(chunk) if e["type"] == "m.room.message"]
        return [e for e in messages if sender is None or e["sender"] == sender]
