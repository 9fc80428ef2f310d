"""Create the demo clinic, its staff and patients with months of history (idempotent).

    manage.py seed_demo                      # 3 staff, 5 named patients, 120 days
    manage.py seed_demo --patients 500 --days 365

Histories are written with bulk inserts; the same arguments give the same data.
"""

import random
import time as clock
from datetime import time, timedelta

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from care.clock import local_date
from care.demo import TRAJECTORIES, demo_history, demo_sessions
from care.instruments import INSTRUMENTS
from care.models import (
    Alert,
    Assessment,
    CheckIn,
    Clinic,
    Invitation,
    Patient,
    StaffMembership,
    TreatmentSession,
    User,
)
from care.safety import assessment_safety_reason, checkin_safety_reason
from care.scoring import questionnaire_score, validate_answers
from care.services import assessment_alerts_run, daily_alerts_run
from notifications.models import ReminderPreference

DEMO_CLINIC = "Riverside Wellness Clinic (demo)"
DEMO_PASSWORD = "demo-care-2026"

STAFF = [
    ("admin@demo.example", "Dana Whitfield", StaffMembership.Role.ADMIN, "Clinic director"),
    ("nurse@demo.example", "Sam Ortega", StaffMembership.Role.CLINICIAN, "RN"),
    ("prescriber@demo.example", "Priya Natarajan", StaffMembership.Role.CLINICIAN, "NP"),
]

# email, full name, preferred name, birth year, zone, (depression, anxiety, ptsd),
# trajectory, baseline scores, primary clinician, activated
PATIENTS = [
    ("alex@demo.example", "Alexandra Moreno", "Alex", 1986, "America/New_York",
     (True, True, False), "responder", {"phq9": 19, "gad7": 14}, "nurse@demo.example", True),
    ("jordan@demo.example", "Jordan Blake", "Jordan", 1979, "America/Chicago",
     (True, False, True), "relapse", {"phq9": 21, "pcl5": 52}, "prescriber@demo.example", True),
    ("casey@demo.example", "Casey Thompson", "Casey", 1992, "America/Denver",
     (False, True, False), "partial", {"gad7": 16}, "nurse@demo.example", True),
    ("morgan@demo.example", "Morgan Lee", "Morgan", 1968, "America/Los_Angeles",
     (True, False, False), "safety", {"phq9": 22}, "prescriber@demo.example", True),
    ("riley@demo.example", "Riley Chen", "Riley", 2000, "America/Phoenix",
     (True, True, True), None, {}, "nurse@demo.example", False),
]  # fmt: skip

FIRST_NAMES = [
    "Avery",
    "Blair",
    "Cameron",
    "Drew",
    "Emerson",
    "Finley",
    "Harper",
    "Jamie",
    "Kendall",
    "Logan",
    "Parker",
]
LAST_NAMES = [
    "Adams",
    "Brooks",
    "Carter",
    "Diaz",
    "Evans",
    "Foster",
    "Garcia",
    "Hughes",
    "Ito",
    "Jensen",
    "Kim",
    "Lopez",
]
CONDITION_SETS = [(True, False, False), (True, True, False), (True, False, True)]
ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"]
BATCH = 2000


def demo_logins() -> list[tuple[str, str]]:
    """(role, e-mail) pairs of the demo accounts that can sign in."""
    rows = [(f"{role.label} ({title})", email) for email, _, role, title in STAFF]
    rows += [("Patient", p[0]) for p in PATIENTS if p[9]]
    return rows


class Command(BaseCommand):
    help = "Create demo data once: a clinic, staff, patients with history. Safe to run again."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--logins", action="store_true", help="Only print the demo logins.")
        parser.add_argument(
            "--patients", type=int, default=len(PATIENTS), help="Total patients (default 5)."
        )
        parser.add_argument("--days", type=int, default=120, help="Days of history (default 120).")
        parser.add_argument("--seed", type=int, default=2026, help="Random seed.")
        parser.add_argument(
            "--no-alert-replay",
            action="store_true",
            help="Skip running the alert rules over the history (faster for large data sets).",
        )

    def handle(self, *args, logins=False, patients=5, days=120, seed=2026, **options) -> None:
        self.replay_alerts = not options.get("no_alert_replay", False)
        if not logins:
            if patients < len(PATIENTS) or not 7 <= days <= 3650:
                raise CommandError(f"--patients must be >= {len(PATIENTS)}, --days 7..3650.")
            if Clinic.objects.filter(name=DEMO_CLINIC).exists():
                self.stdout.write("Demo data already present; nothing to do.")
            else:
                started = clock.monotonic()
                rows = self._create(patients=patients, days=days, rng=random.Random(seed))
                seconds = clock.monotonic() - started
                self.stdout.write(
                    self.style.SUCCESS(
                        f"Demo data created: {patients} patients, {rows} rows in {seconds:.1f} s "
                        f"({rows / max(seconds, 1e-9):,.0f} rows/s)."
                    )
                )
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for role, email in demo_logins():
            self.stdout.write(f"  {role:<32} {email}")

    @transaction.atomic
    def _create(self, *, patients: int, days: int, rng: random.Random) -> int:
        now = timezone.now()
        password = make_password(DEMO_PASSWORD)
        clinic = Clinic.objects.create(
            name=DEMO_CLINIC,
            email_sender_name="Riverside Care Team",
            tz="America/New_York",
            on_call_email="on-call@demo.example",
        )
        staff = {}
        for email, name, role, title in STAFF:
            user = User.objects.create(email=email, full_name=name, password=password)
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            StaffMembership.objects.create(user=user, clinic=clinic, role=role, title=title)
            staff[email] = user
        specs = list(PATIENTS)
        for n in range(len(PATIENTS) + 1, patients + 1):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            conditions = rng.choice(
                [(True, False, False), (True, True, False), (True, False, True)]
            )
            baselines = {
                "phq9": rng.randint(12, 24),
                "gad7": rng.randint(8, 18),
                "pcl5": rng.randint(30, 60),
            }
            specs.append((
                f"patient{n:05d}@demo.example", f"{first} {last}", first, rng.randint(1950, 2004),
                rng.choice(ZONES), conditions, rng.choice(list(TRAJECTORIES)), baselines,
                rng.choice([e for e, *_ in STAFF]), True,
            ))  # fmt: skip
        rows = 0
        started = clock.monotonic()
        for index, spec in enumerate(specs, start=1):
            rows += self._patient(clinic, staff, spec, password, days=days, now=now, rng=rng)
            if index % 250 == 0:
                rate = rows / max(clock.monotonic() - started, 1e-9)
                self.stdout.write(f"  {index}/{len(specs)} patients, {rows:,} rows, {rate:,.0f}/s")
        return rows

    def _patient(self, clinic, staff, spec, password, *, days, now, rng) -> int:
        email, name, preferred, born, tz, conds, trajectory, baselines, clinician, active = spec
        today = local_date(now, tz)
        consultation = today - timedelta(days=days if active else 2)
        first_session = consultation + timedelta(days=7)
        user = User.objects.create(
            email=email, full_name=name, password=password if active else "!", is_active=active
        )
        patient = Patient.objects.create(
            user=user,
            clinic=clinic,
            preferred_name=preferred,
            date_of_birth=consultation.replace(year=born, day=1),
            tz=tz,
            has_depression=conds[0],
            has_anxiety=conds[1],
            has_ptsd=conds[2],
            treatment_phase=(
                Patient.Phase.MAINTENANCE
                if (today - first_session).days > 21
                else Patient.Phase.INDUCTION
            ),
            consultation_on=consultation,
            primary_clinician=staff[clinician],
            enrolled_at=now - timedelta(days=(today - consultation).days),
            enrolled_by=staff["admin@demo.example"],
        )
        if not active:
            # Pending: invited but not yet activated (no usable link is stored).
            Invitation.objects.create(user=user, created_by=staff["admin@demo.example"])
            return 2
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        ReminderPreference.objects.create(patient=patient, checkin_time=time(19, 0))
        codes = [c for c, wanted in zip(("phq9", "gad7", "pcl5"), conds, strict=True) if wanted]
        self_harm = (
            frozenset({today - timedelta(days=1)}) if trajectory == "safety" else frozenset()
        )
        history = demo_history(
            trajectory=TRAJECTORIES[trajectory],
            instruments=codes,
            baselines=baselines,
            first_session=first_session,
            start=consultation,
            end=today - timedelta(days=1),  # today is left for the user to try
            tz=tz,
            rng=rng,
            self_harm_dates=self_harm,
        )
        checkins = CheckIn.objects.bulk_create(
            [CheckIn(patient=patient, **row) for row in history.checkins], batch_size=BATCH
        )
        assessments = []
        for row in history.assessments:
            instrument = INSTRUMENTS[row["instrument"]]
            score = questionnaire_score(
                instrument,
                validate_answers(instrument, row["answers"]),
                pcl5_cutoff=clinic.pcl5_cutoff,
            )
            assessments.append(
                Assessment(
                    patient=patient,
                    instrument=instrument.code,
                    answers=row["answers"],
                    total=score.total,
                    band=score.band.code,
                    flags=list(score.flags),
                    completed_at=row["completed_at"],
                    entered_by=user,
                )
            )
        Assessment.objects.bulk_create(assessments, batch_size=BATCH)
        route = "intranasal" if trajectory == "safety" else "iv"
        sessions = [
            TreatmentSession(patient=patient, recorded_by=staff[clinician], **row)
            for row in demo_sessions(
                route=route, first_session=first_session, today=today, tz=tz, rng=rng
            )
        ]
        TreatmentSession.objects.bulk_create(sessions, batch_size=BATCH)
        alerts = self._safety_alerts(patient, checkins, assessments)
        if self.replay_alerts:
            alerts += self._replay_alerts(patient, assessments, now=now)
        return 2 + len(checkins) + len(assessments) + len(sessions) + alerts

    def _replay_alerts(self, patient, assessments, *, now) -> int:
        """Run the live alert rules over the history; older alerts were dealt with."""
        raised = 0
        for assessment in sorted(assessments, key=lambda a: a.completed_at):
            raised += len(assessment_alerts_run(assessment=assessment, now=assessment.completed_at))
        raised += len(daily_alerts_run(patient=patient, now=now))
        for alert in patient.alerts.filter(created_at__lt=now - timedelta(days=10)):
            alert.acknowledged_at = alert.created_at + timedelta(hours=20)
            alert.acknowledged_by = patient.primary_clinician
            alert.action = Alert.Action.CALLED_PATIENT
            alert.action_note = "Discussed by phone; plan reviewed with the prescriber."
            alert.save(
                update_fields=["acknowledged_at", "acknowledged_by", "action", "action_note"]
            )
        return raised

    def _safety_alerts(self, patient, checkins, assessments) -> int:
        """The alerts the live services would have raised for the same answers."""
        alerts = []
        for checkin in checkins:
            reason = checkin_safety_reason(
                has_self_harm_thoughts=checkin.has_self_harm_thoughts,
                day_label=checkin.local_date.strftime("%d %b %Y"),
            )
            if reason:
                alerts.append(
                    _urgent(
                        patient,
                        reason,
                        checkin.submitted_at,
                        f"checkin:{checkin.pk}",
                        checkin=checkin,
                    )
                )
        for assessment in assessments:
            instrument = INSTRUMENTS[assessment.instrument]
            answers = {int(k): v for k, v in assessment.answers.items()}
            reason = assessment_safety_reason(instrument, answers, tuple(assessment.flags))
            if reason:
                cause = f"assessment:{assessment.pk}"
                alerts.append(
                    _urgent(patient, reason, assessment.completed_at, cause, assessment=assessment)
                )
        Alert.objects.bulk_create(alerts)
        return len(alerts)


def _urgent(patient, reason, at, cause, **source) -> Alert:
    return Alert(
        patient=patient,
        kind=Alert.Kind.SAFETY,
        priority=Alert.Priority.URGENT,
        cause=cause,
        reason=reason,
        created_at=at,
        **source,
    )
