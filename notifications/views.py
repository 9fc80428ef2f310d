"""Pages of the notifications app."""

import uuid
import zoneinfo

from django.conf import settings
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
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from care.accounts.services import patient_contact_update
from care.audit.services import audit_view
from care.common.access import get_membership_for_user, get_own_patient_for_user
from care.common.phones import phone_display
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
from notifications.outbox import outbox_folder, outbox_items, outbox_text_backend
from notifications.preferences import (
    reminder_preference_for,
    reminder_preference_update,
    reminder_unsubscribe,
    text_number_state,
)
from notifications.readiness_link import (
    ReadinessLinkInvalid,
    readiness_link_delivery,
    readiness_link_use,
)
from notifications.sms import get_text_backend, texts_enabled
from notifications.textreplies import text_reply_receive, text_status_receive
from notifications.texts import read_text_link_code

OUTBOX_PAGE_SIZE = 20


@never_cache
def outbox(request: HttpRequest) -> HttpResponse:
    """E-mails and texts written to files (demo set-up) to the clinic's own people, in one
    list; staff only. No account-security e-mail (reset, address confirmation, used
    invitation) is ever shown, and no text but a reminder."""
    membership = get_membership_for_user(request.user)
    folder, text_backend = outbox_folder(), outbox_text_backend()
    if folder is None and text_backend is None:
        raise Http404
    items = outbox_items(
        folder=folder, text_backend=text_backend, clinic=membership.clinic, now=timezone.now()
    )
    page = Paginator(items, OUTBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    audit_view(request, action=AuditEvent.Action.VIEWED, what=AuditEvent.What.OUTBOX)
    emails_on, texts_on = folder is not None, text_backend is not None
    nouns = [noun for noun, on in (("e-mails", emails_on), ("texts", texts_on)) if on]
    context = {
        "page": page,
        "noun": " and ".join(nouns),  # in the heading and the pagination
        "emails_on": emails_on,
        "texts_on": texts_on,
        "country": membership.clinic.country,  # numbers as the clinic's country writes them
    }
    return render(request, "notifications/outbox.html", context)


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
    text_state = text_number_state(patient) if texts_enabled() else ""
    form = ReminderPreferenceForm(
        request.POST or None,
        instance=preference,
        today=local_date(timezone.now(), patient.tz),
        text_state=text_state,
        mobile=phone_display(patient.phone_mobile, patient.clinic.country),
    )
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in form.Meta.fields}
        if form.consent_given():
            patient_contact_update(patient=patient, contact={"may_text": True})
        reminder_preference_update(
            preference=preference,
            values=values,
            unsubscribed=form.unsubscribed(),
            text_kinds=form.chosen_text_kinds() if "text_kinds" in form.fields else None,
        )
        messages.success(request, _("Reminder settings saved."))
        return redirect("notifications:settings")
    context = {"form": form, "patient": patient, "text_state": text_state}
    return render(request, "notifications/settings.html", context)


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


@login_not_required
@never_cache
def text_link(request: HttpRequest, code: str) -> HttpResponse:
    """The short link of a text reminder (notifications.texts): what the e-mail's link
    opens. The check-in and the readiness check open once without signing in (the same
    single-use rules, on the text's own delivery row); the rest after signing in."""
    try:
        delivery_id = read_text_link_code(code)
    except signing.BadSignature:
        return render(request, "notifications/checkin_link_invalid.html", status=410)
    delivery = (
        Delivery.objects.filter(id=delivery_id, channel=Delivery.Channel.TEXT)
        .only("id", "kind", "session_id", "thread_id", "patient_id")
        .first()
    )
    if delivery is None:
        return render(request, "notifications/checkin_link_invalid.html", status=410)
    if delivery.kind == Delivery.Kind.CHECKIN:
        request.session[CHECKIN_LINK_SESSION_KEY] = delivery.id
        return redirect("notifications:checkin-link-form")
    if delivery.kind == Delivery.Kind.SESSION:
        request.session[READINESS_LINK_SESSION_KEY] = delivery.id
        return redirect("notifications:ready-link-form")
    if delivery.kind == Delivery.Kind.INTEGRATION and delivery.session_id is not None:
        return redirect("care:my-session-reflection", delivery.session_id)
    if delivery.kind == Delivery.Kind.MESSAGE and delivery.thread_id is not None:
        thread = delivery.thread
        if thread is not None:
            return redirect("care:my-message-thread", thread.public_id)
    return redirect("care:me")


def _text_provider_token() -> str | None:
    """The auth token the provider signs its webhook requests with (Twilio's), None when
    texts go through no provider (the file or test backends, or no texts at all)."""
    if not texts_enabled():
        return None
    return getattr(get_text_backend(), "auth_token", None)


def _verified_text_webhook(request: HttpRequest) -> HttpResponse | None:
    """None if the request is the provider's (its signature over our URL and the form
    verifies), else the answer to give: 404 without a provider, 403 (audited) otherwise."""
    token = _text_provider_token()
    if token is None:
        raise Http404
    url = settings.SITE_URL + request.get_full_path()
    signature = request.headers.get("X-Twilio-Signature", "")
    if RequestValidator(token).validate(url, request.POST.dict(), signature):
        return None
    audit_view(request, action=AuditEvent.Action.DENIED, what=AuditEvent.What.TEXT_WEBHOOK)
    return HttpResponse("Signature did not verify.", status=403, content_type="text/plain")


@login_not_required
@csrf_exempt  # the provider signs its requests instead (X-Twilio-Signature)
@require_POST
def text_status_webhook(request: HttpRequest) -> HttpResponse:
    """The provider's report of a text's fate (Twilio's status callback)."""
    refused = _verified_text_webhook(request)
    if refused is not None:
        return refused
    code_text = request.POST.get("ErrorCode", "")
    delivery_text = request.GET.get("delivery", "")
    text_status_receive(
        provider_id=request.POST.get("MessageSid", "")[:64],
        status=request.POST.get("MessageStatus", ""),
        error_code=int(code_text) if code_text.isdigit() else None,
        now=timezone.now(),
        delivery_id=int(delivery_text) if delivery_text.isdigit() else None,
    )
    return HttpResponse(status=204)


@login_not_required
@csrf_exempt  # the provider signs its requests instead (X-Twilio-Signature)
@require_POST
def text_inbound_webhook(request: HttpRequest) -> HttpResponse:
    """A text sent to our number (Twilio's incoming-message webhook): answered in TwiML."""
    refused = _verified_text_webhook(request)
    if refused is not None:
        return refused
    sid = request.POST.get("MessageSid", "")[:64]
    number = request.POST.get("From", "")[:16]
    answer = ""
    if sid and number:
        answer = text_reply_receive(
            provider_id=sid, number=number, body=request.POST.get("Body", ""), now=timezone.now()
        )
    twiml = MessagingResponse()
    if answer:
        twiml.message(answer)
    return HttpResponse(str(twiml), content_type="text/xml")
