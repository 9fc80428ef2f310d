"""Template context: what kind of user is looking (patient, clinic staff, neither), and the
crisis resources the crisis bar shows them."""

from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from care.common.access import membership_for_user, patient_for_user
from care.models import Alert
from care.records.crisis import crisis_for_clinic, crisis_without_clinic


def roles(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        # Someone not signed in: the default country's numbers (the crisis page says whose).
        return {
            "viewer_patient": None,
            "viewer_membership": None,
            "crisis": SimpleLazyObject(crisis_without_clinic),
        }
    membership = membership_for_user(user)
    if getattr(request, "second_factor_missing", False):
        # Staff setting up their second factor see nothing of the clinic yet.
        membership = None
    patient = patient_for_user(user)

    def crisis():
        profile = patient or membership
        if profile is None:
            return crisis_without_clinic()
        return crisis_for_clinic(profile.clinic, now=timezone.now())

    return {
        "viewer_patient": patient,
        "viewer_membership": membership,
        # Lazy: counted only when a staff page's navigation shows it.
        "open_alert_count": (
            lambda: Alert.objects.filter(
                patient__clinic_id=membership.clinic_id, acknowledged_at__isnull=True
            ).count()
        )
        if membership
        else 0,
        # Lazy: worked out only when a page shows it (the crisis bar of patients' pages).
        "crisis": SimpleLazyObject(crisis),
    }
