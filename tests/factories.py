"""factory_boy factories for the care domain."""

import time
from datetime import date, timedelta

import factory
from django.utils import timezone

from care.domain.clock import local_date
from care.models import (
    Assessment,
    CheckIn,
    Clinic,
    Patient,
    StaffMembership,
    TreatmentSession,
    User,
)

PASSWORD = "correct-horse-battery"
# Staff made by StaffFactory have a TOTP authenticator with this secret (base32).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def totp_code(secret: str = TOTP_SECRET) -> str:
    """The current TOTP code for `secret`, as an authenticator app shows it."""
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    period = app_settings.TOTP_PERIOD
    # A code read in the last seconds of its period may reach the server in the next one,
    # where it no longer counts (no tolerance): wait for the next period then.
    left = period - time.time() % period
    if left < 5:
        time.sleep(left + 0.1)
    counter = int(time.time()) // period
    return format_hotp_value(hotp_value(secret, counter))


def give_second_factor(user, secret: str = TOTP_SECRET) -> None:
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(user, secret)


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic

    name = factory.Sequence(lambda n: f"Clinic {n}")
    email_sender_name = "Care Team"
    tz = "America/New_York"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    full_name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMembership
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    clinic = factory.SubFactory(ClinicFactory)
    role = StaffMembership.Role.CLINICIAN

    @factory.post_generation
    def second_factor(membership, create, extracted, **kwargs):
        """Staff must have a second factor to see anything; `second_factor=False` for none."""
        if create and extracted is not False:
            give_second_factor(membership.user)


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    user = factory.SubFactory(UserFactory)
    clinic = factory.SubFactory(ClinicFactory)
    preferred_name = factory.Faker("first_name")
    date_of_birth = date(1985, 5, 17)
    tz = "America/Chicago"
    has_depression = True
    consultation_on = date(2026, 11, 1)


class CheckInFactory(factory.django.DjangoModelFactory):
    """A plain check-in; `.build()` it for bulk_create."""

    class Meta:
        model = CheckIn

    patient = factory.SubFactory(PatientFactory)
    local_date = factory.LazyFunction(lambda: timezone.now().date())
    mood = 5
    anxiety = 5
    energy = 5
    sleep_hours = 7
    sleep_quality = 2
    has_self_harm_thoughts = False
    submitted_at = factory.LazyFunction(timezone.now)
    updated_at = factory.SelfAttribute("submitted_at")


class AssessmentFactory(factory.django.DjangoModelFactory):
    """A stored questionnaire total (answers left empty); `.build()` it for bulk_create."""

    class Meta:
        model = Assessment

    patient = factory.SubFactory(PatientFactory)
    instrument = "phq9"
    answers = factory.LazyFunction(dict)
    total = 10
    band = ""
    completed_at = factory.LazyFunction(timezone.now)


def build_history(patient, days: int, *, end) -> None:
    """`days` days of check-ins before `end` (the patient's local days before the day of
    `end`), a PHQ-9 every 14 days, an IV session every 28."""
    today = local_date(end, patient.tz)
    CheckIn.objects.bulk_create(
        CheckInFactory.build(
            patient=patient,
            local_date=today - timedelta(days=d),
            anxiety=4,
            note=f"note {d}",
            submitted_at=end,
        )
        for d in range(1, days + 1)
    )
    Assessment.objects.bulk_create(
        AssessmentFactory.build(
            patient=patient,
            answers={str(n): 1 for n in range(1, 10)},
            total=9,
            band="mild",
            completed_at=end - timedelta(days=d),
        )
        for d in range(1, days + 1, 14)
    )
    TreatmentSession.objects.bulk_create(
        TreatmentSession(
            patient=patient,
            scheduled_at=end - timedelta(days=d),
            route="iv",
            status="completed",
            dose_mg_per_kg="0.50",
        )
        for d in range(3, days + 1, 28)
    )


def checkin_body(**overrides) -> dict:
    """A valid check-in as the API takes it (JSON), with any field overridden."""
    body = {
        "mood": 5,
        "anxiety": 4,
        "energy": 6,
        "sleep_hours": "6.5",
        "sleep_quality": 2,
        "side_effects": [],
        "has_self_harm_thoughts": False,
        "note": "",
    }
    return body | overrides
