"""Routes of the job page, mounted at /jobs/."""

from django.urls import path

from jobs.interfaces.page import views

page_urlpatterns = [
    path("<str:job_id>/", views.job_page, name="job_page"),
    path("<str:job_id>/state.json", views.job_state, name="job_state"),
    path("<str:job_id>/download", views.job_download, name="job_download"),
]
