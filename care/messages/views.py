"""Messages between a patient and their care team: the patient's pages (their threads, a new
message, a thread with its reply form) and the care team's (the inbox, a thread with reply,
staff note, assignment, handled and reopen).

Threads are addressed by their opaque id; a subject or a message's words are never in an
address (they travel in POST bodies). Every opening of a thread by the care team is in the
audit trail.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from care.audit.services import audit_view
from care.common.access import (
    AuthenticatedHttpRequest,
    get_membership_for_user,
    get_own_patient_for_user,
    get_own_thread_for_user,
    get_thread_for_user,
)
from care.messages.display import call_offer, reading_notice
from care.messages.forms import (
    MessageStartForm,
    PatientReplyForm,
    StaffNoteForm,
    StaffReplyForm,
    ThreadAssignForm,
)
from care.messages.selectors import (
    clinic_threads_list,
    patient_threads_list,
    thread_messages,
)
from care.messages.services import (
    CallNotPossible,
    message_call_request,
    message_post,
    message_thread_assign,
    message_thread_handle,
    message_thread_read,
    message_thread_reopen,
    message_thread_start,
)
from care.models import AuditEvent, MessageThread, StaffMembership


def _after_sending(
    request: AuthenticatedHttpRequest, thread: MessageThread, urgent: bool
) -> HttpResponse:
    """An urgent message leads to the crisis resources, saying the care team was alerted;
    any other back to its thread."""
    if urgent:
        messages.warning(
            request,
            _(
                "Your message was sent and your care team has been alerted. Messages are not "
                "watched around the clock: if you need help now, please do not wait for a "
                "reply and use the numbers below."
            ),
        )
        return redirect("care:crisis")
    messages.success(request, _("Message sent. Your care team reads messages during clinic hours."))
    return redirect("care:my-message-thread", thread.public_id)


# The patient's pages.


@never_cache
def my_messages(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The patient's threads with their care team, those with a new reply marked."""
    patient = get_own_patient_for_user(request.user)
    context = {"threads": patient_threads_list(patient=patient), "call": call_offer(patient)}
    return render(request, "care/my_messages.html", context)


@require_POST
def my_call_request(request: AuthenticatedHttpRequest) -> HttpResponse:
    """ "Please call me" in one tap: a message to the care team with the patient's number,
    best times and consent (their number travels in no address and no notice: only in the
    message, which the care team reads in the app)."""
    patient = get_own_patient_for_user(request.user)
    try:
        asked = message_call_request(patient=patient, now=timezone.now())
    except CallNotPossible:
        messages.error(
            request,
            _(
                "To ask for a call, add your phone number and agree to be called in "
                "Contact details."
            ),
        )
        return redirect("care:my-messages")
    if asked.created:
        messages.success(
            request,
            _(
                "Your request to be called was sent. Your care team reads messages during "
                "clinic hours; if you need help now, do not wait for a call."
            ),
        )
    elif asked.sent:
        messages.success(request, _("Your new contact details were added to your request."))
    else:
        messages.info(
            request,
            _("You have already asked to be called; your care team has your request."),
        )
    return redirect("care:my-message-thread", asked.thread.public_id)


@never_cache
def my_message_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A new message to the care team: subject, text, and "Is this urgent?" (yes: the care
    team is alerted at once and the patient is shown the crisis resources)."""
    patient = get_own_patient_for_user(request.user)
    form = MessageStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        posted = message_thread_start(
            patient=patient,
            subject=form.cleaned_data["subject"],
            body=form.cleaned_data["body"],
            urgent=form.is_urgent,
            now=timezone.now(),
        )
        return _after_sending(request, posted.message.thread, form.is_urgent)
    context = {"form": form, "notice": reading_notice(clinic=patient.clinic, now=timezone.now())}
    return render(
        request, "care/my_message_new.html", context, status=400 if form.is_bound else 200
    )


@never_cache
def my_message_thread(request: AuthenticatedHttpRequest, public_id: str) -> HttpResponse:
    """One of the patient's threads (the care team's notes left out), and a reply."""
    thread = get_own_thread_for_user(request.user, public_id)
    form = PatientReplyForm(request.POST or None)
    now = timezone.now()
    if request.method == "POST" and form.is_valid():
        message_post(
            thread=thread,
            by=request.user,
            body=form.cleaned_data["body"],
            urgent=form.is_urgent,
            now=now,
        )
        return _after_sending(request, thread, form.is_urgent)
    message_thread_read(thread=thread, by=request.user, now=now)
    context = {
        "thread": thread,
        "thread_messages": thread_messages(thread=thread, for_patient=True),
        "form": form,
        "notice": reading_notice(clinic=thread.patient.clinic, now=timezone.now()),
    }
    return render(
        request, "care/my_message_thread.html", context, status=400 if form.is_bound else 200
    )


# The care team's pages.

STATES = {"unread": _("Unread"), "waiting": _("Waiting for a reply"), "all": _("All")}


@never_cache
def staff_messages(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The clinic's messages: unread, waiting for a reply, or all; all or assigned to me."""
    membership = get_membership_for_user(request.user)
    state = request.GET.get("state", "unread")
    state = state if state in STATES else "unread"
    mine = request.GET.get("mine") == "1"
    threads = clinic_threads_list(
        clinic=membership.clinic, state=state, assigned_to=request.user if mine else None
    )
    page = Paginator(threads, 50).get_page(request.GET.get("page"))
    audit_view(request, action=AuditEvent.Action.VIEWED, what=AuditEvent.What.MESSAGE_THREAD)
    context = {
        "page": page,
        "state": state,
        "state_label": STATES[state],
        "states": STATES,
        "mine": mine,
    }
    return render(request, "care/staff_messages.html", context)


def _staff_thread_page(
    request: AuthenticatedHttpRequest,
    thread: MessageThread,
    membership: StaffMembership,
    *,
    status: int = 200,
    **forms,
) -> HttpResponse:
    """The thread as the care team sees it, notes included: an opening of the thread (its
    patient's messages are read, and the audit trail records who read them)."""
    message_thread_read(thread=thread, by=request.user, now=timezone.now())
    context = {
        "thread": thread,
        "patient": thread.patient,
        "thread_messages": thread_messages(thread=thread, for_patient=False),
        "reply_form": StaffReplyForm(),
        "note_form": StaffNoteForm(),
        "assign_form": ThreadAssignForm(
            clinic=membership.clinic, initial={"assigned_to": thread.assigned_to_id}
        ),
        **forms,
    }
    return render(request, "care/staff_message_thread.html", context, status=status)


@never_cache
def staff_message_thread(request: AuthenticatedHttpRequest, public_id: str) -> HttpResponse:
    """One thread of a patient of the clinic, with reply, note, assignment and state."""
    membership = get_membership_for_user(request.user)
    thread = get_thread_for_user(request.user, public_id)
    return _staff_thread_page(request, thread, membership)


def _staff_post(request: AuthenticatedHttpRequest, public_id: str, *, note: bool) -> HttpResponse:
    membership = get_membership_for_user(request.user)
    thread = get_thread_for_user(request.user, public_id)
    form = (StaffNoteForm if note else StaffReplyForm)(request.POST)
    if not form.is_valid():
        key = "note_form" if note else "reply_form"
        return _staff_thread_page(request, thread, membership, status=400, **{key: form})
    message_post(
        thread=thread,
        by=request.user,
        body=form.cleaned_data["body"],
        staff_note=note,
        now=timezone.now(),
    )
    messages.success(request, _("Note saved.") if note else _("Reply sent."))
    return redirect("care:staff-message-thread", thread.public_id)


@require_POST
def staff_message_reply(request: AuthenticatedHttpRequest, public_id: str) -> HttpResponse:
    """A reply to the patient."""
    return _staff_post(request, public_id, note=False)


@require_POST
def staff_message_note(request: AuthenticatedHttpRequest, public_id: str) -> HttpResponse:
    """A note on the thread for the care team only."""
    return _staff_post(request, public_id, note=True)


@require_POST
def staff_message_assign(request: AuthenticatedHttpRequest, public_id: str) -> HttpResponse:
    """Give the thread to a clinician of the clinic, or to nobody."""
    membership = get_membership_for_user(request.user)
    thread = get_thread_for_user(request.user, public_id)
    form = ThreadAssignForm(request.POST, clinic=membership.clinic)
    if not form.is_valid():
        return _staff_thread_page(request, thread, membership, status=400, assign_form=form)
    to = form.cleaned_data["assigned_to"]
    message_thread_assign(thread=thread, to=to, by=request.user, now=timezone.now())
    if to is None:
        messages.success(request, _("The thread is assigned to nobody."))
    else:
        messages.success(request, _("Assigned to %(name)s.") % {"name": to})
    return redirect("care:staff-message-thread", thread.public_id)


@require_POST
def staff_message_handle(request: AuthenticatedHttpRequest, public_id: str) -> HttpResponse:
    """Mark the thread handled (a new message from the patient opens it again)."""
    get_membership_for_user(request.user)
    thread = get_thread_for_user(request.user, public_id)
    if message_thread_handle(thread=thread, by=request.user, now=timezone.now()):
        messages.success(request, _("Marked handled."))
    else:
        messages.info(request, _("Someone had marked this thread handled already."))
    return redirect("care:staff-messages")


@require_POST
def staff_message_reopen(request: AuthenticatedHttpRequest, public_id: str) -> HttpResponse:
    """Open a handled thread again."""
    get_membership_for_user(request.user)
    thread = get_thread_for_user(request.user, public_id)
    if message_thread_reopen(thread=thread, by=request.user, now=timezone.now()):
        messages.success(request, _("Reopened."))
    else:
        messages.info(request, _("The thread was open already."))
    return redirect("care:staff-message-thread", thread.public_id)
