"""Typed instrument parameters.

A parameter turns raw request text (or an already typed value) into a normalized
value, refusing bad input with an error that names it, and describes itself for
``/api/meta-data``. Normalized values are what the job hash is computed from, so
they must be JSON-serializable and canonical (same meaning -> same value).
"""

from __future__ import annotations

from typing import Any

NONE_MARKER = "\x00"  # how oda-api sends None


class ParameterError(ValueError):
    """A value a parameter refuses: 'Parameter p wrong value 900: must be at most 800'."""

    def __init__(self, name: str, value: Any, reason: str):
        super().__init__(f"Parameter {name} wrong value {value}: {reason}")
        self.name = name
        self.value = value
        self.reason = reason


class Parameter:
    """Base of every parameter type. Subclasses implement ``convert``."""

    type_name = "string"

    def __init__(
        self,
        name: str,
        *,
        default: Any = None,
        units: str | None = None,
        optional: bool = False,
        owl_uri: str | None = None,
        description: str = "",
    ):
        self.name = name
        self.default = default
        self.units = units
        self.optional = optional
        self.owl_uri = owl_uri
        self.description = description

    def parse(self, raw: Any) -> Any:
        """The normalized value of ``raw``; None (or the marker) means the default."""
        if raw is None or raw == NONE_MARKER or raw == "":
            if self.default is None and not self.optional:
                raise ParameterError(self.name, raw, "a value is required")
            return self.default
        return self.convert(raw)

    def convert(self, raw: Any) -> Any:
        raise NotImplementedError

    def restrictions(self) -> dict[str, Any]:
        return {"is_optional": self.optional}

    def describe(self) -> dict[str, Any]:
        """This parameter's entry in /api/meta-data."""
        entry: dict[str, Any] = {
            "name": self.name,
            "units": self.units,
            "value": self.default,
            "type": self.type_name,
            "restrictions": self.restrictions(),
        }
        if self.owl_uri:
            entry["owl_uri"] = self.owl_uri
        return entry

    def error(self, value: Any, reason: str) -> ParameterError:
        return ParameterError(self.name, value, reason)
