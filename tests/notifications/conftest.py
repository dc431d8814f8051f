"""Fixtures of the notification tests: a configured site, tasks run inline, a fake transport."""

from __future__ import annotations

import pytest
from django_q.conf import Conf

from jobs.services import job_get_or_create
from notifications.transports import TransportError

ALICE = "alice@example.org"
ROOM = "!alice-room:localhost"


@pytest.fixture
def configured(settings):
    """Both channels on, retries without pauses, tasks run inline (django-q2 sync mode)."""
    settings.EMAIL_HOST = "smtp.invalid"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MATRIX_HOMESERVER = "http://matrix.invalid"
    settings.MATRIX_USER_ID = "@oda-bot:localhost"
    settings.MATRIX_ACCESS_TOKEN = "token"
    settings.MATRIX_BCC_ROOMS = []
    settings.MATRIX_INCIDENT_ROOMS = []
    settings.EMAIL_BCC = []
    settings.NOTIFY_MAX_ATTEMPTS = 3
    settings.NOTIFY_RETRY_DELAY_S = 0.0
    settings.PUBLIC_URL = "https://oda.example.org"
    previous = Conf.SYNC
    Conf.SYNC = True
    yield settings
    Conf.SYNC = previous


class FakeTransport:
    """Records what would be sent; fails the next sends when told to."""

    def __init__(self):
        self.sent: list[tuple[str, str, str, object]] = []  # channel, recipient, txn id, message
        self.failures: list[TransportError] = []
        self.tries: list[str] = []

    def send(self, delivery, message) -> None:
        self.tries.append(str(delivery.txn_id))
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((delivery.channel, delivery.recipient, str(delivery.txn_id), message))


@pytest.fixture
def transport(monkeypatch) -> FakeTransport:
    fake = FakeTransport()
    monkeypatch.setattr("notifications.deliveries.transport_for", lambda channel: fake)
    return fake


@pytest.fixture
def submit(django_capture_on_commit_callbacks):
    """Create a job the way the protocol view does; on-commit work (signals, tasks) runs."""

    def create(owner: str = ALICE, claims: dict | None = None, **params):
        with django_capture_on_commit_callbacks(execute=True):
            job, _ = job_get_or_create(
                owner=owner,
                instrument="empty",
                product_type="dummy",
                params=params or {"p": 1.5},
                claims={"mxroomid": ROOM} if claims is None else claims,
            )
        return job

    return create


@pytest.fixture
def move(django_capture_on_commit_callbacks):
    from jobs.services import job_move

    def to(job, status: str, message: str = ""):
        with django_capture_on_commit_callbacks(execute=True):
            return job_move(job_id=job.job_id, to=status, message=message)

    return to


# --- end-to-end: a real Synapse, a real SMTP server, the dispatcher's own processes ---


@pytest.fixture(scope="session")
def synapse(tmp_path_factory):
    """A Synapse homeserver on 127.0.0.1 for the session, with users alice and oda-bot."""
    from tests.conftest import free_port
    from tests.notifications.synapse import Synapse

    server = Synapse(workdir=tmp_path_factory.mktemp("synapse"), port=free_port()).generate().start()
    server.alice = server.register("alice")
    server.bot = server.register("oda-bot")
    yield server
    server.stop()


@pytest.fixture
def homeserver(synapse):
    """The session's homeserver, running again if an earlier test stopped it."""
    if synapse.process is None or synapse.process.poll() is not None:
        synapse.start()
    return synapse


@pytest.fixture
def smtp():
    from tests.conftest import free_port
    from tests.notifications.e2e import smtp_server

    controller, mailbox = smtp_server(free_port())
    mailbox.port = controller.port
    yield mailbox
    controller.stop()


@pytest.fixture
def dispatcher(tmp_path, settings):
    """Start the dispatcher's worker cluster (and the Matrix bot) against the test database.

    This test process plays the web server's part (jobs are created here), so it
    gets the same email and Matrix configuration as the workers, as in a deployment.
    """
    from tests.notifications.e2e import DispatcherProcesses, dispatcher_environment

    started: list[DispatcherProcesses] = []

    def start(*, smtp=None, homeserver=None, bot: bool = True, **extra: str) -> DispatcherProcesses:
        environment = dict(extra)
        if smtp is not None:
            environment.update(DISPATCHER_SMTP_HOST="127.0.0.1", DISPATCHER_SMTP_PORT=str(smtp.port))
            settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
        if homeserver is not None:
            settings.MATRIX_HOMESERVER = homeserver.url
            settings.MATRIX_USER_ID = homeserver.bot.user_id
            settings.MATRIX_ACCESS_TOKEN = homeserver.bot.access_token
            environment.update(
                DISPATCHER_MATRIX_HOMESERVER=homeserver.url,
                DISPATCHER_MATRIX_USER_ID=homeserver.bot.user_id,
                DISPATCHER_MATRIX_ACCESS_TOKEN=homeserver.bot.access_token,
            )
        processes = DispatcherProcesses(logdir=tmp_path, environment=dispatcher_environment(**environment))
        started.append(processes)
        processes.start("qcluster", "qcluster")
        if bot and homeserver is not None:
            processes.start("matrix_bot", "matrix_bot", "--sync-timeout-ms", "3000", "--max-backoff-s", "2")
        return processes

    yield start
    for processes in started:
        processes.stop_all()
