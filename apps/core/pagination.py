"""Cursor pagination: stable under concurrent inserts, cheap at any depth."""

from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

_MAX_ID = 2**63 - 1


class CreatedCursorPagination(CursorPagination):
    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 1000

    def decode_cursor(self, request):
        """DRF's decoding, plus a check that the position is an id: a forged cursor
        with any other position is "invalid cursor" (404), not an error in the query."""
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None:
            return cursor
        try:
            position = int(cursor.position)
        except (TypeError, ValueError):
            raise NotFound(self.invalid_cursor_message) from None
        if not 0 <= position <= _MAX_ID:
            raise NotFound(self.invalid_cursor_message)
        return cursor._replace(position=str(position))
