"""The ODA protocol's routes; dispatcher_site.urls mounts them at / and /dispatch-data/."""

from django.urls import path

from jobs.interfaces.oda import views

protocol_urlpatterns = [
    path("run_analysis", views.run_analysis, name="run_analysis"),
    path("call_back", views.call_back, name="call_back"),
    path("api/instr-list", views.instr_list, name="instr_list"),
    path("instr-list", views.instr_list),
    path("api/meta-data", views.meta_data, name="meta_data"),
    path("meta-data", views.meta_data),
    path("api/par-names", views.par_names, name="par_names"),
    path("download_products", views.download_products, name="download_products"),
    path("download_file", views.download_file, name="download_file"),
    path("inspect-state", views.inspect_state, name="inspect_state"),
    path("inspect-user-state", views.inspect_user_state, name="inspect_user_state"),
    path("resolve-job-url", views.resolve_job_url, name="resolve_job_url"),
]
