"""The JSON REST API under /api/v1/: the caller's jobs and the instruments they may use.

Thin views: authenticate with the platform's token (PlatformTokenAuthentication),
read through the access gate (``jobs.access``), write through the application
layer (``jobs.services``), shape with ``serializers``. Every error leaves through
DRF's exception handler, ``dispatcher_site.rest.rest_exception_handler``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status as http
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import jobs.interfaces.rest.openapi  # noqa: F401 - registers the token scheme with drf-spectacular
from dispatcher_site.auth import PlatformTokenAuthentication, caller_of
from dispatcher_site.rest import rest_request_check
from jobs.access import JobFilter, job_access, jobs_listed
from jobs.errors import InvalidRequest
from jobs.interfaces.rest.serializers import (
    ErrorSerializer,
    InstrumentSerializer,
    JobCreateSerializer,
    JobDetailSerializer,
    JobSerializer,
    instrument_data,
)
from jobs.interfaces.uploads import request_files
from jobs.services import (
    instrument_resource_for_caller,
    instruments_for_caller,
    job_abort_for,
    job_run_again_for,
    job_submit,
)
from jobs.states import Status

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}


class RestView(APIView):
    authentication_classes = [PlatformTokenAuthentication]
    permission_classes: list = []

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        rest_request_check(request, kwargs)  # before anything reads the URL or the query
        super().initial(request, *args, **kwargs)


class JobPagination(PageNumberPagination):
    # Each row costs a request ~0.13 ms (serializer, two URLs): 20 a page kept 0.5-0.7 of the
    # rate of a user with one job (bench/run.py, 2026-12-06); ask page_size for more.
    page_size = 10
    page_size_query_param = "page_size"
    max_page_size = 100


class JobListView(RestView):
    @extend_schema(
        operation_id="jobs_list",
        summary="The caller's jobs, newest first",
        parameters=[
            OpenApiParameter("status", str, enum=list(Status.values), description="only jobs in this status"),
            OpenApiParameter("instrument", str, description="only jobs of this instrument"),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int, description="at most 100"),
        ],
        responses={200: JobSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        wanted_status = request.query_params.get("status")
        if wanted_status and wanted_status not in Status.values:
            raise InvalidRequest(f"status must be one of {', '.join(Status.values)}, not {wanted_status!r}.")
        filters = JobFilter(
            statuses=frozenset({wanted_status}) if wanted_status else None,
            instrument=request.query_params.get("instrument") or None,
        )
        jobs = jobs_listed(caller=caller_of(request), filters=filters)
        paginator = JobPagination()
        page = paginator.paginate_queryset(jobs, request, view=self)
        return paginator.get_paginated_response(JobSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        operation_id="jobs_create",
        summary="Ask for a product: create a job, or join the identical one",
        description="Validated exactly as /run_analysis is. 201 for a new job, 200 for an existing identical one.",
        request=JobCreateSerializer,
        responses={201: JobDetailSerializer, 200: JobDetailSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        asked = JobCreateSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        fields = asked.validated_data
        data = {**fields["params"], **{k: fields[k] for k in ("instrument", "product_type", "query_type")}}
        files = request_files(request, prefix="params.")  # multipart: a file part per file parameter
        submitted = job_submit(data=data, caller=caller_of(request), session_id=fields["session_id"], files=files)
        shown = JobDetailSerializer(submitted.job, context={"request": request}).data
        shown["comment"] = submitted.comment
        return Response(shown, status=http.HTTP_201_CREATED if submitted.created else http.HTTP_200_OK)


class JobDetailView(RestView):
    @extend_schema(
        operation_id="jobs_retrieve",
        summary="A job with its events, products and api_code",
        responses={200: JobDetailSerializer, **ERRORS},
    )
    def get(self, request: Request, job_id: str) -> Response:
        job = job_access(caller=caller_of(request), job_id=job_id)
        return Response(JobDetailSerializer(job, context={"request": request}).data)


class JobAbortView(RestView):
    @extend_schema(
        operation_id="jobs_abort",
        summary="Abort a job that has not finished",
        request=None,
        responses={200: JobDetailSerializer, 409: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request, job_id: str) -> Response:
        job = job_abort_for(caller=caller_of(request), job_id=job_id)
        return Response(JobDetailSerializer(job, context={"request": request}).data)


class JobRunAgainView(RestView):
    @extend_schema(
        operation_id="jobs_run_again",
        summary="Run a failed or aborted job again, as its next attempt (same id, history kept)",
        request=None,
        responses={200: JobDetailSerializer, 409: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request, job_id: str) -> Response:
        job = job_run_again_for(caller=caller_of(request), job_id=job_id)
        return Response(JobDetailSerializer(job, context={"request": request}).data)


class InstrumentListView(RestView):
    @extend_schema(
        operation_id="instruments_list",
        summary="The instruments the caller may use, with products and typed parameters",
        responses={200: InstrumentSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        return Response([instrument_data(handle) for handle in instruments_for_caller(caller_of(request))])


class InstrumentDetailView(RestView):
    @extend_schema(
        operation_id="instruments_retrieve",
        summary="One instrument, with products and typed parameters",
        responses={200: InstrumentSerializer, **ERRORS},
    )
    def get(self, request: Request, name: str) -> Response:
        return Response(instrument_data(instrument_resource_for_caller(caller_of(request), name)))
