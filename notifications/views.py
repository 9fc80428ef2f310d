"""Pages of the notifications app."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from care.access import get_membership_for_user
from care.selectors import clinic_email_addresses

from .outbox import outbox_folder, read_outbox


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
