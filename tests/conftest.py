import socket

import pytest

ALICE = "alice@example.org"
CHARLIE = "charlie@example.org"


def free_port() -> int:
    """A port below 32768 that nothing listens on now (above it the kernel hands out client ports)."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port < 32768:
            return port
    for port in range(20000, 32000):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below 32768")


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture(autouse=True)
def fresh_registry():
    """Each test sees the instrument registry as a new process would.

    The registry caches per process, and a test's rows vanish at rollback without
    a signal: without this, one test's instruments would leak into the next.
    """
    from instruments.registry import registry_reset

    registry_reset()
    yield
    registry_reset()


@pytest.fixture(scope="session")
def live_service(django_db_setup, django_db_blocker, tmp_path_factory):
    """The real service (gunicorn + django-q2 workers) on the test database, for the session."""
    from tests.live import LiveService

    with django_db_blocker.unblock():
        service = LiveService(free_port(), tmp_path_factory.mktemp("live") / "service.log").start()
    yield service
    service.stop()


# The people of every test: alice owns jobs, charlie is the outsider who must see
# none of them, staff hold the role "job manager".
@pytest.fixture
def alice() -> str:
    from dispatcher_site.tokens import token_issue

    return token_issue(email=ALICE, roles=["general"])


@pytest.fixture
def charlie() -> str:
    from dispatcher_site.tokens import token_issue

    return token_issue(email=CHARLIE, roles=["general"])


@pytest.fixture
def manager() -> str:
    from dispatcher_site.tokens import token_issue

    return token_issue(email="staff@example.org", roles=["job manager"])


@pytest.fixture
def tasks_inline(monkeypatch):
    """django-q2 runs queued tasks at once, in this process (its `sync` mode)."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)
