from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from dispatcher_site import token_views
from dispatcher_site.health import healthz
from jobs.urls import protocol_urlpatterns

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

# The protocol's token endpoints, served at / and under /dispatch-data/ like the rest of it.
token_urlpatterns = [
    path("refresh_token", token_views.refresh_token, name="refresh_token"),
    path("update_token_email_options", token_views.update_token_email_options, name="update_token_email_options"),
]
urlpatterns += [
    path("", include(token_urlpatterns + protocol_urlpatterns)),
    path("dispatch-data/", include(token_urlpatterns + protocol_urlpatterns)),
]

if settings.BENCH_ENDPOINTS:
    from bench import noop

    urlpatterns += [path("bench/noop", noop.noop), path("bench/queue", noop.queue)]
