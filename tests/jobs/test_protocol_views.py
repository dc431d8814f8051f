"""/run_analysis, /call_back and friends through Django's test client, tasks run inline."""

import ast
import gzip
import io
import tarfile
from urllib.parse import parse_qs, urlsplit

import pytest

from instruments.base import Products
from jobs.models import Job, JobEvent
from jobs.services import job_get_or_create
from jobs.services.running import job_finish
from jobs.signing import callback_url

pytestmark = pytest.mark.django_db(transaction=True)

NEW = {"instrument": "empty", "query_status": "new", "session_id": "SESSION000000001"}
ANSWER_FIELDS = {"query_status", "job_status", "session_id", "time_request", "job_monitor", "exit_status", "products"}


def run(client, **params):
    return client.get("/run_analysis", {**NEW, **params})


def get_product_arguments(api_code: str) -> dict:
    """The keyword arguments of the ``disp.get_product(...)`` call in an api_code snippet."""
    (call,) = [
        node
        for node in ast.walk(ast.parse(api_code))
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "get_product"
    ]
    return {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords}


def test_a_dummy_job_is_done_with_the_full_answer(client, tasks_inline):
    answer = run(client, product_type="dummy", query_type="Dummy").json()
    assert ANSWER_FIELDS <= set(answer)
    job_id = answer["job_monitor"]["job_id"]
    polled = run(client, product_type="dummy", query_type="Dummy", query_status="submitted", job_id=job_id).json()
    assert polled["query_status"] == "done"
    assert polled["exit_status"] == {
        "status": 0,
        "job_status": "done",
        "message": "",
        "error_message": "",
        "debug_message": "",
        "comment": "",
        "warning": "",
    }
    assert polled["products"]["job_id"] == job_id
    # As the earlier dispatcher's dummy: done, and no product lists (oda-api get prints nothing).
    assert polled["products"]["prod_process_message"] == ""
    assert not [key for key in polled["products"] if key.endswith("_list") or key == "catalog"]
    asked = get_product_arguments(polled["products"]["api_code"])
    assert (asked["instrument"], asked["product"], asked["product_type"]) == ("empty", "dummy", "Dummy")
    assert asked["src_name"] == polled["products"]["analysis_parameters"]["src_name"]
    assert polled["job_monitor"]["session_id"] == NEW["session_id"]


def test_a_submitted_answer_already_has_products_and_job_monitor(client):
    # No task runs here: a product of a backend that takes its time stays submitted.
    answer = run(client, instrument="empty-async", product_type="dummy", query_type="Dummy", src_name="Mrk 421").json()
    assert answer["query_status"] == "submitted"
    assert answer["products"]["analysis_parameters"]["src_name"] == "Mrk 421"
    (job,) = Job.objects.all()
    assert answer["job_monitor"]["job_id"] == answer["products"]["job_id"] == job.job_id
    assert answer["job_monitor"]["full_report_dict_list"] == []


def test_an_instant_product_is_done_in_the_first_answer_without_a_worker(client):
    # No task runs in this test: empty's products are answered within the request.
    answer = run(client, product_type="echo", query_type="Real", src_name="Mrk 421").json()
    assert answer["query_status"] == "done"
    echoed = answer["products"]["echo"]
    assert echoed["src_name"] == "Mrk 421"
    parameters = answer["products"]["analysis_parameters"]
    assert echoed == {name: parameters[name] for name in echoed}
    assert set(echoed) == {
        "src_name",
        "RA",
        "DEC",
        "T1",
        "T2",
        "T_format",
        "p_list",
        "ang",
        "ang_deg",
        "energ",
        "energy_units",
    }
    job = Job.objects.get(job_id=answer["job_monitor"]["job_id"])
    statuses = list(job.events.filter(kind=JobEvent.Kind.STATUS).values_list("status", flat=True))
    assert statuses == ["submitted", "done"]
    assert job.started_at is not None and job.finished_at is not None


def test_an_instant_failure_is_failed_in_the_first_answer(client):
    answer = run(client, product_type="failing", query_type="Real").json()
    assert answer["query_status"] == "failed"
    assert "always fails" in answer["exit_status"]["message"]


def test_unknown_arguments_are_named_in_the_comment(client):
    answer = run(client, product_type="echo", query_type="Real", colour="blue").json()
    assert answer["exit_status"]["comment"] == "Please note that argument(s) colour are not used"


def test_dummy_refuses_real_queries(client):
    response = run(client, product_type="dummy", query_type="Real")
    assert response.status_code == 400
    assert "needs query_type=Dummy" in response.json()["error_message"]


@pytest.mark.parametrize(
    ("params", "text"),
    [
        ({"instrument": "no-such"}, "no-such"),
        ({"product_type": "no-such"}, "no-such"),
        ({"instrument": ""}, "Please give instrument"),
        ({"query_type": "Maybe"}, "query_type must be one of"),
    ],
)
def test_bad_requests_are_400_with_the_protocol_error_fields(client, params, text):
    response = run(client, **{"product_type": "echo", **params})
    assert response.status_code == 400
    body = response.json()
    assert text in body["error"]
    assert body["exit_status"]["message"] == body["error_message"]
    assert "empty" in body["installed_instruments"]
    assert not Job.objects.exists()


def test_a_bad_parameter_names_it(client):
    token = _token(["general", "unige-hpc-full"])
    response = run(client, product_type="numerical", query_type="Real", p="900", token=token)
    assert response.status_code == 400
    assert response.json()["error_message"] == "Parameter p wrong value 900: must be at most 800"


def test_a_missing_role_is_403_naming_it(client, alice):
    response = run(client, product_type="numerical", query_type="Real", p="100", token=alice)
    assert response.status_code == 403
    assert (
        " - unige-hpc-full: unige-hpc-full role is needed for p>50 as well\n"
        in response.json()["exit_status"]["message"]
    )


def test_a_failing_backend_fails_the_job_with_its_message(client, tasks_inline):
    answer = run(client, product_type="failing", query_type="Real").json()
    polled = run(client, product_type="failing", query_status="submitted", job_id=answer["job_monitor"]["job_id"])
    body = polled.json()
    assert polled.status_code == 200
    assert body["query_status"] == "failed"
    assert body["exit_status"]["status"] == 1
    assert "always fails" in body["exit_status"]["message"]
    assert body["exit_status"]["error_message"] == body["exit_status"]["message"]
    assert body["exit_status"]["message"] == Job.objects.get(job_id=answer["job_monitor"]["job_id"]).message


def test_post_form_is_served_like_get(client, tasks_inline):
    response = client.post("/dispatch-data/run_analysis", {**NEW, "product_type": "dummy", "query_type": "Dummy"})
    assert response.status_code == 200
    job = Job.objects.get(job_id=response.json()["job_monitor"]["job_id"])
    assert (job.instrument, job.product_type, job.query_type) == ("empty", "dummy", "Dummy")
    assert job.session_id == NEW["session_id"]


def test_the_outsider_gets_403_for_another_users_job(client, alice, charlie):
    job_id = run(client, product_type="echo", query_type="Real", token=alice).json()["job_monitor"]["job_id"]
    response = run(client, product_type="echo", query_status="submitted", job_id=job_id, token=charlie)
    assert response.status_code == 403
    assert response.json()["error_code"] == "job_forbidden"
    assert job_id not in response.content.decode()
    download = client.get("/download_products", {"job_id": job_id, "token": charlie})
    assert download.status_code == 403


def test_the_same_request_by_another_user_is_another_job(client, alice, charlie):
    one = run(client, product_type="echo", query_type="Real", token=alice).json()["job_monitor"]["job_id"]
    two = run(client, product_type="echo", query_type="Real", token=charlie).json()["job_monitor"]["job_id"]
    again = run(client, product_type="echo", query_type="Real", token=alice).json()["job_monitor"]["job_id"]
    assert one != two
    assert one == again


class TestCallBack:
    def _job(self):
        job, _ = job_get_or_create(owner="", instrument="empty-async", product_type="dummy", params={}, session_id="S")
        return job

    def _report(self, client, job, **fields):
        query = {k: v[0] for k, v in parse_qs(urlsplit(callback_url(job)).query).items()}
        return client.get("/call_back", {**query, **fields})

    def test_it_records_reports_in_order_and_shows_them(self, client):
        job = self._job()
        assert self._report(client, job, action="progress", message="one", stage="a").status_code == 200
        response = self._report(client, job, action="something-new", message="two", stage="b")
        assert response.status_code == 200
        assert set(response.json()) == {"time_spent_s"}
        assert 0 <= response.json()["time_spent_s"] < 60
        job.refresh_from_db()
        assert job.status == "progress"
        answer = run(client, product_type="dummy", query_status="submitted", job_id=job.job_id, session_id="S")
        reports = answer.json()["job_monitor"]["full_report_dict_list"]
        # Each report as the backend sent it, less its signature, with the time it was recorded.
        sent = {"job_id": job.job_id, "session_id": "S", "instrument_name": "empty-async"}
        assert [{k: v for k, v in r.items() if k != "time"} for r in reports] == [
            {**sent, "action": "progress", "message": "one", "stage": "a"},
            {**sent, "action": "something-new", "message": "two", "stage": "b"},
        ]
        assert reports[0]["time"] <= reports[1]["time"]

    def test_a_repeated_report_changes_nothing(self, client):
        job = self._job()
        self._report(client, job, action="progress", message="same")
        self._report(client, job, action="progress", message="same")
        assert job.events.filter(kind=JobEvent.Kind.PROGRESS).count() == 1

    def test_failed_ends_the_job(self, client):
        job = self._job()
        self._report(client, job, action="failed", message="out of memory")
        job.refresh_from_db()
        assert job.status == "failed"
        assert job.message == "out of memory"

    def test_done_completes_through_the_adapter(self, client, tasks_inline):
        job = self._job()
        self._report(client, job, action="done", message="finished")
        job.refresh_from_db()
        assert job.status == "done"

    @pytest.mark.parametrize("signature", [None, "", "forged0000"])
    def test_unsigned_or_forged_reports_are_refused(self, client, signature):
        job = self._job()
        query = {"job_id": job.job_id, "action": "done"}
        if signature is not None:
            query["sig"] = signature
        response = client.get("/call_back", query)
        assert response.status_code == 403
        assert not job.events.filter(kind=JobEvent.Kind.PROGRESS).exists()

    def test_a_signature_for_one_job_does_not_open_another(self, client):
        job = self._job()
        other, _ = job_get_or_create(owner="", instrument="empty-async", product_type="dummy", params={"x": 1})
        query = {k: v[0] for k, v in parse_qs(urlsplit(callback_url(job)).query).items()}
        response = client.get("/call_back", {**query, "job_id": other.job_id, "action": "failed"})
        assert response.status_code == 403
        other.refresh_from_db()
        assert other.status == "submitted"


class TestDownloads:
    def _done_job(self, owner="alice@example.org"):
        job, _ = job_get_or_create(owner=owner, instrument="empty", product_type="echo", params={})
        job_finish(job_id=job.job_id, products=Products(files={"a.txt": b"alpha", "b.ecsv": b"beta"}))
        return job

    def test_one_file_is_gzipped(self, client, alice):
        job = self._done_job()
        response = client.get("/download_products", {"job_id": job.job_id, "file_list": "a.txt", "token": alice})
        assert response.status_code == 200
        assert gzip.decompress(response.content) == b"alpha"

    def test_several_files_come_as_tar_gz(self, client, alice):
        job = self._done_job()
        response = client.get("/download_products", {"job_id": job.job_id, "token": alice})
        archive = tarfile.open(fileobj=io.BytesIO(response.content), mode="r:gz")
        assert sorted(archive.getnames()) == ["a.txt", "b.ecsv"]

    @pytest.mark.parametrize("name", ["../../secret_key", "/etc/passwd", "a.txt/../../x", "products.json"])
    def test_no_path_traversal(self, client, alice, name):
        job = self._done_job()
        response = client.get("/download_products", {"job_id": job.job_id, "file_list": name, "token": alice})
        assert response.status_code == 400

    def test_the_outsider_cannot_download(self, client, charlie):
        job = self._done_job()
        assert client.get("/download_products", {"job_id": job.job_id, "token": charlie}).status_code == 403


class TestMetadata:
    def test_instr_list_hides_instruments_without_the_role(self, client):
        assert "empty-development" not in client.get("/api/instr-list").json()
        developer = _token(["oda workflow developer"])
        assert "empty-development" in client.get("/api/instr-list", {"token": developer}).json()

    def test_meta_data_describes_parameters(self, client):
        (answer,) = client.get("/api/meta-data", {"instrument": "empty", "product_type": "numerical"}).json()
        # [{"instrumet"}, {"prod_dict"}, then queries [{"query_name": ...}, ...], as the frontend reads them.
        assert answer[0] == {"instrumet": "empty"}
        assert answer[1]["prod_dict"]["numerical"] == "empty_parameters_numerical_query"
        groups = {group[0]["query_name"]: group[1:] for group in answer[2:]}
        assert list(groups) == ["src_query", "empty_instrument_query", "empty_parameters_numerical_query"]
        assert groups["empty_parameters_numerical_query"] == [
            {"product_name": "numerical"},
            {
                "name": "p",
                "units": "W",
                "value": 10.0,
                "type": "float",
                "restrictions": {"is_optional": False, "max_value": 800},
                "owl_uri": "http://odahub.io/ontology#Float",
            },
        ]
        assert [p["name"] for p in groups["src_query"]] == ["src_name", "RA", "DEC", "T1", "T2", "T_format", "token"]

    def test_par_names_include_token(self, client):
        names = client.get("/api/par-names", {"instrument": "empty", "product_type": "numerical"}).json()
        assert names == ["src_name", "RA", "DEC", "T1", "T2", "T_format", "p_list", "p", "token"]

    def test_par_names_without_a_product_are_those_of_every_product(self, client):
        names = client.get("/api/par-names", {"instrument": "empty"}).json()
        assert {"p", "dummy_file", "sb", "ang", "energ", "bounded_int_par", "struct", "optional_def_none"} <= set(names)
        assert names[-1] == "token" and len(names) == len(set(names))

    def test_par_names_of_a_restricted_instrument_answer_without_its_role(self, client):
        # oda-api's get_product asks here without its token: a developer must not see a warning.
        names = client.get("/api/par-names", {"instrument": "empty-development", "product_type": "numerical"})
        assert names.status_code == 200 and "p" in names.json()
        assert client.get("/api/par-names", {"instrument": "empty-development", "token": "bad"}).status_code == 400

    def test_meta_data_of_a_restricted_instrument_needs_the_role(self, client):
        assert client.get("/api/meta-data", {"instrument": "empty-development"}).status_code == 403


class TestInspect:
    def test_inspect_state_needs_job_manager(self, client, alice, manager):
        run(client, product_type="echo", query_type="Real", token=alice)
        assert client.get("/inspect-state", {"token": alice}).status_code == 403
        records = client.get("/inspect-state", {"token": manager}).json()["records"]
        assert [r["owner"] for r in records] == ["alice@example.org"]

    def test_inspect_user_state_shows_only_own_jobs(self, client, alice, charlie):
        run(client, product_type="echo", query_type="Real", token=alice)
        assert client.get("/inspect-user-state", {"token": charlie}).json()["records"] == []
        assert len(client.get("/inspect-user-state", {"token": alice}).json()["records"]) == 1

    def test_inspect_user_state_comes_in_pages(self, client, alice):
        for number in range(12):
            run(client, product_type="echo", query_type="Real", token=alice, src_name=f"page {number}")
        first = client.get("/inspect-user-state", {"token": alice}).json()
        rest = client.get("/inspect-user-state", {"token": alice, "offset": first["next_offset"]}).json()
        assert (len(first["records"]), first["next_offset"], len(rest["records"])) == (10, 10, 2)
        assert "next_offset" not in rest
        every = [record["job_id"] for record in first["records"] + rest["records"]]
        assert len(set(every)) == 12
        assert client.get("/inspect-user-state", {"token": alice, "limit": "many"}).status_code == 400

    def test_bad_recent_days_is_400(self, client, manager):
        response = client.get("/inspect-state", {"token": manager, "recent_days": "soon"})
        assert response.status_code == 400


def _token(roles):
    from dispatcher_site.tokens import token_issue

    return token_issue(email="bob@example.org", roles=roles)
