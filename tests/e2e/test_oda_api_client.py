"""The real oda-api client (PyPI 1.3.5) against the live service: gunicorn, django-q2
workers, signed call-backs. What a user of the Python client sees."""

import json
import threading

import pytest
import requests
from oda_api.api import DispatcherAPI, RemoteException, RequestNotUnderstood, Unauthorized

from dispatcher_site.tokens import token_issue
from jobs.models import Job, JobEvent

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def alice_token():
    return token_issue(email="alice@example.org", roles=["general"])


def client(live_service, prefix: str = "") -> DispatcherAPI:
    api = DispatcherAPI(url=live_service.url + prefix, wait=True)
    # Errors would otherwise be retried for minutes; the service answers at once.
    api.n_max_tries = 2
    api.retry_sleep_s = 1
    return api


def test_it_lists_instruments_by_role(live_service, alice_token):
    public = client(live_service).get_instruments_list()
    assert "empty" in public and "empty-async" in public
    assert "empty-development" not in public
    developer = token_issue(email="dev@example.org", roles=["oda workflow developer"])
    listed = requests.get(f"{live_service.url}/api/instr-list", params={"token": developer}, timeout=10).json()
    assert "empty-development" in listed


def test_dummy_product_completes(live_service):
    data = client(live_service).get_product(instrument="empty", product="dummy", product_type="Dummy", silent=True)
    assert data is not None
    job = Job.objects.get(instrument="empty", product_type="dummy")
    assert job.status == "done"
    assert job.owner == ""


def test_echo_returns_the_normalized_parameters_under_dispatch_data(live_service, alice_token):
    api = client(live_service, "/dispatch-data")
    data = api.get_product(
        instrument="empty", product="echo", product_type="Real", src_name="Crab", token=alice_token, silent=True
    )
    assert data is not None
    job = Job.objects.get(product_type="echo")
    assert job.owner == "alice@example.org"
    assert job.params["src_name"] == "Crab"
    assert "Crab" in json.dumps(api.response_json["products"])


def test_async_backend_finishes_through_signed_call_backs(live_service):
    data = client(live_service).get_product(
        instrument="empty-async", product="dummy", product_type="Dummy", silent=True
    )
    assert data is not None
    job = Job.objects.get(instrument="empty-async")
    assert job.status == "done"
    reports = job.events.filter(kind=JobEvent.Kind.PROGRESS)
    assert reports.filter(data__action="progress").exists()
    assert reports.filter(data__action="done").exists()


def test_a_failing_product_raises_remote_exception_with_our_message(live_service):
    with pytest.raises(RemoteException) as caught:
        client(live_service).get_product(instrument="empty", product="failing", product_type="Real", silent=True)
    job = Job.objects.get(product_type="failing")
    assert job.status == "failed"
    assert job.message and job.message in caught.value.message


def test_a_bad_parameter_is_request_not_understood(live_service):
    token = token_issue(email="bob@example.org", roles=["general", "unige-hpc-full"])
    with pytest.raises(RequestNotUnderstood) as caught:
        client(live_service).get_product(
            instrument="empty", product="numerical", product_type="Real", p=900, token=token, silent=True
        )
    assert "Parameter p wrong value 900: must be at most 800" in str(caught.value)
    assert not Job.objects.exists()


def test_a_missing_role_is_unauthorized_naming_it(live_service, alice_token):
    with pytest.raises(Unauthorized) as caught:
        client(live_service).get_product(
            instrument="empty", product="numerical", product_type="Real", p=100, token=alice_token, silent=True
        )
    assert "unige-hpc-full" in str(caught.value)


def test_twenty_concurrent_identical_submissions_make_one_job(live_service, alice_token):
    params = {
        "instrument": "empty",
        "product_type": "echo",
        "query_type": "Real",
        "query_status": "new",
        "session_id": "ABCDEFGH12345678",
        "src_name": "concurrent",
        "token": alice_token,
    }
    answers: list[dict] = []
    start = threading.Barrier(20)

    def submit() -> None:
        start.wait()
        response = requests.get(f"{live_service.url}/run_analysis", params=params, timeout=60)
        answers.append({"status": response.status_code, **response.json()})

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert len(answers) == 20
    assert {answer["status"] for answer in answers} == {200}
    assert len({answer["job_monitor"]["job_id"] for answer in answers}) == 1
    assert Job.objects.filter(product_type="echo").count() == 1
