"""Factories for threat reports, portal owners and their memberships."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factory
from django.contrib.auth import get_user_model

from apps.establishments.models import OwnerInvitation, OwnerMembership
from apps.establishments.services import invitation_token_hash
from apps.reports.models import ThreatReport
from apps.reports.services import handle_hash, name_key
from apps.reviews import pii

from .factories import EstablishmentFactory, PartnerFactory

OWNER_PASSWORD = "correct horse battery staple"


class OwnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"owner{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.django.Password(OWNER_PASSWORD)


class OwnerMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OwnerMembership

    user = factory.SubFactory(OwnerFactory)
    establishment = factory.SubFactory(EstablishmentFactory)


class ThreatReportFactory(factory.django.DjangoModelFactory):
    """A report built from clear guest identifiers (``guest_email`` etc.), hashed like the service."""

    class Meta:
        model = ThreatReport
        exclude = ("guest_email", "guest_booking_ref", "guest_handle")

    establishment = factory.SubFactory(EstablishmentFactory)
    partner = factory.SelfAttribute("establishment.partner")
    reporter = None
    guest_name = ""
    guest_email = ""
    guest_booking_ref = ""
    guest_handle = ""
    guest_name_key = factory.LazyAttribute(lambda o: name_key(o.guest_name))
    guest_email_hash = factory.LazyAttribute(lambda o: pii.email_hash(o.guest_email))
    guest_booking_ref_hash = factory.LazyAttribute(
        lambda o: pii.booking_ref_hash(o.guest_booking_ref)
    )
    guest_handle_hash = factory.LazyAttribute(lambda o: handle_hash(o.guest_handle))
    channel = ThreatReport.Channel.EMAIL
    message_text = "Refund my stay or I will post a 1-star review everywhere."
    demand = ThreatReport.Demand.REFUND
    received_at = factory.LazyFunction(lambda: datetime.now(UTC) - timedelta(days=5))


# --- Evidence files -------------------------------------------------------------


def png_bytes(width: int = 8, height: int = 8) -> bytes:
    """A real (tiny, grey) PNG image."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def pdf_bytes() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def eml_bytes() -> bytes:
    return (
        b"From: Jean Dupont <jean.dupont@example.org>\r\n"
        b"To: contact@hotel.example\r\n"
        b"Subject: Ma nuit\r\n"
        b"Date: Sat, 02 May 2026 19:40:00 +0000\r\n"
        b"\r\n"
        b"Remboursez-moi la nuit, sinon je publie un avis a une etoile partout.\r\n"
    )


class OwnerInvitationFactory(factory.django.DjangoModelFactory):
    """A pending invitation; the clear token is kept on the instance as ``token``."""

    class Meta:
        model = OwnerInvitation
        exclude = ("token",)
        skip_postgeneration_save = True

    token = factory.Sequence(lambda n: f"invitation-token-{n}")
    partner = factory.SubFactory(PartnerFactory)
    email = factory.Sequence(lambda n: f"invited{n}@example.org")
    language = "en"
    token_hash = factory.LazyAttribute(lambda o: invitation_token_hash(o.token))
    expires_at = factory.LazyFunction(lambda: datetime.now(UTC) + timedelta(hours=72))

    @factory.post_generation
    def establishments(self, create, extracted, **kwargs):
        for establishment in extracted or [EstablishmentFactory(partner=self.partner)]:
            self.establishments.add(establishment)


def extortion_case_with_evidence(*, files=("capture.png", "menace.eml", "facture.pdf")):
    """An extortion case whose threat report carries evidence files (under MEDIA_ROOT)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from apps.cases.models import Case
    from apps.cases.services import case_upsert
    from apps.reports.models import ReportReviewLink
    from apps.reports.services import threat_report_create

    from .factories import ReviewFactory
    from .factories_cases import finding_for

    content = {".png": png_bytes(320, 180), ".eml": eml_bytes(), ".pdf": pdf_bytes()}
    review = ReviewFactory(rating=1, status="held", title="Arnaque",
                           created_at=datetime.now(UTC) - timedelta(hours=30),
                           text="Chambre sale. Remboursez-moi sinon je publie partout.")
    report = threat_report_create(
        partner=review.partner, establishment=review.establishment,
        payload={"guest": {"name": "Jean Dupont"}, "channel": "email", "demand": "refund",
                 "message_text": "Remboursez-moi sinon je publie un avis à une étoile.",
                 "received_at": datetime.now(UTC) - timedelta(days=2)},
        files=[SimpleUploadedFile(name, content[name[name.rindex("."):]]) for name in files],
    )
    case, _ = case_upsert(finding=finding_for([review], kind=Case.Kind.EXTORTION,
                                              keys=(f"review:{review.id}",)))
    report.cases.add(case)
    ReportReviewLink.objects.create(report=report, review=review, methods="name", strength=0.9,
                                    held=True)
    return case, report
