"""The JSON REST API under /api/v1/: the caller's jobs and the instruments they may use.

Thin views: authenticate with the platform's token (PlatformTokenAuthentication),
read through the one gate (jobs_for_user / job_get_for_user), write through
services (job_submit_request, job_abort_for_user), shape with jobs.serializers.
Every error leaves through ``rest_exception_handler`` as the protocol's error JSON.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status as http
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

import jobs.openapi  # noqa: F401 - registers the token scheme with drf-spectacular
from dispatcher_site.auth import AuthError, AuthFailed, PlatformTokenAuthentication, caller_of
from dispatcher_site.errors import error_body
from instruments.exceptions import InstrumentError, ParameterError, UnknownInstrument
from instruments.registry import instruments_enabled
from jobs.exceptions import InvalidRequest, JobError
from jobs.maintenance import job_abort_for_user
from jobs.selectors import job_get_for_user, jobs_for_user
from jobs.serializers import (
    ErrorSerializer,
    InstrumentSerializer,
    JobCreateSerializer,
    JobDetailSerializer,
    JobSerializer,
    instrument_data,
)
from jobs.states import Status
from jobs.submission import instrument_for_caller, job_submit_request

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}


def rest_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Our error values, and DRF's own, as the protocol's error JSON with the right status.

    DRF's usual ``detail`` stays beside the protocol's fields, for clients that read it.
    """
    if isinstance(exc, AuthFailed):
        return Response(error_body(exc.message, detail=exc.message), status=exc.status_code)
    if isinstance(exc, AuthError | JobError | InstrumentError | ParameterError):
        message = getattr(exc, "message", None) or str(exc)
        return Response(error_body(message, detail=message), status=getattr(exc, "status_code", 400))
    response = exception_handler(exc, context)
    if response is not None:
        data = response.data
        detail = data.get("detail", data) if isinstance(data, dict) else data
        response.data = error_body(_detail_text(data), detail=detail)
    return response


class RestView(APIView):
    authentication_classes = [PlatformTokenAuthentication]
    permission_classes: list = []


class JobPagination(PageNumberPagination):
    page_size = 20
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
        jobs = jobs_for_user(caller=caller_of(request))
        wanted_status = request.query_params.get("status")
        if wanted_status:
            if wanted_status not in Status.values:
                raise InvalidRequest(f"status must be one of {', '.join(Status.values)}, not {wanted_status!r}.")
            jobs = jobs.filter(status=wanted_status)
        if request.query_params.get("instrument"):
            jobs = jobs.filter(instrument=request.query_params["instrument"])
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
        job, created, comment = job_submit_request(
            data=data, caller=caller_of(request), session_id=fields["session_id"]
        )
        shown = JobDetailSerializer(job, context={"request": request}).data
        shown["comment"] = comment
        return Response(shown, status=http.HTTP_201_CREATED if created else http.HTTP_200_OK)


class JobDetailView(RestView):
    @extend_schema(
        operation_id="jobs_retrieve",
        summary="A job with its events, products and api_code",
        responses={200: JobDetailSerializer, **ERRORS},
    )
    def get(self, request: Request, job_id: str) -> Response:
        job = job_get_for_user(job_id=job_id, caller=caller_of(request))
        return Response(JobDetailSerializer(job, context={"request": request}).data)


class JobAbortView(RestView):
    @extend_schema(
        operation_id="jobs_abort",
        summary="Abort a job that has not finished",
        request=None,
        responses={200: JobDetailSerializer, 409: ErrorSerializer, **ERRORS},
    )
    def post(self, request: Request, job_id: str) -> Response:
        job = job_abort_for_user(job_id=job_id, caller=caller_of(request))
        return Response(JobDetailSerializer(job, context={"request": request}).data)


class InstrumentListView(RestView):
    @extend_schema(
        operation_id="instruments_list",
        summary="The instruments the caller may use, with products and typed parameters",
        responses={200: InstrumentSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        caller = caller_of(request)
        visible = [handle for handle in instruments_enabled() if caller.has_roles(handle.roles)]
        return Response([instrument_data(handle) for handle in visible])


class InstrumentDetailView(RestView):
    @extend_schema(
        operation_id="instruments_retrieve",
        summary="One instrument, with products and typed parameters",
        responses={200: InstrumentSerializer, **ERRORS},
    )
    def get(self, request: Request, name: str) -> Response:
        try:
            handle = instrument_for_caller(caller_of(request), name)
        except UnknownInstrument as unknown:
            raise NotFound(str(unknown)) from None
        return Response(instrument_data(handle))


def _detail_text(data: Any) -> str:
    """One readable sentence from DRF's error detail (a string, a list or a dict of field errors)."""
    if isinstance(data, dict):
        if set(data) == {"detail"}:
            return str(data["detail"])
        return "; ".join(f"{field}: {_detail_text(errors)}" for field, errors in data.items())
    if isinstance(data, list):
        return " ".join(_detail_text(item) for item in data)
    return str(data)
