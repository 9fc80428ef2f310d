"""Pages of the notifications app."""

import uuid
import zoneinfo

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from care.audit.services import audit_view
from care.common.access import get_membership_for_user, get_own_patient_for_user
from care.domain.clock import local_date
from care.domain.patient_plan import readiness_opens_at, readiness_window, route_words
from care.models import AuditEvent
from care.records.crisis import crisis_for_clinic
from care.records.forms import CheckInForm
from care.records.services import ClientIdConflict
from care.treatment.forms import ReadinessForm
from care.treatment.services import ReadinessAlreadyAnswered, SessionNotOpen
from notifications.checkin_link import CheckInLinkInvalid, checkin_link_delivery, checkin_link_use
from notifications.emails import (
    read_checkin_link_token,
    read_readiness_link_token,
    read_unsubscribe_token,
)
from notifications.forms import ReminderPreferenceForm
from notifications.models import Delivery
from notifications.outbox import outbox_folder, outbox_messages
from notifications.preferences import (
    reminder_preference_for,
    reminder_preference_update,
    reminder_unsubscribe,
)
from notifications.readiness_link import (
    ReadinessLinkInvalid,
    readiness_link_delivery,
    readiness_link_use,
)

OUTBOX_PAGE_SIZE = 20


@never_cache
def outbox(request: HttpRequest) -> HttpResponse:
    """E-mails written to files (demo set-up) to the clinic's own people; staff only. No
    account-security e-mail (reset, address confirmation, used invitation) is ever shown."""
    membership = get_membership_for_user(request.user)
    folder = outbox_folder()
    if folder is None:
        raise Http404
    messages = outbox_messages(folder=folder, clinic=membership.clinic, now=timezone.now())
    page = Paginator(messages, OUTBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    audit_view(request, action=AuditEvent.Action.VIEWED, what=AuditEvent.What.OUTBOX)
    return render(request, "notifications/outbox.html", {"page": page, "noun": "e-mails"})


@login_not_required
@csrf_exempt  # RFC 8058 one-click POSTs come from mail clients, without a CSRF token
@never_cache
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """One-click unsubscribe from one kind of reminder (GET asks, POST does it)."""
    try:
        patient_id, kind = read_unsubscribe_token(token)
    except signing.BadSignature:
        return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=400)
    if kind not in Delivery.Kind.values:
        return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=400)
    label = Delivery.Kind(kind).label
    if request.method == "POST":
        changed = reminder_unsubscribe(patient_id=patient_id, kind=kind)
        context = {"done": True, "already": not changed, "label": label}
        return render(request, "notifications/unsubscribe.html", context)
    return render(request, "notifications/unsubscribe.html", {"label": label})


@never_cache
def reminder_settings(request: HttpRequest) -> HttpResponse:
    """The patient's reminder settings: e-mails on or off, time, quiet hours, pause, kinds."""
    patient = get_own_patient_for_user(request.user)
    preference = reminder_preference_for(patient)
    form = ReminderPreferenceForm(
        request.POST or None, instance=preference, today=local_date(timezone.now(), patient.tz)
    )
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in form.Meta.fields}
        reminder_preference_update(
            preference=preference, values=values, unsubscribed=form.unsubscribed()
        )
        messages.success(request, _("Reminder settings saved."))
        return redirect("notifications:settings")
    return render(request, "notifications/settings.html", {"form": form, "patient": patient})


CHECKIN_LINK_SESSION_KEY = "checkin_link_delivery"


@login_not_required
def checkin_link_open(request: HttpRequest, token: str) -> HttpResponse:
    """The link in a daily reminder: remember it in the session, continue without it."""
    try:
        request.session[CHECKIN_LINK_SESSION_KEY] = read_checkin_link_token(token)
    except signing.BadSignature:
        request.session.pop(CHECKIN_LINK_SESSION_KEY, None)
    return redirect("notifications:checkin-link-form")


@login_not_required
@never_cache
def checkin_link_form(request: HttpRequest) -> HttpResponse:
    """That day's check-in form, opened from the reminder without signing in."""
    delivery_id = request.session.get(CHECKIN_LINK_SESSION_KEY)
    now = timezone.now()
    try:
        if delivery_id is None:
            raise CheckInLinkInvalid
        delivery, patient = checkin_link_delivery(delivery_id=delivery_id, now=now)
    except CheckInLinkInvalid:
        return render(request, "notifications/checkin_link_invalid.html", status=410)
    form = CheckInForm(request.POST or None, initial={"client_id": uuid.uuid4()})
    if request.method == "POST" and form.is_valid():
        try:
            try:
                result = checkin_link_use(
                    delivery_id=delivery.id,
                    values=form.checkin_values(),
                    client_id=form.cleaned_data["client_id"],
                    now=now,
                )
            except ClientIdConflict:
                # A client id already used for other answers: save these as a new submission.
                result = checkin_link_use(
                    delivery_id=delivery.id, values=form.checkin_values(), client_id=None, now=now
                )
        except CheckInLinkInvalid:
            return render(request, "notifications/checkin_link_invalid.html", status=410)
        del request.session[CHECKIN_LINK_SESSION_KEY]
        context = {
            "checkin": result.checkin,
            "show_crisis": result.checkin.has_self_harm_thoughts,
            # Not signed in: the patient's clinic's lines, not the default country's.
            "crisis": crisis_for_clinic(patient.clinic, now=now),
        }
        return render(request, "care/checkin_saved.html", context)
    context = {"form": form, "existing": None, "first_name": patient.preferred_name}
    return render(request, "care/checkin_form.html", context)


READINESS_LINK_SESSION_KEY = "readiness_link_delivery"


@login_not_required
def readiness_link_open(request: HttpRequest, token: str) -> HttpResponse:
    """The link in a "session tomorrow" reminder: remember it in the session, continue
    without it (the token leaves the address before the form is shown)."""
    try:
        request.session[READINESS_LINK_SESSION_KEY] = read_readiness_link_token(token)
    except signing.BadSignature:
        request.session.pop(READINESS_LINK_SESSION_KEY, None)
    return redirect("notifications:ready-link-form")


@login_not_required
@never_cache
def readiness_link_form(request: HttpRequest) -> HttpResponse:
    """The readiness check of the reminder's session, opened without signing in."""
    delivery_id = request.session.get(READINESS_LINK_SESSION_KEY)
    now = timezone.now()
    invalid = "notifications/readiness_link_invalid.html"
    try:
        if delivery_id is None:
            raise ReadinessLinkInvalid
        delivery, session, patient = readiness_link_delivery(delivery_id=delivery_id, now=now)
    except ReadinessLinkInvalid:
        return render(request, invalid, status=410)
    opens = readiness_window(scheduled_at=session.scheduled_at, now=now) == "not_yet"
    form = ReadinessForm(None if opens else request.POST or None)
    if request.method == "POST" and not opens and form.is_valid():
        try:
            readiness_link_use(delivery_id=delivery.id, values=form.readiness_values(), now=now)
        except (ReadinessLinkInvalid, ReadinessAlreadyAnswered, SessionNotOpen):
            return render(request, invalid, status=410)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            del request.session[READINESS_LINK_SESSION_KEY]
            return render(request, "notifications/readiness_link_saved.html")
    context = {
        "form": form,
        "session": session,
        "route": route_words(session.route),
        "first_name": patient.preferred_name,
        "opens": opens,
        "opens_at": readiness_opens_at(session.scheduled_at),
        "by_link": True,
    }
    # Not signed in: times in the patient's own zone, as their pages show them.
    with timezone.override(zoneinfo.ZoneInfo(patient.tz)):
        return render(request, "care/readiness_form.html", context)
