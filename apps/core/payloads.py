"""Helpers for endpoints that take one object or a list of them."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from .exceptions import ApplicationError
from .validation import Clean, Field, validate_object


def validate_one_or_many(
    data: Any, *, fields: tuple[Field, ...], max_items: int, noun: str
) -> tuple[list[Clean], bool]:
    """Validate a single object or a list as a whole.

    Returns (clean items, was_list). Raises one ApplicationError listing every
    invalid item by index, so a partner fixes a batch in one round trip and
    nothing from a bad batch is half-stored.
    """
    if isinstance(data, dict):
        clean, errors = validate_object(fields, data)
        if errors:
            raise ApplicationError("validation_error", _("The request is invalid."), fields=errors)
        return [clean], False
    if not isinstance(data, list):
        raise ApplicationError(
            "invalid_payload", f"Send one {noun} object or a list of {noun} objects."
        )
    if not data:
        raise ApplicationError("empty_batch", _("The list is empty."))
    if len(data) > max_items:
        raise ApplicationError(
            "batch_too_large",
            _("A batch holds at most %(max)s items; this one has %(n)s.")
            % {"max": max_items, "n": len(data)},
            status=413,
        )
    items: list[Clean] = []
    item_errors: dict[str, Any] = {}
    for index, raw in enumerate(data):
        if not isinstance(raw, dict):
            item_errors[str(index)] = {"non_field_errors": [_("Must be an object.")]}
            continue
        clean, errors = validate_object(fields, raw)
        if errors:
            item_errors[str(index)] = errors
        items.append(clean)
    if item_errors:
        raise ApplicationError(
            "validation_error",
            f"{len(item_errors)} of {len(data)} items are invalid; nothing was stored.",
            fields={"items": item_errors},
        )
    return items, True
