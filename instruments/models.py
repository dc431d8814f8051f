from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

name_validator = RegexValidator(
    r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$", "Letters, digits, '-', '_' and '.', starting with a letter or digit."
)


class Instrument(models.Model):
    """One configured instrument: which kind of adapter serves it, with what settings and roles.

    Rows are read through ``instruments.registry``, which caches them; saving or
    deleting a row tells the registry.
    """

    # Looked up by name on every request, through the cached registry; the unique
    # index serves the registry's reload.
    name = models.CharField(max_length=100, unique=True, validators=[name_validator])
    kind = models.CharField(max_length=100, help_text="The adapter kind: a built-in one or an installed plugin's.")
    description = models.TextField(blank=True, default="")
    settings = models.JSONField(
        default=dict,
        blank=True,
        help_text='What the adapter needs, e.g. {"url": "http://backend:8000", "timeout_s": 30}.',
    )
    roles = models.JSONField(default=list, blank=True, help_text='Roles needed for any product, e.g. ["general"].')
    product_roles = models.JSONField(
        default=dict, blank=True, help_text='Extra roles per product, e.g. {"image": ["integral-private"]}.'
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not isinstance(self.settings, dict):
            errors["settings"] = "Settings must be a JSON object."
        if not _is_word_list(self.roles):
            errors["roles"] = 'Roles must be a JSON list of role names, e.g. ["general"].'
        if not isinstance(self.product_roles, dict) or not all(
            _is_word_list(roles) for roles in self.product_roles.values()
        ):
            errors["product_roles"] = 'Product roles must map products to lists of roles, e.g. {"p": ["general"]}.'
        if errors:
            raise ValidationError(errors)


def _is_word_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) and item for item in value)
