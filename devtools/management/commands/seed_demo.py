"""Create the demo clinic, its staff and patients with months of history (idempotent).

    manage.py seed_demo                      # 3 staff, 5 named patients, 120 days
    manage.py seed_demo --patients 5000 --days 365 --no-alert-replay

The same arguments give the same data. Patients are written CHUNK at a time: their accounts
with `bulk_create`, their histories (check-ins, questionnaires, sessions) with `RowWriter`
(COPY on PostgreSQL), so memory stays flat however many patients there are. All of it is
one transaction: a build that fails leaves nothing behind, and the next run starts afresh.
"""

import random
import time as clock
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal
from itertools import batched

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from care.alerts.services import assessment_alerts_run, daily_alerts_run
from care.domain.clock import local_date
from care.domain.trends import REPEAT_AFTER_DAYS
from care.messages.services import message_post, message_thread_read, message_thread_start
from care.models import (
    Alert,
    Assessment,
    BodyWeight,
    CheckIn,
    Clinic,
    Invitation,
    Patient,
    StaffMembership,
    TreatmentSession,
    User,
)
from care.records.selectors import patient_instrument_codes
from care.treatment.services import treatment_plan_version_create
from devtools.bulk import RowWriter
from devtools.demo import (
    DEMO_CHAIRS,
    TRAJECTORIES,
    ChairPlanner,
    SafetyCause,
    demo_assessment_rows,
    demo_checkin_causes,
    demo_history,
    demo_sessions,
    demo_weights,
)
from notifications.models import Delivery, ReminderPreference

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

# A named patient whose questionnaires fall due today (none answered in their repeat
# interval), so that a newcomer signed in as them reaches one from the home page.
QUESTIONNAIRES_DUE = {"alex@demo.example"}

FIRST_NAMES = [
    "Avery", "Blair", "Cameron", "Drew", "Emerson", "Finley", "Harper", "Jamie", "Kendall",
    "Logan", "Parker",
]  # fmt: skip
LAST_NAMES = [
    "Adams", "Brooks", "Carter", "Diaz", "Evans", "Foster", "Garcia", "Hughes", "Ito", "Jensen",
    "Kim", "Lopez",
]  # fmt: skip
CONDITION_SETS = [(True, False, False), (True, True, False), (True, False, True)]
ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"]
# Patients written together: bigger chunks mean fewer round trips, and more memory.
CHUNK = 100

# The columns the generated rows fill (and the ids); the others get the model's defaults,
# as do the observations that a scheduled session leaves out.
CHECKIN_FIELDS = [
    "patient_id", "local_date", "mood", "anxiety", "energy", "sleep_hours", "sleep_quality",
    "side_effects", "has_self_harm_thoughts", "note", "submitted_at", "updated_at",
]  # fmt: skip
ASSESSMENT_FIELDS = [
    "public_id", "patient_id", "instrument", "answers", "total", "band", "flags",
    "completed_at", "entered_by_id",
]  # fmt: skip
SESSION_FIELDS = [
    "patient_id", "recorded_by_id", "scheduled_at", "status", "route", "dose_mg",
    "dose_mg_per_kg", "monitoring_started_at", "monitoring_ended_at", "dissociation",
    "sedation", "rems_submitted_on", *TreatmentSession.VITAL_FIELDS, "chair", "override_reason",
]  # fmt: skip


WEIGHT_FIELDS = [
    "patient_id", "recorded_by_id", "weight_kg", "entered_value", "entered_unit", "measured_on",
    "created_at",
]  # fmt: skip


def demo_logins() -> list[tuple[str, str]]:
    """(role, e-mail) pairs of the demo accounts that can sign in."""
    rows = [(f"{role.label} ({title})", email) for email, _, role, title in STAFF]
    rows += [("Patient", p[0]) for p in PATIENTS if p[9]]
    return rows


@dataclass
class Planned:
    """One patient as generated: unsaved account and profile, and the rows of the history."""

    user: User
    patient: Patient
    checkins: list[dict] = field(default_factory=list)
    assessments: list[dict] = field(default_factory=list)
    sessions: list[dict] = field(default_factory=list)
    weights: list[dict] = field(default_factory=list)
    causes: list[SafetyCause] = field(default_factory=list)


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
        self.verbosity = options.get("verbosity", 1)
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
            # Numbers of the 555-01xx range, reserved for fiction.
            phone="+12125550100",
            after_hours_phone="+12125550123",
            address="12 Riverside Drive, New York, NY 10024",
            opening_hours={
                day: [["08:30", "17:30"]] for day in ("mon", "tue", "wed", "thu", "fri")
            },
            # Treatment: four chairs, two hours each; weight valid 90 days; warn beyond 10%.
            # The preparation texts are the defaults (care/models/accounts.py).
            treatment_chairs=DEMO_CHAIRS,
            session_minutes=120,
            weight_max_age_days=90,
            dose_margin_percent=10,
        )
        self.chairs = ChairPlanner(tz=clinic.tz, today=local_date(now, clinic.tz))
        staff = {}
        for email, name, role, title in STAFF:
            user = User.objects.create(email=email, full_name=name, password=password)
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            StaffMembership.objects.create(user=user, clinic=clinic, role=role, title=title)
            staff[email] = user
        # Check foreign keys as each COPY ends rather than all at commit: the server does
        # not queue millions of checks, and they overlap the making of the next chunk.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        specs = PATIENTS + random_specs(rng, patients - len(PATIENTS))
        self.writers = {  # Planned's lists of rows -> their tables
            "checkins": RowWriter(CheckIn, CHECKIN_FIELDS),
            "assessments": RowWriter(Assessment, ASSESSMENT_FIELDS),
            "sessions": RowWriter(TreatmentSession, SESSION_FIELDS),
            "weights": RowWriter(BodyWeight, WEIGHT_FIELDS),
        }
        self.progress = Progress(self.stderr, total=len(specs), shown=self.verbosity > 0)
        # A chunk's COPYs run in a thread (the driver waits for the server without the GIL)
        # while this one makes the next chunk.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="seed_demo") as pool:
            # The chunk being written: (its writes, its patients).
            sending: tuple[Future[int], list[Planned]] | None = None
            for chunk in batched(specs, CHUNK):
                people = [
                    planned(clinic, staff, spec, password, days=days, now=now, rng=rng)
                    for spec in chunk
                ]
                for p in people:  # into the clinic's chairs, without a conflict
                    p.sessions = self.chairs.place(p.sessions)
                if sending:
                    self._finish(*sending, now=now)
                send = self._start(staff, people)
                sending = pool.submit(send), people
            if sending:  # none when there were no patients to write
                self._finish(*sending, now=now)
        self.progress.end()
        conversation = demo_conversation(staff["nurse@demo.example"], now=now)
        plans = demo_plans(staff["prescriber@demo.example"], now=now)
        return (
            self.progress.rows
            + conversation
            + plans
            + safety_escalations_record(clinic, list(staff.values()), now)
        )

    def _start(self, staff, people: list[Planned]) -> Callable[[], int]:
        """Save a chunk's accounts and encode its histories; returns what sends them."""
        User.objects.bulk_create([p.user for p in people])
        Patient.objects.bulk_create([p.patient for p in people])
        active = [p for p in people if p.user.is_active]
        EmailAddress.objects.bulk_create(
            EmailAddress(user=p.user, email=p.user.email, verified=True, primary=True)
            for p in active
        )
        ReminderPreference.objects.bulk_create(
            ReminderPreference(patient=p.patient, checkin_time=time(19, 0)) for p in active
        )
        # Pending: invited but not yet activated (no usable link is stored).
        Invitation.objects.bulk_create(
            Invitation(user=p.user, created_by=staff["admin@demo.example"])
            for p in people
            if not p.user.is_active
        )
        for p in active:  # the ids the database has just given
            for row in p.checkins:
                row["patient_id"] = p.patient.pk
            for row in p.assessments:
                row["patient_id"], row["entered_by_id"] = p.patient.pk, p.user.pk
            for row in p.sessions:
                row["patient_id"] = p.patient.pk
            for row in p.weights:
                row["patient_id"] = p.patient.pk
        encoded = [
            (writer, writer.encode(row for p in active for row in getattr(p, rows)))
            for rows, writer in self.writers.items()
        ]
        for p in active:
            p.checkins = p.assessments = p.sessions = p.weights = []  # encoded: free them
        return lambda: sum(writer.send(blocks) for writer, blocks in encoded)

    def _finish(self, writes: Future, people: list[Planned], *, now) -> None:
        """Wait for a chunk's histories to be written, then raise its alerts."""
        written = writes.result()
        active = [p for p in people if p.user.is_active]
        alerts = safety_alerts_create(
            [(p.patient, cause) for p in active for cause in p.causes], now=now
        )
        if self.replay_alerts:
            alerts += sum(self._replay_alerts(p.patient, now=now) for p in active)
        self.progress.add(patients=len(people), rows=2 * len(people) + written + alerts)

    def _replay_alerts(self, patient, *, now) -> int:
        """Run the live alert rules over the history; older alerts were dealt with."""
        raised = 0
        for assessment in patient.assessments.order_by("completed_at", "pk"):
            assessment.patient = patient
            raised += len(assessment_alerts_run(assessment=assessment, now=assessment.completed_at))
        raised += len(daily_alerts_run(patient=patient, now=now))
        for alert in patient.alerts.filter(
            created_at__lt=now - DEALT_WITH_AFTER, acknowledged_at__isnull=True
        ):
            _dealt_with(alert, now).save(
                update_fields=["acknowledged_at", "acknowledged_by", "action", "action_note"]
            )
        return raised


def random_specs(rng: random.Random, count: int) -> list[tuple]:
    """Specs (as in PATIENTS) of the generated patients, patient00006 onwards."""
    specs = []
    for n in range(len(PATIENTS) + 1, len(PATIENTS) + count + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        conditions = rng.choice(CONDITION_SETS)
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
    return specs


def planned(clinic, staff, spec, password, *, days, now, rng) -> Planned:
    """A spec's patient with their history (ids are filled in when it is written)."""
    email, name, preferred, born, tz, conds, trajectory, baselines, clinician, active = spec
    today = local_date(now, tz)
    consultation = today - timedelta(days=days if active else 2)
    first_session = consultation + timedelta(days=7)
    user = User(email=email, full_name=name, password=password if active else "!", is_active=active)
    patient = Patient(
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
    p = Planned(user, patient)
    if not active:
        return p
    history = demo_history(
        trajectory=TRAJECTORIES[trajectory],
        instruments=[
            c for c, wanted in zip(("phq9", "gad7", "pcl5"), conds, strict=True) if wanted
        ],
        baselines=baselines,
        first_session=first_session,
        start=consultation,
        end=today - timedelta(days=1),  # today is left for the user to try
        tz=tz,
        rng=rng,
        self_harm_dates=_self_harm_dates(spec, trajectory, consultation, today, rng),
    )
    assessments = history.assessments
    if email in QUESTIONNAIRES_DUE:
        assessments = [
            row
            for row in assessments
            if (today - row["completed_at"].date()).days >= REPEAT_AFTER_DAYS[row["instrument"]]
        ]
    p.checkins, p.causes = history.checkins, demo_checkin_causes(history.checkins)
    p.assessments, causes = demo_assessment_rows(assessments, pcl5_cutoff=clinic.pcl5_cutoff)
    p.causes += causes
    route = "intranasal" if trajectory == "safety" else "iv"
    if route == "iv":  # dosed by weight: weighed at the consultation and every 8 weeks
        p.weights = [
            row | {"recorded_by_id": staff[clinician].pk}
            for row in demo_weights(consultation=consultation, today=today, tz=tz, rng=rng)
        ]
    p.sessions = [
        row | {"recorded_by_id": staff[clinician].pk}
        for row in demo_sessions(
            route=route,
            first_session=first_session,
            today=today,
            tz=tz,
            rng=rng,
            weights=p.weights,
        )
    ]
    return p


def _self_harm_dates(spec, trajectory, start: date, today: date, rng) -> frozenset[date]:
    """A difficult course has one day of thoughts of self-harm: yesterday for the named demo
    patient (an open alert to try), a day somewhere in the history for generated ones (a
    clinic does not have a quarter of its patients in crisis on the same day)."""
    if trajectory != "safety":
        return frozenset()
    if spec in PATIENTS:
        return frozenset({today - timedelta(days=1)})
    return frozenset({start + timedelta(days=rng.randrange(max((today - start).days - 1, 1)))})


# Alerts older than this were dealt with by the care team (acknowledged after a call).
DEALT_WITH_AFTER = timedelta(days=10)


def _dealt_with(alert: Alert, now) -> Alert:
    if alert.created_at < now - DEALT_WITH_AFTER:
        alert.acknowledged_at = alert.created_at + timedelta(hours=20)
        alert.acknowledged_by = alert.patient.primary_clinician
        alert.action = Alert.Action.CALLED_PATIENT
        alert.action_note = "Discussed by phone; plan reviewed with the prescriber."
    return alert


def safety_alerts_create(causes: list[tuple[Patient, SafetyCause]], *, now) -> int:
    """The alerts the live services would have raised for the same answers (those older
    than ten days acknowledged, as the care team would have)."""
    if not causes:
        return 0
    checkins = {
        (patient_id, day): pk
        for pk, patient_id, day in CheckIn.objects.filter(
            patient_id__in={patient.pk for patient, _ in causes}, has_self_harm_thoughts=True
        ).values_list("pk", "patient_id", "local_date")
    }
    public_ids = [cause.key for _, cause in causes if isinstance(cause.key, uuid.UUID)]
    assessments = dict(
        Assessment.objects.filter(public_id__in=public_ids).values_list("public_id", "pk")
    )
    alerts = []
    for patient, cause in causes:
        if isinstance(cause.key, uuid.UUID):
            pk = assessments[cause.key]
            source = {"cause": f"assessment:{pk}", "assessment_id": pk}
        else:
            pk = checkins[patient.pk, cause.key]
            source = {"cause": f"checkin:{pk}", "checkin_id": pk}
        alert = Alert(
            patient=patient,
            kind=Alert.Kind.SAFETY,
            priority=Alert.Priority.URGENT,
            reason=cause.reason,
            created_at=cause.at,
            **source,
        )
        alerts.append(_dealt_with(alert, now))
    Alert.objects.bulk_create(alerts)
    return len(alerts)


def safety_escalations_record(clinic: Clinic, staff: list[User], now) -> int:
    """The open safety alerts' e-mails as already sent when each was raised (the on-call
    contact) and escalated (every clinician, after the response target): the first tick
    owes none, so the Outbox does not fill with "still unacknowledged" mail at start-up.
    The keys and columns are those of `notifications.dispatch.alerts.escalations_dispatch`."""
    deliveries = []
    for alert in Alert.objects.filter(
        patient__clinic=clinic, kind=Alert.Kind.SAFETY, acknowledged_at__isnull=True
    ):
        common = {"patient_id": alert.patient_id, "alert": alert, "status": "sent"}
        deliveries.append(
            Delivery(
                kind=Delivery.Kind.SAFETY_ONCALL,
                subject_key=f"alert:{alert.pk}:oncall",
                due_at=alert.created_at,
                sent_at=alert.created_at,
                to_email=clinic.on_call_email,
                **common,
            )
        )
        target = alert.created_at + timedelta(minutes=clinic.alert_response_minutes)
        if target <= now:
            alert.escalated_at = target
            alert.escalated_to = ", ".join(sorted(user.email for user in staff))
            alert.save(update_fields=["escalated_at", "escalated_to"])
            deliveries += [
                Delivery(
                    kind=Delivery.Kind.SAFETY_ESCALATION,
                    subject_key=f"alert:{alert.pk}:user:{user.pk}",
                    due_at=target,
                    sent_at=target,
                    to_email=user.email,
                    recipient=user,
                    **common,
                )
                for user in staff
            ]
    Delivery.objects.bulk_create(deliveries)
    return len(deliveries)


class Progress:
    """Patients and rows written, shown on stderr: redrawn in place on a terminal, else a
    line about every 10%."""

    def __init__(self, out, *, total: int, shown: bool) -> None:
        self.out, self.total, self.shown = out, total, shown
        self.tty = out.isatty()
        self.started = clock.monotonic()
        self.patients = self.rows = 0
        self.next_line = total / 10

    def add(self, *, patients: int, rows: int) -> None:
        self.patients += patients
        self.rows += rows
        done = self.patients
        if not self.shown or not (self.tty or done >= self.next_line or done == self.total):
            return
        rate = self.rows / max(clock.monotonic() - self.started, 1e-9)
        line = f"  {done:,}/{self.total:,} patients  {self.rows:,} rows  {rate:,.0f} rows/s"
        # style_func=str: the plain text, not the red that stderr gets on a terminal.
        if self.tty:
            self.out.write(f"\r{line}\033[K", style_func=str, ending="")
            self.out.flush()
        else:
            self.out.write(line, style_func=str)
            while self.next_line <= done:
                self.next_line += self.total / 10

    def end(self) -> None:
        if self.shown and self.tty:
            self.out.write("", style_func=str)


def demo_conversation(nurse: User, *, now) -> int:
    """Alex's phone, reminders by text too (the daily check-in and the session reminder: the
    Outbox shows them beside the e-mails), and a conversation with the care team: one
    answered thread, and one new message nobody has opened yet (the caseload and the
    navigation count it)."""
    alex = Patient.objects.filter(user__email="alex@demo.example").first()
    if alex is None:
        return 0
    alex.phone_mobile = "+12125550142"
    alex.may_call = alex.may_text = True
    alex.contact_times = "weekdays after 5 pm"
    alex.save(update_fields=["phone_mobile", "may_call", "may_text", "contact_times"])
    ReminderPreference.objects.filter(patient=alex).update(
        text_kinds=[Delivery.Kind.CHECKIN, Delivery.Kind.SESSION]
    )
    answered = message_thread_start(
        patient=alex,
        subject="Parking on session days",
        body="Is there parking at the clinic? I will come by car.",
        urgent=False,
        now=now - timedelta(days=2, hours=3),
    ).message.thread
    message_thread_read(thread=answered, by=nurse, now=now - timedelta(days=2, hours=1))
    message_post(
        thread=answered,
        by=nurse,
        body="Yes: free parking behind the building, entrance on 81st Street.",
        now=now - timedelta(days=2, hours=1),
    )
    message_thread_start(
        patient=alex,
        subject="Question about my next session",
        body="Can I bring someone with me to the next session?",
        urgent=False,
        now=now - timedelta(hours=2),
    )
    return 5


# The named patients' treatment plans: the route of their demo sessions, an induction of six
# infusions over three weeks (esketamine: twice weekly for four weeks), then maintenance.
DEMO_PLANS = {
    "alex@demo.example": ("iv", "Sleep through the night and go back to running."),
    "jordan@demo.example": ("iv", "Fewer nightmares; get back to work full time."),
    "casey@demo.example": ("iv", "Feel calm enough to drive on the highway again."),
    "morgan@demo.example": ("intranasal", "Have more good days than bad ones."),
}


def demo_plans(prescriber: User, *, now) -> int:
    """A treatment plan for each named patient, written when they were enrolled; Jordan's
    (worse again) adjusted a week ago to a shorter maintenance interval."""
    written = 0
    for email, (route, goals) in DEMO_PLANS.items():
        patient = Patient.objects.filter(user__email=email, user__is_active=True).first()
        if patient is None:
            continue
        values: dict[str, object] = {
            "route": route,
            "induction_sessions": 8 if route == "intranasal" else 6,
            "induction_weeks": 4 if route == "intranasal" else 3,
            "target_dose_mg_per_kg": None if route == "intranasal" else Decimal("0.50"),
            "target_dose_mg": 56 if route == "intranasal" else None,
            "maintenance": "every_n_weeks",
            "maintenance_every_weeks": 1 if route == "intranasal" else 4,
            "questionnaires": patient_instrument_codes(patient=patient),
            "questionnaire_every_days": 14,
            "goals": goals,
            "prescriber": prescriber,
        }
        treatment_plan_version_create(
            patient=patient,
            by=prescriber,
            now=patient.enrolled_at or now,
            values=values,
            reason_code="",
            reason="",
        )
        written += 1
        if email == "jordan@demo.example":
            treatment_plan_version_create(
                patient=patient,
                by=prescriber,
                now=now - timedelta(days=7),
                values=values | {"maintenance_every_weeks": 3},
                reason_code="booster_signal",
                reason="PHQ-9 back up four weeks after the last infusion; boosters every 3 weeks.",
            )
            written += 1
    return written
