"""factory_boy factories for the care domain."""

from datetime import date

import factory

from care.models import Clinic, Patient, StaffMembership, User

PASSWORD = "correct-horse-battery"


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

    user = factory.SubFactory(UserFactory)
    clinic = factory.SubFactory(ClinicFactory)
    role = StaffMembership.Role.CLINICIAN


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
