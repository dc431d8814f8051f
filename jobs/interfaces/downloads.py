"""Product files as HTTP downloads: one file gzipped, several as a tar.gz (the protocol's and the page's)."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

from django.http import HttpResponse

from jobs.models import Job
from jobs.products import product_paths_for_download


def download_response(job: Job, *, file_list: str) -> HttpResponse:
    """``file_list``: comma-separated names, or empty for every file of the job."""
    names = [name.strip() for name in file_list.split(",") if name.strip()]
    paths = product_paths_for_download(job, names)
    if len(paths) == 1:
        return _attachment(gzip.compress(paths[0].read_bytes()), f"{paths[0].name}.gz")
    return _attachment(_tar_gz(paths), f"{job.job_id[:8]}-products.tar.gz")


def _tar_gz(paths: list[Path]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in paths:
            archive.add(path, arcname=path.name)
    return buffer.getvalue()


def _attachment(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/gzip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
