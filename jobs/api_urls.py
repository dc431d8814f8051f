"""Routes of the REST API (mounted at /api/v1/) and of the job page (mounted at /jobs/)."""

from django.urls import path

from jobs.views import page, rest

rest_urlpatterns = [
    path("jobs/", rest.JobListView.as_view(), name="api_jobs"),
    path("jobs/<str:job_id>/", rest.JobDetailView.as_view(), name="api_job_detail"),
    path("jobs/<str:job_id>/abort/", rest.JobAbortView.as_view(), name="api_job_abort"),
    path("instruments/", rest.InstrumentListView.as_view(), name="api_instruments"),
    path("instruments/<str:name>/", rest.InstrumentDetailView.as_view(), name="api_instrument_detail"),
]

page_urlpatterns = [
    path("<str:job_id>/", page.job_page, name="job_page"),
    path("<str:job_id>/state.json", page.job_state, name="job_state"),
    path("<str:job_id>/download", page.job_download, name="job_download"),
]
