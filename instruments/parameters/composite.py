"""Lists of a parameter type, and structured values checked by a JSON schema."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from dispatcher_site.inputs import json_problem
from instruments.descriptions import Restrictions
from instruments.parameters.base import (
    ODA,
    Parameter,
    ParameterError,
)

_NOT_JSON = object()


def json_decoded(parameter: Parameter, raw: str | bytes) -> Any:
    """JSON text a client sent (oda-api encodes lists and dicts), decoded; ``_NOT_JSON`` if it is none.

    Refused when the value holds what no database stores (NUL, a lone surrogate,
    NaN) or nests deeper than the code that walks it can follow.
    """
    try:
        value = json.loads(raw)
    except RecursionError:
        raise parameter.error(_clipped(raw), "is nested too deeply") from None
    except ValueError:
        return _NOT_JSON
    _check_storable(parameter, raw, value)
    return value


def _check_storable(parameter: Parameter, raw: Any, value: Any) -> None:
    problem = json_problem(value)
    if problem:
        raise parameter.error(_clipped(raw), f"cannot be kept: {problem}")


def _clipped(raw: Any) -> str:
    text = repr(raw)
    return text if len(text) <= 60 else f"{text[:57]}..."


class ListOf(Parameter):
    """A list of values of one type; oda-api sends it JSON-encoded ("[1, 2]")."""

    type_name = "list"
    takes_repeated = True  # scw_list=a&scw_list=b, as the frontend's forms send a list
    default_owl_uri = f"{ODA}List"

    def __init__(
        self,
        name: str,
        *,
        item: Parameter,
        min_length: int | None = None,
        max_length: int | None = None,
        **options: Any,
    ):
        super().__init__(name, units=options.pop("units", item.units), **options)
        self.item = item
        self.min_length = min_length
        self.max_length = max_length
        self.needs = item.needs
        self._normalize_default()

    def convert(self, raw: Any) -> list[Any]:
        return self.convert_in_context(raw, {})

    def convert_in_context(self, raw: Any, context: Mapping[str, Any]) -> list[Any]:
        items = self._items(raw)
        if self.min_length is not None and len(items) < self.min_length:
            raise self.error(raw, f"must have at least {self.min_length} items")
        if self.max_length is not None and len(items) > self.max_length:
            raise self.error(raw, f"must have at most {self.max_length} items")
        values = []
        for index, item in enumerate(items):
            try:
                values.append(self.item.convert_in_context(item, context))
            except ParameterError as exc:
                raise self.error(raw, f"item {index}: {exc.reason}") from None
        return values

    def _items(self, raw: Any) -> list[Any]:
        if isinstance(raw, list | tuple):
            return list(raw)
        if not isinstance(raw, str):
            return [raw]
        text = raw.strip()
        if text.startswith("["):
            decoded = json_decoded(self, text)
            if not isinstance(decoded, list):
                raise self.error(raw, "is not a JSON list")
            return decoded
        # Hand-written requests (curl, a browser) say "1,2,3".
        return [part.strip() for part in text.split(",")]

    def restrictions(self) -> Restrictions:
        # The items' restrictions apply to each item; optionality is the list's own.
        return replace(self.item.restrictions(), is_optional=self.optional, item_type=self.item.type_name)


class Structured(Parameter):
    """A JSON value checked against a JSON schema; raw text is decoded first."""

    type_name = "structured"
    default_owl_uri = f"{ODA}StructuredParameter"

    def __init__(self, name: str, *, schema: Mapping[str, Any], **options: Any):
        from jsonschema import validators

        super().__init__(name, **options)
        validator_class = validators.validator_for(schema)
        validator_class.check_schema(schema)  # a broken schema is the plugin's bug: fail early
        self.schema = dict(schema)
        self.validator = validator_class(self.schema)
        self._normalize_default()

    def convert(self, raw: Any) -> Any:
        value = raw
        if isinstance(raw, str | bytes):
            value = json_decoded(self, raw)
            if value is _NOT_JSON:
                raise self.error(raw, "is not valid JSON")
        else:
            _check_storable(self, raw, value)
        problem = self._first_problem(value)
        if problem:
            raise self.error(raw, f"does not match its schema: {problem}")
        return value

    def _first_problem(self, value: Any) -> str:
        from jsonschema.exceptions import best_match

        error = best_match(self.validator.iter_errors(value))
        if error is None:
            return ""
        where = "/".join(str(part) for part in error.absolute_path)
        return f"{error.message} (at {where})" if where else error.message

    def restrictions(self) -> Restrictions:
        return replace(super().restrictions(), schema=self.schema)


# --- a whole request ----------------------------------------------------------
