"""Template context: what kind of user is looking (patient, clinic staff, neither)."""

from django.http import HttpRequest

from care.common.access import membership_for_user, patient_for_user
from care.models import Alert


def roles(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"viewer_patient": None, "viewer_membership": None}
    membership = membership_for_user(user)
    if getattr(request, "second_factor_missing", False):
        # Staff setting up their second factor see nothing of the clinic yet.
        membership = None
    return {
        "viewer_patient": patient_for_user(user),
        "viewer_membership": membership,
        # Lazy: counted only when a staff page's navigation shows it.
        "open_alert_count": (
            lambda: Alert.objects.filter(
                patient__clinic_id=membership.clinic_id, acknowledged_at__isnull=True
            ).count()
        )
        if membership
        else 0,
    }
