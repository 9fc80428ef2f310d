"""Template context: what kind of user is looking (patient, clinic staff, neither)."""

from django.http import HttpRequest

from notifications.outbox import outbox_folder

from .access import membership_for_user, patient_for_user


def roles(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"viewer_patient": None, "viewer_membership": None, "outbox_enabled": False}
    membership = membership_for_user(user)
    return {
        "viewer_patient": patient_for_user(user),
        "viewer_membership": membership,
        "outbox_enabled": membership is not None and outbox_folder() is not None,
    }
