"""Pages of the notifications app."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from care.access import get_membership_for_user, get_own_patient_for_user
from care.clock import local_date
from care.selectors import clinic_email_addresses

from .emails import read_unsubscribe_token
from .forms import ReminderPreferenceForm
from .models import Delivery
from .outbox import outbox_folder, read_outbox
from .services import (
    reminder_preference_for,
    reminder_preference_update,
    reminder_unsubscribe,
)


@never_cache
def outbox(request: HttpRequest) -> HttpResponse:
    """E-mails written to files (demo set-up) to the clinic's own people; staff only."""
    membership = get_membership_for_user(request.user)
    folder = outbox_folder()
    if folder is None:
        raise Http404
    ours = clinic_email_addresses(clinic=membership.clinic)
    messages = (
        [m for m in read_outbox(folder) if ours.intersection(m.to)] if folder.is_dir() else []
    )
    return render(request, "notifications/outbox.html", {"messages_sent": messages})


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
