"""Phase: build one benchmark database (run against an empty, migrated database).

    DATABASE_URL=... python -m benchmarks.data care --patients 5000 --days 365
    DATABASE_URL=... python -m benchmarks.data dispatch --patients 100000

`care`: the demo clinic from `seed_demo` (bulk inserts) with N patients and D days of
daily check-ins, PHQ-9 / GAD-7 every 14 days (PCL-5 every 28), sessions and safety alerts,
plus one patient with 730 days of history for the trends figures.

`dispatch`: N patients over several clinics and the four US mainland zones, with a week of
check-ins, as the reminder dispatcher sees them at DISPATCH_NOW: 10% are due a daily
check-in reminder now, 40% are due later today, 50% are due but checked in already today.
Half are in maintenance with a questionnaire done five days ago (so not due).
"""

import argparse
import random
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall_time
from zoneinfo import ZoneInfo

from .common import django_setup

STAFF_EMAIL = "nurse@demo.example"
LONG_HISTORY_EMAIL = "long-history@demo.example"
LONG_HISTORY_DAYS = 730
# 19:30 in New York, 16:30 in Los Angeles (standard time): evening check-in reminders.
DISPATCH_NOW = datetime(2026, 11, 25, 0, 30, tzinfo=UTC)
ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"]
PATIENTS_PER_CLINIC = 2000
BATCH = 5000


def build_care(*, patients: int, days: int) -> None:
    from django.core.management import call_command

    call_command("seed_demo", patients=patients, days=days, no_alert_replay=True)
    _add_long_history_patient()


def _add_long_history_patient() -> None:
    """One more demo patient, a responder with two years of daily data."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from care.management.commands import seed_demo
    from care.models import Assessment, CheckIn, Clinic, TreatmentSession, User
    from notifications.models import ReminderPreference

    clinic = Clinic.objects.get(name=seed_demo.DEMO_CLINIC)
    staff = {u.email: u for u in User.objects.filter(staff_membership__clinic=clinic)}
    spec = (
        LONG_HISTORY_EMAIL, "Robin Long", "Robin", 1975, "America/New_York",
        (True, True, False), "responder", {"phq9": 20, "gad7": 15}, STAFF_EMAIL, True,
    )  # fmt: skip
    person = seed_demo.planned(
        clinic,
        staff,
        spec,
        make_password(seed_demo.DEMO_PASSWORD),
        days=LONG_HISTORY_DAYS,
        now=timezone.now(),
        rng=random.Random(LONG_HISTORY_DAYS),
    )
    with transaction.atomic():
        person.user.save()
        person.patient.user = person.user
        person.patient.save()
        patient = person.patient
        EmailAddress.objects.create(user=person.user, email=LONG_HISTORY_EMAIL, verified=True)
        ReminderPreference.objects.create(patient=patient)
        CheckIn.objects.bulk_create(CheckIn(patient=patient, **row) for row in person.checkins)
        Assessment.objects.bulk_create(
            Assessment(patient=patient, entered_by=person.user, **row) for row in person.assessments
        )
        TreatmentSession.objects.bulk_create(
            TreatmentSession(patient=patient, **row) for row in person.sessions
        )
    print(f"  long-history patient: {len(person.checkins):,} check-ins")


def build_dispatch(*, patients: int) -> None:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from care.models import Assessment, CheckIn, Clinic, Patient, StaffMembership, User
    from notifications.models import ReminderPreference

    started = time.monotonic()
    rng = random.Random(patients)
    password = make_password(None)
    local_now = {tz: DISPATCH_NOW.astimezone(ZoneInfo(tz)) for tz in ZONES}
    rows = 0
    with transaction.atomic():
        clinics = []
        for n in range(max(1, patients // PATIENTS_PER_CLINIC)):
            clinic = Clinic.objects.create(name=f"Bench clinic {n + 1}", tz="America/Chicago")
            for role in ("admin", "clinician", "clinician"):
                email = f"staff-{n + 1}-{len(clinics)}-{role}-{rng.random():.8f}@bench.example"
                user = User.objects.create(email=email, full_name="Bench Staff", password=password)
                StaffMembership.objects.create(user=user, clinic=clinic, role=role)
            clinics.append(clinic)
        for first in range(0, patients, BATCH):
            numbers = range(first, min(first + BATCH, patients))
            users = User.objects.bulk_create(
                [
                    User(
                        email=f"bench{n:06d}@bench.example",
                        full_name=f"Bench Patient {n}",
                        password=password,
                    )
                    for n in numbers
                ]
            )
            batch = []
            for n, user in zip(numbers, users, strict=True):
                tz = ZONES[n % len(ZONES)]
                batch.append(
                    Patient(
                        user=user,
                        clinic=clinics[n % len(clinics)],
                        preferred_name=f"Bench {n}",
                        date_of_birth=date(1980, 1, 1),
                        tz=tz,
                        has_depression=True,
                        treatment_phase=(
                            Patient.Phase.MAINTENANCE if n % 2 else Patient.Phase.INDUCTION
                        ),
                        consultation_on=DISPATCH_NOW.date() - timedelta(days=60),
                        enrolled_at=DISPATCH_NOW - timedelta(days=60),
                    )
                )
            batch = Patient.objects.bulk_create(batch)
            preferences, checkins, assessments = [], [], []
            for n, patient in zip(numbers, batch, strict=True):
                now = local_now[patient.tz]
                group = n % 10
                if group == 0:  # due now, not yet reminded, not checked in
                    at = (now - timedelta(minutes=30)).time()
                elif group <= 4:  # due later today
                    at = (now + timedelta(hours=2)).time()
                else:  # due, but checked in already today
                    at = (now - timedelta(minutes=30)).time()
                preferences.append(
                    ReminderPreference(patient=patient, checkin_time=at.replace(second=0))
                )
                today = now.date()
                for back in range(0 if group >= 5 else 1, 8):
                    day = today - timedelta(days=back)
                    moment = datetime.combine(day, wall_time(12), ZoneInfo(patient.tz))
                    checkins.append(
                        CheckIn(
                            patient=patient,
                            local_date=day,
                            mood=rng.randint(3, 8),
                            anxiety=rng.randint(2, 7),
                            energy=5,
                            sleep_hours=7,
                            sleep_quality=2,
                            has_self_harm_thoughts=False,
                            submitted_at=min(moment, DISPATCH_NOW),
                            updated_at=min(moment, DISPATCH_NOW),
                        )
                    )
                if n % 2:
                    assessments.append(
                        Assessment(
                            patient=patient,
                            instrument="phq9",
                            answers={str(i): 1 for i in range(1, 9)} | {"9": 0},
                            total=8,
                            band="mild",
                            completed_at=DISPATCH_NOW - timedelta(days=5),
                        )
                    )
            ReminderPreference.objects.bulk_create(preferences)
            CheckIn.objects.bulk_create(checkins, batch_size=BATCH)
            Assessment.objects.bulk_create(assessments, batch_size=BATCH)
            rows += 3 * len(batch) + len(checkins) + len(assessments)
            done = numbers.stop
            rate = rows / max(time.monotonic() - started, 1e-9)
            print(
                f"  {done:,}/{patients:,} patients, {rows:,} rows, {rate:,.0f} rows/s", flush=True
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["care", "dispatch"])
    parser.add_argument("--patients", type=int, required=True)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    django_setup()
    if args.kind == "care":
        build_care(patients=args.patients, days=args.days)
    else:
        build_dispatch(patients=args.patients)


if __name__ == "__main__":
    main()
