"""Routes of the REST API, mounted at /api/v1/."""

from django.urls import path

from jobs.interfaces.rest import views

rest_urlpatterns = [
    path("jobs/", views.JobListView.as_view(), name="api_jobs"),
    path("jobs/<str:job_id>/", views.JobDetailView.as_view(), name="api_job_detail"),
    path("jobs/<str:job_id>/abort/", views.JobAbortView.as_view(), name="api_job_abort"),
    path("jobs/<str:job_id>/run-again/", views.JobRunAgainView.as_view(), name="api_job_run_again"),
    path("instruments/", views.InstrumentListView.as_view(), name="api_instruments"),
    path("instruments/<str:name>/", views.InstrumentDetailView.as_view(), name="api_instrument_detail"),
]
