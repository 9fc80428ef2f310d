"""Reads of messages: the care team's inbox, a patient's threads, a thread's messages, and
the unread counts of the caseload and the navigation."""

from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from care.models import Clinic, Message, MessageThread, Patient, User


def clinic_threads_list(
    *, clinic: Clinic, state: str = "unread", assigned_to: User | None = None
) -> QuerySet[MessageThread]:
    """The clinic's threads for the inbox.

    "unread": threads with messages of the patient nobody has opened, urgent ones first,
    then the oldest waiting; "waiting": open threads whose patient waits for a reply, urgent
    first, then the longest waiting; "all": every thread, the latest activity first.
    `assigned_to` keeps those given to that person.
    """
    threads = MessageThread.objects.filter(patient__clinic=clinic).select_related(
        "patient__user", "assigned_to"
    )
    if assigned_to is not None:
        threads = threads.filter(assigned_to=assigned_to)
    if state == "unread":
        return threads.filter(staff_unread__gt=0).order_by(
            "-is_urgent", F("waiting_since").asc(nulls_last=True), "-last_message_at", "-id"
        )
    if state == "waiting":
        return threads.filter(
            status=MessageThread.Status.OPEN, waiting_since__isnull=False
        ).order_by("-is_urgent", "waiting_since", "-id")
    return threads.order_by("-last_message_at", "-id")


def patient_threads_list(*, patient: Patient) -> QuerySet[MessageThread]:
    """The patient's threads, the latest activity first (for the patient and the patient
    page alike: nothing in a thread row is staff-only)."""
    return patient.message_threads.select_related("assigned_to").order_by("-last_message_at", "-id")


def thread_messages(*, thread: MessageThread, for_patient: bool) -> QuerySet[Message]:
    """The thread's messages, oldest first; for the patient, without the staff notes."""
    messages = thread.messages.select_related("author").order_by("created_at", "id")
    return messages.filter(is_staff_note=False) if for_patient else messages


def patient_messages(*, patient: Patient) -> QuerySet[Message]:
    """The messages between the patient and their care team (never the staff notes),
    thread by thread, oldest first, with their thread and author: what leaves the clinic
    with the patient's record (their own download, the FHIR export)."""
    return (
        Message.objects.filter(thread__patient=patient, is_staff_note=False)
        .select_related("thread", "author")
        .order_by("thread__created_at", "thread_id", "created_at", "id")
    )


def patient_unread_threads_count(*, patient: Patient) -> int:
    """How many of the patient's threads have a reply they have not opened."""
    return patient.message_threads.filter(patient_unread__gt=0).count()


def unread_messages_subquery(patient_ref: str = "pk") -> Coalesce:
    """An annotation: the patient's messages nobody of the care team has opened yet (read
    from the partial index of threads with unread messages)."""
    unread = (
        MessageThread.objects.filter(patient=OuterRef(patient_ref), staff_unread__gt=0)
        .order_by()
        .values("patient")
        .annotate(total=Sum("staff_unread"))
        .values("total")
    )
    return Coalesce(Subquery(unread, output_field=IntegerField()), 0)


def unread_threads_subquery(clinic_ref: str = "pk") -> Subquery:
    """An annotation: how many of the clinic's threads have messages nobody has opened."""
    unread = (
        MessageThread.objects.filter(patient__clinic=OuterRef(clinic_ref), staff_unread__gt=0)
        .order_by()
        .values("patient__clinic")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return Subquery(unread, output_field=IntegerField())
