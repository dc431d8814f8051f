"""Product lists live in the registry; files on disk, only for jobs that have files."""

import pytest

from dispatcher_site.auth import Caller
from instruments.base import Products
from jobs.models import Job, JobProducts
from jobs.products import product_file_path, product_files, products_dir, products_load
from jobs.services import job_finish, job_get_or_create, job_move, job_submit
from jobs.states import Status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _products_apart(settings, tmp_path):
    settings.PRODUCTS_DIR = tmp_path / "products"


def _submitted(**params):
    job, _ = job_get_or_create(owner="alice@example.org", instrument="empty-async", product_type="echo", params=params)
    return job


def test_finishing_keeps_lists_in_the_registry_and_files_on_disk():
    job = _submitted(n=1)
    products = Products(text_product_list=[{"name": "t"}], files={"result.txt": b"42\n"}, comment="all good")

    finished = job_finish(job_id=job.job_id, products=products)

    assert finished.status == Status.DONE
    assert products_load(finished) == {
        "lists": {"text_product_list": [{"name": "t"}], "file_list": ["result.txt"]},
        "comment": "all good",
    }
    assert product_files(finished) == ["result.txt"]
    assert product_file_path(finished, "result.txt").read_bytes() == b"42\n"


def test_a_job_answered_at_once_has_no_folder_when_it_has_no_files():
    asked = {"instrument": "empty", "product_type": "dummy", "query_type": "Dummy"}
    submitted = job_submit(data=asked, caller=Caller.public(), session_id="S")
    job = submitted.job
    assert submitted.created and job.status == Status.DONE
    assert products_load(job)["lists"] == {"prod_process_message": ""}
    assert not products_dir(job.job_id).exists()


def test_asking_again_for_a_job_answered_at_once_keeps_nothing_again():
    asked = {"instrument": "empty", "product_type": "echo", "query_type": "Real", "x": 1}
    job = job_submit(data=asked, caller=Caller.public(), session_id="S").job
    JobProducts.objects.filter(job=job).update(comment="kept the first time")

    again = job_submit(data=asked, caller=Caller.public(), session_id="S")

    assert not again.created and again.job.pk == job.pk
    again = again.job
    assert products_load(again)["comment"] == "kept the first time"


def test_a_second_finish_changes_nothing():
    job = _submitted(n=2)
    done = job_finish(job_id=job.job_id, products=Products(text_product_list=[{"v": 1}]))

    assert job_finish(job_id=job.job_id, products=Products(text_product_list=[{"v": 2}])) is None

    assert products_load(done)["lists"] == {"text_product_list": [{"v": 1}]}


def test_products_arriving_after_the_job_ended_are_not_kept():
    job = _submitted(n=3)
    job_move(job_id=job.job_id, to=Status.ABORTED, message="stop")

    assert job_finish(job_id=job.job_id, products=Products(files={"late.txt": b"x"})) is None

    assert not JobProducts.objects.filter(job=job).exists()


def test_a_job_not_done_shows_no_products():
    job = _submitted(n=4)
    assert products_load(job) == {"lists": {}, "comment": ""}


def test_the_migration_moves_lists_kept_on_disk_into_the_registry(settings):
    import importlib
    import json

    from django.apps import apps

    migration = importlib.import_module("jobs.migrations.0003_job_products")
    job = job_move(job_id=_submitted(n=5).job_id, to=Status.DONE)
    manifest = products_dir(job.job_id) / "products.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"lists": {"file_list": ["a.txt"]}, "comment": "from disk"}))

    migration.import_manifests(apps, None)

    assert products_load(job) == {"lists": {"file_list": ["a.txt"]}, "comment": "from disk"}
    assert not manifest.exists()


def test_a_job_ended_while_its_products_were_being_kept_keeps_none(monkeypatch):
    from jobs.errors import IllegalTransition
    from jobs.services import running as execution

    job = _submitted(n=6)

    def ended_meanwhile(**kwargs):
        raise IllegalTransition(job.job_id, Status.ABORTED, Status.DONE)

    monkeypatch.setattr(execution, "job_move", ended_meanwhile)

    assert job_finish(job_id=job.job_id, products=Products(text_product_list=[{"v": 1}])) is None

    assert not JobProducts.objects.filter(job=job).exists()


def test_a_download_of_many_files_reads_the_lists_once(django_assert_num_queries):
    job = _submitted(n=3)
    names = [f"part-{n}.txt" for n in range(5)]
    job_finish(job_id=job.job_id, products=Products(files={name: name.encode() for name in names}))
    done = Job.objects.get(pk=job.pk)

    with django_assert_num_queries(1):
        paths = [product_file_path(done, name) for name in product_files(done)]
    assert [path.read_bytes() for path in paths] == [name.encode() for name in names]
