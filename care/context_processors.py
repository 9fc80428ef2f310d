"""Template context: what kind of user is looking (patient, clinic staff, neither)."""

from django.http import HttpRequest

from care.accounts.access import membership_for_user, patient_for_user
from care.models import Alert
from notifications.outbox import outbox_folder


def roles(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"viewer_patient": None, "viewer_membership": None, "outbox_enabled": False}
    membership = membership_for_user(user)
    if getattr(request, "second_factor_missing", False):
        # Staff setting up their second factor see nothing of the clinic yet.
        membership = None
    return {
        "viewer_patient": patient_for_user(user),
        "viewer_membership": membership,
        "outbox_enabled": membership is not None and outbox_folder() is not None,
        # Lazy: counted only when a staff page's navigation shows it.
        "open_alert_count": (
            lambda: Alert.objects.filter(
                patient__clinic_id=membership.clinic_id, acknowledged_at__isnull=True
            ).count()
        )
        if membership
        else 0,
    }
