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
import sys
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall_time
from typing import NamedTuple
from zoneinfo import ZoneInfo

from benchmarks.common import django_setup

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

    from care.models import Assessment, CheckIn, Clinic, TreatmentSession, User
    from devtools.management.commands import seed_demo
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
    """The dispatch data set, written with devtools.bulk.RowWriter (COPY on PostgreSQL) in
    chunks of BATCH patients, one transaction; a progress line with rows/s on stdout.

    Keys are read back by natural key after each chunk: users by e-mail, patients by user.
    """
    from django.contrib.auth.hashers import make_password
    from django.core.management.base import OutputWrapper
    from django.db import connection, transaction

    from care.models import Assessment, CheckIn, Clinic, Patient, StaffMembership, User
    from devtools.bulk import RowWriter
    from devtools.management.commands.seed_demo import Progress
    from notifications.models import ReminderPreference

    rng = random.Random(patients)
    password = make_password(None)
    writers = {
        "users": RowWriter(User, ["email", "full_name", "password"]),
        "patients": RowWriter(Patient, [*PATIENT_FIELDS, "user_id", "clinic_id"]),
        "preferences": RowWriter(ReminderPreference, ["patient_id", "checkin_time"]),
        "checkins": RowWriter(CheckIn, CHECKIN_FIELDS),
        "assessments": RowWriter(Assessment, ASSESSMENT_FIELDS),
    }
    plans = {tz: _zone_plan(tz) for tz in ZONES}
    progress = Progress(OutputWrapper(sys.stdout), total=patients, shown=True)
    with transaction.atomic():
        # Foreign keys checked as each COPY ends, not all queued up for the commit.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        clinics = []
        for n in range(max(1, patients // PATIENTS_PER_CLINIC)):
            clinic = Clinic.objects.create(name=f"Bench clinic {n + 1}", tz="America/Chicago")
            for role in ("admin", "clinician", "clinician"):
                email = f"staff-{n + 1}-{len(clinics)}-{role}-{rng.random():.8f}@bench.example"
                user = User.objects.create(email=email, full_name="Bench Staff", password=password)
                StaffMembership.objects.create(user=user, clinic=clinic, role=role)
            clinics.append(clinic.pk)
        for first in range(0, patients, BATCH):
            numbers = range(first, min(first + BATCH, patients))
            emails = [f"bench{n:06d}@bench.example" for n in numbers]
            rows = writers["users"].write(
                {"email": email, "full_name": f"Bench Patient {n}", "password": password}
                for n, email in zip(numbers, emails, strict=True)
            )
            user_ids = dict(User.objects.filter(email__in=emails).values_list("email", "id"))
            users = [user_ids[email] for email in emails]
            rows += writers["patients"].write(
                _patient_row(n, user_id, clinics[n % len(clinics)])
                for n, user_id in zip(numbers, users, strict=True)
            )
            patient_ids = dict(
                Patient.objects.filter(user_id__in=users).values_list("user_id", "id")
            )
            ids = [patient_ids[user_id] for user_id in users]
            rows += writers["preferences"].write(
                {"patient_id": pk, "checkin_time": plans[ZONES[n % len(ZONES)]].at[n % 10]}
                for n, pk in zip(numbers, ids, strict=True)
            )
            rows += writers["checkins"].write(
                row
                for n, pk in zip(numbers, ids, strict=True)
                for row in _checkin_rows(n, pk, plans[ZONES[n % len(ZONES)]], rng)
            )
            rows += writers["assessments"].write(
                _assessment_row(pk) for n, pk in zip(numbers, ids, strict=True) if n % 2
            )
            progress.add(patients=len(numbers), rows=rows)
    progress.end()


PATIENT_FIELDS = [
    "preferred_name", "date_of_birth", "tz", "has_depression", "treatment_phase",
    "consultation_on", "enrolled_at",
]  # fmt: skip
CHECKIN_FIELDS = [
    "patient_id", "local_date", "mood", "anxiety", "energy", "sleep_hours", "sleep_quality",
    "has_self_harm_thoughts", "submitted_at", "updated_at",
]  # fmt: skip
ASSESSMENT_FIELDS = ["patient_id", "instrument", "answers", "total", "band", "completed_at"]


class _ZonePlan(NamedTuple):
    """What every patient of one zone shares: the chosen time of each group (n % 10) and
    the week of check-in days, each with its noon (capped at DISPATCH_NOW)."""

    at: list[wall_time]
    days: list[tuple[date, datetime]]


def _zone_plan(tz: str) -> _ZonePlan:
    now = DISPATCH_NOW.astimezone(ZoneInfo(tz))
    due_now = (now - timedelta(minutes=30)).time().replace(second=0)
    later = (now + timedelta(hours=2)).time().replace(second=0)
    # Group 0: due now, not yet reminded, not checked in; 1-4: due later today; 5-9: due,
    # but checked in already today.
    at = [due_now] + [later] * 4 + [due_now] * 5
    days = []
    for back in range(8):
        day = now.date() - timedelta(days=back)
        moment = datetime.combine(day, wall_time(12), ZoneInfo(tz))
        days.append((day, min(moment, DISPATCH_NOW)))
    return _ZonePlan(at, days)


def _patient_row(n: int, user_id: int, clinic_id: int) -> dict:
    return {
        "user_id": user_id,
        "clinic_id": clinic_id,
        "preferred_name": f"Bench {n}",
        "date_of_birth": date(1980, 1, 1),
        "tz": ZONES[n % len(ZONES)],
        "has_depression": True,
        "treatment_phase": "maintenance" if n % 2 else "induction",  # half in maintenance
        "consultation_on": DISPATCH_NOW.date() - timedelta(days=60),
        "enrolled_at": DISPATCH_NOW - timedelta(days=60),
    }


def _checkin_rows(n: int, patient_id: int, plan: _ZonePlan, rng: random.Random):
    """The week's check-ins: today's too for groups 5-9 (checked in already)."""
    for day, at in plan.days[0 if n % 10 >= 5 else 1 :]:
        yield {
            "patient_id": patient_id,
            "local_date": day,
            "mood": rng.randint(3, 8),
            "anxiety": rng.randint(2, 7),
            "energy": 5,
            "sleep_hours": 7,
            "sleep_quality": 2,
            "has_self_harm_thoughts": False,
            "submitted_at": at,
            "updated_at": at,
        }


PHQ9_ANSWERS = {str(i): 1 for i in range(1, 9)} | {"9": 0}


def _assessment_row(patient_id: int) -> dict:
    """A PHQ-9 five days ago: not due again yet."""
    return {
        "patient_id": patient_id,
        "instrument": "phq9",
        "answers": PHQ9_ANSWERS,
        "total": 8,
        "band": "mild",
        "completed_at": DISPATCH_NOW - timedelta(days=5),
    }


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
