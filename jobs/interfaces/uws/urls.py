"""The UWS routes; dispatcher_site.urls mounts them under /uws/."""

from django.urls import path

from jobs.interfaces.uws import views

uws_urlpatterns = [
    path("jobs", views.job_list, name="uws_jobs"),
    path("jobs/", views.job_list),
    path("jobs/<str:job_id>", views.job_detail, name="uws_job"),
    path("jobs/<str:job_id>/phase", views.job_phase, name="uws_phase"),
    path("jobs/<str:job_id>/executionduration", views.job_execution_duration, name="uws_executionduration"),
    path("jobs/<str:job_id>/destruction", views.job_destruction, name="uws_destruction"),
    path("jobs/<str:job_id>/error", views.job_error, name="uws_error"),
    path("jobs/<str:job_id>/quote", views.job_quote, name="uws_quote"),
    path("jobs/<str:job_id>/results", views.job_results, name="uws_results"),
    path("jobs/<str:job_id>/results/result", views.job_result, name="uws_result"),
    path("jobs/<str:job_id>/results/files/<str:name>", views.job_result_file, name="uws_result_file"),
    path("jobs/<str:job_id>/parameters", views.job_parameters, name="uws_parameters"),
    path("jobs/<str:job_id>/owner", views.job_owner, name="uws_owner"),
]
# For include("jobs.interfaces.uws.urls").
urlpatterns = uws_urlpatterns
