"""A small declarative validator for ingest payloads.

DRF serializers cost tens of microseconds per field, which caps bulk ingest
far below the 5,000 reviews/s goal; this validator checks the same contract
in plain Python, reports every problem per field in the API's error shape, and
renders its own OpenAPI schema, so the docs and the checks can't drift apart.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

Clean = dict[str, Any]
Errors = dict[str, Any]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# C0 control characters other than tab, line feed and carriage return (NUL
# cannot even be stored in PostgreSQL text), and UTF-16 surrogates, which JSON
# escapes can produce unpaired ("\ud800") and UTF-8 cannot encode.
_FORBIDDEN_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


class Invalid(Exception):
    """Raised by a field converter with a message for the partner."""


def _string(value: Any, spec: Field) -> str:
    if not isinstance(value, str):
        raise Invalid(_("Must be a string."))
    bad = _FORBIDDEN_CHARACTERS.search(value)
    if bad:
        raise Invalid(
            _("Contains a character that is not allowed (U+%(code)s at position %(at)s).")
            % {"code": f"{ord(bad.group()):04X}", "at": bad.start()}
        )
    value = value.strip()
    if spec.required and not value and not spec.allow_blank:
        raise Invalid(_("May not be blank."))
    if spec.max_length is not None and len(value) > spec.max_length:
        raise Invalid(_("At most %(max)s characters (got %(got)s).")
                      % {"max": spec.max_length, "got": len(value)})
    if spec.choices and value not in spec.choices:
        raise Invalid(_("Must be one of: %(codes)s.") % {"codes": ", ".join(spec.choices)})
    if spec.pattern and value and not re.fullmatch(spec.pattern, value):
        raise Invalid(spec.pattern_message or _("Has an invalid format."))
    return value


def _integer(value: Any, spec: Field) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(_("Must be an integer."))
    if spec.minimum is not None and value < spec.minimum:
        raise Invalid(_("Must be at least %(n)s.") % {"n": spec.minimum})
    if spec.maximum is not None and value > spec.maximum:
        raise Invalid(_("Must be at most %(n)s.") % {"n": spec.maximum})
    return value


def _datetime(value: Any, spec: Field) -> dt.datetime:
    message = _("Must be an ISO 8601 date-time, e.g. 2026-05-01T18:30:00Z.")
    try:
        # Well-formed but impossible values (Feb 30, an offset of 25 h) raise.
        parsed = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise Invalid(message)
    # UTC, so equal instants written with different offsets fingerprint the same.
    try:
        parsed = (
            parsed.replace(tzinfo=dt.UTC) if timezone.is_naive(parsed)
            else parsed.astimezone(dt.UTC)
        )
    except OverflowError:  # year 1 at +23:59, year 9999 at -23:59
        raise Invalid(_("Is out of range.")) from None
    if parsed > timezone.now() + dt.timedelta(days=1):
        raise Invalid(_("Is in the future."))
    if parsed.year < 1990:
        raise Invalid(_("Is before 1990."))
    return parsed


def _date(value: Any, spec: Field) -> dt.date:
    try:
        parsed = parse_date(value) if isinstance(value, str) else None
    except (ValueError, OverflowError):
        parsed = None
    if parsed is None:
        raise Invalid(_("Must be an ISO 8601 date, e.g. 2026-05-01."))
    if parsed > timezone.now().date() + dt.timedelta(days=1):
        raise Invalid(_("Is in the future."))
    return parsed


def _email(value: Any, spec: Field) -> str:
    value = _string(value, spec)
    if value and not _EMAIL.match(value):
        raise Invalid(_("Must be an e-mail address."))
    return value


def _ip(value: Any, spec: Field) -> str:
    value = _string(value, spec)
    if not value:
        return value
    try:
        return str(ipaddress.ip_address(value))
    except ValueError as exc:
        raise Invalid(_("Must be an IPv4 or IPv6 address.")) from exc


def _object(value: Any, spec: Field) -> Clean:
    if not isinstance(value, dict):
        raise Invalid(_("Must be an object."))
    clean, errors = validate_object(spec.fields, value)
    if errors:
        raise NestedInvalid(errors)
    return clean


class NestedInvalid(Invalid):
    def __init__(self, errors: Errors) -> None:
        super().__init__("invalid")
        self.errors = errors


def _boolean(value: Any, spec: Field) -> bool:
    if not isinstance(value, bool):
        raise Invalid("Must be true or false.")
    return value


_CONVERTERS: dict[str, Callable[[Any, Field], Any]] = {
    "boolean": _boolean,
    "string": _string,
    "integer": _integer,
    "date-time": _datetime,
    "date": _date,
    "email": _email,
    "ip": _ip,
    "object": _object,
}

_OPENAPI_TYPES = {
    "boolean": {"type": "boolean"},
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "date-time": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
    "email": {"type": "string", "format": "email"},
    "ip": {"type": "string", "format": "ip"},
    "object": {"type": "object"},
}


@dataclass(frozen=True)
class Field:
    name: str
    kind: str = "string"
    required: bool = True
    default: Any = None
    max_length: int | None = None
    allow_blank: bool = False
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    pattern: str | None = None
    pattern_message: str | None = None
    fields: tuple[Field, ...] = field(default=())
    description: str = ""
    example: Any = None

    def openapi(self) -> dict:
        schema = dict(_OPENAPI_TYPES[self.kind])
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        if self.choices:
            schema["enum"] = list(self.choices)
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.description:
            schema["description"] = self.description
        if self.example is not None:
            schema["example"] = self.example
        if self.kind == "object":
            schema.update(object_schema(self.fields))
        if not self.required:
            schema["nullable"] = True
        return schema


def validate_object(fields: tuple[Field, ...], data: dict) -> tuple[Clean, Errors]:
    """Check ``data`` against ``fields``; unknown keys are ignored (forward compatible)."""
    clean: Clean = {}
    errors: Errors = {}
    for spec in fields:
        value = data.get(spec.name)
        if value is None or (value == "" and not spec.required):
            if spec.required:
                errors[spec.name] = [_("This field is required.")]
            else:
                clean[spec.name] = spec.default
            continue
        try:
            clean[spec.name] = _CONVERTERS[spec.kind](value, spec)
        except NestedInvalid as exc:
            errors[spec.name] = exc.errors
        except Invalid as exc:
            errors[spec.name] = [str(exc)]
    return clean, errors


def object_schema(fields: tuple[Field, ...]) -> dict:
    return {
        "type": "object",
        "properties": {f.name: f.openapi() for f in fields},
        "required": [f.name for f in fields if f.required],
    }


def one_or_many_schema(fields: tuple[Field, ...], *, max_items: int) -> dict:
    item = object_schema(fields)
    return {"oneOf": [item, {"type": "array", "items": item, "minItems": 1, "maxItems": max_items}]}
