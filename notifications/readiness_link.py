"""The single-use readiness link of a "session tomorrow" e-mail: opened, then used once, for
that reminder's session only."""

from datetime import datetime

from django.db import transaction

from care.domain.patient_plan import readiness_window
from care.models import Patient, SessionReadiness, TreatmentSession
from care.treatment.services import readiness_submit
from notifications.models import Delivery


class ReadinessLinkInvalid(Exception):
    """The link is unknown or used, its session moved on (cancelled, recorded, started), or
    the session's readiness check is answered already."""


def readiness_link_delivery(
    *, delivery_id: int, now: datetime
) -> tuple[Delivery, TreatmentSession, Patient]:
    """The "session tomorrow" reminder behind a readiness link, its session and patient, if
    the link is still good at `now`: unused, the session still booked, not started and not
    answered (the readiness check opens two days before: `readiness_window`)."""
    delivery = (
        Delivery.objects.select_related("session", "patient__user", "patient__clinic")
        .filter(id=delivery_id, kind=Delivery.Kind.SESSION, link_used_at__isnull=True)
        .first()
    )
    if delivery is None or delivery.patient is None or delivery.session is None:
        raise ReadinessLinkInvalid
    session, patient = delivery.session, delivery.patient
    if (
        session.patient_id != patient.pk
        or session.status != TreatmentSession.Status.SCHEDULED
        or readiness_window(scheduled_at=session.scheduled_at, now=now) == "closed"
        or SessionReadiness.objects.filter(session=session).exists()
    ):
        raise ReadinessLinkInvalid
    session.patient = patient
    return delivery, session, patient


@transaction.atomic
def readiness_link_use(*, delivery_id: int, values: dict, now: datetime):
    """Save the readiness check of the reminder's own session through the link, once.

    The audit trail names the patient the link was sent to, by the channel "e-mailed link,
    not signed in". Raises ReadinessLinkInvalid, or what `readiness_submit` raises (nothing
    is then written: the link stays unused).
    """
    delivery, session, _patient = readiness_link_delivery(delivery_id=delivery_id, now=now)
    claimed = Delivery.objects.filter(id=delivery.id, link_used_at__isnull=True).update(
        link_used_at=now
    )
    if not claimed:
        raise ReadinessLinkInvalid
    return readiness_submit(session=session, values=values, now=now, by_link=True)
