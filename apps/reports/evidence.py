"""Evidence file checks: the type is read from the bytes AND the extension, and both must agree.

Accepted: PNG, JPEG, GIF, WebP images, PDF documents and saved e-mails (.eml,
RFC 5322 text). Anything else, a mismatch ("invoice.pdf" that is a PNG, or an
HTML page renamed .eml), or a file over the size cap is refused before it is stored.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse
from django.utils.translation import gettext as _

from apps.core.exceptions import ApplicationError

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_FILES = 10

# extension -> content type
ALLOWED = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
    ".eml": "message/rfc822",
}

_HEADER_LINE = re.compile(rb"^[!-9;-~]+:[ \t]?", re.MULTILINE)  # RFC 5322 field name then ':'
_MAIL_HEADERS = re.compile(
    rb"^(from|to|subject|date|received|message-id|return-path|mime-version):", re.I | re.M
)


def max_bytes() -> int:
    return getattr(settings, "REPORT_EVIDENCE_MAX_BYTES", DEFAULT_MAX_BYTES)


def max_files() -> int:
    return getattr(settings, "REPORT_EVIDENCE_MAX_FILES", DEFAULT_MAX_FILES)


def sniff(head: bytes) -> str | None:
    """Content type from the first bytes of a file, or None if not an accepted kind."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.lstrip(b"\xef\xbb\xbf\r\n\t ").startswith(b"%PDF-"):
        return "application/pdf"
    if _looks_like_email(head):
        return "message/rfc822"
    return None


# Markup or scripts inside an image or a PDF make it a polyglot: a file that is
# also a page or a script for whatever reads it with another parser.
_ACTIVE_CONTENT = re.compile(
    rb"<\s*(script|html|body|iframe|svg|object|embed)\b|<\?php|javascript:", re.I
)
_PDF_ACTIVE = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFile|OpenAction|AA)\b")


def is_polyglot(content_type: str, data: bytes) -> bool:
    """True if an image or PDF also carries markup, scripts or PDF actions."""
    if content_type == "message/rfc822":
        return False  # e-mails may carry HTML parts; they are served as downloads
    if _ACTIVE_CONTENT.search(data):
        return True
    return content_type == "application/pdf" and bool(_PDF_ACTIVE.search(data))


def _looks_like_email(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = head.decode("latin-1")
        except UnicodeDecodeError:
            return False
    first = text.lstrip("\ufeff").split("\n", 1)[0].encode()
    header_block = head.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    return bool(_HEADER_LINE.match(first)) and len(_MAIL_HEADERS.findall(header_block)) >= 2


@dataclass(frozen=True)
class CheckedEvidence:
    upload: UploadedFile
    original_name: str
    content_type: str
    size: int
    sha256: str


def check_evidence(files: list[UploadedFile]) -> list[CheckedEvidence]:
    """Validate every file; raise one ApplicationError naming each bad file (413 if too big)."""
    if len(files) > max_files():
        raise ApplicationError(
            "too_many_files",
            _("At most %(n)d evidence files per report.") % {"n": max_files()},
            fields={"evidence": [f"Got {len(files)} files."]},
        )
    checked: list[CheckedEvidence] = []
    too_big: dict[str, list[str]] = {}
    bad: dict[str, list[str]] = {}
    limit = max_bytes()
    for index, upload in enumerate(files):
        name = PurePath(upload.name or "").name[:255]
        key = f"evidence[{index}]"
        if upload.size > limit:
            too_big[key] = [
                _("%(name)s is %(size)d bytes; the limit is %(limit)d bytes.")
                % {"name": name, "size": upload.size, "limit": limit}
            ]
            continue
        expected = ALLOWED.get(PurePath(name).suffix.lower())
        upload.seek(0)
        head = upload.read(2048)
        actual = sniff(head)
        if expected is None or actual is None or actual != expected:
            bad[key] = [
                _("%(name)s is not an accepted file: send PNG, JPEG, GIF or WebP images, "
                  "PDF documents or .eml e-mails, with a matching extension.") % {"name": name}
            ]
            continue
        upload.seek(0)
        digest = hashlib.sha256()
        polyglot = False
        tail = b""
        for chunk in upload.chunks():
            digest.update(chunk)
            polyglot = polyglot or is_polyglot(actual, tail + chunk)
            tail = chunk[-64:]  # a marker split across two chunks is still found
        upload.seek(0)
        if polyglot:
            bad[key] = [
                _("%(name)s also contains markup or scripts; send a plain screenshot, PDF "
                  "or e-mail.") % {"name": name}
            ]
            continue
        checked.append(CheckedEvidence(upload, name, actual, upload.size, digest.hexdigest()))
    if too_big:
        raise ApplicationError(
            "evidence_too_large",
            _("An evidence file is larger than %(limit)d bytes.") % {"limit": limit},
            fields=too_big,
            status=413,
        )
    if bad:
        raise ApplicationError(
            "unsupported_evidence_type", _("An evidence file has an unsupported type."), fields=bad
        )
    return checked


def evidence_file_response(evidence, *, frame: bool = False) -> FileResponse:
    """Serve a stored evidence file: images and PDFs inline, e-mails as a download.

    Served from our own origin, so it must never run: no MIME sniffing, no
    scripts. ``frame`` lets a page of this site show a PDF in a frame (the case
    page's preview); PDF viewers refuse sandboxed documents, so a PDF gets a
    strict policy without the sandbox, everything else keeps it.
    """
    inline = evidence.preview in ("image", "pdf")
    response = FileResponse(
        evidence.file.open("rb"), content_type=evidence.content_type,
        as_attachment=not inline, filename=evidence.original_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    if evidence.preview == "pdf":
        response["Content-Security-Policy"] = (
            "default-src 'none'; img-src 'self'; object-src 'self'" if frame else "default-src 'none'; img-src 'self'; sandbox")
    else:
        response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, no-store"
    response["X-Frame-Options"] = "SAMEORIGIN" if frame else "DENY"
    return response
