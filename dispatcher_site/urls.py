from pathlib import Path

import drf_spectacular_sidecar
from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve as static_serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from dispatcher_site import token_views
from dispatcher_site.errors import get_only
from dispatcher_site.health import healthz
from dispatcher_site.landing import favicon, landing, readme
from jobs.interfaces.oda.urls import protocol_urlpatterns
from jobs.interfaces.page.urls import page_urlpatterns
from jobs.interfaces.rest.urls import rest_urlpatterns
from notifications import views as notification_views

# A database error outside a view is a JSON 503 too (dispatcher_site.outages); others stay Django's 500.
handler500 = "dispatcher_site.outages.server_error"

_SIDECAR_ASSETS = Path(drf_spectacular_sidecar.__file__).parent / "static" / "drf_spectacular_sidecar"

urlpatterns = [
    # What this service is and where to go next (dispatcher_site.landing); "" matches "/" alone.
    path("", landing, name="landing"),
    path("readme", readme, name="readme"),
    path("favicon.ico", favicon),
    # get_only: a POST is answered 405 JSON rather than Django's CSRF page.
    path("healthz", get_only(healthz), name="healthz"),
    path("admin/", admin.site.urls),
    # The REST API, its OpenAPI schema and docs (Swagger UI's assets served from drf-spectacular-sidecar:
    # no CDN needed), and the job page.
    path("api/v1/", include(rest_urlpatterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    re_path(r"^api/docs/assets/(?P<path>.+)$", static_serve, {"document_root": _SIDECAR_ASSETS}),
    path("jobs/", include(page_urlpatterns)),
]

# The protocol's token endpoints, served at / and under /dispatch-data/ like the rest of it.
token_urlpatterns = [
    path("refresh_token", token_views.refresh_token, name="refresh_token"),
    path("update_token_email_options", token_views.update_token_email_options, name="update_token_email_options"),
    # A person's report of a problem with a job, for the operators (notifications.incidents).
    path("report_incident", notification_views.report_incident, name="report_incident"),
]
urlpatterns += [
    path("", include(token_urlpatterns + protocol_urlpatterns)),
    path("dispatch-data/", include(token_urlpatterns + protocol_urlpatterns)),
]
urlpatterns += [path("uws/", include("jobs.interfaces.uws.urls"))]  # IVOA UWS 1.1 at /uws/jobs

if settings.BENCH_ENDPOINTS:
    from bench import noop

    urlpatterns += [path("bench/noop", noop.noop), path("bench/queue", noop.queue)]
