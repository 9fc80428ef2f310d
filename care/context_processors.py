"""Template context: what kind of user is looking (patient, clinic staff, neither), and the
crisis resources the crisis bar shows them."""

from functools import cache, partial

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from care.common.access import membership_for_user, patient_for_user
from care.messages.selectors import patient_unread_threads_count, unread_threads_subquery
from care.models import Alert, Clinic
from care.records.crisis import crisis_for_clinic, crisis_without_clinic


class NavigationCounts:
    """The staff navigation's counts (open alerts, threads with unread messages), read
    together in one query, and only when a page's navigation shows them."""

    def __init__(self, clinic_id: int) -> None:
        self.clinic_id = clinic_id
        self._counts: tuple[int, int] | None = None

    def _read(self) -> tuple[int, int]:
        if self._counts is None:
            open_alerts = (
                Alert.objects.filter(patient__clinic=OuterRef("pk"), acknowledged_at__isnull=True)
                .order_by()
                .values("patient__clinic")
                .annotate(total=Count("pk"))
                .values("total")
            )
            counts = (
                Clinic.objects.filter(pk=self.clinic_id)
                .annotate(
                    alerts=Coalesce(Subquery(open_alerts, output_field=IntegerField()), 0),
                    messages=Coalesce(unread_threads_subquery(), 0),
                )
                .values_list("alerts", "messages")
                .first()
            )
            self._counts = counts or (0, 0)
        return self._counts

    def open_alerts(self) -> int:
        return self._read()[0]

    def unread_threads(self) -> int:
        return self._read()[1]


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
    counts = NavigationCounts(membership.clinic_id) if membership else None
    patient = patient_for_user(user)

    def crisis():
        profile = patient or membership
        if profile is None:
            return crisis_without_clinic()
        return crisis_for_clinic(profile.clinic, now=timezone.now())

    return {
        "viewer_patient": patient,
        "viewer_membership": membership,
        # Lazy (templates call them): counted only when a staff page's navigation shows them.
        "open_alert_count": counts.open_alerts if counts else 0,
        "unread_thread_count": counts.unread_threads if counts else 0,
        "unread_reply_count": (
            cache(partial(patient_unread_threads_count, patient=patient)) if patient else 0
        ),
        # Lazy: worked out only when a page shows it (the crisis bar of patients' pages).
        "crisis": SimpleLazyObject(crisis),
    }
