"""PNG previews of a done job's main product: for the done mail, the Matrix room and the admin.

Made with matplotlib (its Agg canvas, no display) in a worker, never in a web
request: the worker that sends a done mail or Matrix message asks for it
(``preview_make``); the admin shows it once kept and has a task make it otherwise.
One per job, kept in the job's products folder (``jobs.products.product_preview_path``),
so the other channel, a resend and the admin reuse it, and a purge removes it with
the files; a lock there makes workers asking together render it once.

The main product is the first numpy data product that plots (a light curve, a
spectrum, an image: ``jobs.drawings.numpy_product_plot``, the very plot the pages
draw with Bokeh), else the first picture. A job with neither has no preview and
nothing is kept for it.
"""

from __future__ import annotations

import io
import logging
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jobs import drawings, scheduling
from jobs.errors import QueueUnavailable
from jobs.models import Job
from jobs.products import product_preview_keep, product_preview_lock, product_preview_path, products_load
from jobs.states import Status

log = logging.getLogger(__name__)

PREVIEW_SIZE_PX = (600, 400)  # width, height: small enough for a mail, readable in a chat
_DPI = 100
_SOURCES = ("numpy_data_product_list", "binary_image_product_list")


@dataclass(frozen=True)
class Preview:
    png: bytes
    width: int
    height: int

    @classmethod
    def of(cls, png: bytes) -> Preview:
        width, height = struct.unpack(">II", png[16:24])  # the PNG's IHDR chunk
        return cls(png=png, width=width, height=height)


def preview_load(job: Job) -> Preview | None:
    """The job's kept preview, if one was made (nothing is rendered here)."""
    path = product_preview_path(job.job_id)
    return Preview.of(path.read_bytes()) if path.is_file() else None


def preview_possible(job: Job) -> bool:
    """Whether the done job holds a product a preview could be made of (without drawing it)."""
    lists = products_load(job)["lists"]
    return job.status == Status.DONE and any(lists.get(name) for name in _SOURCES)


def preview_make(job: Job) -> Preview | None:
    """The job's preview, made and kept now unless it already is; None without a drawable product."""
    kept = preview_load(job)
    if kept is not None or not preview_possible(job):
        return kept
    with product_preview_lock(job.job_id):
        kept = preview_load(job)  # made by another worker while this one waited
        if kept is not None:
            return kept
        png = preview_render(products_load(job)["lists"])
        if png is None:
            return None
        product_preview_keep(job_id=job.job_id, png=png)
    log.info("preview of job %s made (%d bytes)", job.job_id[:8], len(png))
    return Preview.of(png)


def preview_order(job: Job) -> bool:
    """Have a worker make the job's preview (the admin asks, and never draws in a request); False if refused."""
    try:
        scheduling.enqueue("jobs.tasks.job_preview_task", job.job_id)
    except QueueUnavailable:
        return False
    return True


def preview_make_for(*, job_id: str) -> bool:
    """The ordered task's body: whether the job (still there) has its preview now."""
    job = Job.objects.filter(job_id=job_id).first()
    return job is not None and preview_make(job) is not None


def preview_render(lists: Mapping[str, Any]) -> bytes | None:
    """A PNG of the main product of these product lists, or None when none can be drawn."""
    for entry in lists.get("numpy_data_product_list") or []:
        plot = drawings.numpy_product_plot(entry) if isinstance(entry, Mapping) else None
        if plot is not None and (plot.image is not None or len(plot.x)):
            return _png(lambda axes, plot=plot: _draw_plot(axes, plot))
    for entry in lists.get("binary_image_product_list") or []:
        raw = drawings.picture_bytes(entry) if isinstance(entry, Mapping) else None
        if raw is not None:
            try:
                return _png(lambda axes, raw=raw, entry=entry: _draw_picture(axes, raw, str(entry.get("name") or "")))
            except (OSError, ValueError, SyntaxError) as error:  # Pillow's words for an unreadable picture
                log.info("picture %s could not be read: %s", entry.get("name"), error)
    return None


def _png(draw) -> bytes:
    from matplotlib.figure import Figure

    width, height = PREVIEW_SIZE_PX
    figure = Figure(figsize=(width / _DPI, height / _DPI), dpi=_DPI)
    draw(figure.add_subplot())
    figure.tight_layout()  # moves the axes only: the image keeps PREVIEW_SIZE_PX
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


def _draw_plot(axes: Any, plot: drawings.Plot) -> None:
    if plot.image is not None:
        axes.imshow(plot.image, origin="lower", cmap="viridis", aspect="auto")
    elif plot.errors is not None:
        axes.errorbar(plot.x, plot.y, yerr=plot.errors, fmt="o-", markersize=3, linewidth=1, elinewidth=0.8)
    else:
        axes.plot(plot.x, plot.y, "o-", markersize=3, linewidth=1)
    if plot.log_axes:
        axes.set_xscale("log")
        axes.set_yscale("log")
    elif plot.image is None:
        axes.ticklabel_format(useOffset=False)  # MJDs as they are, not "+5.78e4" in a corner
    axes.set_xlabel(_plain(plot.x_label))
    axes.set_ylabel(_plain(plot.y_label))
    axes.set_title(_plain(plot.title))


def _draw_picture(axes: Any, raw: bytes, title: str) -> None:
    from matplotlib.image import imread

    axes.imshow(imread(io.BytesIO(raw)))
    axes.set_axis_off()
    axes.set_title(_plain(title))


def _plain(text: str) -> str:
    # A backend's "$" would start matplotlib's math text, which fails on anything unbalanced.
    return text.replace("$", r"\$")
