"""The REST API's shapes. Serializers only shape data: reads come from selectors, writes go to services."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from instruments.descriptions import InstrumentDescription, ParameterDescription, ProductDescription
from instruments.registry import InstrumentHandle
from jobs.api_code import api_code_for
from jobs.models import Job, JobEvent
from jobs.products import products_load
from jobs.services import QUERY_TYPES
from jobs.signing import job_page_path


class JobEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = JobEvent
        fields = ("created_at", "attempt", "kind", "status", "message", "data")
        read_only_fields = fields


class ProductFileSerializer(serializers.Serializer):
    name = serializers.CharField()
    url = serializers.CharField(help_text="/download_products link; send your token with it (Bearer or ?token=).")


class ProductsSerializer(serializers.Serializer):
    comment = serializers.CharField()
    files = ProductFileSerializer(many=True)
    lists = serializers.DictField(help_text="The protocol's product lists (numpy_data_product_list, ...).")


class JobSerializer(serializers.ModelSerializer):
    duration_s = serializers.FloatField(read_only=True, allow_null=True)
    url = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = (
            "job_id",
            "owner",
            "instrument",
            "product_type",
            "query_type",
            "status",
            "attempt",
            "message",
            "created_at",
            "started_at",
            "finished_at",
            "duration_s",
            "url",
            "page_url",
        )
        read_only_fields = fields

    def get_url(self, job: Job) -> str:
        return self._absolute(reverse("api_job_detail", kwargs={"job_id": job.job_id}))

    def get_page_url(self, job: Job) -> str:
        return self._absolute(job_page_path(job.job_id))

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class JobDetailSerializer(JobSerializer):
    params = serializers.DictField(read_only=True)
    events = JobEventSerializer(many=True, read_only=True)
    products = serializers.SerializerMethodField()
    api_code = serializers.SerializerMethodField()

    class Meta(JobSerializer.Meta):
        fields = (*JobSerializer.Meta.fields, "params", "events", "products", "api_code")
        read_only_fields = fields

    @extend_schema_field(ProductsSerializer)
    def get_products(self, job: Job) -> dict[str, Any]:
        listing = products_load(job)
        lists = dict(listing["lists"])
        files = [
            {"name": name, "url": self._absolute(_download_path(job, name))} for name in lists.get("file_list", [])
        ]
        return {"comment": listing["comment"], "files": files, "lists": lists}

    def get_api_code(self, job: Job) -> str:
        request = self.context.get("request")
        base = request.build_absolute_uri("/").rstrip("/") if request is not None else ""
        return api_code_for(job, url=base)


class JobCreateSerializer(serializers.Serializer):
    instrument = serializers.CharField()
    product_type = serializers.CharField()
    query_type = serializers.ChoiceField(choices=QUERY_TYPES, default="Real")
    params = serializers.DictField(
        required=False, default=dict, help_text="The instrument parameters, by name (see /api/v1/instruments/)."
    )
    session_id = serializers.CharField(required=False, default="", allow_blank=True, max_length=64)


class ParameterSerializer(serializers.Serializer):
    """A ParameterDescription (instruments.descriptions), as the REST API and its schema show it."""

    name = serializers.CharField()
    units = serializers.CharField(allow_null=True)
    value = serializers.JSONField(source="default", allow_null=True, help_text="The default value.")
    type = serializers.CharField()
    restrictions = serializers.SerializerMethodField()
    owl_uri = serializers.CharField(required=False)

    @extend_schema_field(serializers.DictField(help_text="is_optional, min_value, max_value, allowed_values, ..."))
    def get_restrictions(self, parameter: ParameterDescription) -> dict[str, Any]:
        return parameter.restrictions.as_mapping()

    def to_representation(self, parameter: ParameterDescription) -> dict[str, Any]:
        shown = super().to_representation(parameter)
        if not parameter.owl_uri:
            del shown["owl_uri"]  # a parameter without an ontology term says nothing of it
        return shown


class ProductSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    query_types = serializers.ListField(child=serializers.CharField())
    roles = serializers.ListField(child=serializers.CharField())
    parameters = ParameterSerializer(many=True)


class InstrumentSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.CharField()
    description = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    products = ProductSerializer(many=True)


class ErrorSerializer(serializers.Serializer):
    """The protocol's error body, also used by the REST API."""

    error = serializers.CharField()
    error_message = serializers.CharField()
    error_code = serializers.CharField(help_text="Stable, for scripts: job_not_found, roles_missing, ...")
    exit_status = serializers.DictField()


def _download_path(job: Job, name: str) -> str:
    query = urlencode({"job_id": job.job_id, "session_id": job.session_id, "file_list": name})
    return f"{reverse('download_products')}?{query}"


def instrument_data(handle: InstrumentHandle) -> dict[str, Any]:
    """An instrument, its products and every product's typed parameters (common ones included)."""
    description = handle.describe()
    return {
        "name": description.name,
        "kind": description.kind,
        "description": description.description,
        "roles": sorted(description.roles),
        "products": [_product_data(description, product) for product in description.products],
    }


def _product_data(instrument: InstrumentDescription, product: ProductDescription) -> dict[str, Any]:
    # Listed as /api/meta-data lists them: source, instrument, then the product's own
    # parameters; an own parameter takes the place of a common one of the same name.
    listed = (*instrument.source_parameters, *instrument.instrument_parameters, *product.own_parameters)
    parameters = {parameter.name: parameter for parameter in listed}
    return {
        "name": product.name,
        "description": product.description,
        "query_types": sorted(product.query_types),
        "roles": sorted(product.roles),
        "parameters": ParameterSerializer(list(parameters.values()), many=True).data,
    }
