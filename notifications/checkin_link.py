"""The single-use check-in link of a reminder e-mail: opened, then used once."""

from datetime import datetime

from django.db import transaction

from care.domain.clock import local_date
from care.models import (
    AuditEvent,
    Patient,
)
from care.records.services import checkin_submit
from notifications.models import Delivery


class CheckInLinkInvalid(Exception):
    """The link is unknown, for another day, or was used already."""


def checkin_link_delivery(*, delivery_id: int, now: datetime) -> tuple[Delivery, Patient]:
    """The daily reminder behind a check-in link, and its patient, if the link is still good
    at `now`."""
    delivery = (
        Delivery.objects.select_related("patient__user", "patient__clinic")
        .filter(id=delivery_id, kind=Delivery.Kind.CHECKIN, link_used_at__isnull=True)
        .first()
    )
    patient = delivery.patient if delivery is not None else None
    if delivery is None or patient is None:
        raise CheckInLinkInvalid
    tz = patient.tz
    if local_date(now, tz) != local_date(delivery.due_at, tz):
        raise CheckInLinkInvalid  # valid until the end of the reminder's local day
    return delivery, patient


@transaction.atomic
def checkin_link_use(*, delivery_id: int, values: dict, client_id, now: datetime):
    """Submit that day's check-in through the link, once.

    The audit trail names the patient the link was sent to, by the channel "e-mailed link,
    not signed in": whoever holds the link is not known to be the patient.
    """
    delivery, patient = checkin_link_delivery(delivery_id=delivery_id, now=now)
    claimed = Delivery.objects.filter(id=delivery.id, link_used_at__isnull=True).update(
        link_used_at=now
    )
    if not claimed:
        raise CheckInLinkInvalid
    return checkin_submit(
        patient=patient,
        values=values,
        client_id=client_id,
        now=now,
        channel=AuditEvent.Channel.LINK,
    )
