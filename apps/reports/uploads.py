"""Evidence uploads refused while they stream in, before anything is spooled to disk.

Django's default handlers keep up to 2.5 MB in memory and write the rest to a
temporary file; a file over the cap was refused only after it had been written
whole (1.43 GB for a 1.5 GB upload). ``CappedUploadHandler`` comes first in
``FILE_UPLOAD_HANDLERS``: it refuses a request whose Content-Length is over
the total cap before reading a byte, and a file as soon as its bytes pass the
per-file cap, so at most one cap's worth of a file is ever written.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.utils.translation import gettext as _

from apps.core.exceptions import ApplicationError

from .evidence import max_bytes, max_files


def max_request_bytes() -> int:
    """A whole multipart request: every file at the cap, plus room for the form fields."""
    return int(getattr(settings, "UPLOAD_MAX_REQUEST_BYTES", 0)) or (
        max_files() * max_bytes() + settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    )


def upload_too_large() -> ApplicationError:
    limit = max_bytes()
    return ApplicationError(
        "evidence_too_large",
        _("An evidence file is larger than %(limit)d bytes.") % {"limit": limit},
        fields={"evidence": [_("The upload was refused before it was stored.")]},
        status=413,
    )


class CappedUploadHandler(FileUploadHandler):
    """Counts each file's bytes and aborts the upload past the cap."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > max_request_bytes():
            raise upload_too_large()
        return None  # let the next handlers read the body

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > max_bytes():
            raise upload_too_large()
        return raw_data  # unchanged, to the handler that stores it

    def file_complete(self, file_size: int) -> None:
        return None
