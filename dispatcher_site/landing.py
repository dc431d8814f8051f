"""``/``: what this service is, with links for a newcomer (the API docs, the admin, health, the
README's sections); ``/readme`` shows the README; ``/favicon.ico`` so browsers stop asking."""

from __future__ import annotations

import re
from functools import cache
from importlib import metadata

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

import dispatcher_site

FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    '<circle cx="8" cy="8" r="7" fill="#1f4e79"/><circle cx="8" cy="8" r="2.5" fill="#ffd24d"/></svg>'
)
_HEADING = re.compile(r"(?m)^## (.+)$")


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    sections = [(title, slug) for title, slug, _ in readme_sections()]
    context = {"version": dispatcher_site.__version__, "sections": sections, "public_url": settings.PUBLIC_URL}
    return render(request, "dispatcher_site/landing.html", context)


@require_GET
def readme(request: HttpRequest) -> HttpResponse:
    sections = readme_sections()
    if not sections:
        raise Http404("no README here")
    return render(request, "dispatcher_site/readme.html", {"sections": sections})


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(FAVICON, content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@cache
def readme_sections() -> list[tuple[str, str, str]]:
    """(title, anchor, text) of each ``## `` section: the checkout's README.md, or the installed
    package's description (the same file, put in its metadata by pyproject.toml)."""
    path = settings.BASE_DIR / "README.md"
    if path.is_file():
        text = path.read_text()
    else:
        try:
            text = metadata.metadata("oda-dispatcher").get_payload() or ""
        except metadata.PackageNotFoundError:
            return []
    parts = _HEADING.split(text)
    return [
        (title.strip(), _slug(title), body.strip("\n")) for title, body in zip(parts[1::2], parts[2::2], strict=True)
    ]


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
