import pytest
from django_q.conf import Conf

from dispatcher_site.tokens import token_issue


@pytest.fixture
def tasks_inline(monkeypatch):
    """django-q2 runs queued tasks at once, in this process (its `sync` mode)."""
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def alice():
    return token_issue(email="alice@example.org", roles=["general"])


@pytest.fixture
def charlie():
    return token_issue(email="charlie@example.org", roles=["general"])


@pytest.fixture
def manager():
    return token_issue(email="staff@example.org", roles=["job manager"])
