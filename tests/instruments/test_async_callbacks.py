"""empty-async's simulated backend really calls back, over HTTP, as a backend would."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from instruments.base import RunRequest
from instruments.registry import instrument_get
from tests.conftest import free_port

pytestmark = pytest.mark.django_db


class Recorder(BaseHTTPRequestHandler):
    received: list[dict[str, str]]

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        fields = {key: values[0] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        self.server.received.append({"path": parts.path, **fields})
        body = b'{"time_spent_s": 0.0}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def callback_server():
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Recorder)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def wait_for(predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_the_simulated_backend_reports_progress_twice_then_done(callback_server):
    handle = instrument_get("empty-async")
    params = handle.validate("dummy", {}).params
    port = callback_server.server_address[1]
    url = f"http://127.0.0.1:{port}/call_back?job_id=J1&session_id=S1&sig=signed-by-dispatcher"
    request = RunRequest(job_id="J1", instrument="empty-async", product_type="dummy", params=params, callback_url=url)

    started = time.monotonic()
    outcome = handle.adapter.run(request)
    assert outcome.state == "submitted"
    assert wait_for(lambda: len(callback_server.received) >= 3, timeout_s=10), callback_server.received
    elapsed = time.monotonic() - started

    reports = callback_server.received
    assert [r["action"] for r in reports] == ["progress", "progress", "done"]
    assert elapsed < 5, f"the backend took {elapsed:.1f} s"
    for report in reports:
        assert report["path"] == "/call_back"
        assert report["sig"] == "signed-by-dispatcher"  # the signed URL is used as given
        assert report["job_id"] == "J1" and report["session_id"] == "S1"
        assert report["instrument_name"] == "empty-async" and report["node_id"] == "simulated"
        assert report["progress_max"] == "2" and report["message"]
    assert [r["progress"] for r in reports] == ["1", "2", "2"]
    assert [r["stage"] for r in reports] == ["step-1", "step-2", "done"]

    done = handle.adapter.complete(request, reports[-1])
    assert done.state == "done"
    assert done.products.as_protocol() == {"prod_process_message": ""}


def test_polling_gives_up_when_no_call_back_comes():
    from instruments.base import AdapterError

    handle = instrument_get("empty-async")
    request = RunRequest(
        job_id="J2", instrument="empty-async", product_type="dummy", params={}, backend_ref={"give_up_at": 0}
    )
    with pytest.raises(AdapterError, match="never reported done"):
        handle.adapter.poll(request)
    waiting = RunRequest(**{**request.__dict__, "backend_ref": {"give_up_at": time.time() + 30}})
    assert handle.adapter.poll(waiting).state == "progress"
