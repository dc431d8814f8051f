"""Numbers, texts, enumerations and booleans."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from instruments.descriptions import Restrictions
from instruments.parameters.base import (
    _FALSE,
    _TRUE,
    ODA,
    Parameter,
    _finite_float,
    _number_text,
)


class _Bounded(Parameter):
    """A number with optional inclusive bounds, and optionally a list of the values allowed."""

    def __init__(
        self,
        name: str,
        *,
        min_value: float | None = None,
        max_value: float | None = None,
        allowed_values: Sequence[float] | None = None,
        **options: Any,
    ):
        super().__init__(name, **options)
        self.min_value = min_value
        self.max_value = max_value
        self.allowed_values = [_finite_float(self, v) for v in allowed_values] if allowed_values else None

    def check_bounds(self, raw: Any, value: float) -> None:
        if self.min_value is not None and value < self.min_value:
            raise self.error(raw, f"must be at least {_number_text(self.min_value)}")
        if self.max_value is not None and value > self.max_value:
            raise self.error(raw, f"must be at most {_number_text(self.max_value)}")
        if self.allowed_values is not None and value not in self.allowed_values:
            raise self.error(raw, f"must be one of {', '.join(_number_text(v) for v in self.allowed_values)}")

    def restrictions(self) -> Restrictions:
        allowed = tuple(self.allowed_values) if self.allowed_values is not None else None
        return replace(
            super().restrictions(), min_value=self.min_value, max_value=self.max_value, allowed_values=allowed
        )

    def to_float(self, raw: Any) -> float:
        return _finite_float(self, raw)


class Float(_Bounded):
    type_name = "float"
    default_owl_uri = f"{ODA}Float"

    def __init__(self, name: str, **options: Any):
        super().__init__(name, **options)
        self._normalize_default()

    def convert(self, raw: Any) -> float:
        value = self.to_float(raw)
        self.check_bounds(raw, value)
        return value


class Integer(_Bounded):
    type_name = "integer"
    default_owl_uri = f"{ODA}Integer"

    def __init__(self, name: str, **options: Any):
        super().__init__(name, **options)
        self._normalize_default()

    def convert(self, raw: Any) -> int:
        if isinstance(raw, int) and not isinstance(raw, bool):
            value = raw
        else:
            number = self.to_float(raw)
            # "10" and "10.0" both mean ten; "10.5" is not an integer.
            if not number.is_integer():
                raise self.error(raw, "must be an integer")
            value = int(number)
        self.check_bounds(raw, value)
        return value


class String(Parameter):
    type_name = "string"
    default_owl_uri = f"{ODA}String"

    def __init__(
        self,
        name: str,
        *,
        allowed_values: Sequence[str] | None = None,
        max_length: int | None = None,
        **options: Any,
    ):
        super().__init__(name, **options)
        self.allowed_values = list(allowed_values) if allowed_values is not None else None
        self.max_length = max_length
        self._normalize_default()

    def convert(self, raw: Any) -> str:
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise self.error(raw, "must be a text")
        # Surrounding blanks never carry meaning in a source name or a label.
        value = str(raw).strip()
        if "\x00" in value:
            # No database stores it in text (PostgreSQL refuses it), and no name needs it.
            raise self.error(repr(raw), "must not contain NUL characters")
        if self.max_length is not None and len(value) > self.max_length:
            raise self.error(raw, f"must be at most {self.max_length} characters long")
        if self.allowed_values is not None and value not in self.allowed_values:
            raise self.error(raw, f"must be one of {', '.join(self.allowed_values)}")
        return value

    def restrictions(self) -> Restrictions:
        allowed = tuple(self.allowed_values) if self.allowed_values is not None else None
        return replace(super().restrictions(), allowed_values=allowed)


class Enum(String):
    """One of a fixed list of words."""

    type_name = "enum"

    def __init__(self, name: str, *, allowed_values: Sequence[str], **options: Any):
        if not allowed_values:
            raise ValueError(f"Enum {name} needs allowed_values")
        super().__init__(name, allowed_values=allowed_values, **options)


class Boolean(Parameter):
    type_name = "boolean"
    default_owl_uri = f"{ODA}Boolean"

    def __init__(self, name: str, **options: Any):
        super().__init__(name, **options)
        self._normalize_default()

    def convert(self, raw: Any) -> bool:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int) and raw in (0, 1):
            return bool(raw)
        word = str(raw).strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise self.error(raw, "must be true or false")

    def restrictions(self) -> Restrictions:
        return replace(super().restrictions(), allowed_values=(True, False))


class FileReference(String):
    """A file the product reads, named by a URL (or, for a backend on the same disk, a path).

    The value is kept as text: the backend fetches it. A file sent with the request
    (a multipart part named after the parameter) is stored by the dispatcher, and
    the value becomes its URL there (``jobs.uploads``); ``<name>_type=url`` keeps a
    URL the user gave.
    """

    type_name = "file"
    default_owl_uri = f"{ODA}FileReference"


# The file parameter type plugins declare: any file, named by a URL once uploaded.
File = FileReference


class FileURL(FileReference):
    default_owl_uri = f"{ODA}FileURL"


class POSIXPath(FileReference):
    default_owl_uri = f"{ODA}POSIXPath"


# --- time ---------------------------------------------------------------------
