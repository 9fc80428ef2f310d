"""Create the demo clinic, its staff and a handful of patients (idempotent)."""

from datetime import date, timedelta

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from care.models import Clinic, Invitation, Patient, StaffMembership, User

DEMO_CLINIC = "Riverside Wellness Clinic (demo)"
DEMO_PASSWORD = "demo-care-2026"

STAFF = [
    ("admin@demo.example", "Dana Whitfield", StaffMembership.Role.ADMIN, "Clinic director"),
    ("nurse@demo.example", "Sam Ortega", StaffMembership.Role.CLINICIAN, "RN"),
    ("prescriber@demo.example", "Priya Natarajan", StaffMembership.Role.CLINICIAN, "NP"),
]

# email, full name, preferred name, birth date, zone, (depression, anxiety, ptsd),
# phase, days since consultation, primary clinician's e-mail, account activated
PATIENTS = [
    (
        "alex@demo.example",
        "Alexandra Moreno",
        "Alex",
        date(1986, 4, 12),
        "America/New_York",
        (True, True, False),
        Patient.Phase.INDUCTION,
        10,
        "nurse@demo.example",
        True,
    ),
    (
        "jordan@demo.example",
        "Jordan Blake",
        "Jordan",
        date(1979, 9, 3),
        "America/Chicago",
        (True, False, True),
        Patient.Phase.MAINTENANCE,
        120,
        "prescriber@demo.example",
        True,
    ),
    (
        "casey@demo.example",
        "Casey Thompson",
        "Casey",
        date(1992, 1, 27),
        "America/Denver",
        (False, True, False),
        Patient.Phase.INDUCTION,
        20,
        "nurse@demo.example",
        True,
    ),
    (
        "morgan@demo.example",
        "Morgan Lee",
        "Morgan",
        date(1968, 11, 30),
        "America/Los_Angeles",
        (True, False, False),
        Patient.Phase.MAINTENANCE,
        200,
        "prescriber@demo.example",
        True,
    ),
    (
        "riley@demo.example",
        "Riley Chen",
        "Riley",
        date(2000, 6, 8),
        "America/Phoenix",
        (True, True, True),
        Patient.Phase.INDUCTION,
        2,
        "nurse@demo.example",
        False,
    ),
]


def demo_logins() -> list[tuple[str, str]]:
    """(role, e-mail) pairs of the demo accounts that can sign in."""
    rows = [(f"{role.label} ({title})", email) for email, _, role, title in STAFF]
    rows += [("Patient", p[0]) for p in PATIENTS if p[9]]
    return rows


class Command(BaseCommand):
    help = "Create demo data once: a clinic, its staff and patients. Safe to run again."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--logins", action="store_true", help="Only print the demo logins.")

    def handle(self, *args, logins: bool = False, **options) -> None:
        if not logins:
            if Clinic.objects.filter(name=DEMO_CLINIC).exists():
                self.stdout.write("Demo data already present; nothing to do.")
            else:
                self._create()
                self.stdout.write(self.style.SUCCESS("Demo data created."))
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for role, email in demo_logins():
            self.stdout.write(f"  {role:<32} {email}")

    @transaction.atomic
    def _create(self) -> None:
        now = timezone.now()
        clinic = Clinic.objects.create(
            name=DEMO_CLINIC,
            email_sender_name="Riverside Care Team",
            tz="America/New_York",
            on_call_email="on-call@demo.example",
        )
        users = {}
        for email, name, role, title in STAFF:
            user = self._user(email, name, active=True)
            StaffMembership.objects.create(user=user, clinic=clinic, role=role, title=title)
            users[email] = user
        for email, name, preferred, born, tz, conds, phase, days, clinician, active in PATIENTS:
            user = self._user(email, name, active=active)
            Patient.objects.create(
                user=user,
                clinic=clinic,
                preferred_name=preferred,
                date_of_birth=born,
                tz=tz,
                has_depression=conds[0],
                has_anxiety=conds[1],
                has_ptsd=conds[2],
                treatment_phase=phase,
                consultation_on=timezone.localdate(now) - timedelta(days=days),
                primary_clinician=users[clinician],
                enrolled_at=now - timedelta(days=days),
                enrolled_by=users["admin@demo.example"],
            )
            if not active:
                # Pending: invited but not yet activated (no usable link is stored).
                Invitation.objects.create(user=user, created_by=users["admin@demo.example"])

    def _user(self, email: str, name: str, *, active: bool) -> User:
        user = User.objects.create_user(
            email=email,
            password=DEMO_PASSWORD if active else None,
            full_name=name,
            is_active=active,
        )
        if active:
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        return user
