"""/download_products: one file gzipped, several as a tar.gz, only what the job produced."""

from __future__ import annotations

import gzip
import io
import tarfile

from django.http import HttpResponse

from jobs.exceptions import JobError
from jobs.models import Job
from jobs.products import UnsafeFileName, product_file_path, product_files
from jobs.states import Status


class ProductsUnavailable(JobError):
    status_code = 400


def download_response(job: Job, *, file_list: str) -> HttpResponse:
    if job.status != Status.DONE:
        raise ProductsUnavailable(f"Job {job.job_id} is {job.status}: its products can be downloaded once done.")
    names = _requested_names(job, file_list)
    try:
        paths = [product_file_path(job, name) for name in names]
    except UnsafeFileName as error:
        raise ProductsUnavailable(str(error)) from None
    if len(paths) == 1:
        return _attachment(gzip.compress(paths[0].read_bytes()), f"{paths[0].name}.gz", "application/gzip")
    return _attachment(_tar_gz(paths), f"{job.job_id[:8]}-products.tar.gz", "application/gzip")


def _requested_names(job: Job, file_list: str) -> list[str]:
    names = [name.strip() for name in file_list.split(",") if name.strip()]
    names = names or product_files(job)
    if not names:
        raise ProductsUnavailable(f"Job {job.job_id} has no files to download.")
    return names


def _tar_gz(paths) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in paths:
            archive.add(path, arcname=path.name)
    return buffer.getvalue()


def _attachment(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
