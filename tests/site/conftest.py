import pytest

from dispatcher_site.auth import user_sync_forget


@pytest.fixture(autouse=True)
def _forget_synced_users():
    # The process remembers users it wrote; each test's database starts empty again.
    user_sync_forget()
    yield
    user_sync_forget()
