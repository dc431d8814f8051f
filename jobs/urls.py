"""The ODA protocol's routes; dispatcher_site.urls mounts them at / and /dispatch-data/."""

from django.urls import path

from jobs.views import protocol

protocol_urlpatterns = [
    path("run_analysis", protocol.run_analysis, name="run_analysis"),
    path("call_back", protocol.call_back, name="call_back"),
    path("api/instr-list", protocol.instr_list, name="instr_list"),
    path("instr-list", protocol.instr_list),
    path("api/meta-data", protocol.meta_data, name="meta_data"),
    path("meta-data", protocol.meta_data),
    path("api/par-names", protocol.par_names, name="par_names"),
    path("download_products", protocol.download_products, name="download_products"),
    path("inspect-state", protocol.inspect_state, name="inspect_state"),
    path("inspect-user-state", protocol.inspect_user_state, name="inspect_user_state"),
]
