"""A finished job's products: their lists in the registry, their files on disk.

The protocol's product lists (what an answer's ``products`` shows) are a
``JobProducts`` row, written in the transaction that ends the job. The files
offered by /download_products sit under
DISPATCHER_DATA_DIR/products/<id[:2]>/<job id>/, written before that row; a job
without files has no folder. In a distributed deployment the data directory is
shared storage seen by web and worker hosts alike.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings

from instruments.base import Products
from jobs.errors import ProductsUnavailable
from jobs.models import Job, JobProducts
from jobs.sql import row_get, row_insert
from jobs.states import Status

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
# The job's preview (jobs.previews) beside its files: a product file's name never starts with a dot.
PREVIEW_NAME = ".preview.png"


class UnsafeFileName(ValueError):
    pass


def products_dir(job_id: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{64}", job_id):
        raise UnsafeFileName(f"not a job id: {job_id!r}")
    return Path(settings.PRODUCTS_DIR) / job_id[:2] / job_id


def products_store_lists(*, job: Job, products: Products) -> None:
    """Keep a job's product lists; its files must already be kept (products_keep_files).

    Call it inside the transaction that ends the job. Lists already there (a
    concurrent finish of the same job, rolled back later) are replaced.
    """
    row_insert(products_row(products, job=job), replace=True)


def products_keep_files(*, job_id: str, products: Products) -> None:
    """Write the product files (if any) into the job's folder, before its lists are kept.

    Never inside a transaction: on SQLite that would hold the one write lock while
    writing files.
    """
    if not products.files:
        return
    folder = products_dir(job_id)
    _private_folders(folder)
    for name, content in products.files.items():
        _write_atomically(folder / _checked_name(name), content)


def products_row(products: Products, *, job: Job | None = None) -> JobProducts:
    """The (unsaved) row of a job's product lists."""
    return JobProducts(job=job, lists=products.as_protocol(), comment=products.comment)


def products_load(job: Job) -> dict[str, Any]:
    """A done job's listing: {"lists": {...}, "comment": "..."}; empty for a job not done."""
    if job.status != Status.DONE:
        kept = None
    elif Job.products.is_cached(job):
        # Kept by this very request (answered at once), or read before through this instance.
        kept = Job.products.related.get_cached_value(job)
    else:
        kept = row_get(JobProducts, "job_id", job.pk)
        if kept is not None:
            # A done job's lists never change: later reads through this instance
            # (a download of N files checks each name) need no query.
            Job.products.related.set_cached_value(job, kept)
    return {"lists": kept.lists, "comment": kept.comment} if kept else {"lists": {}, "comment": ""}


def product_files(job: Job) -> list[str]:
    return list(products_load(job)["lists"].get("file_list", []))


def product_file_path(job: Job, name: str) -> Path:
    """The path of one kept file; names outside the job's own list are refused."""
    if name not in product_files(job):
        raise UnsafeFileName(f"no product file {name!r} in this job")
    return products_dir(job.job_id) / _checked_name(name)


def product_paths_for_download(job: Job, names: list[str]) -> list[Path]:
    """The files a download asks for (every file when ``names`` is empty); only a done job's own files."""
    if job.status != Status.DONE:
        raise ProductsUnavailable(f"Job {job.job_id} is {job.status}: its products can be downloaded once done.")
    names = names or product_files(job)
    if not names:
        raise ProductsUnavailable(f"Job {job.job_id} has no files to download.")
    try:
        return [product_file_path(job, name) for name in names]
    except UnsafeFileName as error:
        raise ProductsUnavailable(str(error)) from None


def product_preview_path(job_id: str) -> Path:
    """Where a job's preview PNG is kept: in its products folder, so it goes when they go."""
    return products_dir(job_id) / PREVIEW_NAME


def product_preview_keep(*, job_id: str, png: bytes) -> Path:
    """Keep a job's preview beside its files (the folder made private if the job had no files)."""
    path = product_preview_path(job_id)
    _private_folders(path.parent)
    _write_atomically(path, png)
    return path


@contextmanager
def product_preview_lock(job_id: str) -> Iterator[None]:
    """Held while a job's preview is made: workers of every host that shares the data dir make it once."""
    folder = products_dir(job_id)
    _private_folders(folder)
    with open(folder / ".preview.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def products_remove(job_id: str) -> bool:
    """Remove a job's files (its lists go with its row)."""
    folder = products_dir(job_id)
    if not folder.exists():
        return False
    shutil.rmtree(folder)
    return True


def _checked_name(name: str) -> str:
    if not _SAFE_NAME.match(name) or ".." in name:
        raise UnsafeFileName(f"unsafe product file name {name!r}")
    return name


def _private_folders(folder: Path) -> None:
    """Create ``folder`` and its missing parents 0700: products are their owners' only.

    (``mkdir(parents=True)`` would create the parents with the default mode.)
    """
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)


def _write_atomically(path: Path, content: bytes) -> None:
    # Files may be rewritten while read: an identical request for a job answered at
    # once writes them again before it finds the job, and two finishes may race.
    fd, scratch = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")  # mode 0600
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    os.replace(scratch, path)
